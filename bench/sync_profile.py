"""Where a sync spends its time: py-spy samples of the sending and the receiving process.

`bench/sync.py --profile` samples, during each timed sync, the server of the node that is called
and this process, which syncs; each busy sample is put in the first phase whose functions all
appear on its stack. The raw samples are kept in bench/results/ (git-ignored) for a closer look.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

# A thread parked in these frames is waiting, not working.
_IDLE = (
    "Condition.wait (threading",
    "Runner.run (asyncio/runners",
    "select (selectors",
    "wait (",
    "SyncStream.read (httpcore",  # the socket: waiting for the other node
)

_FED = "trustbubble/domain/federation.py"
_SERVICE = "trustbubble/services/federation.py"

# (phase, functions that must all be on the stack); first match wins; names as py-spy prints.
PHASES: list[tuple[str, tuple[str, ...]]] = [
    ("Ed25519 verify", (f"verify ({_FED}",)),
    ("RFC 8785 canonical JSON, to verify", ("verify_object (", f"canonical ({_FED}")),
    ("RFC 8785 canonical JSON, to sign", ("sign_object (", f"canonical ({_FED}")),
    ("provenance: reading it, copies without it", (f"without_provenance ({_FED}",)),
    ("provenance: reading it, copies without it", (f"provenance_of ({_FED}",)),
    ("provenance: reading it, copies without it", (f"with_provenance ({_FED}",)),
    ("Ed25519 sign", (f"sign_object ({_FED}",)),
    ("signed body: orjson.loads and dumps", (f"_signed ({_SERVICE}",)),
    ("TLP of each sent body, for the audit (orjson.loads)", (f"_tlp_of ({_SERVICE}",)),
    ("query of the page (store.outgoing)", ("outgoing (trustbubble/store/federation.py",)),
    ("validation: prepare (STIX checks, digest)", ("prepare (trustbubble/services/objects.py",)),
    ("gate: origins, authors, standing, TLP", (f"check ({_SERVICE}",)),
    ("gate: origins, authors, standing, TLP", (f"of ({_SERVICE}",)),
    ("store: insert_versions", ("insert_versions (trustbubble/store/objects.py",)),
    ("store: status, audit, cursor, commit", (f"receive ({_SERVICE}",)),
    ("rest of outgoing_page (cursor, audit)", (f"outgoing_page ({_SERVICE}",)),
    ("parsing the page (response.json, orjson)", ("json (httpx2",)),
    ("parsing the page (response.json, orjson)", ("add_objects (trustbubble/api",)),
    ("authentication and access of the peer", ("peer_reader (trustbubble",)),
    ("authentication and access of the peer", ("reach (trustbubble",)),
    ("HTTP client (httpx2, httpcore)", ("Session.get (trustbubble/services/sync.py",)),
    ("HTTP client (httpx2, httpcore)", ("Session.post (trustbubble/services/sync.py",)),
    ("sync bookkeeping (mirror, links, scope)", ("trustbubble/services/sync.py",)),
]
OTHER = "HTTP server and framework (uvicorn, Starlette, FastAPI, thread hops)"


def py_spy() -> Path | None:
    for candidate in (
        Path(sys.executable).parent / "py-spy",
        Path("/tmp/spy/bin/py-spy"),
        Path(shutil.which("py-spy") or "/nonexistent"),
    ):
        if candidate.exists():
            return candidate
    return None


@contextmanager
def sampling(targets: dict[str, int], out: Path) -> Iterator[dict[str, Path]]:
    """py-spy record on each process (name -> pid) while the block runs; name -> raw file."""
    spy = py_spy()
    if spy is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy (into any environment)")
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / f"sync-profile-{name}.txt" for name in targets}
    with ExitStack() as stack:
        recorders = []
        for name, pid in targets.items():
            command = [str(spy), "record", "-p", str(pid), "-r", "200", "-f", "raw"]
            recorder = subprocess.Popen(
                [*command, "-o", str(files[name])],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            recorders.append(recorder)
            stack.callback(_stop, recorder)
        yield files


def _stop(recorder: subprocess.Popen[bytes]) -> None:
    recorder.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
    try:
        recorder.wait(timeout=60)
    except subprocess.TimeoutExpired:
        recorder.kill()


def summarize(raw: Path) -> tuple[int, list[tuple[str, float]]]:
    """The number of busy samples, and the share of them per phase, largest first."""
    counts: Counter[str] = Counter()
    total = 0
    if not raw.exists():
        return 0, []
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or stack.split(";")[-1].startswith(_IDLE):
            continue
        samples = int(number)
        total += samples
        phase = next((name for name, marks in PHASES if all(m in stack for m in marks)), OTHER)
        counts[phase] += samples
    return total, [(phase, n / total) for phase, n in counts.most_common()] if total else []
