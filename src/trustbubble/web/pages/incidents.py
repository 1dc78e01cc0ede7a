"""Incident pages: report, edit (a new STIX version), and the list with its CSV download."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.api.platform.filters import IncidentListFilter
from trustbubble.domain.errors import Invalid
from trustbubble.domain.incidents import SECTORS, AttackType, IncidentReport, IncidentStatus
from trustbubble.domain.norms import norm_names
from trustbubble.domain.timestamps import format_timestamp
from trustbubble.services import dashboard, incidents
from trustbubble.web.deps import CsrfChecked, SignedIn, form_fields, render

router = APIRouter(include_in_schema=False)

LIST_FIELDS = ("sectors", "norms", "recipients")


def _choices() -> dict[str, Any]:
    return {
        "statuses": [s.value for s in IncidentStatus],
        "attack_types": [a.value for a in AttackType],
        "sectors": SECTORS,
        "norm_names": norm_names(),
    }


def _values(report: IncidentReport) -> dict[str, Any]:
    """A stored report as the form's field values."""
    return {
        "title": report.title,
        "description": report.description,
        "started": format_timestamp(report.started)[:16],
        "ended": format_timestamp(report.ended)[:16] if report.ended else "",
        "status": report.status.value,
        "sectors": list(report.sectors),
        "country": report.country,
        "attack_type": report.attack_type.value,
        "patients_affected": report.human.patients_affected,
        "services_disrupted": report.human.services_disrupted,
        "care_delayed": report.human.care_delayed,
        "care_diverted": report.human.care_diverted,
        "records_exposed": report.human.records_exposed,
        "downtime_hours": report.human.downtime_hours,
        "technical_impact": report.technical_impact,
        "suspected_actor": report.suspected_actor,
        "actor_confidence": "" if report.actor_confidence is None else report.actor_confidence,
        "norms": list(report.norms),
        "sources": "\n".join(report.sources),
        "tlp": report.tlp.label.lower(),
        "recipients": list(report.recipients),
    }


async def _form(request: Request) -> dict[str, Any]:
    return await form_fields(request, frozenset(LIST_FIELDS))


async def _show_form(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    values: dict[str, Any],
    action: str,
    problem: Invalid | None = None,
) -> Response:
    bubble = await run_in_threadpool(dashboard.bubble_page, node.db, session.user, bubble_id)
    return render(
        request,
        "incident_form.html",
        status_code=400 if problem else 200,
        bubble=bubble,
        values=values,
        action=action,
        problem=problem,
        **_choices(),
    )


@router.get("/bubbles/{bubble_id}/incidents/new", response_class=HTMLResponse)
async def new_incident(
    request: Request, node: NodeDep, session: SignedIn, bubble_id: str
) -> Response:
    values = {"status": "suspected", "sectors": ["healthcare"], "tlp": "amber"}
    return await _show_form(
        request, node, session, bubble_id, values, f"/bubbles/{bubble_id}/incidents"
    )


@router.post("/bubbles/{bubble_id}/incidents", dependencies=[CsrfChecked])
async def report_incident(
    request: Request, node: NodeDep, session: SignedIn, bubble_id: str
) -> Response:
    data = await _form(request)
    try:
        incident_id = await run_in_threadpool(
            incidents.report, node.db, session.user, bubble_id, data
        )
    except Invalid as problem:
        action = f"/bubbles/{bubble_id}/incidents"
        return await _show_form(request, node, session, bubble_id, data, action, problem)
    return RedirectResponse(f"/bubbles/{bubble_id}/objects/{incident_id}", status_code=303)


@router.get("/bubbles/{bubble_id}/incidents/{incident_id}/edit", response_class=HTMLResponse)
async def edit_form(
    request: Request, node: NodeDep, session: SignedIn, bubble_id: str, incident_id: str
) -> Response:
    current = await run_in_threadpool(
        incidents.editable, node.db, session.user, bubble_id, incident_id
    )
    action = f"/bubbles/{bubble_id}/incidents/{incident_id}/edit"
    return await _show_form(request, node, session, bubble_id, _values(current.report), action)


@router.post("/bubbles/{bubble_id}/incidents/{incident_id}/edit", dependencies=[CsrfChecked])
async def edit_incident(
    request: Request, node: NodeDep, session: SignedIn, bubble_id: str, incident_id: str
) -> Response:
    data = await _form(request)
    try:
        await run_in_threadpool(incidents.edit, node.db, session.user, bubble_id, incident_id, data)
    except Invalid as problem:
        action = f"/bubbles/{bubble_id}/incidents/{incident_id}/edit"
        return await _show_form(request, node, session, bubble_id, data, action, problem)
    return RedirectResponse(f"/bubbles/{bubble_id}/objects/{incident_id}", status_code=303)


@router.get("/incidents", response_class=HTMLResponse)
async def incident_list(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    where: IncidentListFilter,
    bubble: str = "",
    sort: str = "started",
    offset: int = 0,
) -> Response:
    found = await run_in_threadpool(
        incidents.listing, node.db, session.user, bubble or None, where, sort, offset
    )
    board = await run_in_threadpool(dashboard.dashboard, node.db, session.user, 0)
    query = request.url.query
    kept = "&".join(p for p in query.split("&") if p and not p.startswith("offset="))
    given = request.query_params
    return render(
        request,
        "incidents.html",
        found=found,
        bubbles=board.bubbles,
        filters={
            "bubble": bubble,
            **{name: given.getlist(name) for name in ("sector", "country", "attack_type")},
            "status": given.getlist("status"),
            "since": given.get("since", ""),
            "until": given.get("until", ""),
            "sort": sort,
        },
        kept=kept,
        page_size=incidents.PAGE_SIZE,
        twin="/api/v1/incidents" + (f"?{query}" if query else ""),
        **_choices(),
    )


@router.get("/incidents.csv")
async def incident_csv(
    node: NodeDep,
    session: SignedIn,
    where: IncidentListFilter,
    bubble: str = "",
    sort: str = "started",
) -> Response:
    found = await run_in_threadpool(
        incidents.listing,
        node.db,
        session.user,
        bubble or None,
        where,
        sort,
        0,
        incidents.MAX_DOWNLOAD,
    )
    return Response(
        incidents.as_csv(found.items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="incidents.csv"'},
    )


@router.post("/bubbles/{bubble_id}/incidents/{incident_id}/links", dependencies=[CsrfChecked])
async def link_object(
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    incident_id: str,
    object_id: Annotated[str, Form()],
) -> Response:
    await run_in_threadpool(
        incidents.link, node.db, session.user, bubble_id, incident_id, object_id
    )
    return RedirectResponse(f"/bubbles/{bubble_id}/objects/{incident_id}", status_code=303)
