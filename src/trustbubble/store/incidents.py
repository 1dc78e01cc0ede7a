"""Queries on incidents: the list a reader may see, and the observatory's counts and sums.

Every query starts from `_conditions()`: the latest version of each incident the reader may read,
counted once even when it was shared into several of the reader's bubbles. The access policy
reaches these rows as it reaches any object, through `readable(grant)`, here on the access
columns that `incident_facts` copies from `objects`, so the charts read one narrow table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Subquery,
    and_,
    func,
    or_,
    select,
    true,
)

from trustbubble.domain.norms import CRITICAL_SECTORS
from trustbubble.store.feed import Scope, in_scope
from trustbubble.store.objects import AccessColumns
from trustbubble.store.tables import (
    assistance_requests,
    incident_facts,
    incident_sectors,
    objects,
)


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    since: int | None = None  # started at or after, microseconds
    until: int | None = None  # started before
    sectors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    attack_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    norm: str | None = None  # a letter: incidents that name the norm or touch it by what they are


FACT_ACCESS = AccessColumns(incident_facts, "object_added")


def _conditions(scope: Scope, where: IncidentFilter) -> list[ColumnElement[bool]]:
    facts = incident_facts.c
    conditions: list[ColumnElement[bool]] = [
        facts.is_latest == true(),
        in_scope(scope, FACT_ACCESS),
    ]
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
            facts.object_added.in_(
                select(incident_sectors.c.object_added).where(
                    incident_sectors.c.sector.in_(where.sectors)
                )
            )
        )
    if where.norm is not None:
        conditions.append(_touches(scope, where.norm))
    return conditions


# The requests for assistance nobody has answered yet, or everybody declined.
_UNANSWERED = ("open", "declined")


def _touches(scope: Scope, letter: str) -> ColumnElement[bool]:
    """SQL for domain/norms.py `suggested_norms`, or the norm named by the reporter. A request
    counts only when the reader may read its note: its existence is not for everyone."""
    facts = incident_facts.c
    either: list[ColumnElement[bool]] = [facts.norms.contains(letter, autoescape=True)]
    if letter in ("f", "g"):
        either.append(
            facts.object_added.in_(
                select(incident_sectors.c.object_added).where(
                    incident_sectors.c.sector.in_(sorted(CRITICAL_SECTORS))
                )
            )
        )
    if letter == "i":
        either.append(facts.attack_type == "supply-chain")
    if letter == "h":
        either.append(
            facts.stix_id.in_(
                select(assistance_requests.c.incident_id)
                .join(
                    objects,
                    and_(
                        objects.c.collection_id == assistance_requests.c.bubble_id,
                        objects.c.id == assistance_requests.c.note_id,
                        objects.c.is_latest == true(),
                    ),
                )
                .where(
                    assistance_requests.c.state.in_(_UNANSWERED),
                    assistance_requests.c.incident_id.is_not(None),
                    in_scope(scope),
                )
            )
        )
    return or_(*either)


def _once(scope: Scope) -> bool:
    """Whether the view may hold an incident twice: several bubbles, or the whole node."""
    return scope is None or len(scope) > 1


def visible(scope: Scope, where: IncidentFilter) -> Subquery:
    """The key of the latest readable version of each incident matching the filter, once."""
    conditions = _conditions(scope, where)
    if not _once(scope):
        # One collection holds one latest version of an object: nothing to count twice.
        return (
            select(incident_facts.c.object_added.label("added"))
            .where(*conditions)
            .subquery("visible")
        )
    return (
        select(func.max(incident_facts.c.object_added).label("added"))
        .where(*conditions)
        .group_by(incident_facts.c.stix_id)
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
    if _once(scope):
        chosen = visible(scope, where)
        facts: Any = incident_facts.join(chosen, chosen.c.added == incident_facts.c.object_added)
        conditions: list[ColumnElement[bool]] = []
    else:
        facts, conditions = incident_facts, _conditions(scope, where)
    if dimension == "sector":
        key: Any = incident_sectors.c.sector
        source: Any = facts.join(
            incident_sectors, incident_sectors.c.object_added == incident_facts.c.object_added
        )
    else:
        key, source = DIMENSIONS[dimension], facts
    rows = conn.execute(
        select(key, func.count()).select_from(source).where(*conditions).group_by(key).order_by(key)
    )
    return [(row[0], int(row[1])) for row in rows]


def impact_totals(conn: Connection, scope: Scope, where: IncidentFilter) -> dict[str, float]:
    facts = incident_facts.c
    if _once(scope):
        chosen = visible(scope, where)
        source: Any = incident_facts.join(chosen, chosen.c.added == facts.object_added)
        conditions: list[ColumnElement[bool]] = []
    else:
        source, conditions = incident_facts, _conditions(scope, where)
    row = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(facts.patients_affected), 0),
            func.coalesce(func.sum(facts.services_disrupted), 0),
            func.count().filter(facts.care_delayed == true()),
            func.count().filter(facts.care_diverted == true()),
            func.coalesce(func.sum(facts.records_exposed), 0),
            func.coalesce(func.sum(facts.downtime_hours), 0.0),
        )
        .select_from(source)
        .where(*conditions)
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
