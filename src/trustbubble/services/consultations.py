"""Consultations (docs/consultations.md): drafts and versions, consultations opened to an
audience, accreditation, comments, the drafter's answers, moderation, end users' answers and
summaries. Who takes part is decided only by `access.consultation_part`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from trustbubble.domain import access
from trustbubble.domain.access import ConsultationAudience, Part, Reader, Standing
from trustbubble.domain.accounts import User
from trustbubble.domain.choices import parse_choice
from trustbubble.domain.consultations import (
    Accreditation,
    Audience,
    Change,
    DraftKind,
    Paragraph,
    Phase,
    Question,
    Verdict,
    accreditation_state,
    check_period,
    diff,
    paragraphs,
    phase,
    read_comment,
    read_markdown,
)
from trustbubble.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trustbubble.domain.fields import text
from trustbubble.services import audit
from trustbubble.services.accounts import reader_for
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import consultations as store
from trustbubble.store.database import Database

DEFAULT_OBJECTION_DAYS = 7


def _now() -> datetime:
    return datetime.now(UTC)


# -- who takes part ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Taking:
    """A consultation as one reader takes part in it."""

    consultation: store.Consultation
    draft: store.Draft
    part: Part
    phase: Phase
    may_comment: bool


def _accreditation(
    conn: Connection, found: store.Consultation, org_id: str, now: datetime
) -> Accreditation | None:
    for asked in store.accreditations_of(conn, found.id):
        if asked.org_id == org_id:
            objected = any(o.org_id == org_id for o in store.objections_of(conn, found.id))
            return accreditation_state(
                asked.decision, asked.asked, objected, found.objection_days, now
            )
    return None


def _part(
    conn: Connection, reader: Reader, found: store.Consultation, draft: store.Draft, now: datetime
) -> Part:
    org = account_store.org_by_id(conn, reader.org_id) if reader.org_id else None
    best = Standing.NONE
    for bubble_id in found.bubbles:
        best = max(
            best, access.standing(reader.org_chain, bubble_store.active_roles(conn, bubble_id))
        )
    accreditation = _accreditation(conn, found, reader.org_id, now) if reader.org_id else None
    facts = ConsultationAudience(
        draft.org_id,
        found.public,
        frozenset(found.kinds),
        org.kind.value if org else None,
        best,
        accreditation.value if accreditation else None,
    )
    return access.consultation_part(reader, facts)


def _taking(conn: Connection, reader: Reader, consultation_id: str, now: datetime) -> Taking:
    """The consultation if the reader has a part in it; NotFound otherwise, as if absent."""
    found = store.consultation_by_id(conn, consultation_id)
    draft = store.draft_by_id(conn, found.draft_id) if found else None
    if found is None or draft is None:
        raise NotFound(f"no consultation {consultation_id}")
    part = _part(conn, reader, found, draft, now)
    if part is Part.NONE:
        raise NotFound(f"no consultation {consultation_id}")
    current = phase(found.opens, found.closes, found.closed_early, now)
    may = access.may_comment(reader, part) and current is Phase.OPEN
    return Taking(found, draft, part, current, may)


def _drafting(conn: Connection, reader: Reader, draft_id: str) -> store.Draft:
    draft = store.draft_by_id(conn, draft_id)
    if draft is None or draft.org_id != reader.org_id:
        if draft is not None and _may_read_draft(conn, reader, draft, _now()):
            raise Forbidden("only the drafting organization may change its draft")
        raise NotFound(f"no draft {draft_id}")
    if reader.role is None or not reader.role.may_write:
        raise Forbidden("drafting needs the analyst or admin role")
    return draft


def _may_read_draft(conn: Connection, reader: Reader, draft: store.Draft, now: datetime) -> bool:
    if reader.org_id == draft.org_id:
        return True
    return any(
        _part(conn, reader, c, draft, now) >= Part.PARTICIPANT
        for c in store.consultations_of(conn, draft.id)
    )


def _open_for_writing(taking: Taking, doing: str = "commenting") -> None:
    """Refuse a comment, reply or answer that cannot be taken now, saying why."""
    if taking.part is Part.APPLICANT:
        raise Forbidden(
            "your organization has asked to take part: it may write once it is admitted"
        )
    if not taking.may_comment and taking.phase is Phase.OPEN:
        raise Forbidden(f"{doing} needs the analyst or admin role")
    if taking.phase is Phase.SCHEDULED:
        raise Conflict(
            f"the consultation opens on {taking.consultation.opens:%Y-%m-%d at %H:%M} UTC"
        )
    if taking.phase is Phase.CLOSED:
        closed = taking.consultation.closed_early or taking.consultation.closes
        raise Conflict(f"the consultation closed on {closed:%Y-%m-%d at %H:%M} UTC")


# -- drafts and versions -------------------------------------------------------------------------


def new_draft(db: Database, user: User, title: str, kind: str, markdown: str) -> str:
    """A draft of the user's organization, with its first version."""
    if not user.role.may_write:
        raise Forbidden("drafting needs the analyst or admin role")
    name = text({"title": title}, "title", 300, required=True)
    chosen = parse_choice(DraftKind, kind, "kind", "kind of draft")
    body = read_markdown(markdown)
    now = _now()
    draft = store.Draft(str(uuid.uuid4()), user.org_id, name, chosen.value, user.email, now)
    with db.write() as conn:
        store.insert_draft(conn, draft)
        store.insert_version(conn, store.Version(draft.id, 1, body, "", (), user.email, now))
        audit.record(conn, user.email, "draft.created", draft.id, title=name)
    return draft.id


