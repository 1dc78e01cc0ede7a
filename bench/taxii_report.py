"""The benchmark's report: machine facts, results and targets, written into docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from taxii_measure import PAGE, WALK_PAGE, Stage
from taxii_workload import ENVELOPE_SIZE, MIX

START = "<!-- bench/taxii.py: start (generated; a rerun replaces this section) -->"
END = "<!-- bench/taxii.py: end -->"

INGEST_TARGET = 20_000.0
P99_TARGET_MS = 50.0
P99_GROWTH_TARGET = 1.5
WALK_TARGET = 20_000.0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GB"
    except OSError:
        pass
    return "unknown"


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def source_revision() -> str:
    """The commit the servers run, and whether src/ differs from it (others may be editing)."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, check=True
        ).stdout.decode()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=repo, capture_output=True, check=True
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.strip() + (" with uncommitted changes in src/" if dirty.strip() else "")


def machine() -> dict[str, str]:
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": ", ".join(
            f"{name} {_package(name)}"
            for name in ("trustbubble", "fastapi", "uvicorn", "sqlalchemy", "orjson", "httpx2")
        ),
    }


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured in this run


def verdicts(stages: list[Stage]) -> list[Verdict]:
    """The acceptance targets for TrustBubble on SQLite, judged on this run."""
    ours = {s.stored: s for s in stages if s.server == "TrustBubble"}
    out: list[Verdict] = []
    if ours:
        slowest = min(ours.values(), key=lambda s: s.post_rate)
        out.append(
            Verdict(
                f"ingest at least {INGEST_TARGET:,.0f} objects/s (every size)",
                f"slowest {slowest.post_rate:,.0f} objects/s (growing to {slowest.stored:,})",
                slowest.post_rate >= INGEST_TARGET,
            )
        )
    big, mid = ours.get(1_000_000), ours.get(10_000)
    if big is not None:
        p99 = big.percentile(99)
        out.append(
            Verdict(
                f"p99 of a filtered page under {P99_TARGET_MS:.0f} ms at 1,000,000",
                f"{p99:.1f} ms",
                p99 < P99_TARGET_MS,
            )
        )
    else:
        out.append(
            Verdict(
                f"p99 of a filtered page under {P99_TARGET_MS:.0f} ms at 1,000,000", "not run", None
            )
        )
    if big is not None and mid is not None:
        ratio = big.percentile(99) / mid.percentile(99)
        out.append(
            Verdict(
                f"p99 at 1,000,000 at most {P99_GROWTH_TARGET} x p99 at 10,000",
                f"{big.percentile(99):.1f} / {mid.percentile(99):.1f} ms = {ratio:.2f} x",
                ratio <= P99_GROWTH_TARGET,
            )
        )
    else:
        out.append(
            Verdict(
                f"p99 at 1,000,000 at most {P99_GROWTH_TARGET} x p99 at 10,000", "not run", None
            )
        )
    if ours:
        slowest = min(ours.values(), key=lambda s: s.walk_rate)
        out.append(
            Verdict(
                f"full walk at least {WALK_TARGET:,.0f} objects/s (every size)",
                f"slowest {slowest.walk_rate:,.0f} objects/s (at {slowest.stored:,})",
                slowest.walk_rate >= WALK_TARGET,
            )
        )
    return out


def _met(verdict: Verdict) -> str:
    return {True: "**met**", False: "**not met**", None: "not measured"}[verdict.met]


