"""Consultations as pages: drafts and their versions, a consultation's paragraphs with their
comments, the drafter's answers, accreditation, and the summary of who said what and what
changed (docs/consultations.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.domain.accounts import OrgKind
from trustbubble.domain.consultations import (
    DraftKind,
    Stance,
    Verdict,
    read_audience,
    read_questions,
    word_diff,
)
from trustbubble.domain.consultations import (
    render as render_markdown,
)
from trustbubble.domain.errors import DomainError, Invalid, NotFound
from trustbubble.services import consultations, dashboard
from trustbubble.services.consultation_export import comments_csv, summary_json, summary_pdf
from trustbubble.web.deps import CsrfChecked, SignedIn, form_fields, render

router = APIRouter(include_in_schema=False)
LISTS = frozenset({"kinds", "bubbles", "answers", "norms"})


def _when(value: str, field: str) -> datetime:
    """A date and time from a form's datetime-local field, read as UTC."""
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(field, f"{value!r} is not a date and time") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


@router.get("/consultations", response_class=HTMLResponse)
async def listing(request: Request, node: NodeDep, session: SignedIn) -> Response:
    return await _listing(request, node, session)


async def _listing(
    request: Request, node: NodeDep, session: SignedIn, problem: DomainError | None = None
) -> Response:
    user = session.user
    taking = await run_in_threadpool(consultations.consultations_for, node.db, user)
    drafts = await run_in_threadpool(consultations.drafts_for, node.db, user)
    return render(
        request,
        "consultations.html",
        status_code=400 if problem else 200,
        taking=taking,
        drafts=drafts,
        kinds=[k.value for k in DraftKind],
        may_draft=user.role.may_write,
        problem=problem,
        twin="/api/v1/consultations",
    )


@router.post("/drafts", dependencies=[CsrfChecked])
async def new_draft(request: Request, node: NodeDep, session: SignedIn) -> Response:
    form = await request.form()
    fields = await form_fields(request)
    upload = form.get("file")
    body = fields.get("text", "")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        body = (await upload.read(1_000_001)).decode("utf-8", errors="replace")
        await upload.close()
    try:
        made = await run_in_threadpool(
            consultations.new_draft,
            node.db,
            session.user,
            fields.get("title", ""),
            fields.get("kind", ""),
            body,
        )
    except DomainError as problem:
        return await _listing(request, node, session, problem)
    return RedirectResponse(f"/drafts/{made}", status_code=303)


@router.get("/drafts/{draft_id}", response_class=HTMLResponse)
async def draft_page(request: Request, node: NodeDep, session: SignedIn, draft_id: str) -> Response:
    return await _draft_page(request, node, session, draft_id)


