"""Drafts, their versions, consultations, accreditation, comments and answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from trustbubble.store.tables import (
    accreditation_objections,
    accreditations,
    consultation_answers,
    consultation_comments,
    consultations,
    draft_versions,
    drafts,
)


@dataclass(frozen=True, slots=True)
class Draft:
    id: str
    org_id: str
    title: str
    kind: str
    created_by: str
    created: datetime


@dataclass(frozen=True, slots=True)
class Version:
    draft_id: str
    number: int
    text: str
    note: str
    answers: tuple[int, ...]  # the comments it answers
    created_by: str
    created: datetime


@dataclass(frozen=True, slots=True)
class Consultation:
    id: str
    draft_id: str
    version: int
    opens: datetime
    closes: datetime
    closed_early: datetime | None
    public: bool
    bubbles: tuple[str, ...]
    kinds: tuple[str, ...]
    objection_days: int
    questions: list[dict[str, object]]
    created_by: str
    created: datetime


@dataclass(frozen=True, slots=True)
class Accreditation:
    org_id: str
    reason: str
    asked: datetime
    asked_by: str
    decision: str | None
    decided: datetime | None


@dataclass(frozen=True, slots=True)
class Objection:
    org_id: str  # the applicant
    objector_id: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    consultation_id: str
    paragraph: int
    parent_id: int | None
    org_id: str
    author: str
    stance: str  # "" for a reply
    text: str
    wording: str
    norms: tuple[str, ...]
    incident: str
    created: datetime
    verdict: str | None
    verdict_reason: str
    hidden_reason: str | None


@dataclass(frozen=True, slots=True)
class Answer:
    org_id: str
    question: int
    answer: str
    author: str
    at: datetime


# -- drafts and versions -------------------------------------------------------------------------


def insert_draft(conn: Connection, draft: Draft) -> None:
    conn.execute(
        insert(drafts).values(
            id=draft.id,
            org_id=draft.org_id,
            title=draft.title,
            kind=draft.kind,
            created_by=draft.created_by,
            created=draft.created,
        )
    )


_DRAFT = (
    drafts.c.id,
    drafts.c.org_id,
    drafts.c.title,
    drafts.c.kind,
    drafts.c.created_by,
    drafts.c.created,
)


def draft_by_id(conn: Connection, draft_id: str) -> Draft | None:
    row = conn.execute(select(*_DRAFT).where(drafts.c.id == draft_id)).first()
    return None if row is None else Draft(*row)


def all_drafts(conn: Connection) -> list[Draft]:
    """Every draft, newest first; the service keeps those the reader may read."""
    return [Draft(*r) for r in conn.execute(select(*_DRAFT).order_by(drafts.c.created.desc()))]


def insert_version(conn: Connection, version: Version) -> None:
    conn.execute(
        insert(draft_versions).values(
            draft_id=version.draft_id,
            number=version.number,
            text=version.text,
            note=version.note,
            answers=orjson.dumps(list(version.answers)).decode(),
            created_by=version.created_by,
            created=version.created,
        )
    )


def versions(conn: Connection, draft_id: str) -> list[Version]:
    rows = conn.execute(
        select(
            draft_versions.c.draft_id,
            draft_versions.c.number,
            draft_versions.c.text,
            draft_versions.c.note,
            draft_versions.c.answers,
            draft_versions.c.created_by,
            draft_versions.c.created,
        )
        .where(draft_versions.c.draft_id == draft_id)
        .order_by(draft_versions.c.number)
    )
    return [Version(r[0], r[1], r[2], r[3], tuple(orjson.loads(r[4])), r[5], r[6]) for r in rows]


# -- consultations -------------------------------------------------------------------------------


def insert_consultation(conn: Connection, found: Consultation) -> None:
    conn.execute(
        insert(consultations).values(
            id=found.id,
            draft_id=found.draft_id,
            version=found.version,
            opens=found.opens,
            closes=found.closes,
            closed_early=found.closed_early,
            public=found.public,
            bubbles=orjson.dumps(list(found.bubbles)).decode(),
            kinds=orjson.dumps(list(found.kinds)).decode(),
            objection_days=found.objection_days,
            questions=orjson.dumps(found.questions).decode(),
            created_by=found.created_by,
            created=found.created,
        )
    )


_CONSULTATION = (
    consultations.c.id,
    consultations.c.draft_id,
    consultations.c.version,
    consultations.c.opens,
    consultations.c.closes,
    consultations.c.closed_early,
    consultations.c.public,
    consultations.c.bubbles,
    consultations.c.kinds,
    consultations.c.objection_days,
    consultations.c.questions,
    consultations.c.created_by,
    consultations.c.created,
)


def _consultation(r: Any) -> Consultation:  # a Row of _CONSULTATION
    return Consultation(
        r.id,
        r.draft_id,
        r.version,
        r.opens,
        r.closes,
        r.closed_early,
        bool(r.public),
        tuple(orjson.loads(r.bubbles)),
        tuple(orjson.loads(r.kinds)),
        r.objection_days,
        orjson.loads(r.questions),
        r.created_by,
        r.created,
    )


def consultation_by_id(conn: Connection, consultation_id: str) -> Consultation | None:
    row = conn.execute(select(*_CONSULTATION).where(consultations.c.id == consultation_id)).first()
    return None if row is None else _consultation(row)


def consultations_of(conn: Connection, draft_id: str | None = None) -> list[Consultation]:
    """A draft's consultations (or every one), newest first."""
    query = select(*_CONSULTATION).order_by(consultations.c.created.desc())
    if draft_id is not None:
        query = query.where(consultations.c.draft_id == draft_id)
    return [_consultation(r) for r in conn.execute(query)]


