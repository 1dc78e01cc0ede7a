"""Requests for assistance: raise, answer, discuss and time them (docs/assistance.md).

A request is also a STIX note in its bubble, rewritten as a new version at every change. Who may
see a request is decided by the access policy through that note: `_readable()` is the one check.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from trustbubble.domain.access import Reader, read_grant, standing
from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.assistance import (
    ASSISTANCE_EXTENSION_ID,
    Action,
    Recipient,
    RequestState,
    RequestStatus,
    Targets,
    Timing,
    Urgency,
    apply,
    median_seconds,
    parse_kinds,
    recipients_of,
    timing,
)
from trustbubble.domain.bubbles import BubbleRole
from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import DomainError, Forbidden, Invalid, NotFound
from trustbubble.domain.fields import MAX_TEXT, text
from trustbubble.domain.timestamps import stamp
from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID, TLP2_MARKING_IDS, TlpLevel
from trustbubble.services import audit, notifications
from trustbubble.services.accounts import reader_for
from trustbubble.services.bubbles import CollectionAccess, collection_access, collections_for
from trustbubble.services.objects import read, share_within
from trustbubble.store import accounts as account_store
from trustbubble.store import assistance as store
from trustbubble.store import bubbles as bubble_store
from trustbubble.store.assistance import Event, StoredRequest
from trustbubble.store.database import Database
from trustbubble.store.objects import ObjectQuery


def _now() -> datetime:
    return datetime.now(UTC)


def _names(data: Mapping[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(name, "must be a list of text")
    return [v for v in value if v.strip()]


def _identities(conn: Connection, org_ids: Sequence[str]) -> dict[str, str]:
    found = {}
    for org_id in org_ids:
        org = account_store.org_by_id(conn, org_id)
        if org is not None:
            found[org_id] = org.identity_id
    return found


def _note(
    request: StoredRequest, identities: Mapping[str, str], modified: datetime
) -> dict[str, Any]:
    """The request as a STIX note, its state and answers in our property extension."""
    status = request.status
    requester = identities[status.requester_org_id]
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "asked": [k.value for k in request.asked],
        "urgency": request.urgency.value,
        "state": status.state.value,
        "recipients": [
            {
                "identity": identities[r.org_id],
                "answer": r.answer.value,
                **({"answered": stamp(r.answered)} if r.answered else {}),
                **({"reason": r.reason} if r.reason else {}),
            }
            for r in status.recipients
        ],
    }
    note: dict[str, Any] = {
        "type": "note",
        "spec_version": "2.1",
        "id": request.note_id,
        "created": stamp(status.created),
        "modified": stamp(max(modified, status.created)),
        "created_by_ref": requester,
        "abstract": request.title,
        "content": request.details or request.title,
        "object_refs": [request.incident_id or requester],
        "object_marking_refs": [TLP2_MARKING_IDS[request.tlp]],
        "extensions": {ASSISTANCE_EXTENSION_ID: extension},
    }
    if request.tlp is TlpLevel.RED:
        # The requester names itself too: a recipient writes the next versions of the note.
        named = sorted({requester, *(identities[r.org_id] for r in status.recipients)})
        note["extensions"][RED_RECIPIENTS_EXTENSION_ID] = {
            "extension_type": "property-extension",
            "recipients": named,
        }
    return note


def raise_request(db: Database, user: User, bubble_id: str, data: Mapping[str, Any]) -> str:
    """A member asks the bubble (or chosen members) for help; the request's id."""
    reader = reader_for(db, user)
    with db.read() as conn:
        where = collection_access(conn, reader, bubble_id)
        if where.bubble is None or not where.can_write:
            raise Forbidden("requests are raised by analysts and admins of a bubble's members")
        roles = bubble_store.active_roles(conn, where.id)
        orgs = {org.id: org for org in account_store.all_orgs(conn) if org.id in roles}
        members = {orgs[o].name: o for o, role in roles.items() if role is not BubbleRole.OBSERVER}
        identities = _identities(conn, [*roles])
    incident = text(data, "incident_id", 60) or None
    if incident is not None and not incident.startswith("incident--"):
        raise Invalid("incident_id", f"{incident!r} is not the id of an incident")
    now = _now()
    chosen = recipients_of(_names(data, "recipients"), members, user.org_id)
    request = StoredRequest(
        id=str(uuid.uuid4()),
        bubble_id=where.id,
        note_id=f"note--{uuid.uuid4()}",
        requester_email=user.email,
        title=text(data, "title", 300, required=True),
        details=text(data, "details", MAX_TEXT),
        asked=parse_kinds(_names(data, "asked")),
        urgency=parse_choice(Urgency, text(data, "urgency", 10) or "high", "urgency", "urgency"),
        incident_id=incident,
        tlp=TlpLevel.parse(text(data, "tlp", 20) or where.default_tlp.label),
        status=RequestStatus(
            RequestState.OPEN, user.org_id, tuple(Recipient(org) for org in chosen), now
        ),
    )
    if incident is not None:
        found = read(db, user.email, where, ObjectQuery(ids=(incident,)), None, 1)
        if not found.items:
            raise Invalid("incident_id", f"no incident {incident} that you may read here")
    with db.write() as conn:
        share_within(conn, reader, user.email, where, _note(request, identities, now))
        store.insert_request(conn, request)
        store.add_event(conn, request.id, Event(now, user.org_id, user.email, "raised", "", []))
        audit.record(conn, user.email, "assistance.raised", request.id, bubble=where.id)
        _tell(conn, request, user.org_id, chosen, f"{_org_name(conn, user.org_id)} asks for help")
    return request.id


