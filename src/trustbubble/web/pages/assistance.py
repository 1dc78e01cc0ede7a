"""Requests for assistance, points of contact and a bubble's directory, as pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.domain.assistance import Action, AssistanceKind, Urgency
from trustbubble.domain.contacts import PocKind
from trustbubble.domain.errors import Invalid
from trustbubble.services import assistance, dashboard, incidents, pocs
from trustbubble.store.incidents import IncidentFilter
from trustbubble.web.deps import CsrfChecked, SignedIn, form_fields, render

router = APIRouter(include_in_schema=False)
LIST_FIELDS = ("asked", "recipients")


async def _form(request: Request) -> dict[str, Any]:
    return await form_fields(request, frozenset(LIST_FIELDS))


@router.get("/assistance", response_class=HTMLResponse)
async def requests(request: Request, node: NodeDep, session: SignedIn) -> Response:
    found = await run_in_threadpool(assistance.listing, node.db, session.user, None)
    board = await run_in_threadpool(dashboard.dashboard, node.db, session.user, 0)
    return render(
        request,
        "assistance_list.html",
        requests=found,
        bubbles=[b for b in board.bubbles if b.can_write],
        twin="/api/v1/assistance",
    )


async def _show_form(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    values: dict[str, Any],
    problem: Invalid | None = None,
) -> Response:
    bubble = await run_in_threadpool(dashboard.bubble_page, node.db, session.user, bubble_id)
    listed = await run_in_threadpool(
        incidents.listing, node.db, session.user, bubble_id, IncidentFilter(), "started", 0, 100
    )
    return render(
        request,
        "assistance_form.html",
        status_code=400 if problem else 200,
        bubble=bubble,
        incidents=listed.items,
        partners=[
            m
            for m in bubble.members
            if m.state == "active"
            and m.role != "observer"
            and m.organization != bubble.my_organization
        ],
        kinds=[k.value for k in AssistanceKind],
        urgencies=[u.value for u in Urgency],
        values=values,
        problem=problem,
    )


@router.get("/bubbles/{bubble_id}/assistance/new", response_class=HTMLResponse)
async def new_request(
    request: Request, node: NodeDep, session: SignedIn, bubble_id: str, incident: str = ""
) -> Response:
    values = {"urgency": "high", "incident_id": incident, "asked": [], "recipients": []}
    return await _show_form(request, node, session, bubble_id, values)


@router.post("/bubbles/{bubble_id}/assistance", dependencies=[CsrfChecked])
async def raise_request(
    request: Request, node: NodeDep, session: SignedIn, bubble_id: str
) -> Response:
    data = await _form(request)
    try:
        made = await run_in_threadpool(
            assistance.raise_request, node.db, session.user, bubble_id, data
        )
    except Invalid as problem:
        return await _show_form(request, node, session, bubble_id, data, problem)
    return RedirectResponse(f"/assistance/{made}", status_code=303)


@router.get("/assistance/{request_id}", response_class=HTMLResponse)
async def one_request(
    request: Request, node: NodeDep, session: SignedIn, request_id: str
) -> Response:
    found = await run_in_threadpool(assistance.view, node.db, session.user, request_id)
    return render(request, "assistance.html", req=found, twin=f"/api/v1/assistance/{request_id}")


@router.post("/assistance/{request_id}/act", dependencies=[CsrfChecked])
async def act(
    node: NodeDep,
    session: SignedIn,
    request_id: str,
    action: Annotated[Action, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    await run_in_threadpool(assistance.act, node.db, session.user, request_id, action, reason)
    return RedirectResponse(f"/assistance/{request_id}", status_code=303)


@router.post("/assistance/{request_id}/messages", dependencies=[CsrfChecked])
async def message(
    node: NodeDep,
    session: SignedIn,
    request_id: str,
    text: Annotated[str, Form()],
    attachments: Annotated[str, Form()] = "",
) -> Response:
    await run_in_threadpool(
        assistance.post_message,
        node.db,
        session.user,
        request_id,
        text,
        attachments.split(),
    )
    return RedirectResponse(f"/assistance/{request_id}#thread", status_code=303)


@router.get("/pocs", response_class=HTMLResponse)
async def my_pocs(request: Request, node: NodeDep, session: SignedIn) -> Response:
    found = await run_in_threadpool(pocs.of_my_org, node.db, session.user)
    return render(
        request,
        "pocs.html",
        pocs=found,
        kinds=[k.value for k in PocKind],
        values={},
        problem=None,
        twin="/api/v1/pocs",
    )


@router.post("/pocs", dependencies=[CsrfChecked])
async def add_poc(request: Request, node: NodeDep, session: SignedIn) -> Response:
    data = await _form(request)
    try:
        await run_in_threadpool(pocs.add, node.db, session.user, data)
    except Invalid as problem:
        found = await run_in_threadpool(pocs.of_my_org, node.db, session.user)
        return render(
            request,
            "pocs.html",
            status_code=400,
            pocs=found,
            kinds=[k.value for k in PocKind],
            values=data,
            problem=problem,
            twin="/api/v1/pocs",
        )
    return RedirectResponse("/pocs", status_code=303)


@router.post("/pocs/{poc_id}/remove", dependencies=[CsrfChecked])
async def remove_poc(node: NodeDep, session: SignedIn, poc_id: str) -> Response:
    await run_in_threadpool(pocs.remove, node.db, session.user, poc_id)
    return RedirectResponse("/pocs", status_code=303)


@router.get("/bubbles/{bubble_id}/directory", response_class=HTMLResponse)
async def directory(request: Request, node: NodeDep, session: SignedIn, bubble_id: str) -> Response:
    found = await run_in_threadpool(pocs.directory, node.db, session.user, bubble_id)
    return render(
        request,
        "directory.html",
        directory=found,
        twin=f"/api/v1/bubbles/{bubble_id}/directory",
    )
