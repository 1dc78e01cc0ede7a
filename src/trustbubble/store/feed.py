"""Queries behind the web UI's lists: newest first, with the filters a person uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    and_,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)

from trustbubble.domain.access import ReadGrant
from trustbubble.domain.tlp import TlpLevel
from trustbubble.store.objects import OBJECT_ACCESS, AccessColumns, readable
from trustbubble.store.tables import objects

# Where a reader looks across bubbles: each bubble they may read with its grant, or None for the
# public view, which is every CLEAR object of the node.
Scope = Sequence[tuple[str, ReadGrant]] | None


def in_scope(scope: Scope, on: AccessColumns = OBJECT_ACCESS) -> ColumnElement[bool]:
    """The grants of several bubbles as one WHERE clause, on `objects` or a copy of its columns."""
    if scope is None:
        return on.table.c[on.tlp] == literal_column("0")
    if not scope:
        return false()
    collection = on.table.c[on.collection_id]
    return or_(*(and_(collection == cid, readable(grant, on)) for cid, grant in scope))


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """What a reader narrows a feed to; empty means everything they may read."""

    types: tuple[str, ...] = ()
    levels: tuple[TlpLevel, ...] = ()
    added_from: int | None = None  # microseconds, inclusive
    added_until: int | None = None  # microseconds, exclusive
    text: str = ""  # a case-insensitive substring of the object's JSON


@dataclass(frozen=True, slots=True)
class FeedRow:
    added: int
    collection_id: str
    id: str
    type: str
    tlp: TlpLevel
    body: bytes


def _text_match(conn: Connection, text: str) -> ColumnElement[bool]:
    needle = text.lower()
    if conn.dialect.name == "postgresql":
        return func.strpos(func.lower(func.convert_from(objects.c.body, "UTF8")), needle) > 0
    return func.instr(func.lower(cast(objects.c.body, Text)), needle) > 0


def latest(
    conn: Connection,
    collection_id: str,
    grant: ReadGrant,
    where: FeedFilter,
    before: int | None,
    limit: int,
) -> list[FeedRow]:
    """Up to `limit + 1` readable latest versions, newest first, added before the cursor."""
    conditions: list[ColumnElement[bool]] = [
        readable(grant),
        objects.c.collection_id == collection_id,
        objects.c.is_latest == true(),
    ]
    if where.types:
        conditions.append(objects.c.type.in_(where.types))
    if where.levels:
        conditions.append(objects.c.tlp.in_([int(level) for level in where.levels]))
    if where.added_from is not None:
        conditions.append(objects.c.added >= where.added_from)
    if where.added_until is not None:
        conditions.append(objects.c.added < where.added_until)
    if before is not None:
        conditions.append(objects.c.added < before)
    if where.text:
        conditions.append(_text_match(conn, where.text))
    statement = (
        select(
            objects.c.added,
            objects.c.collection_id,
            objects.c.id,
            objects.c.type,
            objects.c.tlp,
            objects.c.body,
        )
        .where(*conditions)
        .order_by(objects.c.added.desc())
        .limit(limit + 1)
    )
    return [
        FeedRow(r.added, r.collection_id, r.id, r.type, TlpLevel(r.tlp), r.body)
        for r in conn.execute(statement)
    ]