def _load(
    db: Database, user: User, request_id: str
) -> tuple[Reader, CollectionAccess, StoredRequest]:
    """The request if the user may read its note; NotFound otherwise, as if it did not exist."""
    reader = reader_for(db, user)
    with db.read() as conn:
        found = store.requests(conn, ids=[request_id])
    if not found:
        raise NotFound(f"no request {request_id}")
    request = found[0]
    try:
        with db.read() as conn:
            where = collection_access(conn, reader, request.bubble_id)
    except NotFound:
        raise NotFound(f"no request {request_id}") from None
    if not _readable(db, user, where, [request.note_id]):
        raise NotFound(f"no request {request_id}")
    return reader, where, request


def _readable(
    db: Database, user: User, where: CollectionAccess, note_ids: Sequence[str]
) -> set[str]:
    """The notes among these that the user may read in the bubble: the access policy decides."""
    if not note_ids:
        return set()
    page = read(db, user.email, where, ObjectQuery(ids=tuple(note_ids)), None, len(note_ids))
    return {item.id for item in page.items}


def act(db: Database, user: User, request_id: str, action: Action, reason: str = "") -> None:
    """Acknowledge, decline, start, resolve or withdraw, as the user's organization."""
    if not user.role.may_write:
        raise Forbidden("viewers follow requests; analysts and admins answer them")
    reader, where, _seen = _load(db, user, request_id)
    with db.write() as conn:
        # Read again under the writer's lock: two answers at once must not overwrite each other.
        (request,) = store.requests(conn, ids=[request_id])
        # The note's next version must be later than the last, even within one millisecond.
        last = store.events_of(conn, request.id)[-1].at
        now = max(_now(), last + timedelta(milliseconds=1))
        status = apply(request.status, action, user.org_id, now, reason)
        identities = _identities(
            conn, [status.requester_org_id, *(r.org_id for r in status.recipients)]
        )
        share_within(
            conn, reader, user.email, where, _note(_replace(request, status), identities, now)
        )
        store.save_status(conn, request.id, status)
        store.add_event(
            conn, request.id, Event(now, user.org_id, user.email, action.value, reason, [])
        )
        audit.record(
            conn, user.email, f"assistance.{action.value}", request.id, state=status.state.value
        )
        if action is Action.WITHDRAW:
            told = [r.org_id for r in status.recipients]
        else:
            told = [status.requester_org_id]
        _tell(conn, request, user.org_id, told, f"{_org_name(conn, user.org_id)}: {_DONE[action]}")