async def _draft_page(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    draft_id: str,
    problem: DomainError | None = None,
) -> Response:
    found = await run_in_threadpool(consultations.draft_view, node.db, session.user, draft_id)
    board = await run_in_threadpool(dashboard.dashboard, node.db, session.user, 0)
    comments = []
    if found.mine:
        for consultation_id in found.consultations:
            seen = await run_in_threadpool(
                consultations.view, node.db, session.user, consultation_id
            )
            comments += [c for c in seen.comments if c.parent_id is None]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return render(
        request,
        "draft.html",
        status_code=400 if problem else 200,
        draft=found,
        markdown=render_markdown,
        word_diff=word_diff,
        comments=comments,
        bubbles=board.bubbles,
        kinds=[k.value for k in OrgKind],
        opens=now.strftime("%Y-%m-%dT%H:%M"),
        closes=(now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        problem=problem,
        twin=f"/api/v1/drafts/{draft_id}",
    )


@router.post("/drafts/{draft_id}/versions", dependencies=[CsrfChecked])
async def new_version(
    request: Request, node: NodeDep, session: SignedIn, draft_id: str
) -> Response:
    fields = await form_fields(request, LISTS)
    try:
        answers = [int(a) for a in fields.get("answers", []) if a.isdigit()]
        await run_in_threadpool(
            consultations.add_version,
            node.db,
            session.user,
            draft_id,
            fields.get("text", ""),
            fields.get("note", ""),
            answers,
        )
    except DomainError as problem:
        return await _draft_page(request, node, session, draft_id, problem)
    return RedirectResponse(f"/drafts/{draft_id}", status_code=303)


@router.post("/drafts/{draft_id}/consultations", dependencies=[CsrfChecked])
async def open_consultation(
    request: Request, node: NodeDep, session: SignedIn, draft_id: str
) -> Response:
    fields = await form_fields(request, LISTS)
    try:
        audience = read_audience(
            {
                "kinds": fields.get("kinds", []),
                "bubbles": fields.get("bubbles", []),
                "public": fields.get("public", "") == "yes",
            }
        )
        questions = read_questions(
            [
                {"text": line.split("|")[0].strip(), "choices": _choices(line)}
                for line in str(fields.get("questions", "")).splitlines()
                if line.strip()
            ]
        )
        days = str(fields.get("objection_days", "7") or "7")
        made = await run_in_threadpool(
            consultations.open_consultation,
            node.db,
            session.user,
            draft_id,
            int(str(fields.get("version", "1")) or 1),
            _when(str(fields.get("opens", "")), "opens"),
            _when(str(fields.get("closes", "")), "closes"),
            audience,
            questions,
            int(days) if days.isdigit() else -1,
        )
    except DomainError as problem:
        return await _draft_page(request, node, session, draft_id, problem)
    return RedirectResponse(f"/consultations/{made}", status_code=303)


def _choices(line: str) -> list[str]:
    """`Question | choice one | choice two`: a question with choices, or free text without."""
    return [c.strip() for c in line.split("|")[1:] if c.strip()]


@router.get("/consultations/{consultation_id}", response_class=HTMLResponse)
async def consultation_page(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str
) -> Response:
    return await _consultation_page(request, node, session, consultation_id)


async def _consultation_page(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    consultation_id: str,
    problem: DomainError | None = None,
    template: str = "consultation.html",
) -> Response:
    found = await run_in_threadpool(consultations.view, node.db, session.user, consultation_id)
    draft = (
        await run_in_threadpool(consultations.draft_view, node.db, session.user, found.draft_id)
        if found.paragraphs
        else None
    )
    return render(
        request,
        template,
        status_code=400 if problem else 200,
        consultation=found,
        draft=draft,
        markdown=render_markdown,
        word_diff=word_diff,
        stances=[s.value for s in Stance],
        verdicts=[v.value for v in Verdict],
        problem=problem,
        twin=f"/api/v1/consultations/{consultation_id}",
    )


@router.get("/consultations/{consultation_id}/summary", response_class=HTMLResponse)
async def summary_page(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str
) -> Response:
    return await _consultation_page(
        request, node, session, consultation_id, template="consultation_summary.html"
    )


async def _summary(
    node: NodeDep, session: SignedIn, consultation_id: str
) -> tuple[consultations.ConsultationView, consultations.DraftView]:
    found = await run_in_threadpool(consultations.view, node.db, session.user, consultation_id)
    if not found.paragraphs:  # an organization waiting for accreditation reads no summary
        raise NotFound(f"no summary of consultation {consultation_id} for you yet")
    draft = await run_in_threadpool(consultations.draft_view, node.db, session.user, found.draft_id)
    return found, draft


def _attachment(content: str | bytes, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/consultations/{consultation_id}/summary.csv")
async def summary_csv(node: NodeDep, session: SignedIn, consultation_id: str) -> Response:
    found, _draft = await _summary(node, session, consultation_id)
    name = f"consultation-{consultation_id[:8]}-comments.csv"
    return _attachment(comments_csv(found), "text/csv; charset=utf-8", name)


@router.get("/consultations/{consultation_id}/summary.json")
async def summary_file(node: NodeDep, session: SignedIn, consultation_id: str) -> Response:
    found, draft = await _summary(node, session, consultation_id)
    body = orjson.dumps(summary_json(found, draft), option=orjson.OPT_INDENT_2)
    return _attachment(body, "application/json", f"consultation-{consultation_id[:8]}.json")


@router.get("/consultations/{consultation_id}/summary.pdf")
async def summary_document(node: NodeDep, session: SignedIn, consultation_id: str) -> Response:
    found, draft = await _summary(node, session, consultation_id)
    document = await run_in_threadpool(summary_pdf, found, draft)
    return _attachment(document, "application/pdf", f"consultation-{consultation_id[:8]}.pdf")


async def _act(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    consultation_id: str,
    action: Any,
    problem_page: str = "",
) -> Response:
    """Run one action on the consultation; back to its page, or the page with the problem."""
    try:
        await run_in_threadpool(action)
    except NotFound:
        raise
    except DomainError as problem:
        if problem_page:
            return render(
                request,
                problem_page,
                status_code=400,
                consultation_id=consultation_id,
                problem=problem,
            )
        return await _consultation_page(request, node, session, consultation_id, problem)
    return RedirectResponse(f"/consultations/{consultation_id}", status_code=303)


@router.post("/consultations/{consultation_id}/comments", dependencies=[CsrfChecked])
async def comment(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str
) -> Response:
    fields = await form_fields(request, LISTS)
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.comment(node.db, session.user, consultation_id, fields),
    )


@router.post(
    "/consultations/{consultation_id}/comments/{comment_id}/replies", dependencies=[CsrfChecked]
)
async def reply(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str, comment_id: int
) -> Response:
    fields = await form_fields(request)
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.reply(
            node.db, session.user, consultation_id, comment_id, fields.get("text", "")
        ),
    )


