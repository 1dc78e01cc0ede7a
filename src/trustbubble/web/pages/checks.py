"""Communication checks: a bubble's checks and schedule, one check's report, and the answer link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.services import checks
from trustbubble.services.accounts import reader_for
from trustbubble.web.deps import CsrfChecked, SignedIn, render

router = APIRouter(include_in_schema=False)


@router.get("/bubbles/{bubble_id}/checks", response_class=HTMLResponse)
async def history(request: Request, node: NodeDep, session: SignedIn, bubble_id: str) -> Response:
    reader = await run_in_threadpool(reader_for, node.db, session.user)
    found = await run_in_threadpool(checks.history, node.db, reader, bubble_id)
    return render(request, "checks.html", history=found, twin=f"/api/v1/bubbles/{bubble_id}/checks")


@router.post("/bubbles/{bubble_id}/checks", dependencies=[CsrfChecked])
async def start(node: NodeDep, session: SignedIn, bubble_id: str) -> Response:
    started = await run_in_threadpool(checks.start, node.db, session.user, bubble_id)
    return RedirectResponse(f"/bubbles/{bubble_id}/checks/{started.id}", status_code=303)


@router.post("/bubbles/{bubble_id}/checks/schedule", dependencies=[CsrfChecked])
async def schedule(
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    every: Annotated[int, Form(ge=0)],
) -> Response:
    await run_in_threadpool(checks.schedule, node.db, session.user, bubble_id, every)
    return RedirectResponse(f"/bubbles/{bubble_id}/checks", status_code=303)


@router.get("/bubbles/{bubble_id}/checks/{check_id}", response_class=HTMLResponse)
async def report(
    request: Request, node: NodeDep, session: SignedIn, bubble_id: str, check_id: str
) -> Response:
    reader = await run_in_threadpool(reader_for, node.db, session.user)
    found = await run_in_threadpool(checks.report, node.db, reader, bubble_id, check_id)
    return render(
        request,
        "check_report.html",
        report=found,
        twin=f"/api/v1/bubbles/{bubble_id}/checks/{check_id}",
    )


# No sign-in: the token in the link is the credential. GET only shows the button, so a mail
# scanner that opens links does not answer for the person.
@router.get("/checks/answer/{token}", response_class=HTMLResponse)
async def answer_form(request: Request, node: NodeDep, token: str) -> Response:
    found = await run_in_threadpool(checks.invitation, node.db, token)
    response = render(request, "check_answer.html", invitation=found, token=token)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/checks/answer/{token}", dependencies=[CsrfChecked], response_class=HTMLResponse)
async def answer(request: Request, node: NodeDep, token: str) -> Response:
    found = await run_in_threadpool(checks.answer, node.db, token)
    return render(request, "check_answer.html", invitation=found, token=token)
