"""The observatory: incident trends by month, sector, country and attack type, human impact, and
growth against the same period a year earlier, for a bubble's readers or, from CLEAR data only,
for everyone."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from trustbubble.domain.accounts import User
from trustbubble.domain.timestamps import format_timestamp
from trustbubble.services.accounts import reader_for
from trustbubble.services.incidents import scope_of
from trustbubble.store import incidents as store
from trustbubble.store.database import Database
from trustbubble.store.feed import Scope
from trustbubble.store.incidents import IncidentFilter

_YEAR_US = 365 * 24 * 3600 * 1_000_000
# Each chart, and the name of the column its CSV gives before the count.
FIGURES = {
    "per_month": "month",
    "by_sector": "sector",
    "by_country": "country",
    "by_attack_type": "attack_type",
    "health_attack_types": "attack_type",
}


@dataclass(frozen=True, slots=True)
class Growth:
    """Incidents in the period and in the same period a year earlier; ratio None when 0 then."""

    label: str
    current: int
    previous: int
    ratio: float | None


@dataclass(frozen=True, slots=True)
class Observatory:
    scope: str  # "public", or the bubble's name
    since: str | None
    until: str | None
    per_month: list[tuple[str, int]]
    by_sector: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    by_attack_type: list[tuple[str, int]]
    health_attack_types: list[tuple[str, int]]  # the attack types against health, most first
    impact: dict[str, float]
    growth: list[Growth]


def _months(rows: list[tuple[str | None, int]]) -> list[tuple[str, int]]:
    """Every month from the first to the last, with the months without incidents as 0."""
    counts = {month: n for month, n in rows if month}
    if not counts:
        return []
    first, last = min(counts), max(counts)
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        key = f"{year:04d}-{month:02d}"
        out.append((key, counts.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _ranked(rows: list[tuple[str | None, int]]) -> list[tuple[str, int]]:
    return sorted(((key or "unknown", n) for key, n in rows), key=lambda r: (-r[1], r[0]))


def _total(db: Database, scope: Scope, where: IncidentFilter) -> int:
    with db.read() as conn:
        return int(store.impact_totals(conn, scope, where)["incidents"])


def _growth(db: Database, scope: Scope, where: IncidentFilter, now: int) -> list[Growth]:
    """The period against the same period a year before: the whole, and health alone."""
    until = where.until if where.until is not None else now
    since = where.since if where.since is not None else until - _YEAR_US
    period = replace(where, since=since, until=until)
    before = replace(where, since=since - _YEAR_US, until=until - _YEAR_US)
    out = []
    for label, sectors in (("all incidents", where.sectors), ("health", ("healthcare",))):
        current = _total(db, scope, replace(period, sectors=sectors))
        previous = _total(db, scope, replace(before, sectors=sectors))
        out.append(Growth(label, current, previous, current / previous if previous else None))
    return out


def figures(db: Database, scope: Scope, name: str, where: IncidentFilter) -> Observatory:
    now = int(datetime.now(UTC).timestamp() * 1_000_000)
    with db.read() as conn:
        per_month = _months(store.count_by(conn, scope, where, "month"))
        by_sector = _ranked(store.count_by(conn, scope, where, "sector"))
        by_country = _ranked(store.count_by(conn, scope, where, "country"))
        by_attack = _ranked(store.count_by(conn, scope, where, "attack_type"))
        health = replace(where, sectors=("healthcare",))
        health_attacks = _ranked(store.count_by(conn, scope, health, "attack_type"))
        impact = store.impact_totals(conn, scope, where)
    return Observatory(
        scope=name,
        since=format_timestamp(where.since)[:10] if where.since is not None else None,
        until=format_timestamp(where.until)[:10] if where.until is not None else None,
        per_month=per_month,
        by_sector=by_sector,
        by_country=by_country,
        by_attack_type=by_attack,
        health_attack_types=health_attacks,
        impact=impact,
        growth=_growth(db, scope, where, now),
    )


def public(db: Database, where: IncidentFilter) -> Observatory:
    """Built from CLEAR incidents only, for anyone, signed in or not."""
    return figures(db, None, "public", where)


def for_bubble(db: Database, user: User, bubble_id: str, where: IncidentFilter) -> Observatory:
    """What the user may read in one bubble; a bubble they may not see is NotFound."""
    reader = reader_for(db, user)
    scope, name = scope_of(db, reader, bubble_id)
    return figures(db, scope, name, where)


def table(figure: Observatory, name: str) -> list[tuple[str, int]]:
    """The numbers behind one chart, for its table and CSV."""
    if name not in FIGURES:
        raise KeyError(name)
    rows: list[tuple[str, int]] = getattr(figure, name)
    return rows