_DONE = {
    Action.ACKNOWLEDGE: "acknowledged your request",
    Action.DECLINE: "declined your request",
    Action.START: "started work on your request",
    Action.RESOLVE: "resolved the request",
    Action.WITHDRAW: "withdrew its request",
}


def _org_name(conn: Connection, org_id: str) -> str:
    org = account_store.org_by_id(conn, org_id)
    return org.name if org else "an organization"


def _may_read(conn: Connection, request: StoredRequest, author_org: str, org_id: str) -> bool:
    """May the organization read the note just written (by `author_org`)? The policy decides."""
    org = account_store.org_by_id(conn, org_id)
    if org is None:
        return False
    chain = account_store.org_chain(conn, org_id)
    reader = Reader(None, org_id, None, chain, frozenset({org.identity_id}))
    grant = read_grant(reader, standing(chain, bubble_store.active_roles(conn, request.bubble_id)))
    status = request.status
    named = _identities(conn, [status.requester_org_id, *(r.org_id for r in status.recipients)])
    return grant.allows(request.tlp, author_org, frozenset(named.values()))


def _tell(
    conn: Connection, request: StoredRequest, author_org: str, org_ids: Sequence[str], what: str
) -> None:
    """Notify the analysts and admins of these organizations, in the change's transaction.

    Only organizations that may read the request now are told: one that left the bubble, or
    may no longer read its TLP, gets no link to it, nor its title.

    A RED or AMBER+STRICT request keeps its title out of mail and webhooks: the notice says only
    that there is something to read on the node, behind the policy.
    """
    readers = [o for o in org_ids if _may_read(conn, request, author_org, o)]
    people = account_store.users_of(conn, readers, [UserRole.ANALYST, UserRole.ADMIN])
    secret = request.tlp >= TlpLevel.AMBER_STRICT
    subject = f"{what}" if secret else f"{what}: {request.title}"
    body = (
        f"{what}. Open the request on the node to read it (TLP:{request.tlp.label})."
        if secret
        else f"{what}: {request.title} (TLP:{request.tlp.label}, {request.urgency.value})."
    )
    notifications.notify(
        conn, people, "assistance", subject[:300], body, f"/assistance/{request.id}"
    )


def _replace(request: StoredRequest, status: RequestStatus) -> StoredRequest:
    return StoredRequest(
        request.id,
        request.bubble_id,
        request.note_id,
        request.requester_email,
        request.title,
        request.details,
        request.asked,
        request.urgency,
        request.incident_id,
        request.tlp,
        status,
    )


def post_message(
    db: Database, user: User, request_id: str, text: str, attachments: Sequence[str] = ()
) -> None:
    """A message in the request's thread, by the requester or a recipient; it may name objects."""
    _reader, where, request = _load(db, user, request_id)
    status = request.status
    if user.org_id != status.requester_org_id and user.org_id not in {
        r.org_id for r in status.recipients
    }:
        raise Forbidden("only the requester and the recipients write in a request's thread")
    body = text.strip()
    if not body:
        raise Invalid("text", "a message needs words")
    if len(body) > MAX_TEXT:
        raise Invalid("text", f"is {len(body)} characters long; at most {MAX_TEXT}")
    wanted = sorted({a.strip() for a in attachments if a.strip()})
    seen = (
        {
            i.id
            for i in read(db, user.email, where, ObjectQuery(ids=tuple(wanted)), None, 1000).items
        }
        if wanted
        else set()
    )
    for attachment in wanted:
        if attachment not in seen:
            raise Invalid("attachments", f"no object {attachment} that you may read in this bubble")
    with db.write() as conn:
        store.add_event(
            conn, request.id, Event(_now(), user.org_id, user.email, "message", body, wanted)
        )
        audit.record(conn, user.email, "assistance.message", request.id)