def add_version(
    db: Database, user: User, draft_id: str, markdown: str, note: str, answers: list[int]
) -> int:
    """A new version; `answers` are the comments it answers, on this draft's consultations."""
    reader = reader_for(db, user)
    body = read_markdown(markdown)
    said = text({"note": note}, "note", 5000)
    with db.write() as conn:
        draft = _drafting(conn, reader, draft_id)
        known = {
            c.id
            for found in store.consultations_of(conn, draft.id)
            for c in store.comments_of(conn, found.id)
            if c.parent_id is None  # a version answers comments, not replies
        }
        for i, comment_id in enumerate(answers):
            if comment_id not in known:
                raise Invalid(f"answers[{i}]", f"no comment {comment_id} on this draft")
        number = len(store.versions(conn, draft.id)) + 1
        version = store.Version(
            draft.id, number, body, said, tuple(dict.fromkeys(answers)), user.email, _now()
        )
        store.insert_version(conn, version)
        audit.record(conn, user.email, "draft.version", draft.id, version=number)
    return number


@dataclass(frozen=True, slots=True)
class VersionView:
    number: int
    note: str
    created: datetime
    paragraphs: list[Paragraph]
    answers: tuple[int, ...]
    changes: list[Change]  # from the version before; empty for the first
    text: str = ""  # the version's Markdown, as written


@dataclass(frozen=True, slots=True)
class DraftView:
    id: str
    title: str
    kind: str
    drafter: str  # the organization's name
    mine: bool
    versions: list[VersionView]
    consultations: list[str]  # the ids of those the reader takes part in


def drafts_for(db: Database, user: User) -> list[store.Draft]:
    """The drafts the user may read: their organization's, and those of consultations they take
    part in."""
    reader = reader_for(db, user)
    now = _now()
    with db.read() as conn:
        return [d for d in store.all_drafts(conn) if _may_read_draft(conn, reader, d, now)]


def draft_view(db: Database, user: User, draft_id: str) -> DraftView:
    reader = reader_for(db, user)
    now = _now()
    with db.read() as conn:
        draft = store.draft_by_id(conn, draft_id)
        if draft is None or not _may_read_draft(conn, reader, draft, now):
            raise NotFound(f"no draft {draft_id}")
        kept = store.versions(conn, draft.id)
        taking = [
            c.id
            for c in store.consultations_of(conn, draft.id)
            if _part(conn, reader, c, draft, now) >= Part.PARTICIPANT
        ]
        org = account_store.org_by_id(conn, draft.org_id)
    views = []
    before: list[Paragraph] = []
    for version in kept:
        now_paragraphs = paragraphs(version.text)
        changes = diff(before, now_paragraphs) if version.number > 1 else []
        views.append(
            VersionView(
                version.number,
                version.note,
                version.created,
                now_paragraphs,
                version.answers,
                changes,
                version.text,
            )
        )
        before = now_paragraphs
    return DraftView(
        draft.id,
        draft.title,
        draft.kind,
        org.name if org else "",
        draft.org_id == reader.org_id,
        views,
        taking,
    )


# -- consultations -------------------------------------------------------------------------------


