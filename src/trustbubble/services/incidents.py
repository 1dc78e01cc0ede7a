"""Reporting incidents against critical infrastructure, editing them, listing what one may see."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from trustbubble.domain.access import Reader
from trustbubble.domain.accounts import User
from trustbubble.domain.errors import Forbidden, Invalid, NotFound
from trustbubble.domain.incidents import IncidentReport, from_stix, read_report, to_stix
from trustbubble.domain.timestamps import format_timestamp, parse_timestamp, stamp
from trustbubble.domain.tlp import (
    RED_RECIPIENTS_EXTENSION_ID,
    TLP2_MARKING_IDS,
    TlpLevel,
    level_of,
    red_recipients,
)
from trustbubble.services import audit
from trustbubble.services.accounts import reader_for
from trustbubble.services.bubbles import CollectionAccess, collection_access, collections_for
from trustbubble.services.feed import day_start
from trustbubble.services.objects import add_envelope, read
from trustbubble.store import accounts as account_store
from trustbubble.store import incidents as store
from trustbubble.store.database import Database
from trustbubble.store.feed import Scope
from trustbubble.store.incidents import IncidentFilter
from trustbubble.store.objects import ObjectQuery

PAGE_SIZE = 50
MAX_DOWNLOAD = 100_000


def _author(db: Database, user: User) -> str:
    with db.read() as conn:
        org = account_store.org_by_id(conn, user.org_id)
    if org is None:
        raise NotFound("your organization is gone")
    return org.identity_id


def _store(
    db: Database, reader: Reader, user: User, where: CollectionAccess, obj: dict[str, Any]
) -> None:
    status = add_envelope(db, reader, user.email, where, [obj])
    if status.failures:
        raise Invalid("incident", status.failures[0].message or "the node refused the incident")


def report(db: Database, user: User, bubble_id: str, data: Mapping[str, Any]) -> str:
    """Share a new incident in a bubble; its STIX id."""
    reader = reader_for(db, user)
    with db.read() as conn:
        where = collection_access(conn, reader, bubble_id)
    incident = read_report(data)
    if where.bubble is None:
        raise Forbidden("incidents are reported in a bubble, not in the public collection")
    now = stamp(datetime.now(UTC))
    obj = to_stix(
        incident,
        object_id=f"incident--{uuid.uuid4()}",
        created=now,
        modified=now,
        author=_author(db, user),
    )
    _store(db, reader, user, where, obj)
    return str(obj["id"])


@dataclass(frozen=True, slots=True)
class Editable:
    """The current version of an incident, as the edit form shows it."""

    bubble_id: str
    id: str
    modified: str
    report: IncidentReport


def _current_any(
    db: Database, actor: str, where: CollectionAccess, object_id: str
) -> dict[str, Any]:
    page = read(db, actor, where, ObjectQuery(ids=(object_id,)), None, 1)
    if not page.items or page.items[0].body is None:
        raise NotFound(f"no object {object_id} in this bubble")
    obj: dict[str, Any] = orjson.loads(page.items[0].body)
    return obj


def _current(db: Database, actor: str, where: CollectionAccess, incident_id: str) -> dict[str, Any]:
    obj = _current_any(db, actor, where, incident_id)
    if obj.get("type") != "incident":
        raise NotFound(f"{incident_id} is not an incident")
    return obj


def _editable(
    db: Database, user: User, bubble_id: str, incident_id: str
) -> tuple[Reader, CollectionAccess, dict[str, Any], IncidentReport]:
    reader = reader_for(db, user)
    with db.read() as conn:
        where = collection_access(conn, reader, bubble_id)
    obj = _current(db, user.email, where, incident_id)
    if obj.get("created_by_ref") != _author(db, user):
        raise Forbidden("only the organization that reported an incident may edit it")
    found = from_stix(obj, where.default_tlp)
    if found is None:
        raise Invalid("incident", "this incident was not reported with the node's form")
    return reader, where, obj, found


def editable(db: Database, user: User, bubble_id: str, incident_id: str) -> Editable:
    _reader, where, obj, found = _editable(db, user, bubble_id, incident_id)
    return Editable(where.id, incident_id, str(obj["modified"]), found)


def edit(
    db: Database, user: User, bubble_id: str, incident_id: str, data: Mapping[str, Any]
) -> None:
    """A new version of an incident, by the organization that reported it."""
    reader, where, previous, _found = _editable(db, user, bubble_id, incident_id)
    incident = read_report(data)
    # A version must be later than the one it replaces, even within the same millisecond.
    modified = max(
        parse_timestamp(stamp(datetime.now(UTC))), parse_timestamp(previous["modified"]) + 1000
    )
    obj = to_stix(
        incident,
        object_id=incident_id,
        created=str(previous["created"]),
        modified=format_timestamp(modified)[:23] + "Z",
        author=str(previous["created_by_ref"]),
    )
    _store(db, reader, user, where, obj)


LINKABLE = ("indicator", "malware", "vulnerability")


def link(db: Database, user: User, bubble_id: str, incident_id: str, object_id: str) -> str:
    """Relate an indicator, malware or vulnerability of the bubble to an incident; the SRO's id.

    The relationship is marked with the stricter of the two levels (and, for RED, names only
    the recipients both ends share), so it reveals neither end to anyone who may not read both.
    """
    reader = reader_for(db, user)
    with db.read() as conn:
        where = collection_access(conn, reader, bubble_id)
    incident = _current(db, user.email, where, incident_id)
    try:
        other = _current_any(db, user.email, where, object_id.strip())
    except NotFound:
        raise Invalid("object_id", f"no object {object_id.strip()!r} in this bubble") from None
    if other["type"] not in LINKABLE:
        raise Invalid(
            "object_id",
            f"{other['type']} objects cannot be linked to an incident; "
            "link an indicator, malware or a vulnerability",
        )
    levels = [level_of(incident, where.default_tlp), level_of(other, where.default_tlp)]
    level = max(levels)
    now = stamp(datetime.now(UTC))
    relationship: dict[str, Any] = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "created_by_ref": _author(db, user),
        "relationship_type": "related-to",
        "source_ref": incident_id,
        "target_ref": other["id"],
        "object_marking_refs": [TLP2_MARKING_IDS[level]],
    }
    if level is TlpLevel.RED:
        named = [
            red_recipients(o)
            for o, lv in zip((incident, other), levels, strict=True)
            if lv is TlpLevel.RED
        ]
        relationship["extensions"] = {
            RED_RECIPIENTS_EXTENSION_ID: {
                "extension_type": "property-extension",
                "recipients": sorted(frozenset.intersection(*named)),
            }
        }
    _store(db, reader, user, where, relationship)
    return str(relationship["id"])


def incident_filter(
    since: str = "",
    until: str = "",
    sectors: Sequence[str] = (),
    countries: Sequence[str] = (),
    attack_types: Sequence[str] = (),
    statuses: Sequence[str] = (),
) -> IncidentFilter:
    """Filters from what a person typed: days (YYYY-MM-DD, `until` included) and choices."""
    return IncidentFilter(
        since=day_start(since, "since", 0),
        until=day_start(until, "until", 1),
        sectors=_clean(sectors),
        countries=tuple(c.upper() for c in _clean(countries)),
        attack_types=_clean(attack_types),
        statuses=_clean(statuses),
    )


def _clean(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip().lower() for v in values if v.strip()}))


@dataclass(frozen=True, slots=True)
class IncidentRow:
    bubble_id: str
    id: str
    title: str
    tlp: str
    started: str
    status: str
    country: str
    attack_type: str
    sectors: list[str]
    patients_affected: int
    records_exposed: int
    downtime_hours: float
    norms: list[str]


@dataclass(frozen=True, slots=True)
class IncidentList:
    total: int
    offset: int
    items: list[IncidentRow]


def scope_of(db: Database, reader: Reader, bubble_id: str | None) -> tuple[Scope, str]:
    """The bubbles a reader looks at, one of theirs or all of them, and its name."""
    if bubble_id:
        with db.read() as conn:
            where = collection_access(conn, reader, bubble_id)
        return [(where.id, where.grant)], where.title
    visible = [(c.id, c.grant) for c in collections_for(db, reader) if c.bubble is not None]
    return visible, "all my bubbles"


def _row(collection_id: str, obj: dict[str, Any], level: TlpLevel) -> IncidentRow:
    found = from_stix(obj, level)
    if found is None:
        return IncidentRow(
            collection_id,
            str(obj["id"]),
            str(obj.get("name", "")),
            level.label,
            str(obj["created"]),
            "",
            "",
            "",
            [],
            0,
            0,
            0.0,
            [],
        )
    return IncidentRow(
        collection_id,
        str(obj["id"]),
        found.title,
        level.label,
        format_timestamp(found.started),
        found.status.value,
        found.country,
        found.attack_type.value,
        list(found.sectors),
        found.human.patients_affected,
        found.human.records_exposed,
        found.human.downtime_hours,
        list(found.norms),
    )


def listing(
    db: Database,
    user: User | None,
    bubble_id: str | None,
    where: IncidentFilter,
    sort: str = "started",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> IncidentList:
    """The incidents the user may read, in one bubble or all of theirs, filtered and sorted;
    for an anonymous reader (None), the CLEAR incidents of the node."""
    if sort not in store.SORTS:
        raise Invalid("sort", f"unknown order {sort!r} (use one of {', '.join(store.SORTS)})")
    if offset < 0:
        raise Invalid("offset", "must be 0 or more")
    scope = None if user is None else scope_of(db, reader_for(db, user), bubble_id)[0]
    with db.read() as conn:
        total, rows = store.listing(conn, scope, where, sort, limit, offset)
    sensitive = sorted({r[2] for r in rows if r[3] >= TlpLevel.AMBER_STRICT})
    if sensitive and user is not None:
        with db.write() as conn:
            audit.record(conn, user.email, "objects.read", bubble_id or "incidents", ids=sensitive)
    items = [_row(r[1], orjson.loads(r[4]), TlpLevel(r[3])) for r in rows]
    return IncidentList(total, offset, items)


CSV_COLUMNS = (
    "id",
    "bubble_id",
    "title",
    "tlp",
    "started",
    "status",
    "country",
    "attack_type",
    "sectors",
    "patients_affected",
    "records_exposed",
    "downtime_hours",
    "norms",
)


def as_csv(rows: Sequence[IncidentRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.id,
                row.bubble_id,
                row.title,
                row.tlp,
                row.started,
                row.status,
                row.country,
                row.attack_type,
                " ".join(row.sectors),
                row.patients_affected,
                row.records_exposed,
                row.downtime_hours,
                "".join(row.norms),
            ]
        )
    return out.getvalue()
