"""The observatory: a public page from CLEAR incidents, and each bubble's for its readers."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.api.platform.filters import ObservatoryFilter
from trustbubble.domain.errors import Invalid
from trustbubble.domain.incidents import SECTORS, AttackType
from trustbubble.services import observatory
from trustbubble.services.observatory import Observatory
from trustbubble.web.deps import MaybeSession, SignedIn, render

router = APIRouter(include_in_schema=False)


def _csv(figures: Observatory, figure: str) -> Response:
    if figure not in observatory.FIGURES:
        raise Invalid(
            "figure", f"unknown figure {figure!r} (use one of {', '.join(observatory.FIGURES)})"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([observatory.FIGURES[figure], "incidents"])
    writer.writerows(observatory.table(figures, figure))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{figure}.csv"'},
    )


def _page(request: Request, figures: Observatory, base: str, twin: str) -> Response:
    query = request.url.query
    return render(
        request,
        "observatory.html",
        figures=figures,
        base=base,
        query=query,
        filters=request.query_params,
        sectors=SECTORS,
        attack_types=[a.value for a in AttackType],
        twin=twin + (f"?{query}" if query else ""),
    )


@router.get("/observatory", response_class=HTMLResponse)
async def public(
    request: Request,
    node: NodeDep,
    session: MaybeSession,  # no sign-in needed; a signed-in reader keeps their header
    where: ObservatoryFilter,
) -> Response:
    figures = await run_in_threadpool(observatory.public, node.db, where)
    return _page(request, figures, "/observatory", "/api/v1/observatory")


@router.get("/observatory.csv")
async def public_csv(
    node: NodeDep,
    figure: str,
    where: ObservatoryFilter,
) -> Response:
    return _csv(await run_in_threadpool(observatory.public, node.db, where), figure)


@router.get("/bubbles/{bubble_id}/observatory", response_class=HTMLResponse)
async def bubble(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    where: ObservatoryFilter,
) -> Response:
    figures = await run_in_threadpool(
        observatory.for_bubble, node.db, session.user, bubble_id, where
    )
    base = f"/bubbles/{bubble_id}/observatory"
    return _page(request, figures, base, f"/api/v1{base}")


@router.get("/bubbles/{bubble_id}/observatory.csv")
async def bubble_csv(
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    figure: str,
    where: ObservatoryFilter,
) -> Response:
    figures = await run_in_threadpool(
        observatory.for_bubble, node.db, session.user, bubble_id, where
    )
    return _csv(figures, figure)
