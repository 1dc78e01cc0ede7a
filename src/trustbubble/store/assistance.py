"""Queries on requests for assistance: the request, its recipients' answers, its history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import Connection, insert, select, update

from trustbubble.domain.assistance import (
    Answer,
    AssistanceKind,
    Recipient,
    RequestState,
    RequestStatus,
    Targets,
    Urgency,
)
from trustbubble.domain.tlp import TlpLevel
from trustbubble.store.tables import (
    assistance_events,
    assistance_recipients,
    assistance_requests,
    bubbles,
)


@dataclass(frozen=True, slots=True)
class StoredRequest:
    id: str
    bubble_id: str
    note_id: str
    requester_email: str
    title: str
    details: str
    asked: tuple[AssistanceKind, ...]
    urgency: Urgency
    incident_id: str | None
    tlp: TlpLevel
    status: RequestStatus


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    org_id: str
    actor: str
    action: str
    text: str
    attachments: list[str]


def insert_request(conn: Connection, request: StoredRequest) -> None:
    status = request.status
    conn.execute(
        insert(assistance_requests).values(
            id=request.id,
            bubble_id=request.bubble_id,
            note_id=request.note_id,
            requester_org_id=status.requester_org_id,
            requester_email=request.requester_email,
            title=request.title,
            details=request.details,
            asked=",".join(k.value for k in request.asked),
            urgency=request.urgency.value,
            incident_id=request.incident_id,
            tlp=int(request.tlp),
            state=status.state.value,
            created=status.created,
            resolved=status.resolved,
        )
    )
    conn.execute(
        insert(assistance_recipients),
        [
            {
                "request_id": request.id,
                "org_id": r.org_id,
                "answer": r.answer.value,
                "answered": r.answered,
                "reason": r.reason,
            }
            for r in status.recipients
        ],
    )


def save_status(conn: Connection, request_id: str, status: RequestStatus) -> None:
    conn.execute(
        update(assistance_requests)
        .where(assistance_requests.c.id == request_id)
        .values(state=status.state.value, resolved=status.resolved)
    )
    for r in status.recipients:
        conn.execute(
            update(assistance_recipients)
            .where(
                assistance_recipients.c.request_id == request_id,
                assistance_recipients.c.org_id == r.org_id,
            )
            .values(answer=r.answer.value, answered=r.answered, reason=r.reason)
        )


def add_event(conn: Connection, request_id: str, event: Event) -> None:
    conn.execute(
        insert(assistance_events).values(
            request_id=request_id,
            at=event.at,
            org_id=event.org_id,
            actor=event.actor,
            action=event.action,
            text=event.text,
            attachments=orjson.dumps(event.attachments).decode(),
        )
    )


def events_of(conn: Connection, request_id: str) -> list[Event]:
    rows = conn.execute(
        select(assistance_events)
        .where(assistance_events.c.request_id == request_id)
        .order_by(assistance_events.c.id)
    )
    return [
        Event(r.at, r.org_id, r.actor, r.action, r.text, orjson.loads(r.attachments)) for r in rows
    ]


def _recipients(conn: Connection, request_ids: Sequence[str]) -> dict[str, list[Recipient]]:
    found: dict[str, list[Recipient]] = {}
    if not request_ids:
        return found
    rows = conn.execute(
        select(assistance_recipients)
        .where(assistance_recipients.c.request_id.in_(request_ids))
        .order_by(assistance_recipients.c.org_id)
    )
    for r in rows:
        found.setdefault(r.request_id, []).append(
            Recipient(r.org_id, Answer(r.answer), r.answered, r.reason)
        )
    return found


def requests(
    conn: Connection, *, ids: Sequence[str] = (), bubble_id: str | None = None
) -> list[StoredRequest]:
    """Requests by id, or every request of a bubble, newest first."""
    statement = select(assistance_requests).order_by(assistance_requests.c.created.desc())
    if ids:
        statement = statement.where(assistance_requests.c.id.in_(ids))
    if bubble_id is not None:
        statement = statement.where(assistance_requests.c.bubble_id == bubble_id)
    rows = list(conn.execute(statement))
    answers = _recipients(conn, [r.id for r in rows])
    return [
        StoredRequest(
            id=r.id,
            bubble_id=r.bubble_id,
            note_id=r.note_id,
            requester_email=r.requester_email,
            title=r.title,
            details=r.details,
            asked=tuple(AssistanceKind(k) for k in r.asked.split(",") if k),
            urgency=Urgency(r.urgency),
            incident_id=r.incident_id,
            tlp=TlpLevel(r.tlp),
            status=RequestStatus(
                RequestState(r.state),
                r.requester_org_id,
                tuple(answers.get(r.id, [])),
                r.created,
                r.resolved,
            ),
        )
        for r in rows
    ]


def targets_of(conn: Connection, bubble_id: str) -> Targets:
    row = conn.execute(
        select(bubbles.c.ack_target_hours, bubbles.c.resolve_target_hours).where(
            bubbles.c.id == bubble_id
        )
    ).first()
    if row is None:
        return Targets()
    return Targets(timedelta(hours=row[0]), timedelta(hours=row[1]))


def set_targets(conn: Connection, bubble_id: str, targets: Targets) -> None:
    conn.execute(
        update(bubbles)
        .where(bubbles.c.id == bubble_id)
        .values(
            ack_target_hours=int(targets.acknowledge.total_seconds() // 3600),
            resolve_target_hours=int(targets.resolve.total_seconds() // 3600),
        )
    )
