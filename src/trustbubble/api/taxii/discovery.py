"""TAXII 2.1 section 4: server discovery, the API root, and status resources."""

from __future__ import annotations

from fastapi import APIRouter

from trustbubble.api.deps import CurrentUser, NodeDep, TaxiiAccept
from trustbubble.api.taxii.media import TAXII, TaxiiResponse
from trustbubble.api.taxii.resources import ApiRoot, Discovery, Status
from trustbubble.domain.access import Reader
from trustbubble.services import accounts, objects

API_ROOT = "/taxii2/bubbles/"

router = APIRouter(
    dependencies=[TaxiiAccept], default_response_class=TaxiiResponse, tags=["TAXII 2.1"]
)


@router.get("/taxii2/", summary="Server discovery (4.1)", response_model=Discovery)
def discovery(node: NodeDep) -> TaxiiResponse:
    body: dict[str, object] = {
        "title": node.settings.node_name,
        "description": "TrustBubble: bubbles of trust sharing STIX 2.1 under TLP 2.0.",
        "default": API_ROOT,
        "api_roots": [API_ROOT],
    }
    if node.settings.contact:
        body["contact"] = node.settings.contact
    return TaxiiResponse(body)


@router.get(API_ROOT, summary="API root information (4.2)", response_model=ApiRoot)
def api_root(node: NodeDep) -> TaxiiResponse:
    return TaxiiResponse(
        {
            "title": "Bubbles of trust",
            "description": "Each bubble of trust is a collection; one more serves TLP:CLEAR.",
            "versions": [TAXII],
            "max_content_length": node.settings.max_content_length,
        }
    )


@router.get(
    API_ROOT + "status/{status_id}/",
    summary="Status of an add-objects request (4.3)",
    response_model=Status,
)
def status(status_id: str, node: NodeDep, user: CurrentUser) -> TaxiiResponse:
    reader: Reader = accounts.reader_for(node.db, user)
    return TaxiiResponse(objects.get_status(node.db, reader, status_id))
