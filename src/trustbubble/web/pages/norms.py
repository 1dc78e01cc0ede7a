"""The norms catalogue, national implementation reports, scorecards and comparison, as pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.domain.errors import DomainError, Invalid, NotFound
from trustbubble.domain.norms import (
    Level,
    ReportState,
    catalogue,
    entries_csv,
    form_values,
    read_csv,
    read_form,
    read_json,
)
from trustbubble.services import dashboard, norms
from trustbubble.web.deps import CsrfChecked, MaybeSession, SignedIn, render

router = APIRouter(include_in_schema=False)

_CSV = "text/csv; charset=utf-8"
TLP_CHOICES = ("clear", "green", "amber", "amber+strict")


def _download(text: str, name: str) -> Response:
    return Response(
        text, media_type=_CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _levels_chart(grid: norms.Grid) -> dict[str, object]:
    """One series per column (a year or a state), the level's rank for each norm."""
    return {
        "labels": [f"({row.letter})" for row in grid.rows],
        "ticks": [level.value.replace("-", " ") for level in Level],
        "series": [
            {
                "label": label,
                "values": [_rank(row.levels[i]) for row in grid.rows],
            }
            for i, label in enumerate(grid.columns)
        ],
    }


def _rank(level: Level | None) -> int | None:
    return None if level is None else level.rank


@router.get("/norms", response_class=HTMLResponse)
async def catalogue_page(request: Request, session: MaybeSession) -> Response:
    return render(request, "norms.html", book=catalogue(), twin="/api/v1/norms")


@router.get("/norms/reports", response_class=HTMLResponse)
async def reports_page(request: Request, node: NodeDep, session: MaybeSession) -> Response:
    user = session.user if session else None
    found = await run_in_threadpool(norms.listing, node.db, user)
    may_keep = await run_in_threadpool(norms.may_keep, node.db, user)
    return render(
        request,
        "norm_reports.html",
        reports=found,
        may_keep=may_keep,
        twin="/api/v1/norm-reports",
    )


@router.post("/norms/reports", dependencies=[CsrfChecked])
async def start_report(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    year: Annotated[str, Form()],
    copy_previous: Annotated[str, Form()] = "",
) -> Response:
    made = await run_in_threadpool(
        norms.start,
        node.db,
        session.user,
        norms.read_year(year),
        (),
        bool(copy_previous),
    )
    return RedirectResponse(f"/norms/reports/{made.id}/edit", status_code=303)


@router.get("/norms/reports/{report_id}.csv")
async def report_csv(node: NodeDep, session: MaybeSession, report_id: str) -> Response:
    user = session.user if session else None
    found = await run_in_threadpool(norms.view, node.db, user, report_id)
    r = found.report
    return _download(entries_csv(r.entries), f"norms-{r.country}-{r.year}-r{r.revision}.csv")


@router.get("/norms/reports/{report_id}", response_class=HTMLResponse)
async def report_page(
    request: Request, node: NodeDep, session: MaybeSession, report_id: str
) -> Response:
    return await _report_page(request, node, session, report_id)


async def _report_page(
    request: Request,
    node: NodeDep,
    session: MaybeSession,
    report_id: str,
    problem: DomainError | None = None,
) -> Response:
    user = session.user if session else None
    found = await run_in_threadpool(norms.view, node.db, user, report_id)
    writable = []
    if found.mine and session is not None:
        board = await run_in_threadpool(dashboard.dashboard, node.db, session.user, 0)
        writable = [b for b in board.bubbles if b.can_write]
    return render(
        request,
        "norm_report.html",
        status_code=400 if problem else 200,
        found=found,
        report=found.report,
        book=catalogue(),
        bubbles=writable,
        tlps=TLP_CHOICES,
        problem=problem,
        twin=f"/api/v1/norm-reports/{report_id}",
    )


@router.get("/norms/reports/{report_id}/edit", response_class=HTMLResponse)
async def edit_page(request: Request, node: NodeDep, session: SignedIn, report_id: str) -> Response:
    found = await run_in_threadpool(norms.view, node.db, session.user, report_id)
    if not found.mine:
        raise NotFound(f"no report {report_id}")
    if found.report.state is not ReportState.DRAFT:
        return RedirectResponse(f"/norms/reports/{report_id}", status_code=303)
    return _edit_form(request, found, form_values(found.report.entries))


def _edit_form(
    request: Request,
    found: norms.ReportView,
    values: dict[str, str],
    problem: DomainError | None = None,
) -> Response:
    return render(
        request,
        "norm_report_form.html",
        status_code=400 if problem else 200,
        report=found.report,
        book=catalogue(),
        levels=[level.value for level in Level],
        values=values,
        problem=problem,
    )


@router.post("/norms/reports/{report_id}/edit", dependencies=[CsrfChecked])
async def save_report(
    request: Request, node: NodeDep, session: SignedIn, report_id: str
) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    upload = form.get("file")
    try:
        if upload is not None and not isinstance(upload, str) and upload.filename:
            content = (await upload.read()).decode("utf-8", errors="replace")
            if upload.filename.lower().endswith(".csv"):
                entries = read_csv(content)
            else:
                entries = read_json(content)
        else:
            entries = read_form(values)
        await run_in_threadpool(norms.edit, node.db, session.user, report_id, entries)
    except Invalid as problem:
        found = await run_in_threadpool(norms.view, node.db, session.user, report_id)
        return _edit_form(request, found, values, problem)
    return RedirectResponse(f"/norms/reports/{report_id}", status_code=303)