@router.post(
    "/consultations/{consultation_id}/comments/{comment_id}/verdict", dependencies=[CsrfChecked]
)
async def verdict(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str, comment_id: int
) -> Response:
    fields = await form_fields(request)
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.respond(
            node.db,
            session.user,
            consultation_id,
            comment_id,
            fields.get("verdict", ""),
            fields.get("reason", ""),
        ),
    )


@router.post(
    "/consultations/{consultation_id}/comments/{comment_id}/hidden", dependencies=[CsrfChecked]
)
async def hide(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str, comment_id: int
) -> Response:
    fields = await form_fields(request)
    reason = None if fields.get("show") else fields.get("reason", "")
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.hide(node.db, session.user, consultation_id, comment_id, reason),
    )


@router.post("/consultations/{consultation_id}/answers", dependencies=[CsrfChecked])
async def answer(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str
) -> Response:
    fields = await form_fields(request)
    given = {
        int(k[1:]): v for k, v in fields.items() if k.startswith("q") and k[1:].isdigit() and v
    }
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.answer_questions(node.db, session.user, consultation_id, given),
    )


@router.post("/consultations/{consultation_id}/close", dependencies=[CsrfChecked])
async def close(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str
) -> Response:
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.close(node.db, session.user, consultation_id),
    )


@router.get("/consultations/{consultation_id}/ask", response_class=HTMLResponse)
async def ask_page(request: Request, session: SignedIn, consultation_id: str) -> Response:
    """The form to ask to take part, for an organization given the link; it shows nothing of
    the consultation, which stays a 404 to an outsider."""
    return render(request, "consultation_ask.html", consultation_id=consultation_id)


@router.post("/consultations/{consultation_id}/requests", dependencies=[CsrfChecked])
async def ask(request: Request, node: NodeDep, session: SignedIn, consultation_id: str) -> Response:
    fields = await form_fields(request)
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.ask_to_take_part(
            node.db, session.user, consultation_id, fields.get("reason", "")
        ),
        problem_page="consultation_ask.html",
    )


@router.post(
    "/consultations/{consultation_id}/requests/{org_id}/objections", dependencies=[CsrfChecked]
)
async def object_to(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str, org_id: str
) -> Response:
    fields = await form_fields(request)
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.object_to(
            node.db, session.user, consultation_id, org_id, fields.get("reason", "")
        ),
    )


@router.post("/consultations/{consultation_id}/requests/{org_id}", dependencies=[CsrfChecked])
async def decide(
    request: Request, node: NodeDep, session: SignedIn, consultation_id: str, org_id: str
) -> Response:
    fields = await form_fields(request)
    admit = fields.get("decision") == "admitted"
    return await _act(
        request,
        node,
        session,
        consultation_id,
        lambda: consultations.decide(node.db, session.user, consultation_id, org_id, admit),
    )
