"""JSON twins of the dashboard, bubble, feed and object pages: the same service, the same data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep, PlatformUser
from trustbubble.api.platform.filters import Day, Int64
from trustbubble.services import dashboard, feed
from trustbubble.services.accounts import reader_for

router = APIRouter(prefix="/api/v1", tags=["pages"])


@router.get("/dashboard")
async def get_dashboard(node: NodeDep, user: PlatformUser) -> dashboard.Dashboard:
    """My bubbles, my organization's open invitations and the newest objects I may read."""
    return await run_in_threadpool(dashboard.dashboard, node.db, user)


@router.get("/bubbles/{bubble_id}")
async def get_bubble(node: NodeDep, user: PlatformUser, bubble_id: str) -> dashboard.BubblePage:
    """A bubble: charter, default TLP, members and roles, my standing, its TAXII collection."""
    return await run_in_threadpool(dashboard.bubble_page, node.db, user, bubble_id)


@router.get("/bubbles/{bubble_id}/objects")
async def get_feed(
    node: NodeDep,
    user: PlatformUser,
    bubble_id: str,
    type: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI reads, never mutates)
    tlp: Annotated[list[str], Query()] = [],  # noqa: B006
    since: Day = "",
    until: Day = "",
    q: str = "",
    before: Int64 | None = None,
) -> feed.Feed:
    """The newest objects of a bubble that I may read, 50 a page; `before` pages back."""
    where = feed.feed_filter(type, tlp, since, until, q)
    reader = await run_in_threadpool(reader_for, node.db, user)
    return await run_in_threadpool(feed.feed, node.db, reader, user.email, bubble_id, where, before)


@router.get("/bubbles/{bubble_id}/objects/{object_id}")
async def get_object(
    node: NodeDep, user: PlatformUser, bubble_id: str, object_id: str, version: str | None = None
) -> feed.ObjectPage:
    """One object as I may read it: a version, its versions, markings and relationships."""
    reader = await run_in_threadpool(reader_for, node.db, user)
    return await run_in_threadpool(
        feed.object_page, node.db, reader, user.email, bubble_id, object_id, version
    )
