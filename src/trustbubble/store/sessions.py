"""Queries on browser sessions and the recent failed password checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from trustbubble.domain.accounts import User
from trustbubble.store.accounts import user_by_id
from trustbubble.store.tables import sign_in_failures, web_sessions


def insert_session(conn: Connection, id_hash: str, user_id: str, csrf: str, now: datetime) -> None:
    conn.execute(
        insert(web_sessions).values(
            id_hash=id_hash, user_id=user_id, csrf=csrf, created=now, last_used=now
        )
    )


def session_by_hash(conn: Connection, id_hash: str) -> tuple[User, str, datetime, datetime] | None:
    """The session's user, CSRF token, creation and last use."""
    row = conn.execute(
        select(
            web_sessions.c.user_id,
            web_sessions.c.csrf,
            web_sessions.c.created,
            web_sessions.c.last_used,
        ).where(web_sessions.c.id_hash == id_hash)
    ).first()
    if row is None:
        return None
    user = user_by_id(conn, row.user_id)
    if user is None:
        return None
    return user, row.csrf, row.created, row.last_used


def touch_session(conn: Connection, id_hash: str, now: datetime) -> None:
    conn.execute(
        update(web_sessions).where(web_sessions.c.id_hash == id_hash).values(last_used=now)
    )


def delete_session(conn: Connection, id_hash: str) -> bool:
    return conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash)).rowcount > 0


def delete_sessions_of(conn: Connection, user_id: str, except_hash: str | None = None) -> None:
    """End every session of a user, but the one whose hash is given."""
    statement = delete(web_sessions).where(web_sessions.c.user_id == user_id)
    if except_hash is not None:
        statement = statement.where(web_sessions.c.id_hash != except_hash)
    conn.execute(statement)


def delete_sessions_before(
    conn: Connection, created_before: datetime, idle_since: datetime
) -> None:
    conn.execute(
        delete(web_sessions).where(
            (web_sessions.c.created < created_before) | (web_sessions.c.last_used < idle_since)
        )
    )


def recent_failures(
    conn: Connection, keys: Sequence[str], since: datetime
) -> dict[str, list[datetime]]:
    """The times of the failures under each key since then, oldest first."""
    found: dict[str, list[datetime]] = {key: [] for key in keys}
    rows = conn.execute(
        select(sign_in_failures.c.key, sign_in_failures.c.at)
        .where(sign_in_failures.c.key.in_(list(keys)), sign_in_failures.c.at >= since)
        .order_by(sign_in_failures.c.at)
    )
    for key, at in rows:
        found[key].append(at)
    return found


def add_failure(conn: Connection, key: str, now: datetime) -> None:
    conn.execute(insert(sign_in_failures).values(key=key, at=now))


def forget_failures(conn: Connection, key: str | None, before: datetime | None = None) -> None:
    """Forget the failures under `key` (after a success), or every failure older than `before`."""
    statement = delete(sign_in_failures)
    if key is not None:
        statement = statement.where(sign_in_failures.c.key == key)
    if before is not None:
        statement = statement.where(sign_in_failures.c.at < before)
    conn.execute(statement)