def open_consultation(
    db: Database,
    user: User,
    draft_id: str,
    version: int,
    opens: datetime,
    closes: datetime,
    audience: Audience,
    questions: tuple[Question, ...] = (),
    objection_days: int = DEFAULT_OBJECTION_DAYS,
) -> str:
    reader = reader_for(db, user)
    check_period(opens, closes)
    if not 0 <= objection_days <= 90:
        raise Invalid("objection_days", "is 0 to 90 days")
    with db.write() as conn:
        draft = _drafting(conn, reader, draft_id)
        if not 1 <= version <= len(store.versions(conn, draft.id)):
            raise Invalid("version", f"the draft has no version {version}")
        for i, bubble_id in enumerate(audience.bubbles):
            # Only a bubble the drafter's organization stands in: others are not its to address.
            roles = bubble_store.active_roles(conn, bubble_id)
            if access.standing(reader.org_chain, roles) is Standing.NONE:
                raise Invalid(f"audience.bubbles[{i}]", f"no bubble {bubble_id}")
        found = store.Consultation(
            str(uuid.uuid4()),
            draft.id,
            version,
            opens,
            closes,
            None,
            audience.public,
            audience.bubbles,
            tuple(k.value for k in audience.kinds),
            objection_days,
            [{"text": q.text, "choices": list(q.choices)} for q in questions],
            user.email,
            _now(),
        )
        store.insert_consultation(conn, found)
        audit.record(
            conn, user.email, "consultation.opened", found.id, draft=draft.id, version=version
        )
    return found.id


def close(db: Database, user: User, consultation_id: str) -> None:
    reader = reader_for(db, user)
    now = _now()
    with db.write() as conn:
        taking = _taking(conn, reader, consultation_id, now)
        _drafting(conn, reader, taking.draft.id)
        if taking.phase is Phase.CLOSED:
            raise Conflict("the consultation is closed already")
        store.close_early(conn, consultation_id, now)
        audit.record(conn, user.email, "consultation.closed", consultation_id)


# -- comments ------------------------------------------------------------------------------------


def _version_paragraphs(conn: Connection, found: store.Consultation) -> list[Paragraph]:
    version = store.versions(conn, found.draft_id)[found.version - 1]
    return paragraphs(version.text)


def comment(db: Database, user: User, consultation_id: str, data: Mapping[str, Any]) -> int:
    """A comment on a paragraph of the consultation's version."""
    reader = reader_for(db, user)
    with db.write() as conn:
        taking = _taking(conn, reader, consultation_id, _now())
        _open_for_writing(taking)
        given = read_comment(data, len(_version_paragraphs(conn, taking.consultation)))
        made = store.Comment(
            0,
            consultation_id,
            given.paragraph,
            None,
            user.org_id,
            user.email,
            given.stance.value,
            given.text,
            given.wording,
            given.norms,
            given.incident,
            _now(),
            None,
            "",
            None,
        )
        comment_id = store.insert_comment(conn, made)
        audit.record(
            conn, user.email, "consultation.commented", consultation_id, comment=comment_id
        )
    return comment_id


def reply(db: Database, user: User, consultation_id: str, parent_id: int, body: str) -> int:
    reader = reader_for(db, user)
    said = text({"text": body}, "text", 10_000, required=True)
    with db.write() as conn:
        taking = _taking(conn, reader, consultation_id, _now())
        _open_for_writing(taking, "replying")
        parent = _comment(conn, consultation_id, parent_id)
        made = store.Comment(
            0,
            consultation_id,
            parent.paragraph,
            parent.id,
            user.org_id,
            user.email,
            "",
            said,
            "",
            (),
            "",
            _now(),
            None,
            "",
            None,
        )
        reply_id = store.insert_comment(conn, made)
        audit.record(conn, user.email, "consultation.replied", consultation_id, comment=reply_id)
    return reply_id


def _comment(conn: Connection, consultation_id: str, comment_id: int) -> store.Comment:
    for found in store.comments_of(conn, consultation_id):
        if found.id == comment_id:
            return found
    raise NotFound(f"no comment {comment_id} in this consultation")


def _answering(conn: Connection, reader: Reader, consultation_id: str) -> Taking:
    taking = _taking(conn, reader, consultation_id, _now())
    if taking.part is not Part.DRAFTER:
        raise Forbidden("only the drafting organization answers and moderates comments")
    if reader.role is None or not reader.role.may_write:
        raise Forbidden("answering comments needs the analyst or admin role")
    return taking