def close_early(conn: Connection, consultation_id: str, at: datetime) -> None:
    conn.execute(
        update(consultations).where(consultations.c.id == consultation_id).values(closed_early=at)
    )


# -- accreditation -------------------------------------------------------------------------------


def ask(
    conn: Connection, consultation_id: str, org_id: str, reason: str, by: str, at: datetime
) -> None:
    conn.execute(
        insert(accreditations).values(
            consultation_id=consultation_id, org_id=org_id, reason=reason, asked=at, asked_by=by
        )
    )


def accreditations_of(conn: Connection, consultation_id: str) -> list[Accreditation]:
    rows = conn.execute(
        select(
            accreditations.c.org_id,
            accreditations.c.reason,
            accreditations.c.asked,
            accreditations.c.asked_by,
            accreditations.c.decision,
            accreditations.c.decided,
        )
        .where(accreditations.c.consultation_id == consultation_id)
        .order_by(accreditations.c.asked)
    )
    return [Accreditation(*r) for r in rows]


def decide(
    conn: Connection, consultation_id: str, org_id: str, decision: str, at: datetime
) -> None:
    conn.execute(
        update(accreditations)
        .where(
            accreditations.c.consultation_id == consultation_id,
            accreditations.c.org_id == org_id,
        )
        .values(decision=decision, decided=at)
    )


def object_to(conn: Connection, consultation_id: str, found: Objection) -> None:
    conn.execute(
        insert(accreditation_objections).values(
            consultation_id=consultation_id,
            org_id=found.org_id,
            objector_id=found.objector_id,
            reason=found.reason,
            at=found.at,
        )
    )


def objections_of(conn: Connection, consultation_id: str) -> list[Objection]:
    rows = conn.execute(
        select(
            accreditation_objections.c.org_id,
            accreditation_objections.c.objector_id,
            accreditation_objections.c.reason,
            accreditation_objections.c.at,
        )
        .where(accreditation_objections.c.consultation_id == consultation_id)
        .order_by(accreditation_objections.c.at)
    )
    return [Objection(*r) for r in rows]


# -- comments and answers ------------------------------------------------------------------------


def insert_comment(conn: Connection, found: Comment) -> int:
    done = conn.execute(
        insert(consultation_comments).values(
            consultation_id=found.consultation_id,
            paragraph=found.paragraph,
            parent_id=found.parent_id,
            org_id=found.org_id,
            author=found.author,
            stance=found.stance,
            text=found.text,
            wording=found.wording,
            norms=" ".join(found.norms),
            incident=found.incident,
            created=found.created,
        )
    )
    key = done.inserted_primary_key
    assert key is not None
    return int(key[0])


def comments_of(conn: Connection, consultation_id: str) -> list[Comment]:
    c = consultation_comments.c
    rows = conn.execute(
        select(
            c.id,
            c.consultation_id,
            c.paragraph,
            c.parent_id,
            c.org_id,
            c.author,
            c.stance,
            c.text,
            c.wording,
            c.norms,
            c.incident,
            c.created,
            c.verdict,
            c.verdict_reason,
            c.hidden_reason,
        )
        .where(c.consultation_id == consultation_id)
        .order_by(c.id)
    )
    return [_comment(r) for r in rows]


def _comment(r: Any) -> Comment:  # a Row of comments_of
    return Comment(
        r.id,
        r.consultation_id,
        r.paragraph,
        r.parent_id,
        r.org_id,
        r.author,
        r.stance,
        r.text,
        r.wording,
        tuple(r.norms.split()),
        r.incident,
        r.created,
        r.verdict,
        r.verdict_reason,
        r.hidden_reason,
    )


def set_verdict(conn: Connection, comment_id: int, verdict: str, reason: str) -> None:
    conn.execute(
        update(consultation_comments)
        .where(consultation_comments.c.id == comment_id)
        .values(verdict=verdict, verdict_reason=reason)
    )


def set_hidden(conn: Connection, comment_id: int, reason: str | None) -> None:
    conn.execute(
        update(consultation_comments)
        .where(consultation_comments.c.id == comment_id)
        .values(hidden_reason=reason)
    )


def answer(conn: Connection, consultation_id: str, given: Answer) -> None:
    key = (
        consultation_answers.c.consultation_id == consultation_id,
        consultation_answers.c.org_id == given.org_id,
        consultation_answers.c.question == given.question,
    )
    values = {"answer": given.answer, "author": given.author, "at": given.at}
    if conn.execute(update(consultation_answers).where(*key).values(**values)).rowcount == 0:
        conn.execute(
            insert(consultation_answers).values(
                consultation_id=consultation_id,
                org_id=given.org_id,
                question=given.question,
                **values,
            )
        )


def answers_of(conn: Connection, consultation_id: str) -> list[Answer]:
    rows = conn.execute(
        select(
            consultation_answers.c.org_id,
            consultation_answers.c.question,
            consultation_answers.c.answer,
            consultation_answers.c.author,
            consultation_answers.c.at,
        )
        .where(consultation_answers.c.consultation_id == consultation_id)
        .order_by(consultation_answers.c.question, consultation_answers.c.org_id)
    )
    return [Answer(*r) for r in rows]
