"""Where a TrustBubble server spends its time on POST and filtered GET: py-spy, grouped by phase.

    .venv/bin/pip install py-spy
    .venv/bin/python bench/taxii_profile.py [--size 100000] [--seconds 20]

Starts `trustbubble serve` on a fresh store as bench/taxii.py does, grows the collection to
--size objects, then samples the server with py-spy while the client POSTs envelopes of 1,000,
and again while it asks filtered pages of 100. Each sample is put in the first phase whose
function appears on its stack; the raw samples are kept in bench/results/ (git-ignored) for a
closer look, e.g. with `py-spy record -f flamegraph` on the same workload.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx2

from taxii_measure import Bench, Stage
from taxii_servers import BENCH_DIR, log, start_trustbubble
from taxii_workload import ENVELOPE_SIZE

# A thread parked in these frames is waiting, not working.
_IDLE = ("Condition.wait (threading", "Runner.run (asyncio/runners", "select (selectors")

# (phase, a function that puts a sample in it), first match wins; names as py-spy prints them.
PHASES = [
    ("auth: Authenticator.bearer (token and user)", "Authenticator.bearer ("),
    ("auth: reader_for (organization chain)", "reader_for ("),
    ("access: reach / collection_access (bubble, roles)", "collection_access ("),
    ("read: building the WHERE clause", "_conditions ("),
    ("read: store.page (execute, fetch rows)", "page (trustbubble/store/objects.py"),
    ("read: services.objects.read (rows to items, audit)", "read (trustbubble/services/objects.py"),
    ("read: response body", "_envelope (trustbubble/api/"),
    ("POST: prepare (validation, canonical JSON, digest)", "prepare (trustbubble"),
    ("POST: insert_versions (existence check, INSERT)", "insert_versions (trustbubble"),
    ("POST: status and audit rows", "_save_status (trustbubble"),
    ("POST: status and audit rows", "record (trustbubble/services/audit.py"),
    ("POST: commit (incl. WAL checkpoint)", "Database.write (trustbubble"),
    ("POST: status details and JSON", "add_envelope (trustbubble"),
    ("POST: status details and JSON", "to_json (trustbubble"),
    ("POST: reading the body, orjson.loads", "add_objects"),
    ("uvicorn access log", "logging/__init__"),
    ("read transaction begin/commit", "Database.read (trustbubble"),
]
OTHER = "HTTP server and framework (uvicorn, Starlette, FastAPI, anyio thread hops)"


def summarize(raw: Path) -> tuple[int, list[tuple[str, float]]]:
    """The number of busy samples, and the share of them per phase, largest first."""
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or stack.split(";")[-1].startswith(_IDLE):
            continue
        samples = int(number)
        total += samples
        phase = next((name for name, mark in PHASES if mark in stack), OTHER)
        counts[phase] += samples
    return total, [(phase, n / total) for phase, n in counts.most_common()] if total else []


def _sample(pid: int, seconds: int, raw: Path, load: Callable[[], None]) -> None:
    """Run `load` repeatedly while py-spy samples the server for `seconds`."""
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "-p", str(pid), "-d", str(seconds), "-r", "250"]
    recorder = subprocess.Popen(
        [*command, "-f", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    done = threading.Event()

    def watch() -> None:
        recorder.wait()
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    while not done.is_set():
        load()
    if recorder.returncode != 0:
        assert recorder.stderr is not None
        raise RuntimeError(f"py-spy failed: {recorder.stderr.read().decode()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=100_000, help="objects stored before sampling")
    parser.add_argument("--seconds", type=int, default=20, help="sampling time per workload")
    parser.add_argument(
        "--workloads", default="post,get", help="which to sample, in order: post, get or both"
    )
    args = parser.parse_args()
    workloads = [name.strip() for name in args.workloads.split(",") if name.strip()]
    if not workloads or set(workloads) - {"post", "get"}:
        parser.error("--workloads takes post, get or post,get")
    if not (Path(sys.executable).parent / "py-spy").exists():
        sys.exit("py-spy is not installed here: .venv/bin/pip install py-spy")
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="taxii-profile-"))
    try:
        with httpx2.Client(timeout=httpx2.Timeout(600.0, connect=10.0)) as client:
            server = start_trustbubble(workdir, client)
            try:
                bench = Bench(client, server)
                log(f"growing the collection to {args.size:,} objects")
                grown = Stage(server.name, args.size)
                bench.grow(grown, 0)
                next_object = args.size

                def post() -> None:
                    nonlocal next_object
                    stage = Stage(server.name, next_object + ENVELOPE_SIZE)
                    bench.grow(stage, next_object)
                    next_object += ENVELOPE_SIZE

                offsets = bench.page_offsets()
                rng = random.Random(1)

                def get() -> None:
                    bench.filtered_gets(Stage(server.name, args.size), offsets, 20, rng)

                loads = {"post": post, "get": get}
                for name in workloads:
                    load = loads[name]
                    raw = results / f"profile-{name}-{args.size}.txt"
                    log(f"sampling {name.upper()} for {args.seconds} s into {raw}")
                    _sample(server.process.pid, args.seconds, raw, load)
                    busy, shares = summarize(raw)
                    print(f"\n{name.upper()} at {args.size:,} stored objects: {busy} busy samples")
                    for phase, share in shares:
                        print(f"  {share:6.1%}  {phase}")
            finally:
                server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
