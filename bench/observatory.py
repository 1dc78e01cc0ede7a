"""Benchmark the observatory's queries at 100,000 incidents and correlation at 1,000,000 values.

Run from the repository root with the project's virtual environment:

    .venv/bin/python bench/observatory.py [--incidents 100000] [--observables 1000000]
        [--backends sqlite,postgresql] [--postgresql URL] [--output docs/benchmarks.md]

For each backend, a fresh store is filled through the node's own ingest path (the services that
a TAXII POST uses, envelopes of 1,000): incidents carrying the incident extension, then
indicators whose STIX patterns hold one value each from a pool of a fifth as many values, so
each value has several holders. Then every observatory query runs as a bubble member (through
the access policy) and as the public (CLEAR only), and value lookups run as "also seen in" and
search do. Times are wall-clock, in this process, on the store's real queries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from taxii_report import command_line, machine, source_revision, write_markdown
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.domain.incidents import SECTORS, AttackType, IncidentStatus, read_report, to_stix
from trustbubble.services import accounts, bubbles, node, objects
from trustbubble.services.observatory import figures
from trustbubble.store import incidents as incident_store
from trustbubble.store import observables as observable_store
from trustbubble.store.database import Database, normalize_url
from trustbubble.store.feed import Scope
from trustbubble.store.incidents import IncidentFilter

START = "<!-- bench/observatory.py: start (generated; a rerun replaces this section) -->"
END = "<!-- bench/observatory.py: end -->"
CHART_TARGET_MS = 300.0
LOOKUP_TARGET_MS = 20.0
ENVELOPE = 1000
REPEAT = 30
LOOKUPS = 300
SEED = 2020
COUNTRIES = ("FR", "KE", "DE", "BR", "CH", "PT", "ES", "CZ", "EE", "GH", "SN", "CO", "CL", "IT")
_IDS = uuid.UUID("7d1c9a52-3e0b-4f6a-8c2d-9b1e0f4a6c35")
LEVELS = ("clear", "clear", "green", "green", "amber", "amber+strict")


@dataclass
class Result:
    backend: str
    load_seconds: dict[str, float] = field(default_factory=dict)
    timings_ms: dict[str, list[float]] = field(default_factory=dict)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@contextmanager
def _store(backend: str, pg_url: str) -> Iterator[Database]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as work:
            db = Database(f"sqlite:///{work}/bench.sqlite3")
            yield db
            db.dispose()
        return
    name = f"tb_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(pg_url)).set(database=name)
    db = Database(url.render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _incident(rng: random.Random, n: int, author: str) -> dict[str, Any]:
    year = rng.choice((2019, 2020, 2021, 2022, 2023))
    report = read_report(
        {
            "title": f"Incident {n}",
            "started": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "status": rng.choice([s.value for s in IncidentStatus]),
            "country": rng.choice(COUNTRIES),
            "attack_type": rng.choice([a.value for a in AttackType]),
            "sectors": rng.sample(SECTORS[:12], rng.choice((1, 1, 2))),
            "patients_affected": rng.randint(0, 3000),
            "records_exposed": rng.randint(0, 100_000),
            "downtime_hours": rng.randint(0, 200),
            "care_delayed": rng.random() < 0.3,
            "norms": rng.sample("abcdefghijk", 2),
            "tlp": rng.choice(LEVELS),
        }
    )
    stamp = "2024-01-01T00:00:00.000Z"
    return to_stix(
        report,
        object_id=f"incident--{uuid.uuid5(_IDS, f'incident {n}')}",
        created=stamp,
        modified=stamp,
        author=author,
    )


def _indicator(n: int, value: int) -> dict[str, Any]:
    stamp = "2024-01-01T00:00:00.000Z"
    a, b = divmod(value, 65536)
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(_IDS, f'indicator {n}')}",
        "created": stamp,
        "modified": stamp,
        "pattern": f"[ipv4-addr:value = '10.{a % 256}.{b // 256}.{b % 256}']",
        "pattern_type": "stix",
        "valid_from": stamp,
    }


def _value(value: int) -> str:
    a, b = divmod(value, 65536)
    return f"10.{a % 256}.{b // 256}.{b % 256}"


def _load(db: Database, total: int, make: Callable[[int], dict[str, Any]], label: str) -> float:
    user = accounts.user_by_email(db, "analyst@bench.test")
    reader = accounts.reader_for(db, user)
    bubble = bubbles.bubble_by_name(db, "Bench bubble")
    with db.read() as conn:
        where = bubbles.collection_access(conn, reader, bubble.id)
    started = time.perf_counter()
    for first in range(0, total, ENVELOPE):
        envelope = [make(n) for n in range(first, min(total, first + ENVELOPE))]
        status = objects.add_envelope(db, reader, user.email, where, envelope)
        if status.failures:
            raise SystemExit(f"{label}: the node refused {status.failures[0].message}")
        if (first // ENVELOPE) % 50 == 0:
            print(f"  {label}: {first + len(envelope):,} of {total:,}", file=sys.stderr)
    return time.perf_counter() - started


def _time(repeat: int, run: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _measure(backend: str, pg_url: str, incidents: int, values_n: int) -> Result:
    result = Result(backend)
    rng = random.Random(SEED)
    with _store(backend, pg_url) as db:
        node.upgrade(db)
        accounts.create_org(db, "Bench CERT", "cert", "FR")
        accounts.create_user(db, "analyst@bench.test", "Bench CERT", UserRole.ANALYST)
        bubbles.create_bubble(db, "Bench bubble", BubbleKind.REGIONAL, "Bench CERT")
        with db.read() as conn:
            author = conn.execute(text("SELECT identity_id FROM organizations")).scalar_one()
        result.load_seconds["incidents"] = _load(
            db, incidents, lambda n: _incident(rng, n, author), "incidents"
        )
        pool = max(1, values_n // 5)
        used: list[int] = []

        def indicator(n: int) -> dict[str, Any]:
            used.append(rng.randrange(pool))
            return _indicator(n, used[-1])

        result.load_seconds["indicators"] = _load(db, values_n, indicator, "indicators")
        # What PostgreSQL's autovacuum (and an operator after a large import) does: fresh
        # statistics, so the planner sees 100,000 incidents rather than an empty table.
        with db.write() as conn:
            conn.execute(text("ANALYZE"))
        user = accounts.user_by_email(db, "analyst@bench.test")
        reader = accounts.reader_for(db, user)
        bubble = bubbles.bubble_by_name(db, "Bench bubble")
        with db.read() as conn:
            where = bubbles.collection_access(conn, reader, bubble.id)
        member: Scope = [(where.id, where.grant)]
        health = IncidentFilter(sectors=("healthcare",))
        spring = IncidentFilter(
            since=int(datetime(2020, 3, 1, tzinfo=UTC).timestamp() * 1e6),
            until=int(datetime(2020, 6, 1, tzinfo=UTC).timestamp() * 1e6),
        )
        for who, scope in (("member", member), ("public", None)):
            queries: dict[str, Callable[[], object]] = {
                "per month": partial(_count, db, scope, IncidentFilter(), "month"),
                "by sector": partial(_count, db, scope, IncidentFilter(), "sector"),
                "by country": partial(_count, db, scope, IncidentFilter(), "country"),
                "by attack type": partial(_count, db, scope, IncidentFilter(), "attack_type"),
                "attack types against health": partial(_count, db, scope, health, "attack_type"),
                "human-impact totals": partial(_totals, db, scope, IncidentFilter()),
                "one period (growth, each side)": partial(_totals, db, scope, spring),
                "whole page (every figure)": partial(figures, db, scope, who, IncidentFilter()),
            }
            for name, run in queries.items():
                run()  # warm the cache once
                result.timings_ms[f"{who}: {name}"] = _time(REPEAT, run)
                print(f"  {backend} {who}: {name} done", file=sys.stderr)
        lookups = [_value(rng.choice(used)) for _ in range(LOOKUPS)]
        result.timings_ms["value lookup (also seen in, search)"] = [
            _time(1, partial(_holders, db, member, value))[0] for value in lookups
        ]
    return result


def _count(db: Database, scope: Scope, where: IncidentFilter, dimension: str) -> object:
    with db.read() as conn:
        return incident_store.count_by(conn, scope, where, dimension)


def _totals(db: Database, scope: Scope, where: IncidentFilter) -> object:
    with db.read() as conn:
        return incident_store.impact_totals(conn, scope, where)


def _holders(db: Database, scope: Scope, value: str) -> object:
    with db.read() as conn:
        found = observable_store.holders(conn, scope, [value], 100)
    if not found:
        raise SystemExit(f"no holder of {value}: the lookup measured nothing")
    return found


def _render(results: list[Result], incidents: int, values_n: int) -> str:
    facts = machine()
    lines = [
        START,
        f"### Results of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command, from the repository root: `{command_line()}`",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory']} RAM, {facts['os']};"
        f" Python {facts['python']}, SQLite {facts['sqlite']}; {facts['packages']}.",
        "",
        f"Source: TrustBubble at {source_revision()}.",
        "",
        f"Store: {incidents:,} incidents and {values_n:,} indicators (one value each, "
        f"{values_n // 5:,} distinct values), loaded through the ingest services in envelopes "
        f"of {ENVELOPE:,}, then `ANALYZE`; each query {REPEAT} times after one warm-up, "
        f"each lookup once for {LOOKUPS} random values.",
        "",
        "| query | "
        + " | ".join(f"{r.backend} p50 ms | {r.backend} p99 ms" for r in results)
        + " |",
        "|---|" + "--:|--:|" * len(results),
    ]
    for name in results[0].timings_ms:
        cells = []
        for result in results:
            values = result.timings_ms[name]
            cells += [f"{statistics.median(values):.1f}", f"{_percentile(values, 0.99):.1f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| load | " + " | ".join(f"{r.backend} objects/s" for r in results) + " |",
        "|---|" + "--:|" * len(results),
    ]
    for kind, count in (("incidents", incidents), ("indicators", values_n)):
        rates = [f"{count / r.load_seconds[kind]:,.0f}" for r in results]
        lines.append(f"| {kind} | " + " | ".join(rates) + " |")
    lines += [
        "",
        "| target | " + " | ".join(r.backend for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for label, match, target in (
        (f"each chart under {CHART_TARGET_MS:.0f} ms (p99)", "", CHART_TARGET_MS),
        (f"value lookup under {LOOKUP_TARGET_MS:.0f} ms (p99)", "value lookup", LOOKUP_TARGET_MS),
    ):
        cells = []
        for result in results:
            chosen = {
                name: _percentile(values, 0.99)
                for name, values in result.timings_ms.items()
                if (
                    name.startswith("value lookup")
                    if match
                    else not name.startswith("value") and "whole page" not in name
                )
            }
            worst = max(chosen, key=lambda k: chosen[k])
            verdict = "met" if chosen[worst] < target else "**not met**"
            cells.append(f"{verdict}: slowest {chosen[worst]:.1f} ms ({worst})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", END, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--observables", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgresql",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL server URL; the script makes and drops its own database there",
    )
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = [
        _measure(backend, args.postgresql, args.incidents, args.observables) for backend in backends
    ]
    section = _render(results, args.incidents, args.observables)
    print(section)
    write_markdown(args.output, section, START, END)


if __name__ == "__main__":
    main()
