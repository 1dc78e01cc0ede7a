"""TAXII 2.1 sections 5.3 to 5.8: manifest, objects, one object, and its versions."""

from __future__ import annotations

from dataclasses import replace

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import Caller, NodeDep, TaxiiAccept
from trustbubble.api.taxii.collections import reach
from trustbubble.api.taxii.discovery import API_ROOT
from trustbubble.api.taxii.filters import (
    decode_next,
    encode_next,
    limit,
    object_query,
    parameters,
)
from trustbubble.api.taxii.media import STIX, TaxiiResponse, check_content_type
from trustbubble.api.taxii.resources import ENVELOPE_BODY, Envelope, Manifest, Status, Versions
from trustbubble.domain.errors import Forbidden, Invalid, NotFound, TooLarge
from trustbubble.services import federation, objects
from trustbubble.services.objects import ObjectQuery, Page

COLLECTION = API_ROOT + "collections/{collection_id}/"

# The query parameters of each kind of route (docs/taxii.md, "Reading: filters").
_PAGED = ("added_after", "limit", "next")
_LIST = parameters("match[id]", "match[type]", "match[version]", "match[spec_version]", *_PAGED)
_ONE = parameters("match[version]", "match[spec_version]", *_PAGED)

router = APIRouter(
    dependencies=[TaxiiAccept], default_response_class=TaxiiResponse, tags=["TAXII 2.1"]
)


def _one_object(query: ObjectQuery, object_id: str) -> ObjectQuery:
    """The filters of a single-object route: its id, and no match[type] (TAXII 5.6 to 5.8)."""
    return replace(query, ids=(object_id,), types=())


def _headers(page: Page) -> dict[str, str]:
    if not page.items:
        return {}
    return {
        "X-TAXII-Date-Added-First": page.items[0].date_added,
        "X-TAXII-Date-Added-Last": page.items[-1].date_added,
    }


def _more(page: Page) -> bytes:
    if not page.more or page.last_added is None:
        return b'"more":false'
    return b'"more":true,"next":"' + encode_next(page.last_added).encode() + b'"'


def _read(
    request: Request,
    node: NodeDep,
    caller: Caller,
    collection_id: str,
    query: ObjectQuery,
    *,
    with_body: bool = True,
) -> Page:
    reader, actor = caller
    where = reach(node.db, reader, collection_id)
    size = limit(request, node.settings.page_size, node.settings.max_page_size)
    if reader.peer is not None:
        return federation.outgoing_page(
            node.db, node.key, actor, where, query, decode_next(request), size, with_body=with_body
        )
    return objects.read(
        node.db, actor, where, query, decode_next(request), size, with_body=with_body
    )


def _envelope(page: Page) -> TaxiiResponse:
    if not page.items:
        return TaxiiResponse(b"{" + _more(page) + b"}")
    bodies = b",".join(item.body or b"{}" for item in page.items)
    return TaxiiResponse(
        b"{" + _more(page) + b',"objects":[' + bodies + b"]}", headers=_headers(page)
    )


@router.get(
    COLLECTION + "manifest/",
    summary="Object manifests (5.3)",
    response_model=Manifest,
    openapi_extra=_LIST,
)
def manifest(request: Request, collection_id: str, node: NodeDep, caller: Caller) -> TaxiiResponse:
    page = _read(request, node, caller, collection_id, object_query(request), with_body=False)
    records = [
        {
            "id": item.id,
            "date_added": item.date_added,
            "version": item.version_text,
            "media_type": STIX,
        }
        for item in page.items
    ]
    body = b"{" + _more(page)
    if records:
        body += b',"objects":' + orjson.dumps(records)
    return TaxiiResponse(body + b"}", headers=_headers(page))


@router.get(
    COLLECTION + "objects/",
    summary="Get objects (5.4)",
    response_model=Envelope,
    openapi_extra=_LIST,
)
def get_objects(
    request: Request, collection_id: str, node: NodeDep, caller: Caller
) -> TaxiiResponse:
    return _envelope(_read(request, node, caller, collection_id, object_query(request)))


@router.post(
    COLLECTION + "objects/",
    summary="Add objects (5.5)",
    status_code=202,
    response_model=Status,
    openapi_extra=ENVELOPE_BODY,
)
async def add_objects(
    request: Request, collection_id: str, node: NodeDep, caller: Caller
) -> TaxiiResponse:
    reader, actor = caller
    # Who may write is settled before the body is read: outsiders learn nothing from it.
    where = await run_in_threadpool(reach, node.db, reader, collection_id)
    if not where.can_write:
        raise Forbidden(
            "writing needs the analyst or admin role and owner or member standing in the bubble"
        )
    check_content_type(request)
    body = await _bounded_body(request, node.settings.max_content_length)

    def work() -> bytes:
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise Invalid("body", f"not valid JSON ({error})") from None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
            raise Invalid("body", "a TAXII envelope is a JSON object with an 'objects' list")
        if reader.peer is not None:
            status = federation.receive(
                node.db, node.key, reader.peer.node_id, actor, where, envelope["objects"]
            )
            return status.encode()
        return objects.add_envelope(node.db, reader, actor, where, envelope["objects"]).encode()

    return TaxiiResponse(await run_in_threadpool(work), status_code=202)


async def _bounded_body(request: Request, maximum: int) -> bytes:
    """The request body, refused as soon as it passes `maximum` bytes, declared or streamed."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > maximum:
        raise TooLarge(f"the body is {declared} bytes; this API root takes at most {maximum}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > maximum:
            raise TooLarge(f"the body is over {maximum} bytes, the most this API root takes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get(
    COLLECTION + "objects/{object_id}/",
    summary="Get an object (5.6)",
    response_model=Envelope,
    openapi_extra=_ONE,
)
def get_object(
    request: Request, collection_id: str, object_id: str, node: NodeDep, caller: Caller
) -> TaxiiResponse:
    query = object_query(request)
    query = _one_object(query, object_id)
    page = _read(request, node, caller, collection_id, query)
    if not page.items and "next" not in request.query_params:
        raise NotFound(f"no object {object_id} in this collection")
    return _envelope(page)


@router.delete(
    COLLECTION + "objects/{object_id}/",
    summary="Delete an object (5.7)",
    response_class=Response,
    responses={200: {"description": "Deleted; no body."}},
    openapi_extra=parameters("match[version]", "match[spec_version]"),
)
def delete_object(
    request: Request, collection_id: str, object_id: str, node: NodeDep, caller: Caller
) -> Response:
    reader, actor = caller
    where = reach(node.db, reader, collection_id)
    query = object_query(request, default_version="all")
    query = replace(_one_object(query, object_id), added_after=None)
    objects.delete(node.db, reader, actor, where, query)
    return Response(status_code=200)  # TAXII 5.7: no body


@router.get(
    COLLECTION + "objects/{object_id}/versions/",
    summary="Object versions (5.8)",
    response_model=Versions,
    openapi_extra=_ONE,
)
def versions(
    request: Request, collection_id: str, object_id: str, node: NodeDep, caller: Caller
) -> TaxiiResponse:
    query = object_query(request, default_version="all")
    query = _one_object(query, object_id)
    page = _read(request, node, caller, collection_id, query, with_body=False)
    if not page.items and "next" not in request.query_params:
        raise NotFound(f"no object {object_id} in this collection")
    body = b"{" + _more(page)
    if page.items:
        body += b',"versions":' + orjson.dumps([item.version_text for item in page.items])
    return TaxiiResponse(body + b"}", headers=_headers(page))
