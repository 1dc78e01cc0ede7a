"""Objects as people read them in the web UI: a bubble's feed, newest first, and one object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from trustbubble.domain.access import Reader
from trustbubble.domain.errors import Invalid, NotFound
from trustbubble.domain.observables import query_values
from trustbubble.domain.timestamps import format_timestamp, parse_timestamp
from trustbubble.domain.tlp import MARKING_LEVELS, TlpLevel, marking_refs
from trustbubble.services import audit
from trustbubble.services.bubbles import CollectionAccess, collection_access, collections_for
from trustbubble.services.objects import version_label
from trustbubble.store import feed as store
from trustbubble.store import objects as object_store
from trustbubble.store import observables as observable_store
from trustbubble.store.database import Database
from trustbubble.store.feed import FeedFilter, FeedRow

PAGE_SIZE = 50
_LINKS = ("relationship", "sighting")


@dataclass(frozen=True, slots=True)
class FeedItem:
    bubble_id: str
    id: str
    type: str
    title: str
    tlp: str
    date_added: str


@dataclass(frozen=True, slots=True)
class Feed:
    bubble_id: str
    bubble_name: str
    items: list[FeedItem]
    next_before: int | None  # the cursor of the next (older) page, if there is one


def feed_filter(
    types: Sequence[str] = (),
    tlps: Sequence[str] = (),
    since: str = "",
    until: str = "",
    text: str = "",
) -> FeedFilter:
    """A feed's filters from what a person typed; dates are days (YYYY-MM-DD), `until` included."""
    return FeedFilter(
        types=tuple(sorted({t.strip().lower() for t in types if t.strip()})),
        levels=tuple(sorted({TlpLevel.parse(t) for t in tlps if t.strip()})),
        added_from=day_start(since, "since", 0),
        added_until=day_start(until, "until", 1),
        text=text.strip()[:200],
    )


_EPOCH_DAY = date(1970, 1, 1).toordinal()
_US_PER_DAY = 86_400_000_000
_LAST_US = parse_timestamp("9999-12-31T23:59:59.999999Z")