@dataclass(frozen=True, slots=True)
class RecipientView:
    organization: str
    answer: str
    answered: datetime | None
    reason: str
    seconds_to_acknowledge: float | None
    late: bool


@dataclass(frozen=True, slots=True)
class EventView:
    at: datetime
    organization: str
    actor: str
    action: str
    text: str
    attachments: list[str]


@dataclass(frozen=True, slots=True)
class RequestView:
    id: str
    bubble_id: str
    bubble_name: str
    note_id: str
    title: str
    details: str
    asked: list[str]
    urgency: str
    incident_id: str | None
    tlp: str
    state: str
    requester: str
    requester_email: str
    created: datetime
    resolved: datetime | None
    recipients: list[RecipientView]
    events: list[EventView]
    seconds_to_first_acknowledgement: float | None
    seconds_to_resolution: float | None
    resolution_late: bool
    my_actions: list[str]  # what the viewer's organization may do now


def _actions(status: RequestStatus, org_id: str, may_write: bool) -> list[str]:
    if not may_write or status.state.final:
        return []
    possible = []
    for action in Action:
        try:
            apply(status, action, org_id, _now(), reason="a reason")
        except DomainError:  # the lifecycle says no
            continue
        possible.append(action.value)
    return possible


def view(db: Database, user: User, request_id: str) -> RequestView:
    _reader, where, request = _load(db, user, request_id)
    with db.read() as conn:
        names = {o.id: o.name for o in account_store.all_orgs(conn)}
        events = store.events_of(conn, request.id)
        targets = store.targets_of(conn, request.bubble_id)
    status = request.status
    timed = timing(status, targets, _now())
    return RequestView(
        id=request.id,
        bubble_id=request.bubble_id,
        bubble_name=where.title,
        note_id=request.note_id,
        title=request.title,
        details=request.details,
        asked=[k.value for k in request.asked],
        urgency=request.urgency.value,
        incident_id=request.incident_id,
        tlp=request.tlp.label,
        state=status.state.value,
        requester=names.get(status.requester_org_id, ""),
        requester_email=request.requester_email,
        created=status.created,
        resolved=status.resolved,
        recipients=[
            RecipientView(
                names.get(r.org_id, ""),
                r.answer.value,
                r.answered,
                r.reason,
                timed.acknowledgements.get(r.org_id),
                r.org_id in timed.late_recipients,
            )
            for r in status.recipients
        ],
        events=[
            EventView(e.at, names.get(e.org_id, ""), e.actor, e.action, e.text, e.attachments)
            for e in events
        ],
        seconds_to_first_acknowledgement=timed.first_acknowledgement,
        seconds_to_resolution=timed.resolution,
        resolution_late=timed.resolution_late,
        # A move writes the note's next version: it needs the write right in the bubble too.
        my_actions=_actions(status, user.org_id, where.can_write),
    )


@dataclass(frozen=True, slots=True)
class RequestSummary:
    id: str
    bubble_id: str
    title: str
    urgency: str
    tlp: str
    state: str
    requester: str
    created: datetime
    waiting_on_me: bool


@dataclass(frozen=True, slots=True)
class OrgTiming:
    organization: str
    asked: int
    acknowledged: int
    median_seconds_to_acknowledge: float | None
    late_now: int


@dataclass(frozen=True, slots=True)
class BubbleTimings:
    bubble_id: str
    acknowledge_target_hours: float
    resolve_target_hours: float
    requests: int
    median_seconds_to_first_acknowledgement: float | None
    median_seconds_to_resolution: float | None
    late_requests: list[str]  # titles of open requests past the resolution target
    by_organization: list[OrgTiming]


def _visible(
    db: Database, user: User, bubble_id: str | None
) -> list[tuple[StoredRequest, CollectionAccess]]:
    reader = reader_for(db, user)
    places = [c for c in collections_for(db, reader) if c.bubble is not None]
    if bubble_id is not None:
        with db.read() as conn:
            places = [collection_access(conn, reader, bubble_id)]
    out = []
    for where in places:
        with db.read() as conn:
            found = store.requests(conn, bubble_id=where.id)
        readable = _readable(db, user, where, [r.note_id for r in found])
        out += [(r, where) for r in found if r.note_id in readable]
    return sorted(out, key=lambda pair: pair[0].status.created, reverse=True)