def respond(
    db: Database, user: User, consultation_id: str, comment_id: int, verdict: str, reason: str
) -> None:
    """The drafter's answer to a comment: accepted, partly accepted or not, with a reason."""
    reader = reader_for(db, user)
    chosen = parse_choice(Verdict, verdict, "verdict", "answer")
    why = text({"reason": reason}, "reason", 5000, required=chosen is not Verdict.ACCEPTED)
    with db.write() as conn:
        _answering(conn, reader, consultation_id)
        found = _comment(conn, consultation_id, comment_id)
        if found.parent_id is not None:
            raise Invalid("comment", "answer the comment itself, not a reply to it")
        store.set_verdict(conn, comment_id, chosen.value, why)
        audit.record(
            conn,
            user.email,
            "consultation.answered",
            consultation_id,
            comment=comment_id,
            verdict=chosen.value,
        )


def hide(
    db: Database, user: User, consultation_id: str, comment_id: int, reason: str | None
) -> None:
    """Hide a comment with a reason (kept in the audit log), or show it again (no reason)."""
    reader = reader_for(db, user)
    why = text({"reason": reason or ""}, "reason", 2000, required=reason is not None)
    with db.write() as conn:
        _answering(conn, reader, consultation_id)
        _comment(conn, consultation_id, comment_id)
        store.set_hidden(conn, comment_id, why if reason is not None else None)
        event = "consultation.hidden" if reason is not None else "consultation.shown"
        audit.record(conn, user.email, event, consultation_id, comment=comment_id, reason=why)


# -- accreditation -------------------------------------------------------------------------------


def ask_to_take_part(db: Database, user: User, consultation_id: str, reason: str) -> None:
    """An organization outside the audience asks to take part. It must know the consultation's
    id: a link shared with it, as OEWG accreditation lists are."""
    reader = reader_for(db, user)
    why = text({"reason": reason}, "reason", 2000, required=True)
    if not user.role.may_write:
        raise Forbidden("asking to take part needs the analyst or admin role")
    now = _now()
    with db.write() as conn:
        found = store.consultation_by_id(conn, consultation_id)
        draft = store.draft_by_id(conn, found.draft_id) if found else None
        if found is None or draft is None:
            raise NotFound(f"no consultation {consultation_id}")
        if phase(found.opens, found.closes, found.closed_early, now) is Phase.CLOSED:
            raise Conflict("the consultation is closed")
        if _part(conn, reader, found, draft, now) >= Part.APPLICANT:
            raise Conflict("your organization takes part already, or has asked to")
        if any(a.org_id == user.org_id for a in store.accreditations_of(conn, found.id)):
            raise Conflict("your organization's request was refused")
        store.ask(conn, found.id, user.org_id, why, user.email, now)
        audit.record(conn, user.email, "accreditation.asked", found.id, reason=why)


def object_to(db: Database, user: User, consultation_id: str, org_id: str, reason: str) -> None:
    """An organization taking part objects to another's accreditation, within the period."""
    reader = reader_for(db, user)
    why = text({"reason": reason}, "reason", 2000, required=True)
    now = _now()
    with db.write() as conn:
        taking = _taking(conn, reader, consultation_id, now)
        writer = reader.role is not None and reader.role.may_write
        if taking.part is Part.DRAFTER:
            raise Forbidden("the drafting organization decides on requests; it does not object")
        if taking.part < Part.PARTICIPANT or not writer:
            raise Forbidden("only analysts and admins of organizations taking part may object")
        state = _accreditation(conn, taking.consultation, org_id, now)
        if state is not Accreditation.PENDING:
            raise Conflict("there is no pending request of that organization to object to")
        if any(
            o.org_id == org_id and o.objector_id == user.org_id
            for o in store.objections_of(conn, consultation_id)
        ):
            raise Conflict("your organization has objected to this request already")
        store.object_to(conn, consultation_id, store.Objection(org_id, user.org_id, why, now))
        audit.record(conn, user.email, "accreditation.objected", consultation_id, org=org_id)


def decide(db: Database, user: User, consultation_id: str, org_id: str, admit: bool) -> None:
    reader = reader_for(db, user)
    now = _now()
    with db.write() as conn:
        _answering(conn, reader, consultation_id)
        if not any(a.org_id == org_id for a in store.accreditations_of(conn, consultation_id)):
            raise NotFound(f"no request to take part from organization {org_id}")
        decision = "admitted" if admit else "refused"
        store.decide(conn, consultation_id, org_id, decision, now)
        audit.record(conn, user.email, f"accreditation.{decision}", consultation_id, org=org_id)


# -- the people affected -------------------------------------------------------------------------


