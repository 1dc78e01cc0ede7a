"""A bubble's page, its feed of objects, one object, and answering an invitation."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.services import assistance, bubbles, dashboard, feed, incidents
from trustbubble.services.accounts import reader_for
from trustbubble.store.feed import FeedFilter
from trustbubble.web.deps import CsrfChecked, SignedIn, render

router = APIRouter(include_in_schema=False)


@router.get("/bubbles/{bubble_id}", response_class=HTMLResponse)
async def bubble(request: Request, node: NodeDep, session: SignedIn, bubble_id: str) -> Response:
    page = await run_in_threadpool(dashboard.bubble_page, node.db, session.user, bubble_id)
    timings = None
    if page.standing != "invited":
        timings = await run_in_threadpool(
            assistance.bubble_timings, node.db, session.user, bubble_id
        )
    return render(
        request,
        "bubble.html",
        bubble=page,
        timings=timings,
        taxii_url=str(request.base_url).rstrip("/") + page.taxii_collection,
        twin=f"/api/v1/bubbles/{bubble_id}",
    )


@router.post("/bubbles/{bubble_id}/invitation", dependencies=[CsrfChecked])
async def answer_invitation(
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    answer: Annotated[str, Form(pattern="^(accept|decline)$")],
) -> Response:
    await run_in_threadpool(bubbles.respond, node.db, session.user, bubble_id, answer == "accept")
    target = f"/bubbles/{bubble_id}" if answer == "accept" else "/"
    return RedirectResponse(target, status_code=303)


@router.get("/bubbles/{bubble_id}/objects", response_class=HTMLResponse)
async def objects(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    type: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI reads, never mutates)
    tlp: Annotated[list[str], Query()] = [],  # noqa: B006
    since: str = "",
    until: str = "",
    q: str = "",
    before: int | None = None,
) -> Response:
    where = feed.feed_filter(type, tlp, since, until, q)
    reader = await run_in_threadpool(reader_for, node.db, session.user)
    page = await run_in_threadpool(
        feed.feed, node.db, reader, session.user.email, bubble_id, where, before
    )
    query = request.url.query
    older = None
    if page.next_before is not None:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "before"]
        older = "?" + urlencode([*kept, ("before", str(page.next_before))])
    return render(
        request,
        "feed.html",
        feed=page,
        older=older,
        filters={"type": type, "tlp": tlp, "since": since, "until": until, "q": q},
        twin=f"/api/v1/bubbles/{bubble_id}/objects" + (f"?{query}" if query else ""),
    )


@router.get("/bubbles/{bubble_id}/objects/{object_id}", response_class=HTMLResponse)
async def stix_object(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    bubble_id: str,
    object_id: str,
    version: str | None = None,
) -> Response:
    reader = await run_in_threadpool(reader_for, node.db, session.user)
    page = await run_in_threadpool(
        feed.object_page, node.db, reader, session.user.email, bubble_id, object_id, version
    )
    suffix = f"?version={version}" if version else ""
    candidates: list[feed.FeedItem] = []
    if page.type == "incident":
        linkable = FeedFilter(types=incidents.LINKABLE)
        found = await run_in_threadpool(
            feed.feed, node.db, reader, session.user.email, bubble_id, linkable, None, 100
        )
        candidates = found.items
    return render(
        request,
        "object.html",
        page=page,
        candidates=candidates,
        twin=f"/api/v1/bubbles/{bubble_id}/objects/{object_id}{suffix}",
    )
