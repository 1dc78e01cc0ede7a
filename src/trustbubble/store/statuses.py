"""Queries on TAXII status resources, written in the same transaction as their objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from trustbubble.store.tables import statuses


@dataclass(frozen=True, slots=True)
class StoredStatus:
    id: str
    collection_id: str
    user_id: str
    created: datetime
    successes: list[dict[str, Any]]
    failures: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class NewStatus:
    """A status to store, its lists already encoded (JSON arrays of TAXII status details).

    The caller encodes them once, for this row and its response alike.
    """

    id: str
    collection_id: str
    user_id: str
    created: datetime
    success_count: int
    failure_count: int
    successes: bytes
    failures: bytes


def insert_status(conn: Connection, status: NewStatus) -> None:
    conn.execute(
        insert(statuses).values(
            id=status.id,
            collection_id=status.collection_id,
            user_id=status.user_id,
            created=status.created,
            total_count=status.success_count + status.failure_count,
            success_count=status.success_count,
            failure_count=status.failure_count,
            successes=status.successes,
            failures=status.failures,
        )
    )


def status_by_id(conn: Connection, status_id: str) -> StoredStatus | None:
    row = conn.execute(select(statuses).where(statuses.c.id == status_id)).first()
    if row is None:
        return None
    return StoredStatus(
        row.id,
        row.collection_id,
        row.user_id,
        row.created,
        orjson.loads(row.successes),
        orjson.loads(row.failures),
    )
