"""Queries on the observable values of stored versions, for correlation (indexed on insert)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, true

from trustbubble.domain.tlp import TlpLevel
from trustbubble.store.feed import FeedRow, Scope, in_scope
from trustbubble.store.tables import objects, observables


def values_of(conn: Connection, added: int) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(observables.c.kind, observables.c.value)
        .where(observables.c.object_added == added)
        .order_by(observables.c.kind, observables.c.value)
    )
    return [(row[0], row[1]) for row in rows]


def holders(
    conn: Connection, scope: Scope, values: Sequence[str], limit: int
) -> list[tuple[FeedRow, str, str]]:
    """Latest readable versions holding any of the values, newest first, with the value held."""
    if not values:
        return []
    statement = (
        select(
            objects.c.added,
            objects.c.collection_id,
            objects.c.id,
            objects.c.type,
            objects.c.tlp,
            objects.c.body,
            observables.c.kind,
            observables.c.value,
        )
        .join(objects, objects.c.added == observables.c.object_added)
        .where(
            observables.c.value.in_(sorted(set(values))),
            objects.c.is_latest == true(),
            in_scope(scope),
        )
        .order_by(objects.c.added.desc())
        .limit(limit)
    )
    return [
        (FeedRow(r[0], r[1], r[2], r[3], TlpLevel(r[4]), r[5]), r[6], r[7])
        for r in conn.execute(statement)
    ]
