"""Benchmark TAXII 2.1 ingest, filtered pages and full walks: TrustBubble against medallion.

Run from the repository root with the project's virtual environment:

    .venv/bin/python bench/taxii.py [--sizes 1000,10000,100000,1000000] [--skip-medallion]
                                    [--output docs/benchmarks.md | results.json]

Both servers run as real processes on 127.0.0.1, one at a time, each measured by the same
keep-alive httpx2 client. See docs/benchmarks.md for what is measured and the latest results.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import orjson

from taxii_measure import Bench, Stage
from taxii_report import (
    command_line,
    machine,
    render,
    source_revision,
    verdicts,
    write_markdown,
)
from taxii_servers import Server, log, start_medallion, start_trustbubble
from taxii_workload import ENVELOPE_SIZE

WARMUP_GETS = 2
SEED = 20_200_407  # the GET offsets are drawn from a fixed seed, so reruns ask the same pages


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of sizes"
        ) from None
    if not sizes or sizes[0] < ENVELOPE_SIZE:
        raise argparse.ArgumentTypeError("sizes must be at least 1000 (one envelope)")
    return sizes


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes("1000,10000,100000,1000000"),
        help="stored-object counts at which to measure TrustBubble",
    )
    parser.add_argument(
        "--medallion-sizes",
        type=_sizes,
        default=_sizes("1000,2000"),
        help="stored-object counts for medallion (its memory backend is quadratic)",
    )
    parser.add_argument("--skip-medallion", action="store_true", help="measure TrustBubble only")
    parser.add_argument("--gets", type=int, default=200, help="filtered GETs per size")
    parser.add_argument(
        "--medallion-gets",
        type=int,
        default=5,
        help="filtered GETs per size for medallion; each takes tens of seconds (quadratic filters)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("docs/benchmarks.md"),
        help="a Markdown file (its generated section is replaced) or a .json file",
    )
    parser.add_argument("--keep", action="store_true", help="keep the servers' temporary directory")
    return parser.parse_args()


def _warm_up(bench: Bench, rng: random.Random) -> None:
    """Exercise every timed path once on a second collection, so no measurement pays start-up."""
    server = bench.server
    where = server.warmup_collection
    scratch = Stage(server.name, ENVELOPE_SIZE)
    bench.grow(scratch, 0, collection=where, warmup=True)
    offsets = bench.page_offsets(where)
    bench.filtered_gets(scratch, offsets, WARMUP_GETS, rng, collection=where)
    bench.walk(scratch, collection=where)
    log(f"  {server.name}: warmed up")


def _measure(
    start: Callable[[Path, httpx2.Client], Server],
    sizes: list[int],
    gets: int,
    client: httpx2.Client,
    workdir: Path,
    out: list[Stage],
    described: dict[str, str],
    versions: dict[str, str],
    notes: list[str],
) -> None:
    rng = random.Random(SEED)
    workdir.mkdir(parents=True)
    server = start(workdir, client)
    described[server.name] = f"{server.name} {server.version}, {server.storage}"
    versions[server.name.lower()] = server.version
    notes.extend(f"{server.name}: {note}" for note in server.notes)
    log(f"{server.name} {server.version} up at {server.base}")
    try:
        bench = Bench(client, server)
        _warm_up(bench, rng)
        stored = 0
        for size in sizes:
            stage = Stage(server.name, size)
            log(f"{server.name}: growing the collection to {size:,} objects")
            bench.grow(stage, stored)
            stored = size
            log(f"  POST {stage.post_rate:,.0f} objects/s; orjson.loads {stage.ceiling_rate:,.0f}")
            offsets = bench.page_offsets()
            log(f"  {len(offsets):,} distinct page offsets; {gets} filtered GETs")
            bench.filtered_gets(stage, offsets, gets, rng)
            p50, p99 = stage.percentile(50), stage.percentile(99)
            log(f"  GET p50 {p50:.1f} ms, p99 {p99:.1f} ms; walking")
            bench.walk(stage)
            if stage.walk_objects < size:
                raise RuntimeError(f"the walk saw {stage.walk_objects:,} of {size:,} objects")
            log(
                f"  walk {stage.walk_objects:,} objects in {stage.walk_pages} pages: "
                f"{stage.walk_rate:,.0f} objects/s"
            )
            out.append(stage)
    finally:
        server.stop()


def main() -> int:
    args = _arguments()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    workdir = Path(tempfile.mkdtemp(prefix="taxii-bench-"))
    stages: list[Stage] = []
    described: dict[str, str] = {}
    versions: dict[str, str] = {}
    notes: list[str] = []
    timeout = httpx2.Timeout(3600.0, connect=10.0)  # medallion's slowest pages take many seconds
    try:
        with httpx2.Client(timeout=timeout, http2=False) as client:
            if not args.skip_medallion:
                _measure(
                    start_medallion,
                    args.medallion_sizes,
                    args.medallion_gets,
                    client,
                    workdir / "medallion",
                    out=stages,
                    described=described,
                    versions=versions,
                    notes=notes,
                )
            revision = source_revision()  # what `trustbubble serve` is about to load
            _measure(
                start_trustbubble,
                args.sizes,
                args.gets,
                client,
                workdir / "trustbubble",
                out=stages,
                described=described,
                versions=versions,
                notes=notes,
            )
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    facts = machine()  # TrustBubble's code was read when its server started
    final = source_revision()
    facts["source"] = (
        f"TrustBubble at {revision}"
        if final == revision
        else f"TrustBubble started at {revision}; by the end of the run: {final}"
    )
    if "medallion" in versions:
        facts["packages"] += f", medallion {versions['medallion']}"
    command = command_line()
    if args.output.suffix == ".json":
        report = {
            "when": when,
            "command": command,
            "machine": facts,
            "servers": described,
            "stages": [s.to_json() for s in stages],
            "targets": [v.__dict__ for v in verdicts(stages)],
        }
        args.output.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    else:
        write_markdown(args.output, render(stages, facts, command, when, described, notes))
    log(f"wrote {args.output}")
    for verdict in verdicts(stages):
        state = {True: "met", False: "NOT MET", None: "not measured"}[verdict.met]
        log(f"  {verdict.target}: {verdict.measured} -> {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
