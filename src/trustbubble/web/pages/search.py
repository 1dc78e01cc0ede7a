"""Search by observable value: every object the reader may read that holds it."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.services import feed
from trustbubble.services.accounts import reader_for
from trustbubble.web.deps import SignedIn, render

router = APIRouter(include_in_schema=False)


@router.get("/search", response_class=HTMLResponse)
async def search(request: Request, node: NodeDep, session: SignedIn, q: str = "") -> Response:
    reader = await run_in_threadpool(reader_for, node.db, session.user)
    found = await run_in_threadpool(feed.search, node.db, reader, session.user.email, q)
    return render(request, "search.html", found=found, twin="/api/v1/search?" + urlencode({"q": q}))