def listing(db: Database, user: User, bubble_id: str | None = None) -> list[RequestSummary]:
    """The requests the user may see, in one bubble or all of theirs, newest first."""
    with db.read() as conn:
        names = {o.id: o.name for o in account_store.all_orgs(conn)}
    return [
        RequestSummary(
            r.id,
            r.bubble_id,
            r.title,
            r.urgency.value,
            r.tlp.label,
            r.status.state.value,
            names.get(r.status.requester_org_id, ""),
            r.status.created,
            any(
                x.org_id == user.org_id and x.answer.value == "pending" for x in r.status.recipients
            )
            and not r.status.state.final,
        )
        for r, _where in _visible(db, user, bubble_id)
    ]


def bubble_timings(db: Database, user: User, bubble_id: str) -> BubbleTimings:
    """Median times and who is late, over the requests of a bubble the user may see."""
    pairs = _visible(db, user, bubble_id)
    with db.read() as conn:
        targets = store.targets_of(conn, bubble_id)
        names = {o.id: o.name for o in account_store.all_orgs(conn)}
    now = _now()
    timed: list[tuple[StoredRequest, Timing]] = [
        (r, timing(r.status, targets, now)) for r, _ in pairs
    ]
    per_org: dict[str, list[tuple[float | None, bool]]] = {}
    for request, found in timed:
        for recipient in request.status.recipients:
            per_org.setdefault(recipient.org_id, []).append(
                (
                    found.acknowledgements.get(recipient.org_id),
                    recipient.org_id in found.late_recipients,
                )
            )
    return BubbleTimings(
        bubble_id=bubble_id,
        acknowledge_target_hours=targets.acknowledge.total_seconds() / 3600,
        resolve_target_hours=targets.resolve.total_seconds() / 3600,
        requests=len(timed),
        median_seconds_to_first_acknowledgement=median_seconds(
            [t.first_acknowledgement for _, t in timed]
        ),
        median_seconds_to_resolution=median_seconds([t.resolution for _, t in timed]),
        late_requests=[r.title for r, t in timed if t.resolution_late and not r.status.state.final],
        by_organization=sorted(
            (
                OrgTiming(
                    names.get(org, ""),
                    len(rows),
                    sum(1 for seconds, _ in rows if seconds is not None),
                    median_seconds([seconds for seconds, _ in rows]),
                    sum(1 for _, late in rows if late),
                )
                for org, rows in per_org.items()
            ),
            key=lambda o: o.organization,
        ),
    )


def set_targets(
    db: Database, user: User, bubble_id: str, acknowledge_hours: int, resolve_hours: int
) -> None:
    """An owner sets the charter's targets for answering requests."""
    if not 1 <= acknowledge_hours <= 24 * 90:
        raise Invalid("acknowledge", "is a number of hours from 1 to 2160")
    if not acknowledge_hours <= resolve_hours <= 24 * 365:
        raise Invalid("resolve", "is a number of hours, at least the acknowledgement target")
    reader = reader_for(db, user)
    with db.write() as conn:
        where = collection_access(conn, reader, bubble_id)
        roles = bubble_store.active_roles(conn, where.id)
        if roles.get(user.org_id) is not BubbleRole.OWNER or not user.role.may_write:
            raise Forbidden("only analysts and admins of an owner organization set the targets")
        store.set_targets(
            conn,
            where.id,
            Targets(timedelta(hours=acknowledge_hours), timedelta(hours=resolve_hours)),
        )
        audit.record(
            conn,
            user.email,
            "assistance.targets",
            where.id,
            acknowledge_hours=acknowledge_hours,
            resolve_hours=resolve_hours,
        )
