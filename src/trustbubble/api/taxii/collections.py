"""TAXII 2.1 sections 5.1 and 5.2: the collections a caller may see, and one collection."""

from __future__ import annotations

from fastapi import APIRouter

from trustbubble.api.deps import Caller, NodeDep, TaxiiAccept
from trustbubble.api.taxii.discovery import API_ROOT
from trustbubble.api.taxii.media import STIX, TaxiiResponse
from trustbubble.api.taxii.resources import Collection, Collections
from trustbubble.domain.access import Reader
from trustbubble.domain.errors import Unauthenticated
from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID
from trustbubble.services import bubbles
from trustbubble.services.bubbles import CollectionAccess
from trustbubble.store.database import Database

router = APIRouter(
    dependencies=[TaxiiAccept], default_response_class=TaxiiResponse, tags=["TAXII 2.1"]
)


def resource(where: CollectionAccess) -> dict[str, object]:
    if where.bubble is None:
        description = "Everything shared on this node as TLP:CLEAR; open to anyone, read only."
    else:
        description = (
            f"Bubble of trust ({where.bubble.kind.value}); default TLP:"
            f"{where.bubble.default_tlp.label}. {where.bubble.charter}"
        ).strip()
    return {
        "id": where.id,
        "title": where.title,
        "description": description,
        "can_read": True,
        "can_write": where.can_write,
        "media_types": [STIX],
    }


def reach(db: Database, reader: Reader, collection_id: str) -> CollectionAccess:
    """The collection as this caller sees it: 401 without credentials, 404 if not theirs."""
    if reader.user_id is None and reader.peer is None and collection_id != PUBLIC_COLLECTION_ID:
        raise Unauthenticated("this collection needs credentials")
    with db.read() as conn:
        return bubbles.collection_access(conn, reader, collection_id)


@router.get(API_ROOT + "collections/", summary="Collections (5.1)", response_model=Collections)
def collections(node: NodeDep, caller: Caller) -> TaxiiResponse:
    reader, _actor = caller
    seen = bubbles.collections_for(node.db, reader)
    return TaxiiResponse({"collections": [resource(where) for where in seen]})


@router.get(
    API_ROOT + "collections/{collection_id}/", summary="Collection (5.2)", response_model=Collection
)
def collection(collection_id: str, node: NodeDep, caller: Caller) -> TaxiiResponse:
    reader, _actor = caller
    return TaxiiResponse(resource(reach(node.db, reader, collection_id)))
