"""Communication checks: an owner pings every POC of a bubble's members; who answered, how fast.

Each ping's one-time link carries a random token; the store keeps only its SHA-256. Opening the
link shows a button and only the POST records the answer, so a mail scanner that follows links
does not answer for the person.
"""

from __future__ import annotations

import secrets as random
import statistics
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from trustbubble.domain.access import Reader
from trustbubble.domain.accounts import User
from trustbubble.domain.bubbles import Bubble
from trustbubble.domain.checks import (
    LONGEST_INTERVAL_DAYS,
    CheckSchedule,
    CommCheck,
    Ping,
    next_due_after,
)
from trustbubble.domain.errors import DomainError, Invalid, NotFound
from trustbubble.services import audit, notifications
from trustbubble.services.bubbles import (
    _owner_check,
    bubble_named,
    collection_access,
    visible_bubble,
)
from trustbubble.services.secrets import token_hash
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import checks as store
from trustbubble.store.database import Database

HISTORY_SIZE = 20


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PingLine:
    org: str
    poc_name: str
    poc_email: str
    answered: datetime | None
    seconds: float | None  # from the start of the check to the answer


@dataclass(frozen=True, slots=True)
class CheckReport:
    id: str
    bubble_id: str
    bubble_name: str
    started: datetime
    started_by: str
    asked: int
    answered: int
    median_seconds: float | None
    pings: list[PingLine]  # who answered, fastest first, then who did not


@dataclass(frozen=True, slots=True)
class CheckHistory:
    bubble_id: str
    bubble_name: str
    schedule: CheckSchedule | None
    checks: list[CheckReport]  # newest first


@dataclass(frozen=True, slots=True)
class PingInvitation:
    """What the one-time link shows the person it was sent to."""

    bubble_name: str
    org: str
    poc_name: str
    started: datetime
    answered: datetime | None


def _reports(conn: Connection, bubble: Bubble, checks: list[CommCheck]) -> list[CheckReport]:
    names = {org.id: org.name for org in account_store.all_orgs(conn)}
    pings: dict[str, list[Ping]] = {}
    for ping in store.pings_of(conn, [c.id for c in checks]) if checks else []:
        pings.setdefault(ping.check_id, []).append(ping)
    out = []
    for check in checks:
        lines = [
            PingLine(
                names.get(p.org_id, p.org_id),
                p.poc_name,
                p.poc_email,
                p.answered,
                (p.answered - check.started).total_seconds() if p.answered else None,
            )
            for p in pings.get(check.id, [])
        ]
        lines.sort(key=lambda line: (line.seconds is None, line.seconds or 0, line.org))
        times = [line.seconds for line in lines if line.seconds is not None]
        out.append(
            CheckReport(
                check.id,
                bubble.id,
                bubble.name,
                check.started,
                check.started_by,
                len(lines),
                len(times),
                statistics.median(times) if times else None,
                lines,
            )
        )
    return out


def _start(conn: Connection, bubble: Bubble, actor: str, now: datetime) -> CommCheck:
    contacts = store.contacts_of(conn, list(bubble_store.active_roles(conn, bubble.id)))
    if not contacts:
        raise Invalid("bubble", f"no member of {bubble.name} has a point of contact to check")
    check = CommCheck(str(uuid.uuid4()), bubble.id, now, actor)
    pings = []
    for org_id, name, email in contacts:
        token = random.token_urlsafe(32)
        pings.append(
            (Ping(str(uuid.uuid4()), check.id, org_id, name, email, None), token_hash(token))
        )
        notifications.email(
            conn,
            email,
            f"Communication check of {bubble.name}: please confirm",
            f"{name}, the bubble of trust {bubble.name} checks that its points of contact can be "
            "reached. Please open this link and press Confirm; it works once, for you only.",
            f"/checks/answer/{token}",
            now=now,
        )
    store.insert_check(conn, check, pings)
    audit.record(conn, actor, "check.started", check.id, bubble=bubble.id, pings=len(pings))
    return check


def start(db: Database, actor: User, bubble_id: str) -> CheckReport:
    """An owner's analyst or admin pings every POC of the bubble's active members."""
    with db.write() as conn:
        bubble = visible_bubble(conn, actor, bubble_id)
        _owner_check(conn, actor, bubble)
        check = _start(conn, bubble, actor.email, _now())
        return _reports(conn, bubble, [check])[0]


def _directory_bubble(conn: Connection, reader: Reader, bubble_id: str) -> Bubble | None:
    """The bubble if the reader's organization is itself an active member or observer of it.

    A report names every POC pinged, so it has the directory's readers (services/pocs.py):
    constituents read some of a bubble's content, not its members' contacts.
    """
    try:
        where = collection_access(conn, reader, bubble_id)
    except NotFound:
        return None
    if reader.org_id not in bubble_store.active_roles(conn, where.id):
        return None
    return where.bubble


def report(db: Database, reader: Reader, bubble_id: str, check_id: str) -> CheckReport:
    """One check, to the bubble's members and observers; otherwise NotFound."""
    with db.read() as conn:
        bubble = _directory_bubble(conn, reader, bubble_id)
        check = store.check_by_id(conn, check_id)
        if bubble is None or check is None or check.bubble_id != bubble.id:
            raise NotFound(f"no check {check_id} in this bubble")
        return _reports(conn, bubble, [check])[0]