def render(
    stages: list[Stage],
    facts: dict[str, str],
    command: str,
    when: str,
    servers: dict[str, str],
    notes: list[str],
) -> str:
    lines = [
        START,
        f"### Results of {when}",
        "",
        f"Command, from the repository root: `{command}`",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory']} RAM, {facts['os']}; "
        f"Python {facts['python']}, SQLite {facts['sqlite']}; {facts['packages']}.",
        "",
        f"Source: {facts['source']}.",
        "",
        "Servers: " + "; ".join(f"{name} ({about})" for name, about in servers.items()) + ".",
        "",
        "| server | stored objects | POST objects/s (envelopes) | orjson.loads ceiling objects/s "
        "| filtered GET p50 ms | p99 ms | GETs | full walk objects/s (pages) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in stages:
        lines.append(
            f"| {s.server} | {s.stored:,} | {s.post_rate:,.0f} ({s.envelopes}) "
            f"| {s.ceiling_rate:,.0f} | {s.percentile(50):.1f} | {s.percentile(99):.1f} "
            f"| {len(s.get_ms)} "
            f"| {s.walk_rate:,.0f} ({s.walk_pages}) |"
        )
    lines += [
        "",
        "CPU time of the server process in each phase (from /proc; less sensitive than wall time "
        "to other work on the machine), the share of the POSTs' wall time the server spent on a "
        "CPU (well under 100% means it waited: for a core, for I/O, or for the network), and "
        "the machine's 1-minute load average during the stage:",
        "",
        "| server | stored objects | POST CPU µs/object | POST CPU share "
        "| GET CPU ms/request | walk CPU µs/object | load average |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for s in stages:
        load = f"{min(s.load):.1f} to {max(s.load):.1f}" if s.load else "?"
        share = s.post_cpu / s.post_seconds * 100 if s.post_seconds else 0.0
        lines.append(
            f"| {s.server} | {s.stored:,} | {s.post_cpu_us:,.0f} | {share:.0f}% "
            f"| {s.get_cpu_ms:,.1f} | {s.walk_cpu_us:,.0f} | {load} |"
        )
    lines += [
        "",
        "Targets for TrustBubble on SQLite:",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    lines += [f"| {v.target} | {v.measured} | {_met(v)} |" for v in verdicts(stages)]
    lines += [
        "",
        "Request mix, per server and size, one sequential client (httpx2, keep-alive, the same "
        "client code for both servers; TrustBubble with a Bearer token, medallion with HTTP Basic, "
        "the only scheme it has):",
        "",
        "- Ingest: the collection grows from the previous size to this one by POSTs of "
        f"envelopes of {ENVELOPE_SIZE:,} new objects "
        "(`Content-Type: application/taxii+json;version=2.1`); objects/s is objects over the "
        "summed time of the POSTs, each timed from request to the read status body, which is "
        "checked to report every object stored. Generating the envelopes is not timed.",
        "- Ceiling: `orjson.loads` of the very same envelope bytes, best of 5 per envelope, in the "
        "benchmark's process: the parse every server must do at least once.",
        f"- Filtered GET: `objects/?match[type]=indicator&limit={PAGE}&added_after=T`, T drawn "
        "at random (fixed seed) among a moment before the first indicator and the date_added of "
        f"every indicator with at least {PAGE} indicators added after it, read beforehand from "
        f"the manifest (not timed); every page is checked to hold {PAGE} indicators. Latency from "
        "request to fully read body; nearest-rank percentiles.",
        f"- Full walk: `objects/?limit={WALK_PAGE}` then `next` until `more` is false; "
        "objects/s over the whole walk, including the client's `orjson.loads` of each page.",
        "- Warm-up, not timed, on each server before its first measurement: one envelope of "
        f"{ENVELOPE_SIZE:,} other objects POSTed to a second collection, 2 filtered GETs, a "
        "manifest read and a walk there.",
        f"- Objects: {MIX}.",
        "- One server runs at a time; the client runs on the same machine, and so shares its "
        f"{os.cpu_count()} cores with the server.",
    ]
    lines += [f"- {note}." for note in notes]
    lines += [END]
    return "\n".join(lines) + "\n"


_SKELETON = """# Benchmarks

Measured by scripts in `bench/`, on one machine in one run, side by side with the OASIS reference
TAXII server (medallion) and with the physical limit of parsing the same JSON with orjson.

## TAXII 2.1: ingest, filtered pages, full walk (`bench/taxii.py`)

"""


def write_markdown(path: Path, section: str, start: str = START, end: str = END) -> None:
    """Replace the generated section of `path`, or append it; the rest of the file is kept."""
    text = path.read_text() if path.exists() else _SKELETON
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _old, tail = rest.split(end, 1)
        text = head + section.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def command_line() -> str:
    argv = [sys.argv[0], *sys.argv[1:]]
    python = Path(sys.executable)
    try:
        shown = str(python.relative_to(Path.cwd()))
    except ValueError:
        shown = ".venv/bin/python" if python.parent.parent.name == ".venv" else str(python)
    return " ".join([shown, *argv])
