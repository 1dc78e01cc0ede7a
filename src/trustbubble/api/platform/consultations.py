"""Drafts and multistakeholder consultations over JSON (docs/consultations.md).

Who takes part in what is decided by the service; a reader with no part gets a 404, as if the
draft or consultation did not exist. Texts come back as written (Markdown, and any markup in it,
as data): escaping them is the job of whoever renders them.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import CurrentUser, NodeDep, PlatformUser
from trustbubble.api.platform.filters import RowNumber
from trustbubble.domain.consultations import (
    Change,
    ChangeKind,
    diff,
    read_audience,
    read_questions,
    word_diff,
)
from trustbubble.domain.errors import Invalid
from trustbubble.services import consultations
from trustbubble.services.consultations import DEFAULT_OBJECTION_DAYS

router = APIRouter(prefix="/api/v1", tags=["consultations"])


class NewDraft(BaseModel):
    title: str = Field(description="The draft's title, at most 300 characters.")
    kind: str = Field(description="strategy, position, charter or guideline.")
    text: str = Field(description="Version 1, in Markdown: each block is a numbered paragraph.")


class NewVersion(BaseModel):
    text: str = Field(description="The whole new version, in Markdown.")
    note: str = Field(default="", description="What changed and why.")
    answers: list[int] = Field(
        default=[], description="Ids of the comments (on this draft's consultations) it answers."
    )


class AudienceIn(BaseModel):
    bubbles: list[str] = Field(default=[], description="Bubble ids: their members take part.")
    kinds: list[str] = Field(
        default=[],
        description="Stakeholder kinds that take part: government, cert, operator, private, "
        "civil-society, international, academia.",
    )
    public: bool = Field(default=False, description="Open to everyone signed in to the node.")


class QuestionIn(BaseModel):
    text: str = Field(description="The question, at most 500 characters.")
    choices: list[str] = Field(default=[], description="Two choices or more; none for free text.")


class NewConsultation(BaseModel):
    draft: str = Field(description="The id of one of my organization's drafts.")
    version: int = Field(description="The version opened to comment.")
    opens: AwareDatetime = Field(description="ISO 8601 with a time zone, e.g. ...T09:00:00Z.")
    closes: AwareDatetime = Field(description="ISO 8601 with a time zone; after `opens`.")
    audience: AudienceIn = Field(description="Who may comment; at least one of the three.")
    questions: list[QuestionIn] = Field(
        default=[], description="Up to 20 questions for the people affected."
    )
    objection_days: int = Field(
        default=DEFAULT_OBJECTION_DAYS,
        description="Days in which those taking part may object to a request to take part.",
    )


class NewComment(BaseModel):
    paragraph: int = Field(description="The number of the paragraph commented on.")
    stance: str = Field(description="support, object, or amend (with `wording`).")
    text: str = Field(description="The comment, at most 10,000 characters.")
    wording: str = Field(default="", description="For amend: the paragraph as proposed.")
    norms: list[str] = Field(default=[], description="UN GGE norm letters, a to k.")
    incident: str = Field(default="", description="The STIX id of a related incident.")


class Reply(BaseModel):
    text: str = Field(description="The reply, at most 10,000 characters.")


class VerdictIn(BaseModel):
    verdict: str = Field(description="accepted, partly-accepted or not-accepted.")
    reason: str = Field(default="", description="Why; required unless accepted.")


class Reason(BaseModel):
    reason: str = Field(description="Why, at most 2,000 characters.")


class Decision(BaseModel):
    decision: Literal["admitted", "refused"] = Field(description="admitted or refused.")


class AnswersIn(BaseModel):
    answers: dict[int, str] = Field(
        description="Question number (from 0) to the answer: one of its choices, or free text."
    )


# -- drafts --------------------------------------------------------------------------------------


@router.get("/drafts")
async def list_drafts(node: NodeDep, user: PlatformUser) -> list[dict[str, Any]]:
    """The drafts I may read: my organization's, and those of consultations I take part in."""
    found = await run_in_threadpool(consultations.drafts_for, node.db, user)
    return [
        {
            "id": d.id,
            "title": d.title,
            "kind": d.kind,
            "org_id": d.org_id,
            "mine": d.org_id == user.org_id,
            "created": d.created,
        }
        for d in found
    ]


@router.post("/drafts", status_code=201)
async def create_draft(node: NodeDep, user: CurrentUser, body: NewDraft) -> dict[str, str]:
    """A draft of my organization, with its first version."""
    made = await run_in_threadpool(
        consultations.new_draft, node.db, user, body.title, body.kind, body.text
    )
    return {"id": made}


