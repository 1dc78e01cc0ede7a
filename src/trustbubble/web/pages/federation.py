"""Where the sync with peer nodes stands, for the bubbles the reader may see.

See docs/federation.md."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.services import accounts, peers, sync
from trustbubble.web.deps import SignedIn, render

router = APIRouter(include_in_schema=False)


@router.get("/federation", response_class=HTMLResponse)
async def federation(request: Request, node: NodeDep, session: SignedIn) -> Response:
    reader = await run_in_threadpool(accounts.reader_for, node.db, session.user)
    links = await run_in_threadpool(sync.status, node.db, reader)
    known = await run_in_threadpool(peers.all_peers, node.db)
    return render(
        request,
        "federation.html",
        links=links,
        peers=known,
        node_id=node.key.node_id,
        twin="/api/v1/federation",
    )
