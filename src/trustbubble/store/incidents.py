"""Queries on incidents: the list a reader may see, and the observatory's counts and sums.

Every query starts from `visible()`: the latest version of each incident the reader may read,
once even when it was shared into several of the reader's bubbles. The access policy reaches
these rows as it reaches any object, through `readable(grant)` on `objects`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Subquery,
    func,
    select,
    true,
)

from trustbubble.store.feed import Scope, in_scope
from trustbubble.store.tables import incident_facts, incident_sectors, objects


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    since: int | None = None  # started at or after, microseconds
    until: int | None = None  # started before
    sectors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    attack_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


def visible(scope: Scope, where: IncidentFilter) -> Subquery:
    """The `added` of the latest readable version of each incident matching the filter."""
    conditions: list[ColumnElement[bool]] = [
        objects.c.type == "incident",
        objects.c.is_latest == true(),
        in_scope(scope),
    ]
    facts = incident_facts.c
    if where.since is not None:
        conditions.append(facts.started >= where.since)
    if where.until is not None:
        conditions.append(facts.started < where.until)
    if where.countries:
        conditions.append(facts.country.in_(where.countries))
    if where.attack_types:
        conditions.append(facts.attack_type.in_(where.attack_types))
    if where.statuses:
        conditions.append(facts.status.in_(where.statuses))
    if where.sectors:
        conditions.append(
            objects.c.added.in_(
                select(incident_sectors.c.object_added).where(
                    incident_sectors.c.sector.in_(where.sectors)
                )
            )
        )
    joined = objects.join(incident_facts, incident_facts.c.object_added == objects.c.added)
    if scope is not None and len(scope) == 1:
        # One collection holds one latest version of an object: nothing to count twice, and
        # grouping by id would cost more than the rest of the query (bench/observatory.py).
        return select(objects.c.added).select_from(joined).where(*conditions).subquery("visible")
    return (
        select(func.max(objects.c.added).label("added"))
        .select_from(joined)
        .where(*conditions)
        .group_by(objects.c.id)
        .subquery("visible")
    )


SORTS: dict[str, Any] = {
    "started": incident_facts.c.started.desc(),
    "oldest": incident_facts.c.started.asc(),
    "patients": incident_facts.c.patients_affected.desc(),
    "downtime": incident_facts.c.downtime_hours.desc(),
    "added": objects.c.added.desc(),
}


def listing(
    conn: Connection, scope: Scope, where: IncidentFilter, sort: str, limit: int, offset: int
) -> tuple[int, list[tuple[int, str, str, int, bytes]]]:
    """How many match, and one page of (added, collection_id, id, tlp, body), sorted."""
    chosen = visible(scope, where)
    total = conn.execute(select(func.count()).select_from(chosen)).scalar_one()
    statement: Select[Any] = (
        select(
            objects.c.added, objects.c.collection_id, objects.c.id, objects.c.tlp, objects.c.body
        )
        .join(chosen, chosen.c.added == objects.c.added)
        .join(incident_facts, incident_facts.c.object_added == objects.c.added)
        .order_by(SORTS[sort], objects.c.added.desc())
        .limit(limit)
        .offset(offset)
    )
    return total, [(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(statement)]


DIMENSIONS = {
    "month": incident_facts.c.month,
    "country": incident_facts.c.country,
    "attack_type": incident_facts.c.attack_type,
    "status": incident_facts.c.status,
}


def count_by(
    conn: Connection, scope: Scope, where: IncidentFilter, dimension: str
) -> list[tuple[str | None, int]]:
    """Incidents per value of one dimension (month, country, attack type, status or sector)."""
    chosen = visible(scope, where)
    if dimension == "sector":
        key: Any = incident_sectors.c.sector
        source: Any = chosen.join(
            incident_sectors, incident_sectors.c.object_added == chosen.c.added
        )
    else:
        key = DIMENSIONS[dimension]
        source = chosen.join(incident_facts, incident_facts.c.object_added == chosen.c.added)
    rows = conn.execute(select(key, func.count()).select_from(source).group_by(key).order_by(key))
    return [(row[0], int(row[1])) for row in rows]


def impact_totals(conn: Connection, scope: Scope, where: IncidentFilter) -> dict[str, float]:
    chosen = visible(scope, where)
    facts = incident_facts.c
    row = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(facts.patients_affected), 0),
            func.coalesce(func.sum(facts.services_disrupted), 0),
            func.count().filter(facts.care_delayed == true()),
            func.count().filter(facts.care_diverted == true()),
            func.coalesce(func.sum(facts.records_exposed), 0),
            func.coalesce(func.sum(facts.downtime_hours), 0.0),
        ).select_from(chosen.join(incident_facts, facts.object_added == chosen.c.added))
    ).one()
    names = (
        "incidents",
        "patients_affected",
        "services_disrupted",
        "care_delayed",
        "care_diverted",
        "records_exposed",
        "downtime_hours",
    )
    return {name: float(value) for name, value in zip(names, row, strict=True)}