def day_start(text: str, field: str, shift_days: int) -> int | None:
    """The start of a day typed as YYYY-MM-DD, shifted by whole days, in microseconds."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(field, f"{text!r} is not a date like 2026-03-31") from None
    # Counted in days, not with datetimes, which end at 9999-12-31: the day after that is held
    # to its last microsecond, an instant the node can still write.
    return min((day.toordinal() - _EPOCH_DAY + shift_days) * _US_PER_DAY, _LAST_US)


def title_of(obj: dict[str, Any]) -> str:
    """A short human title for any STIX object."""
    for key in ("name", "value", "display_name", "subject", "abstract", "pattern"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value if len(value) <= 120 else value[:119] + "…"
    if obj.get("type") == "relationship":
        source, target = _kind(obj.get("source_ref")), _kind(obj.get("target_ref"))
        return f"{source} {obj.get('relationship_type', 'related-to')} {target}"
    if obj.get("type") == "sighting":
        return f"sighting of {_kind(obj.get('sighting_of_ref'))}"
    hashes = obj.get("hashes")
    if isinstance(hashes, dict) and hashes:
        return str(next(iter(hashes.values())))
    return str(obj.get("id", ""))


def _kind(ref: object) -> str:
    """The type named by a STIX reference: 'malware' for 'malware--...'."""
    return str(ref).split("--", 1)[0] if ref else "?"


def _audit_sensitive(db: Database, actor: str, where: str, rows: Sequence[FeedRow]) -> None:
    sensitive = sorted({row.id for row in rows if row.tlp >= TlpLevel.AMBER_STRICT})
    if sensitive:
        with db.write() as conn:
            audit.record(conn, actor, "objects.read", where, ids=sensitive)


def _item(row: FeedRow, obj: dict[str, Any]) -> FeedItem:
    return FeedItem(
        row.collection_id,
        row.id,
        row.type,
        title_of(obj),
        row.tlp.label,
        format_timestamp(row.added),
    )


def _access(db: Database, reader: Reader, bubble_id: str) -> CollectionAccess:
    with db.read() as conn:
        return collection_access(conn, reader, bubble_id)


def feed(
    db: Database,
    reader: Reader,
    actor: str,
    bubble_id: str,
    where: FeedFilter,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> Feed:
    """One page of the newest objects of a bubble the reader may read, with the reader's filters."""
    access = _access(db, reader, bubble_id)
    with db.read() as conn:
        rows = store.latest(conn, access.id, access.grant, where, before, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    _audit_sensitive(db, actor, access.id, rows)
    items = [_item(row, orjson.loads(row.body)) for row in rows]
    return Feed(access.id, access.title, items, rows[-1].added if more and rows else None)


def newest(
    db: Database, reader: Reader, actor: str, bubble_ids: Sequence[str], limit: int
) -> list[FeedItem]:
    """The newest objects across several bubbles, for the dashboard."""
    rows: list[FeedRow] = []
    names: dict[str, str] = {}
    for bubble_id in bubble_ids:
        access = _access(db, reader, bubble_id)
        names[access.id] = access.title
        with db.read() as conn:
            rows.extend(
                store.latest(conn, access.id, access.grant, FeedFilter(), None, limit)[:limit]
            )
    rows = sorted(rows, key=lambda row: row.added, reverse=True)[:limit]
    for bubble_id in names:
        _audit_sensitive(
            db, actor, bubble_id, [row for row in rows if row.collection_id == bubble_id]
        )
    return [_item(row, orjson.loads(row.body)) for row in rows]


@dataclass(frozen=True, slots=True)
class Version:
    version: str
    date_added: str
    tlp: str


@dataclass(frozen=True, slots=True)
class Link:
    """A relationship or sighting that names the object, and the object at its other end."""

    id: str
    type: str
    label: str  # the relationship type, or "sighting of" / "sighted by"
    other_id: str
    other_title: str | None  # None when the reader may not read the other object


@dataclass(frozen=True, slots=True)
class Holder:
    """An object holding an observable value, in a bubble the reader may read."""

    bubble_id: str
    id: str
    type: str
    title: str
    tlp: str
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class ObjectPage:
    bubble_id: str
    bubble_name: str
    id: str
    type: str
    title: str
    tlp: str
    markings: list[str]
    version: str
    versions: list[Version]
    links: list[Link]
    observables: list[tuple[str, str]]
    also_seen_in: list[Holder]  # other objects holding one of its values, that the reader may read
    object: dict[str, Any]


def object_page(
    db: Database,
    reader: Reader,
    actor: str,
    bubble_id: str,
    object_id: str,
    version: str | None = None,
) -> ObjectPage:
    """One object of a bubble as the reader may read it: a version, its history and its links."""
    access = _access(db, reader, bubble_id)
    query = object_store.ObjectQuery(
        ids=(object_id,), versions=object_store.VersionFilter(all=True)
    )
    with db.read() as conn:
        rows = object_store.page(conn, access.id, access.grant, query, None, 1000)
        links = store.latest(
            conn, access.id, access.grant, FeedFilter(types=_LINKS, text=object_id), None, 100
        )
    if not rows:
        raise NotFound(f"no object {object_id} in this bubble")
    versions = [
        Version(version_label(r[2] or r[0]), format_timestamp(r[0]), TlpLevel(r[3]).label)
        for r in rows
    ]
    chosen = next((r for r, v in zip(rows, versions, strict=True) if v.version == version), None)
    if version is not None and chosen is None:
        raise NotFound(f"no version {version} of {object_id} that you may read")
    chosen = chosen or max(rows, key=lambda r: (r[2] or r[0], r[0]))
    assert chosen[4] is not None
    obj = orjson.loads(chosen[4])
    level = TlpLevel(chosen[3])
    found, sensitive = _links(db, access, object_id, links)
    with db.read() as conn:
        values = observable_store.values_of(conn, chosen[0])
    seen = [h for h in _holders(db, reader, [v for _, v in values]) if h[0].id != object_id]
    sensitive.update(row.id for row, _, _ in seen if row.tlp >= TlpLevel.AMBER_STRICT)
    if level >= TlpLevel.AMBER_STRICT:
        sensitive.add(object_id)
    if sensitive:
        with db.write() as conn:
            audit.record(conn, actor, "objects.read", access.id, ids=sorted(sensitive))
    return ObjectPage(
        bubble_id=access.id,
        bubble_name=access.title,
        id=object_id,
        type=str(obj.get("type", "")),
        title=title_of(obj),
        tlp=level.label,
        markings=[
            MARKING_LEVELS[ref].label if ref in MARKING_LEVELS else ref for ref in marking_refs(obj)
        ],
        version=version_label(chosen[2] or chosen[0]),
        versions=versions,
        links=found,
        observables=values,
        also_seen_in=[_holder(row, kind, value) for row, kind, value in seen],
        object=obj,
    )


def _ends(obj: dict[str, Any], object_id: str) -> tuple[str, str] | None:
    """(label, other end) of a relationship or sighting naming the object, else None."""
    if obj.get("type") == "relationship":
        kind = str(obj.get("relationship_type", "related-to"))
        if obj.get("source_ref") == object_id:
            return kind, str(obj.get("target_ref"))
        if obj.get("target_ref") == object_id:
            return f"{kind} (from)", str(obj.get("source_ref"))
    if obj.get("type") == "sighting" and obj.get("sighting_of_ref") == object_id:
        seers = obj.get("where_sighted_refs") or [obj.get("id")]
        return "sighted by", str(seers[0])
    return None


def _links(
    db: Database, access: CollectionAccess, object_id: str, rows: Sequence[FeedRow]
) -> tuple[list[Link], set[str]]:
    """The links among `rows`, and the ids of the RED and AMBER+STRICT objects shown."""
    pairs = []
    sensitive: set[str] = set()
    for row in rows:
        ends = _ends(orjson.loads(row.body), object_id)
        if ends is not None:
            pairs.append((row, ends))
            if row.tlp >= TlpLevel.AMBER_STRICT:
                sensitive.add(row.id)
    others = sorted({other for _, (_, other) in pairs})
    titles: dict[str, str] = {}
    if others:
        query = object_store.ObjectQuery(ids=tuple(others))
        with db.read() as conn:
            for r in object_store.page(conn, access.id, access.grant, query, None, len(others)):
                if r[4] is not None:
                    titles[r[1]] = title_of(orjson.loads(r[4]))
                    if r[3] >= TlpLevel.AMBER_STRICT:
                        sensitive.add(r[1])
    links = [
        Link(row.id, row.type, label, other, titles.get(other)) for row, (label, other) in pairs
    ]
    return links, sensitive


_HOLDERS_SHOWN = 100


def _holders(db: Database, reader: Reader, values: Sequence[str]) -> list[tuple[FeedRow, str, str]]:
    """Objects holding any of the values, in every bubble the reader may read, newest first."""
    if not values:
        return []
    scope = [(c.id, c.grant) for c in collections_for(db, reader) if c.bubble is not None]
    with db.read() as conn:
        return observable_store.holders(conn, scope, values, _HOLDERS_SHOWN)


def _holder(row: FeedRow, kind: str, value: str) -> Holder:
    return Holder(
        row.collection_id,
        row.id,
        row.type,
        title_of(orjson.loads(row.body)),
        row.tlp.label,
        kind,
        value,
    )


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    holders: list[Holder]


def search(db: Database, reader: Reader, actor: str, text: str) -> SearchResult:
    """Every object the reader may read that holds the value (an IP, a domain, a hash...)."""
    rows = _holders(db, reader, query_values(text))
    by_bubble: dict[str, list[FeedRow]] = {}
    for row, _, _ in rows:
        by_bubble.setdefault(row.collection_id, []).append(row)
    for bubble_id, held in by_bubble.items():
        _audit_sensitive(db, actor, bubble_id, held)
    return SearchResult(text.strip(), [_holder(row, kind, value) for row, kind, value in rows])
