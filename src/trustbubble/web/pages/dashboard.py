"""The dashboard: my bubbles, invitations waiting for an answer, what is new."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.services import dashboard
from trustbubble.web.deps import SignedIn, render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, node: NodeDep, session: SignedIn) -> HTMLResponse:
    board = await run_in_threadpool(dashboard.dashboard, node.db, session.user)
    return render(request, "dashboard.html", board=board, twin="/api/v1/dashboard")
