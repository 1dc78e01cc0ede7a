"""What peer nodes read of each other beside TAXII (docs/federation.md): the public descriptor,
the organizations a node hosts, the bubbles it shares, answers to invitations, deletions."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep, PeerCaller, PlatformUser
from trustbubble.domain.errors import Invalid
from trustbubble.services import accounts, federation, peers, sync
from trustbubble.services.bubbles import collection_access

router = APIRouter(prefix="/federation/v1", tags=["Federation"])


@router.get("/node", summary="This node's public descriptor")
def node_descriptor(request: Request, node: NodeDep) -> dict[str, Any]:
    return peers.descriptor(node.settings, node.key, str(request.base_url)).to_json()


@router.get("/organizations", summary="The organizations this node hosts (peers only)")
def organizations(node: NodeDep, _peer: PeerCaller) -> dict[str, Any]:
    return {"organizations": federation.hosted_organizations(node.db)}


@router.get("/bubbles", summary="The bubbles homed here and shared with the calling peer")
def bubbles(node: NodeDep, peer: PeerCaller) -> dict[str, Any]:
    return {"bubbles": federation.shared_bubbles(node.db, peer)}


@router.post("/bubbles/{bubble_id}/answers", summary="A peer's organizations answer invitations")
async def answers(
    request: Request, bubble_id: str, node: NodeDep, peer: PeerCaller
) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise Invalid("body", f"not valid JSON ({error})") from None
    actor = f"peer {peer.node_id}"
    applied = await run_in_threadpool(
        federation.take_answers, node.db, peer, actor, bubble_id, body
    )
    return {"applied": applied}


@router.get(
    "/collections/{collection_id}/deletions",
    summary="Deletions of object versions in a shared bubble after a point",
)
def deletions(
    collection_id: str,
    node: NodeDep,
    peer: PeerCaller,
    after: int | None = Query(default=None, ge=0, le=2**63 - 1),
    limit: int = Query(default=1000, ge=1, le=1000),
) -> dict[str, Any]:
    with node.db.read() as conn:
        where = collection_access(conn, peer.as_reader(), collection_id)
    return federation.deletions_page(node.db, node.key, where, after, limit)


# The twin of the page /federation, for people (not peers): under the platform's JSON API.
status_router = APIRouter(prefix="/api/v1", tags=["Federation"])


@status_router.get("/federation", summary="Sync with peer nodes of the bubbles I can see")
def sync_status(node: NodeDep, user: PlatformUser) -> dict[str, Any]:
    reader = accounts.reader_for(node.db, user)
    return {
        "node": node.key.node_id,
        "peers": len(peers.all_peers(node.db)),
        "links": [link.to_json() for link in sync.status(node.db, reader)],
    }