def history(db: Database, reader: Reader, bubble_id: str) -> CheckHistory:
    """The bubble's newest checks and its schedule, to the bubble's members and observers."""
    with db.read() as conn:
        bubble = _directory_bubble(conn, reader, bubble_id)
        if bubble is None:
            raise NotFound(f"no bubble {bubble_id}")
        checks = store.checks_of(conn, bubble.id)[:HISTORY_SIZE]
        return CheckHistory(
            bubble.id,
            bubble.name,
            store.schedule_of(conn, bubble.id),
            _reports(conn, bubble, checks),
        )


def operator_report(db: Database, bubble_name: str, check_id: str | None) -> CheckReport:
    """For the operator: a check of a bubble by id, or its newest."""
    with db.read() as conn:
        bubble = bubble_named(conn, bubble_name)
        if check_id is None:
            found = store.checks_of(conn, bubble.id)[:1]
            if not found:
                raise NotFound(f"{bubble.name} has had no communication check")
            check = found[0]
        else:
            maybe = store.check_by_id(conn, check_id)
            if maybe is None or maybe.bubble_id != bubble.id:
                raise NotFound(f"no check {check_id} in {bubble.name}")
            check = maybe
        return _reports(conn, bubble, [check])[0]


def _ping_for(conn: Connection, token: str) -> tuple[Ping, CommCheck, Bubble, str]:
    ping = store.ping_by_token_hash(conn, token_hash(token))
    check = store.check_by_id(conn, ping.check_id) if ping else None
    bubble = bubble_store.bubble_by_id(conn, check.bubble_id) if check else None
    if ping is None or check is None or bubble is None:
        raise NotFound("this confirmation link is not known; copy the whole link from the message")
    org = account_store.org_by_id(conn, ping.org_id)
    return ping, check, bubble, org.name if org else ping.org_id


def invitation(db: Database, token: str) -> PingInvitation:
    with db.read() as conn:
        ping, check, bubble, org = _ping_for(conn, token)
    return PingInvitation(bubble.name, org, ping.poc_name, check.started, ping.answered)


def answer(db: Database, token: str) -> PingInvitation:
    """Record that the POC answered; a second answer changes nothing."""
    now = _now()
    with db.write() as conn:
        ping, check, bubble, org = _ping_for(conn, token)
        if store.mark_answered(conn, ping.id, now):
            audit.record(conn, ping.poc_email, "check.answered", check.id, ping=ping.id)
            ping = Ping(ping.id, ping.check_id, ping.org_id, ping.poc_name, ping.poc_email, now)
    return PingInvitation(bubble.name, org, ping.poc_name, check.started, ping.answered)


def schedule(db: Database, actor: User, bubble_id: str, every_days: int) -> CheckSchedule | None:
    """Repeat the bubble's check every so many days (0 stops it). The next is due that long after
    the newest check, or at once when there was none."""
    if not 0 <= every_days <= LONGEST_INTERVAL_DAYS:
        raise Invalid("every", f"from 1 to {LONGEST_INTERVAL_DAYS} days, or 0 to stop")
    now = _now()
    with db.write() as conn:
        bubble = visible_bubble(conn, actor, bubble_id)
        _owner_check(conn, actor, bubble)
        if every_days == 0:
            if store.delete_schedule(conn, bubble.id):
                audit.record(conn, actor.email, "check.unscheduled", bubble.id)
            return None
        newest = store.checks_of(conn, bubble.id)[:1]
        due = newest[0].started + timedelta(days=every_days) if newest else now
        planned = CheckSchedule(bubble.id, every_days, max(due, now), actor.email)
        store.put_schedule(conn, planned)
        audit.record(conn, actor.email, "check.scheduled", bubble.id, every_days=every_days)
        return planned


def run_due(db: Database, now: datetime | None = None) -> list[str]:
    """Start the checks whose schedule is due and move each schedule on; the ids started.

    The check runs as the person who set the schedule, while they may still start one; a
    schedule whose person may no longer is dropped (and the audit log says why).
    """
    at = now or _now()
    with db.read() as conn:
        due = store.due_schedules(conn, at)
    started = []
    for planned in due:
        with db.write() as conn:
            current = store.schedule_of(conn, planned.bubble_id)
            if current is None or current.next_due > at:
                continue  # another worker took it
            found = account_store.user_by_email(conn, current.set_by)
            try:
                if found is None:
                    raise NotFound(f"{current.set_by} no longer has an account")
                bubble = visible_bubble(conn, found[0], current.bubble_id)
                _owner_check(conn, found[0], bubble)
            except DomainError as error:
                store.delete_schedule(conn, current.bubble_id)
                audit.record(
                    conn, "node", "check.unscheduled", current.bubble_id, reason=error.message
                )
                continue
            # With nobody to ping yet, the schedule moves on all the same.
            with suppress(Invalid):
                started.append(_start(conn, bubble, f"{current.set_by} (schedule)", at).id)
            nxt = next_due_after(current.next_due, current.every_days, at)
            store.put_schedule(
                conn, CheckSchedule(current.bubble_id, current.every_days, nxt, current.set_by)
            )
    return started
