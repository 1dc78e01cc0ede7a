"""Benchmark federation sync: objects moved per second between two nodes, and the lag.

Run from the repository root with the project's virtual environment:

    .venv/bin/python bench/sync.py [--objects 100000] [--quick] [--postgres URL]
        [--rate 1000] [--lag-seconds 30] [--skip-push] [--profile]
        [--output docs/benchmarks.md]

Two `trustbubble serve` processes on 127.0.0.1, A (home of the bubbles) and B (its peer), each
with its own store and key, are peered and share two bubbles through the CLI. A takes --objects
indicators by TAXII POST in envelopes of 1,000; then B pulls them with `sync.run` in this process
(A serving and signing, B verifying and storing), and the lag is measured while A takes a steady
stream and B pulls in a loop. Then the other way: A pushes as many objects of a second bubble to
B, and A's own `serve` pushes a steady stream by itself. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack, nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

import sync_measure as measure
from sync_measure import LagRun, Load, SyncRun, percentile
from sync_nodes import Calls, World, database_url, federate, restart, running_node
from sync_profile import sampling, summarize
from sync_workload import MIX, crosses, object_id
from taxii_report import command_line, machine, source_revision, write_markdown
from taxii_servers import BENCH_DIR, log

START = "<!-- bench/sync.py: start (generated; a rerun replaces this section) -->"
END = "<!-- bench/sync.py: end -->"
TARGET = 5_000.0  # objects per second, issue 8
PULL, PUSH = "Sync pull", "Sync push"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--objects", type=int, default=100_000, help="objects each sync moves")
    parser.add_argument(
        "--quick", action="store_true", help="a small run: 10,000 objects, 10 s of stream"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="put node B on a database made (and dropped) on this PostgreSQL server",
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="objects/s of the stream")
    parser.add_argument("--lag-seconds", type=float, default=30.0, help="length of each stream")
    parser.add_argument("--batch", type=int, default=100, help="objects per POST of the stream")
    parser.add_argument("--skip-push", action="store_true", help="measure B pulling only")
    parser.add_argument(
        "--profile", action="store_true", help="sample both processes of each sync with py-spy"
    )
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--keep", action="store_true", help="keep the nodes' temporary directory")
    args = parser.parse_args()
    if args.quick:
        args.objects, args.lag_seconds = 10_000, 10.0
    if args.objects < 1000 or args.objects % 1000:
        parser.error("--objects must be a multiple of 1000")
    return args


class Run:
    """Everything one run measured, for the report."""

    def __init__(self) -> None:
        self.loads: dict[str, Load] = {}
        self.syncs: list[SyncRun] = []
        self.lags: list[LagRun] = []
        self.profiles: dict[str, tuple[int, list[tuple[str, float]]]] = {}
        self.nodes: dict[str, str] = {}

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "loads": {k: asdict(v) | {"rate": v.rate} for k, v in self.loads.items()},
            "syncs": [asdict(s) | {"rate": s.rate} for s in self.syncs],
            "lags": [asdict(lag) | {"rate": lag.rate} for lag in self.lags],
            "profiles": self.profiles,
        }


def _profiled(args: argparse.Namespace, run: Run, targets: dict[str, int]) -> Any:
    if not args.profile:
        return nullcontext()
    stack = ExitStack()
    files: dict[str, Path] = {}

    def keep() -> None:
        for name, raw in files.items():
            run.profiles[name] = summarize(raw)

    stack.callback(keep)  # first in, so last out: after the recorders wrote their files
    files.update(stack.enter_context(sampling(targets, BENCH_DIR / "results")))
    return stack


def _check_crossed(world: World, bubble_id: str, series: str, count: int) -> None:
    """B holds every object of the series that may cross, and none of those that may not."""
    ids = [object_id(series, n) for n in range(count)]
    held = measure._added(world.peer, bubble_id, ids)
    wanted = {object_id(series, n) for n in range(count) if crosses(n)}
    if set(held) != wanted:
        missing, extra = len(wanted - set(held)), len(set(held) - wanted)
        raise SystemExit(f"B holds the wrong objects of {series}: {missing} missing, {extra} extra")


def measure_all(args: argparse.Namespace, work: Path) -> Run:
    run = Run()
    with (
        database_url(None, work, "north") as home_url,
        database_url(args.postgres, work, "south") as peer_url,
        running_node("North", "NL", home_url, work) as home,
        running_node("South", "ZA", peer_url, work) as peer,
    ):
        log(f"A at {home.url} ({home.storage}), B at {peer.url} ({peer.storage}); federating")
        world = federate(home, peer, [PULL, PUSH] if not args.skip_push else [PULL])
        run.nodes = {"A": home.storage, "B": peer.storage}
        calls = Calls(world)
        calls.only(peer)  # B pulls; A's serve, woken by every POST, cannot push meanwhile
        pull_bubble = world.bubbles[PULL]
        log(f"loading A with {args.objects:,} objects")
        run.loads["pull"] = measure.load(world, pull_bubble, "pull", args.objects)
        log(f"  {run.loads['pull'].rate:,.0f} objects/s; B pulls")
        with _profiled(args, run, {"pull-A-serve": home.process.pid, "pull-B-sync": os.getpid()}):
            pulled = measure.timed_sync(world, "pull")
        run.syncs.append(pulled)
        log(f"  {pulled.moved:,} objects in {pulled.seconds:.1f} s: {pulled.rate:,.0f} objects/s")
        _check_crossed(world, pull_bubble, "pull", args.objects)
        log(f"stream of {args.rate:,.0f} objects/s for {args.lag_seconds:.0f} s; B pulls in a loop")
        run.lags.append(
            measure.lag_pulling(
                world, pull_bubble, "lag-pull", args.rate, args.lag_seconds, args.batch
            )
        )
        _log_lag(run.lags[-1])
        if not args.skip_push:
            push_bubble = world.bubbles[PUSH]
            calls.only()  # neither calls the other: loading the second bubble moves nothing
            log(f"loading A's second bubble with {args.objects:,} objects")
            run.loads["push"] = measure.load(world, push_bubble, "push", args.objects)
            calls.only(home)  # A pushes; B's serve, woken by every page, cannot pull meanwhile
            log("A pushes")
            with _profiled(
                args, run, {"push-B-serve": peer.process.pid, "push-A-sync": os.getpid()}
            ):
                pushed = measure.timed_sync(world, "push")
            run.syncs.append(pushed)
            log(f"  {pushed.moved:,} objects in {pushed.seconds:.1f} s: {pushed.rate:,.0f}/s")
            _check_crossed(world, push_bubble, "push", args.objects)
            # As deployed: A's serve syncs every TRUSTBUBBLE_SYNC_SECONDS (30 by default) and
            # after each write.
            restart(home, sync_seconds=None)
            log(f"stream of {args.rate:,.0f} objects/s; A's serve pushes it by itself")
            run.lags.append(
                measure.lag_served(
                    world, push_bubble, "lag-push", args.rate, args.lag_seconds, args.batch
                )
            )
            _log_lag(run.lags[-1])
    return run


def _log_lag(lag: LagRun) -> None:
    log(
        f"  {lag.arrived:,} of {lag.posted:,} arrived; lag p50 {percentile(lag.lag_ms, 0.5):.0f} "
        f"ms, p99 {percentile(lag.lag_ms, 0.99):.0f} ms"
    )


# -- the report --------------------------------------------------------------------------------


def _span(values: list[float]) -> str:
    return f"{min(values):.1f} to {max(values):.1f}" if values else "-"


def _per_object(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:,.0f}" if count else "-"


def _cpu_bound(s: SyncRun) -> str:
    """The rate if A and B each had a core whenever they worked: the two take turns."""
    cpu = s.sender_cpu + s.receiver_cpu
    return f"{s.moved / cpu:,.0f}" if cpu else "-"


def render(run: Run, args: argparse.Namespace, when: str, revision: str) -> str:
    facts = machine()
    lines = [
        START,
        f"### Results of {when}",
        "",
        f"Command, from the repository root: `{command_line()}`",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory']} RAM, {facts['os']};"
        f" Python {facts['python']}, SQLite {facts['sqlite']}; {facts['packages']}.",
        "",
        f"Source: TrustBubble at {revision}.",
        "",
        f"Nodes: A (home of the bubbles) on {run.nodes['A']}, B (its peer) on {run.nodes['B']};"
        " each `trustbubble serve` with one worker on this machine, the syncs run by the"
        " benchmark's process on the syncing node's store.",
        "",
        f"Objects: {MIX}.",
        "",
        "| sync | objects | seconds | objects/s | pages | page p50 ms | page p99 ms "
        "| called node's share of a page, p50 ms | CPU µs per object: A | B "
        "| objects/s their CPU time allows, one after the other | load average |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    names = {
        "pull": "B pulls from A (`sync.run` on B)",
        "push": "A pushes to B (`sync.run` on A)",
    }
    for s in run.syncs:
        lines.append(
            f"| {names[s.direction]} | {s.moved:,} | {s.seconds:.1f} | {s.rate:,.0f} "
            f"| {len(s.page_ms)} | {percentile(s.page_ms, 0.5):.0f} "
            f"| {percentile(s.page_ms, 0.99):.0f} | {percentile(s.served_ms, 0.5):.0f} "
            f"| {_per_object(s.sender_cpu, s.moved)} | {_per_object(s.receiver_cpu, s.moved)} "
            f"| {_cpu_bound(s)} | {_span(s.load)} |"
        )
    lines += [
        "",
        "| loading A by TAXII POST (not part of the sync) | objects | envelopes | objects/s "
        "| A's CPU µs per object | load average |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name, done in run.loads.items():
        lines.append(
            f"| {name} bubble | {done.objects:,} | {done.envelopes} | {done.rate:,.0f} "
            f"| {_per_object(done.server_cpu, done.objects)} | {_span(done.load)} |"
        )
    lines += [
        "",
        "Lag, from an object's date_added on A to its date_added on B (each node stamps it in the"
        " transaction that stores it), while A takes a steady stream by TAXII POST:",
        "",
        "| how B gets the stream | stream objects/s | objects that crossed | lag p50 ms | p90 ms "
        "| p99 ms | max ms | syncs by the benchmark | load average |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for lag in run.lags:
        missing = lag.arrived != len(lag.lag_ms) or not lag.lag_ms
        lines.append(
            f"| {lag.mode} | {lag.rate:,.0f} | {lag.arrived:,}{' (some lost)' if missing else ''} "
            f"| {percentile(lag.lag_ms, 0.5):.0f} | {percentile(lag.lag_ms, 0.9):.0f} "
            f"| {percentile(lag.lag_ms, 0.99):.0f} | {max(lag.lag_ms, default=0):.0f} "
            f"| {lag.rounds or '-'} | {_span(lag.load)} |"
        )
    pulled = run.syncs[0]
    lines += ["", "| target | measured | verdict |", "|---|---|---|"]
    lines.append(
        f"| B syncs {args.objects:,} objects from A at {TARGET:,.0f} objects/s or more "
        f"| {pulled.rate:,.0f} objects/s | {'met' if pulled.rate >= TARGET else '**not met**'} |"
    )
    for name, (busy, shares) in run.profiles.items():
        lines += [
            "",
            f"py-spy, {name} ({busy:,} busy samples at 200 Hz; the timed sync above ran under it):",
            "",
            "| share | phase |",
            "|--:|---|",
            *[f"| {share:.1%} | {phase} |" for phase, share in shares],
        ]
    lines += ["", END, ""]
    return "\n".join(lines)


def main() -> int:
    args = _arguments()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    revision = source_revision()
    work = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    try:
        run = measure_all(args, work)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    final = source_revision()
    if final != revision:
        revision = f"{revision} at the start; {final} by the end"
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    raw = results / f"sync-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    raw.write_bytes(
        orjson.dumps(
            {"when": when, "command": command_line(), **run.to_json()}, option=orjson.OPT_INDENT_2
        )
    )
    section = render(run, args, when, revision)
    print(section)
    write_markdown(args.output, section, START, END)
    log(f"wrote {args.output} and {raw}")
    pulled = run.syncs[0]
    log(f"mean page {statistics.fmean(pulled.page_ms or [0]):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
