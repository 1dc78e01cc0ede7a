"""My notifications: the list, marking them read, and the unread count in the page header."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.services import notifications
from trustbubble.web.deps import CsrfChecked, SignedIn, render

router = APIRouter(include_in_schema=False)


@router.get("/notifications", response_class=HTMLResponse)
async def inbox(request: Request, node: NodeDep, session: SignedIn) -> Response:
    found = await run_in_threadpool(notifications.inbox, node.db, session.user)
    return render(request, "notifications.html", inbox=found, twin="/api/v1/notifications")


@router.get("/notifications/count", response_class=HTMLResponse)
async def count(request: Request, node: NodeDep, session: SignedIn) -> Response:
    """The header's link text, fetched by htmx, so no other page pays for the count."""
    unread = await run_in_threadpool(notifications.unread_count, node.db, session.user)
    return render(request, "notifications_count.html", unread=unread)


@router.post("/notifications/read", dependencies=[CsrfChecked])
async def read_all(node: NodeDep, session: SignedIn) -> Response:
    await run_in_threadpool(notifications.mark_all_read, node.db, session.user)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read", dependencies=[CsrfChecked])
async def read_one(node: NodeDep, session: SignedIn, notification_id: str) -> Response:
    await run_in_threadpool(notifications.mark_read, node.db, session.user, notification_id)
    return RedirectResponse("/notifications", status_code=303)
