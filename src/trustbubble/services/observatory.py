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

_PEAK_MONTHS = 3
_FEW = 3
_TOP_COUNTRIES = 3
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
    growth_since: str  # the first and last day of the period the growth compares
    growth_until: str
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


def _month_start(month: str) -> int:
    year, number = int(month[:4]), int(month[5:])
    return int(datetime(year, number, 1, tzinfo=UTC).timestamp() * 1_000_000)


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


def _peak(per_month: list[tuple[str, int]]) -> tuple[int, int] | None:
    """The three consecutive months with the most incidents, as (start, end) microseconds."""
    if not per_month:
        return None
    window = min(_PEAK_MONTHS, len(per_month))
    sums = [
        (sum(n for _, n in per_month[i : i + window]), i)
        for i in range(len(per_month) - window + 1)
    ]
    _total_n, first = max(sums, key=lambda item: (item[0], -item[1]))
    last = per_month[first + window - 1][0]
    return _month_start(per_month[first][0]), _month_start(_next_month(last))


_YEAR_2 = int(datetime(2, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_LAST = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1_000_000)


def _year_before(us: int) -> int:
    """The same moment a year earlier (28 February for the 29th). A period typed beyond the
    calendar (before the year 2, after 9999) is held to its ends: no incident lies out there."""
    us = min(max(us, _YEAR_2), _LAST)
    moment = datetime.fromtimestamp(us / 1_000_000, UTC)
    day = min(moment.day, 28) if moment.month == 2 else moment.day
    return int(moment.replace(year=moment.year - 1, day=day).timestamp() * 1_000_000)


def _country_growth(
    db: Database, scope: Scope, period: IncidentFilter, before: IncidentFilter
) -> list[Growth]:
    """The countries whose incidents rose most, among those with at least a few in the period."""
    with db.read() as conn:
        now = dict(store.count_by(conn, scope, period, "country"))
        then = dict(store.count_by(conn, scope, before, "country"))
    rising = [
        Growth(f"country {country}", n, then.get(country, 0), n / then[country])
        for country, n in now.items()
        if country and n >= _FEW and then.get(country)
    ]
    return sorted(rising, key=lambda g: (-(g.ratio or 0), g.label))[:_TOP_COUNTRIES]


def _growth(
    db: Database, scope: Scope, where: IncidentFilter, per_month: list[tuple[str, int]]
) -> tuple[str, str, list[Growth]]:
    """The period against the same period a year before: all incidents, and health alone.

    The period is the filter's; without one, the three busiest consecutive months, so the
    surge shows at first sight.
    """
    if where.since is None and where.until is None:
        peak = _peak(per_month)
        if peak is None:
            return "", "", []
        since, until = peak
    else:
        now = int(datetime.now(UTC).timestamp() * 1_000_000)
        until = where.until if where.until is not None else now
        since = where.since if where.since is not None else _year_before(until)
    period = replace(where, since=since, until=until)
    before = replace(where, since=_year_before(since), until=_year_before(until))
    out = []
    for label, sectors in (("all incidents", where.sectors), ("health", ("healthcare",))):
        current = _total(db, scope, replace(period, sectors=sectors))
        previous = _total(db, scope, replace(before, sectors=sectors))
        out.append(Growth(label, current, previous, current / previous if previous else None))
    out.extend(_country_growth(db, scope, period, before))
    last_day = format_timestamp(until - 1)[:10]
    return format_timestamp(since)[:10], last_day, out


def figures(db: Database, scope: Scope, name: str, where: IncidentFilter) -> Observatory:
    with db.read() as conn:
        per_month = _months(store.count_by(conn, scope, where, "month"))
        by_sector = _ranked(store.count_by(conn, scope, where, "sector"))
        by_country = _ranked(store.count_by(conn, scope, where, "country"))
        by_attack = _ranked(store.count_by(conn, scope, where, "attack_type"))
        health = replace(where, sectors=("healthcare",))
        health_attacks = _ranked(store.count_by(conn, scope, health, "attack_type"))
        impact = store.impact_totals(conn, scope, where)
    growth_since, growth_until, growth = _growth(db, scope, where, per_month)
    return Observatory(
        scope=name,
        since=format_timestamp(where.since)[:10] if where.since is not None else None,
        # `until` is the start of the day after the last one: show the day that was typed.
        until=format_timestamp(where.until - 1)[:10] if where.until is not None else None,
        per_month=per_month,
        by_sector=by_sector,
        by_country=by_country,
        by_attack_type=by_attack,
        health_attack_types=health_attacks,
        impact=impact,
        growth_since=growth_since,
        growth_until=growth_until,
        growth=growth,
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