def answer_questions(
    db: Database, user: User, consultation_id: str, given: Mapping[int, str]
) -> None:
    """One organization's answers to the consultation's questions; a new answer replaces one."""
    reader = reader_for(db, user)
    now = _now()
    with db.write() as conn:
        taking = _taking(conn, reader, consultation_id, now)
        _open_for_writing(taking, "answering")
        asked = taking.consultation.questions
        for index, value in sorted(given.items()):
            if not 0 <= index < len(asked):
                raise Invalid(f"answers.{index}", f"no question {index + 1}")
            choices = list(asked[index].get("choices") or [])  # type: ignore[call-overload]
            said = text({"answer": value}, "answer", 2000, required=True)
            if choices and said not in choices:
                raise Invalid(f"answers.{index}", f"choose one of: {', '.join(choices)}")
            store.answer(
                conn, consultation_id, store.Answer(user.org_id, index, said, user.email, now)
            )
        audit.record(conn, user.email, "consultation.questions_answered", consultation_id)


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    paragraph: int
    parent_id: int | None
    organization: str
    kind: str  # the organization's stakeholder kind
    author: str
    stance: str
    text: str
    wording: str
    norms: tuple[str, ...]
    incident: str
    created: datetime
    verdict: str | None
    verdict_reason: str
    hidden: str | None  # the reason, if hidden
    answered_in: int | None  # the version that answered it


@dataclass(frozen=True, slots=True)
class ParagraphSummary:
    number: int
    comments: int
    stances: dict[str, int]
    accepted_share: float | None  # of the answered comments


@dataclass(frozen=True, slots=True)
class ConsultationView:
    id: str
    draft_id: str
    title: str
    drafter: str
    version: int
    opens: datetime
    closes: datetime
    phase: Phase
    audience: str
    part: Part
    may_comment: bool
    paragraphs: list[Paragraph]
    comments: list[CommentView]
    questions: list[dict[str, Any]]
    answers: list[dict[str, Any]]  # per question: counts per answer, per stakeholder kind
    requests: list[dict[str, Any]]  # accreditation: all to the drafter, its own to an applicant
    by_paragraph: list[ParagraphSummary] = field(default_factory=list)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    accepted_by_kind: dict[str, float | None] = field(default_factory=dict)


def view(db: Database, user: User, consultation_id: str) -> ConsultationView:
    reader = reader_for(db, user)
    now = _now()
    with db.read() as conn:
        taking = _taking(conn, reader, consultation_id, now)
        found, draft = taking.consultation, taking.draft
        orgs = {o.id: o for o in account_store.all_orgs(conn)}
        version_paragraphs = _version_paragraphs(conn, found)
        answered_in = {
            comment_id: v.number for v in store.versions(conn, draft.id) for comment_id in v.answers
        }
        comments = store.comments_of(conn, found.id) if taking.part >= Part.PARTICIPANT else []
        answers = store.answers_of(conn, found.id) if taking.part >= Part.PARTICIPANT else []
        requests = _requests(conn, taking, reader, orgs, now)
    shown = [_comment_view(c, orgs, reader, taking.part, answered_in.get(c.id)) for c in comments]
    drafter = orgs[draft.org_id].name if draft.org_id in orgs else ""
    audience = Audience(found.bubbles, tuple(), found.public)
    kinds = ", ".join(k.replace("-", " ") for k in found.kinds)
    said = (
        audience.describe()
        if found.public
        else ", ".join(
            p for p in (kinds, f"{len(found.bubbles)} bubble(s)" if found.bubbles else "") if p
        )
    )
    return ConsultationView(
        found.id,
        draft.id,
        draft.title,
        drafter,
        found.version,
        found.opens,
        found.closes if found.closed_early is None else min(found.closes, found.closed_early),
        taking.phase,
        said,
        taking.part,
        taking.may_comment,
        version_paragraphs if taking.part >= Part.PARTICIPANT else [],
        shown,
        found.questions if taking.part >= Part.PARTICIPANT else [],
        _tally(found.questions, answers, orgs) if taking.part >= Part.PARTICIPANT else [],
        requests,
        _by_paragraph(version_paragraphs if taking.part >= Part.PARTICIPANT else [], shown),
        _by_kind(shown),
        _accepted_by_kind(shown),
    )