@router.post("/norms/reports/{report_id}/submit", dependencies=[CsrfChecked])
async def submit_report(
    request: Request, node: NodeDep, session: SignedIn, report_id: str
) -> Response:
    form = await request.form()
    data = {
        "visibility": form.get("visibility") or "",
        "bubbles": [b for b in form.getlist("bubbles") if isinstance(b, str)],
        "tlp": form.get("tlp") or "",
    }
    try:
        publication = norms.read_publication(data)
        await run_in_threadpool(norms.submit, node.db, session.user, report_id, publication)
    except Invalid as problem:
        return await _report_page(request, node, session, report_id, problem)
    return RedirectResponse(f"/norms/reports/{report_id}", status_code=303)


@router.post("/norms/reports/{report_id}/revise", dependencies=[CsrfChecked])
async def revise_report(node: NodeDep, session: SignedIn, report_id: str) -> Response:
    made = await run_in_threadpool(norms.revise, node.db, session.user, report_id)
    return RedirectResponse(f"/norms/reports/{made.id}/edit", status_code=303)


@router.post("/norms/reports/{report_id}/discard", dependencies=[CsrfChecked])
async def discard_report(node: NodeDep, session: SignedIn, report_id: str) -> Response:
    await run_in_threadpool(norms.discard, node.db, session.user, report_id)
    return RedirectResponse("/norms/reports", status_code=303)


@router.get("/norms/states/{country}.csv")
async def state_csv(node: NodeDep, session: MaybeSession, country: str) -> Response:
    user = session.user if session else None
    grid = await run_in_threadpool(norms.scorecard, node.db, user, country)
    return _download(grid.as_csv(), f"norms-{grid.title}.csv")


@router.get("/norms/states/{country}", response_class=HTMLResponse)
async def state_page(
    request: Request, node: NodeDep, session: MaybeSession, country: str
) -> Response:
    user = session.user if session else None
    grid = await run_in_threadpool(norms.scorecard, node.db, user, country)
    return render(
        request,
        "norm_grid.html",
        grid=grid,
        heading=f"Norms implementation of {grid.title}",
        lead="Each year's level per norm, from the latest revision you may read, "
        "and the change from the year before.",
        chart=_levels_chart(grid),
        trend=True,
        csv_link=f"/norms/states/{grid.title}.csv",
        twin=f"/api/v1/norm-scorecards/{grid.title}",
    )


@router.get("/norms/compare", response_class=HTMLResponse)
async def compare_page(
    request: Request,
    node: NodeDep,
    session: MaybeSession,
    country: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI reads the default)
    year: str = "",
) -> Response:
    user = session.user if session else None
    chosen = [c for c in country if c.strip()]
    grid = None
    problem: DomainError | None = None
    if chosen:
        try:
            when = norms.read_year(year) if year.strip() else None
            grid = await run_in_threadpool(norms.compare, node.db, user, chosen, when)
        except DomainError as error:
            problem = error
    query = request.url.query
    return render(
        request,
        "norm_compare.html",
        status_code=400 if problem and not grid else 200,
        grid=grid,
        chart=_levels_chart(grid) if grid else None,
        chosen=chosen + [""] * (5 - len(chosen)),
        year=year,
        problem=problem,
        csv_link=f"/norms/compare.csv?{query}",
        twin=f"/api/v1/norm-comparison?{query}" if chosen else None,
    )


@router.get("/norms/compare.csv")
async def compare_csv(
    node: NodeDep,
    session: MaybeSession,
    country: Annotated[list[str], Query()] = [],  # noqa: B006
    year: str = "",
) -> Response:
    user = session.user if session else None
    when = norms.read_year(year) if year.strip() else None
    grid = await run_in_threadpool(norms.compare, node.db, user, country, when)
    return _download(grid.as_csv(), "norms-comparison.csv")


@router.get("/bubbles/{bubble_id}/norms.csv")
async def bubble_csv(node: NodeDep, session: SignedIn, bubble_id: str) -> Response:
    found = await run_in_threadpool(norms.bubble_norms, node.db, session.user, bubble_id)
    return _download(found.grid.as_csv(), "norms-bubble.csv")


@router.get("/bubbles/{bubble_id}/norms", response_class=HTMLResponse)
async def bubble_page(
    request: Request, node: NodeDep, session: SignedIn, bubble_id: str
) -> Response:
    found = await run_in_threadpool(norms.bubble_norms, node.db, session.user, bubble_id)
    counts = [len(found.implementing[row.letter]) for row in found.grid.rows]
    return render(
        request,
        "norm_bubble.html",
        found=found,
        grid=found.grid,
        chart={"labels": [f"({row.letter})" for row in found.grid.rows], "values": counts},
        twin=f"/api/v1/bubbles/{bubble_id}/norms",
    )


@router.get("/norms/{letter}", response_class=HTMLResponse)
async def norm_page(
    request: Request, node: NodeDep, session: MaybeSession, letter: str
) -> Response:
    user = session.user if session else None
    page = await run_in_threadpool(norms.norm_page, node.db, user, letter)
    return render(
        request,
        "norm.html",
        page=page,
        norm=page.norm,
        chart={"labels": [m for m, _ in page.per_month], "values": [n for _, n in page.per_month]},
        twin=f"/api/v1/norms/{page.norm.letter}",
    )