@router.get("/drafts/{draft_id}")
async def get_draft(node: NodeDep, user: PlatformUser, draft_id: str) -> dict[str, Any]:
    """Every version with its numbered paragraphs, its changes from the version before and the
    comments it answers; and the consultations of the draft I take part in."""
    found = await run_in_threadpool(consultations.draft_view, node.db, user, draft_id)
    return {
        **{f: getattr(found, f) for f in ("id", "title", "kind", "drafter", "mine")},
        "consultations": found.consultations,
        "versions": [
            {
                "number": v.number,
                "note": v.note,
                "created": v.created,
                "answers": list(v.answers),
                "paragraphs": [dataclasses.asdict(p) for p in v.paragraphs],
                "changes": [_change(c) for c in v.changes],
            }
            for v in found.versions
        ],
    }


@router.post("/drafts/{draft_id}/versions", status_code=201)
async def add_version(
    node: NodeDep, user: CurrentUser, draft_id: str, body: NewVersion
) -> dict[str, int]:
    """Publish a new version, naming the comments it answers."""
    number = await run_in_threadpool(
        consultations.add_version, node.db, user, draft_id, body.text, body.note, body.answers
    )
    return {"number": number}


@router.get("/drafts/{draft_id}/diff")
async def diff_versions(
    node: NodeDep,
    user: PlatformUser,
    draft_id: str,
    older: Annotated[
        int | None, Query(alias="from", description="A version; the one before `to` if absent.")
    ] = None,
    newer: Annotated[
        int | None, Query(alias="to", description="A version; the latest if absent.")
    ] = None,
) -> dict[str, Any]:
    """What became of each paragraph between two versions, with a word diff of those changed,
    and the comments answered by the versions after `from` up to `to`."""
    found = await run_in_threadpool(consultations.draft_view, node.db, user, draft_id)
    by_number = {v.number: v for v in found.versions}
    to = len(found.versions) if newer is None else newer
    start = max(to - 1, 1) if older is None else older
    for name, number in (("from", start), ("to", to)):
        if number not in by_number:
            raise Invalid(name, f"the draft has no version {number}")
    changes = diff(by_number[start].paragraphs, by_number[to].paragraphs)
    answered = [c for n in range(start + 1, to + 1) for c in by_number[n].answers]
    return {
        "from": start,
        "to": to,
        "answers": list(dict.fromkeys(answered)),
        "changes": [_change(c) for c in changes],
    }


def _change(found: Change) -> dict[str, Any]:
    change: dict[str, Any] = {**dataclasses.asdict(found), "kind": found.kind.value}
    if found.kind is ChangeKind.CHANGED:
        words = word_diff(found.old_text, found.new_text)
        change["words"] = [{"op": op, "text": said} for op, said in words]
    return change


# -- consultations -------------------------------------------------------------------------------


@router.get("/consultations")
async def list_consultations(node: NodeDep, user: PlatformUser) -> list[dict[str, Any]]:
    """The consultations I take part in or drafted, newest first."""
    return await run_in_threadpool(consultations.consultations_for, node.db, user)


@router.post("/consultations", status_code=201)
async def open_consultation(
    node: NodeDep, user: CurrentUser, body: NewConsultation
) -> dict[str, str]:
    """Open a version of my organization's draft to an audience, for a period."""
    audience = read_audience(body.audience.model_dump())
    questions = read_questions([q.model_dump() for q in body.questions])
    made = await run_in_threadpool(
        consultations.open_consultation,
        node.db,
        user,
        body.draft,
        body.version,
        body.opens.astimezone(UTC),
        body.closes.astimezone(UTC),
        audience,
        questions,
        body.objection_days,
    )
    return {"id": made}


@router.get("/consultations/{consultation_id}")
async def get_consultation(
    node: NodeDep, user: PlatformUser, consultation_id: str
) -> dict[str, Any]:
    """The consultation as I take part in it: its phase, my part, the paragraphs, comments and
    answers, the summaries, the questions with their tallies, and the requests to take part.
    An organization that only asked to take part sees its own request."""
    found = await run_in_threadpool(consultations.view, node.db, user, consultation_id)
    return _consultation(found)


def _consultation(found: consultations.ConsultationView) -> dict[str, Any]:
    simple = ("id", "draft_id", "title", "drafter", "version", "opens", "closes", "audience")
    return {
        **{f: getattr(found, f) for f in simple},
        "phase": found.phase.value,
        "part": found.part.name.lower(),
        "may_comment": found.may_comment,
        "paragraphs": [dataclasses.asdict(p) for p in found.paragraphs],
        "comments": [dataclasses.asdict(c) for c in found.comments],
        # The service keeps questions from an applicant; its tallies are then empty, so zip.
        "questions": [
            {"number": i, "text": q.get("text", ""), "choices": q.get("choices") or [], **tally}
            for i, (q, tally) in enumerate(zip(found.questions, found.answers, strict=False))
        ],
        "by_paragraph": [dataclasses.asdict(s) for s in found.by_paragraph],
        "by_kind": found.by_kind,
        "requests": found.requests,
    }