def _comment_view(
    c: store.Comment,
    orgs: Mapping[str, Any],
    reader: Reader,
    part: Part,
    answered_in: int | None,
) -> CommentView:
    org = orgs.get(c.org_id)
    sees_hidden = part is Part.DRAFTER or c.org_id == reader.org_id
    hidden = c.hidden_reason is not None and not sees_hidden
    return CommentView(
        c.id,
        c.paragraph,
        c.parent_id,
        org.name if org else "",
        org.kind.value if org else "",
        "" if hidden else c.author,
        c.stance,
        "" if hidden else c.text,
        "" if hidden else c.wording,
        c.norms,
        "" if hidden else c.incident,
        c.created,
        c.verdict,
        c.verdict_reason,
        c.hidden_reason,
        answered_in,
    )


def _requests(
    conn: Connection, taking: Taking, reader: Reader, orgs: Mapping[str, Any], now: datetime
) -> list[dict[str, Any]]:
    objections = store.objections_of(conn, taking.consultation.id)
    found = []
    for asked in store.accreditations_of(conn, taking.consultation.id):
        # Those taking part see every request, to object to; an applicant sees its own.
        if taking.part is Part.APPLICANT and asked.org_id != reader.org_id:
            continue
        against = [o for o in objections if o.org_id == asked.org_id]
        state = accreditation_state(
            asked.decision, asked.asked, bool(against), taking.consultation.objection_days, now
        )
        found.append(
            {
                "org_id": asked.org_id,
                "organization": orgs[asked.org_id].name if asked.org_id in orgs else "",
                "kind": orgs[asked.org_id].kind.value if asked.org_id in orgs else "",
                "reason": asked.reason,
                "asked": asked.asked,
                "state": state.value,
                "objections": [
                    {
                        "organization": orgs[o.objector_id].name if o.objector_id in orgs else "",
                        "reason": o.reason,
                    }
                    for o in against
                ],
            }
        )
    return found


def _tally(
    questions: list[dict[str, Any]], answers: list[store.Answer], orgs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    tallies = []
    for index, _question in enumerate(questions):
        given = [a for a in answers if a.question == index]
        by_kind: dict[str, Counter[str]] = {}
        for a in given:
            kind = orgs[a.org_id].kind.value if a.org_id in orgs else ""
            by_kind.setdefault(kind, Counter())[a.answer] += 1
        tallies.append(
            {
                "answers": dict(Counter(a.answer for a in given)),
                "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
                "organizations": len(given),
            }
        )
    return tallies


def _by_paragraph(found: list[Paragraph], comments: list[CommentView]) -> list[ParagraphSummary]:
    summaries = []
    for paragraph in found:
        on = [c for c in comments if c.paragraph == paragraph.number and c.parent_id is None]
        stances = dict(Counter(c.stance for c in on))
        summaries.append(ParagraphSummary(paragraph.number, len(on), stances, _accepted_share(on)))
    return summaries


def _accepted_share(comments: list[CommentView]) -> float | None:
    """Of the answered comments, the share accepted (partly accepted counts half)."""
    answered = [Verdict(c.verdict) for c in comments if c.verdict]
    return sum(v.weight for v in answered) / len(answered) if answered else None


def _accepted_by_kind(comments: list[CommentView]) -> dict[str, float | None]:
    kinds = sorted({c.kind for c in comments if c.parent_id is None})
    return {
        kind: _accepted_share([c for c in comments if c.parent_id is None and c.kind == kind])
        for kind in kinds
    }


def _by_kind(comments: list[CommentView]) -> dict[str, dict[str, int]]:
    found: dict[str, Counter[str]] = {}
    for c in comments:
        if c.parent_id is None:
            found.setdefault(c.kind, Counter())[c.stance] += 1
    return {kind: dict(counts) for kind, counts in sorted(found.items())}


def consultations_for(db: Database, user: User) -> list[dict[str, Any]]:
    """The consultations the user takes part in (or drafted), newest first."""
    reader = reader_for(db, user)
    now = _now()
    found = []
    with db.read() as conn:
        for c in store.consultations_of(conn):
            draft = store.draft_by_id(conn, c.draft_id)
            if draft is None:
                continue
            part = _part(conn, reader, c, draft, now)
            if part < Part.PARTICIPANT:
                continue
            found.append(
                {
                    "id": c.id,
                    "draft_id": draft.id,
                    "title": draft.title,
                    "version": c.version,
                    "phase": phase(c.opens, c.closes, c.closed_early, now).value,
                    "closes": c.closes if c.closed_early is None else min(c.closes, c.closed_early),
                    "drafter": part is Part.DRAFTER,
                }
            )
    return found
