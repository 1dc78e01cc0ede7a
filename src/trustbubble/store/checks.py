"""Queries on communication checks, their pings and schedules, and the POCs they ping."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, delete, insert, select, update

from trustbubble.domain.checks import CheckSchedule, CommCheck, Ping
from trustbubble.store.tables import check_pings, check_schedules, comm_checks, pocs


def contacts_of(conn: Connection, org_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """(organization id, name, e-mail) of every POC of these organizations.

    Read from the table itself: the POC directory's service is another module's, and a check
    needs nothing of it but who to ping.
    """
    rows = conn.execute(
        select(pocs.c.org_id, pocs.c.name, pocs.c.email)
        .where(pocs.c.org_id.in_(org_ids))
        .order_by(pocs.c.org_id, pocs.c.name, pocs.c.id)
    )
    return [(row.org_id, row.name, row.email) for row in rows]


def _check(row: Row[tuple[object, ...]]) -> CommCheck:
    m = row._mapping
    return CommCheck(m["id"], m["bubble_id"], m["started"], m["started_by"])


def _ping(row: Row[tuple[object, ...]]) -> Ping:
    m = row._mapping
    return Ping(m["id"], m["check_id"], m["org_id"], m["poc_name"], m["poc_email"], m["answered"])


def insert_check(conn: Connection, check: CommCheck, pings: Sequence[tuple[Ping, str]]) -> None:
    """The check and its pings, each with the SHA-256 of its link's token."""
    conn.execute(
        insert(comm_checks).values(
            id=check.id,
            bubble_id=check.bubble_id,
            started=check.started,
            started_by=check.started_by,
        )
    )
    if pings:
        conn.execute(
            insert(check_pings),
            [
                {
                    "id": p.id,
                    "check_id": p.check_id,
                    "org_id": p.org_id,
                    "poc_name": p.poc_name,
                    "poc_email": p.poc_email,
                    "token_hash": token_hash,
                    "answered": p.answered,
                }
                for p, token_hash in pings
            ],
        )


def check_by_id(conn: Connection, check_id: str) -> CommCheck | None:
    row = conn.execute(select(comm_checks).where(comm_checks.c.id == check_id)).first()
    return _check(row) if row else None


def checks_of(conn: Connection, bubble_id: str) -> list[CommCheck]:
    """A bubble's checks, newest first."""
    rows = conn.execute(
        select(comm_checks)
        .where(comm_checks.c.bubble_id == bubble_id)
        .order_by(comm_checks.c.started.desc(), comm_checks.c.id)
    )
    return [_check(row) for row in rows]


def pings_of(conn: Connection, check_ids: Sequence[str]) -> list[Ping]:
    rows = conn.execute(
        select(check_pings)
        .where(check_pings.c.check_id.in_(check_ids))
        .order_by(check_pings.c.poc_name, check_pings.c.id)
    )
    return [_ping(row) for row in rows]


def ping_by_token_hash(conn: Connection, token_hash: str) -> Ping | None:
    row = conn.execute(select(check_pings).where(check_pings.c.token_hash == token_hash)).first()
    return _ping(row) if row else None


def mark_answered(conn: Connection, ping_id: str, now: datetime) -> bool:
    """Record the first answer; a later one changes nothing (False)."""
    return (
        conn.execute(
            update(check_pings)
            .where(check_pings.c.id == ping_id, check_pings.c.answered.is_(None))
            .values(answered=now)
        ).rowcount
        > 0
    )


def _schedule(row: Row[tuple[object, ...]]) -> CheckSchedule:
    m = row._mapping
    return CheckSchedule(m["bubble_id"], m["every_days"], m["next_due"], m["set_by"])


def schedule_of(conn: Connection, bubble_id: str) -> CheckSchedule | None:
    row = conn.execute(
        select(check_schedules).where(check_schedules.c.bubble_id == bubble_id)
    ).first()
    return _schedule(row) if row else None


def put_schedule(conn: Connection, schedule: CheckSchedule) -> None:
    delete_schedule(conn, schedule.bubble_id)
    conn.execute(
        insert(check_schedules).values(
            bubble_id=schedule.bubble_id,
            every_days=schedule.every_days,
            next_due=schedule.next_due,
            set_by=schedule.set_by,
        )
    )


def delete_schedule(conn: Connection, bubble_id: str) -> bool:
    return (
        conn.execute(
            delete(check_schedules).where(check_schedules.c.bubble_id == bubble_id)
        ).rowcount
        > 0
    )


def due_schedules(conn: Connection, now: datetime) -> list[CheckSchedule]:
    rows = conn.execute(
        select(check_schedules)
        .where(check_schedules.c.next_due <= now)
        .order_by(check_schedules.c.next_due, check_schedules.c.bubble_id)
    )
    return [_schedule(row) for row in rows]
