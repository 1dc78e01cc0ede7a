"""Queries on browser sessions and the count of failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

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


def delete_sessions_before(
    conn: Connection, created_before: datetime, idle_since: datetime
) -> None:
    conn.execute(
        delete(web_sessions).where(
            (web_sessions.c.created < created_before) | (web_sessions.c.last_used < idle_since)
        )
    )


def count_failures(conn: Connection, key: str, since: datetime) -> tuple[int, datetime | None]:
    """How many failures under `key` since then, and the earliest of them."""
    row = conn.execute(
        select(func.count(), func.min(sign_in_failures.c.at)).where(
            sign_in_failures.c.key == key, sign_in_failures.c.at >= since
        )
    ).one()
    return int(row[0]), row[1]


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