@router.post("/consultations/{consultation_id}/close")
async def close_consultation(
    node: NodeDep, user: CurrentUser, consultation_id: str
) -> dict[str, Any]:
    """Close the consultation now (the drafter only); answers the closed consultation."""
    await run_in_threadpool(consultations.close, node.db, user, consultation_id)
    found = await run_in_threadpool(consultations.view, node.db, user, consultation_id)
    return _consultation(found)


@router.post("/consultations/{consultation_id}/comments", status_code=201)
async def post_comment(
    node: NodeDep, user: CurrentUser, consultation_id: str, body: NewComment
) -> dict[str, int]:
    """A comment on a paragraph of the consultation's version, while it is open."""
    made = await run_in_threadpool(
        consultations.comment, node.db, user, consultation_id, body.model_dump()
    )
    return {"id": made}


@router.post("/consultations/{consultation_id}/comments/{comment_id}/replies", status_code=201)
async def post_reply(
    node: NodeDep, user: CurrentUser, consultation_id: str, comment_id: RowNumber, body: Reply
) -> dict[str, int]:
    """A reply to a comment, while the consultation is open."""
    made = await run_in_threadpool(
        consultations.reply, node.db, user, consultation_id, comment_id, body.text
    )
    return {"id": made}


@router.put("/consultations/{consultation_id}/comments/{comment_id}/verdict", status_code=204)
async def put_verdict(
    node: NodeDep, user: CurrentUser, consultation_id: str, comment_id: RowNumber, body: VerdictIn
) -> None:
    """The drafter's answer to a comment; a new answer replaces the one before."""
    await run_in_threadpool(
        consultations.respond,
        node.db,
        user,
        consultation_id,
        comment_id,
        body.verdict,
        body.reason,
    )


@router.put("/consultations/{consultation_id}/comments/{comment_id}/hidden", status_code=204)
async def hide_comment(
    node: NodeDep, user: CurrentUser, consultation_id: str, comment_id: RowNumber, body: Reason
) -> None:
    """Hide a comment, with a reason shown to all (the drafter only)."""
    await run_in_threadpool(
        consultations.hide, node.db, user, consultation_id, comment_id, body.reason
    )


@router.delete("/consultations/{consultation_id}/comments/{comment_id}/hidden", status_code=204)
async def show_comment(
    node: NodeDep, user: CurrentUser, consultation_id: str, comment_id: RowNumber
) -> None:
    """Show a hidden comment again (the drafter only)."""
    await run_in_threadpool(consultations.hide, node.db, user, consultation_id, comment_id, None)


@router.post("/consultations/{consultation_id}/requests", status_code=201)
async def ask_to_take_part(
    node: NodeDep, user: CurrentUser, consultation_id: str, body: Reason
) -> dict[str, str]:
    """Ask, for my organization, to take part in a consultation whose id was shared with it."""
    await run_in_threadpool(
        consultations.ask_to_take_part, node.db, user, consultation_id, body.reason
    )
    return {"org_id": user.org_id}


@router.post("/consultations/{consultation_id}/requests/{org_id}/objections", status_code=204)
async def object_to_request(
    node: NodeDep, user: CurrentUser, consultation_id: str, org_id: str, body: Reason
) -> None:
    """Object, for my organization, to another's request, within the objection period."""
    await run_in_threadpool(
        consultations.object_to, node.db, user, consultation_id, org_id, body.reason
    )


@router.put("/consultations/{consultation_id}/requests/{org_id}", status_code=204)
async def decide_request(
    node: NodeDep, user: CurrentUser, consultation_id: str, org_id: str, body: Decision
) -> None:
    """Admit or refuse an organization's request to take part (the drafter only)."""
    admit = body.decision == "admitted"
    await run_in_threadpool(consultations.decide, node.db, user, consultation_id, org_id, admit)


@router.post("/consultations/{consultation_id}/answers", status_code=204)
async def answer_questions(
    node: NodeDep, user: CurrentUser, consultation_id: str, body: AnswersIn
) -> None:
    """My organization's answers to the questions; a new answer to a question replaces one."""
    await run_in_threadpool(
        consultations.answer_questions, node.db, user, consultation_id, body.answers
    )
