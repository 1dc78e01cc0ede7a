"""Requests for assistance (UN GGE norm 13(h)): what is asked, the lifecycle, and its timings.

The lifecycle is a pure function of the request and one action, so the rules live here, once,
and the services only store what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import median

from trustbubble.domain.errors import Conflict, Forbidden, Invalid

ASSISTANCE_EXTENSION_ID = "extension-definition--9c4e2a17-5b3d-4f08-a6e1-2d7c8b9f0a34"


class AssistanceKind(StrEnum):
    TECHNICAL_ANALYSIS = "technical-analysis"
    MITIGATION = "mitigation"
    INFORMATION_ON_ACTIVITY = "information-on-activity"
    LAW_ENFORCEMENT = "law-enforcement"
    DIPLOMATIC = "diplomatic"


class Urgency(StrEnum):
    ROUTINE = "routine"
    HIGH = "high"
    CRITICAL = "critical"


class RequestState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in-progress"
    RESOLVED = "resolved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def final(self) -> bool:
        return self in (RequestState.RESOLVED, RequestState.DECLINED, RequestState.WITHDRAWN)


class Answer(StrEnum):
    """A recipient's own answer to a request."""

    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DECLINE = "decline"
    START = "start"
    RESOLVE = "resolve"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class Recipient:
    org_id: str
    answer: Answer = Answer.PENDING
    answered: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RequestStatus:
    """What the lifecycle needs of a request: its state, requester, recipients and times."""

    state: RequestState
    requester_org_id: str
    recipients: tuple[Recipient, ...]
    created: datetime
    resolved: datetime | None = None


def _recipient(status: RequestStatus, org_id: str) -> Recipient:
    for recipient in status.recipients:
        if recipient.org_id == org_id:
            return recipient
    raise Forbidden("only a recipient of the request may do this")


def _with(status: RequestStatus, changed: Recipient) -> tuple[Recipient, ...]:
    return tuple(changed if r.org_id == changed.org_id else r for r in status.recipients)


def apply(
    status: RequestStatus, action: Action, org_id: str, at: datetime, reason: str = ""
) -> RequestStatus:
    """The request after `org_id` does `action`; Conflict or Forbidden when the rules say no."""
    if status.state.final:
        raise Conflict(f"the request is {status.state.value}; it cannot be {action.value}d now")
    requester = org_id == status.requester_org_id
    if action is Action.WITHDRAW:
        if not requester:
            raise Forbidden("only the requesting organization may withdraw its request")
        return replace(status, state=RequestState.WITHDRAWN)
    if action is Action.RESOLVE:
        if not requester and _recipient(status, org_id).answer is not Answer.ACKNOWLEDGED:
            raise Forbidden("a recipient resolves a request only after acknowledging it")
        if status.state is RequestState.OPEN:
            raise Conflict("the request is open: a recipient acknowledges it before it is resolved")
        return replace(status, state=RequestState.RESOLVED, resolved=at)
    mine = _recipient(status, org_id)
    if action is Action.ACKNOWLEDGE:
        if mine.answer is not Answer.PENDING:
            raise Conflict(f"your organization has already {mine.answer.value} this request")
        recipients = _with(status, replace(mine, answer=Answer.ACKNOWLEDGED, answered=at))
        state = RequestState.ACKNOWLEDGED if status.state is RequestState.OPEN else status.state
        return replace(status, state=state, recipients=recipients)
    if action is Action.DECLINE:
        if mine.answer is not Answer.PENDING:
            raise Conflict(f"your organization has already {mine.answer.value} this request")
        if not reason.strip():
            raise Invalid("reason", "a decline says why")
        recipients = _with(
            status, replace(mine, answer=Answer.DECLINED, answered=at, reason=reason.strip())
        )
        everyone = all(r.answer is Answer.DECLINED for r in recipients)
        return replace(
            status,
            state=RequestState.DECLINED if everyone else status.state,
            recipients=recipients,
        )
    # START
    if mine.answer is not Answer.ACKNOWLEDGED:
        raise Conflict("acknowledge the request before starting work on it")
    if status.state is RequestState.IN_PROGRESS:
        raise Conflict("the request is already in progress")
    return replace(status, state=RequestState.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class Targets:
    """A bubble's charter targets for answering requests."""

    acknowledge: timedelta = timedelta(hours=24)
    resolve: timedelta = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Timing:
    """How fast a request was answered, in seconds, and who is late against the targets."""

    first_acknowledgement: float | None
    acknowledgements: dict[str, float]  # recipient org id -> seconds to its acknowledgement
    resolution: float | None
    late_recipients: list[str]  # recipient org ids past the acknowledgement target, unanswered
    resolution_late: bool


def timing(status: RequestStatus, targets: Targets, now: datetime) -> Timing:
    acks = {
        r.org_id: (r.answered - status.created).total_seconds()
        for r in status.recipients
        if r.answer is Answer.ACKNOWLEDGED and r.answered is not None
    }
    waiting = not status.state.final
    late = [
        r.org_id
        for r in status.recipients
        if waiting and r.answer is Answer.PENDING and now - status.created > targets.acknowledge
    ]
    resolution = (status.resolved - status.created).total_seconds() if status.resolved else None
    resolution_late = (
        resolution > targets.resolve.total_seconds()
        if resolution is not None
        else waiting and now - status.created > targets.resolve
    )
    return Timing(min(acks.values()) if acks else None, acks, resolution, late, resolution_late)


def median_seconds(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return median(known) if known else None


def parse_kinds(values: Sequence[str]) -> tuple[AssistanceKind, ...]:
    kinds = []
    for value in values:
        try:
            kinds.append(AssistanceKind(value.strip().lower()))
        except ValueError:
            options = ", ".join(k.value for k in AssistanceKind)
            raise Invalid(
                "asked", f"unknown kind of help {value!r} (use one of {options})"
            ) from None
    if not kinds:
        raise Invalid("asked", "say what help is asked")
    return tuple(dict.fromkeys(kinds))


def recipients_of(
    chosen: Sequence[str], members: Mapping[str, str], requester: str
) -> tuple[str, ...]:
    """Recipient org ids from chosen names (or every other member when none is chosen).

    `members` maps the names of the bubble's active members to their org ids.
    """
    if not chosen:
        everyone = tuple(org for name, org in sorted(members.items()) if org != requester)
        if not everyone:
            raise Invalid("recipients", "the bubble has no other member to ask")
        return everyone
    found = []
    for name in chosen:
        org = members.get(name.strip())
        if org is None:
            raise Invalid("recipients", f"{name.strip()!r} is not an active member of the bubble")
        if org == requester:
            raise Invalid("recipients", "an organization does not ask itself for help")
        found.append(org)
    return tuple(dict.fromkeys(found))
