"""The TAXII 2.1 resources as models, for the OpenAPI document: what each endpoint answers.

The endpoints write their bodies themselves (orjson, bytes stored as they came); these models
only describe them, so that a client generator or a fuzzer knows what to expect.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from trustbubble.api.taxii.media import TAXII

# `X | Absent = None`: a property that is there with its type, or not there at all; TAXII
# bodies have no nulls, so the document shows none.
Absent = SkipJsonSchema[None]


def _no_null_defaults(schema: JsonDict) -> None:
    properties = schema.get("properties")
    for prop in properties.values() if isinstance(properties, dict) else ():
        if isinstance(prop, dict) and "default" in prop and prop["default"] is None:
            del prop["default"]


class Resource(BaseModel):
    # TAXII lets servers add properties; a client must ignore what it does not know.
    model_config = ConfigDict(extra="allow", json_schema_extra=_no_null_defaults)


class Discovery(Resource):
    """Section 4.1.1."""

    title: str
    description: str | Absent = None
    contact: str | Absent = None
    default: str | Absent = None
    api_roots: list[str] = []


class ApiRoot(Resource):
    """Section 4.2.1."""

    title: str
    description: str | Absent = None
    versions: list[str]
    max_content_length: int


class StatusDetail(Resource):
    """Section 4.3.1: one object of the request."""

    id: str
    version: str
    message: str | Absent = None


class Status(Resource):
    """Section 4.3.1: always `complete`, the node stores an envelope before it answers."""

    id: str
    status: str
    request_timestamp: str | Absent = None
    total_count: int
    success_count: int
    successes: list[StatusDetail] = []
    failure_count: int
    failures: list[StatusDetail] = []
    pending_count: int
    pendings: list[StatusDetail] = []


class Collection(Resource):
    """Section 5.2.1."""

    id: str
    title: str
    description: str | Absent = None
    alias: str | Absent = None
    can_read: bool
    can_write: bool
    media_types: list[str] = []


class Collections(Resource):
    """Section 5.1.1."""

    collections: list[Collection] = []


class ManifestRecord(Resource):
    """Section 5.3.1."""

    id: str
    date_added: str
    version: str
    media_type: str | Absent = None


class Page(Resource):
    """What every paged resource has: `more`, and `next` when there is more."""

    more: bool = False
    next: str | Absent = None


class Manifest(Page):
    objects: list[ManifestRecord] = []


class Envelope(Page):
    """Section 3.7: STIX objects, as they were stored."""

    objects: list[dict[str, Any]] = []


class Versions(Page):
    """Section 5.8.1."""

    versions: list[str] = []


class Error(Resource):
    """Section 3.6.1: the body of every error, on every path of the node."""

    title: str
    description: str | Absent = None
    error_id: str | Absent = None
    error_code: str | Absent = None
    http_status: str | Absent = Field(default=None, description="The HTTP status, as a string.")
    external_details: str | Absent = None
    details: dict[str, Any] | Absent = None


class EnvelopeIn(BaseModel):
    """A POST body: the objects to add. Each is checked against STIX 2.1 on its own."""

    objects: list[dict[str, Any]]


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/components/schemas/{model}")


# Every 4xx answer of the node, TAXII or not, has the TAXII error body (api/errors.py).
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "The TAXII error body: `description` names the field at fault.",
        "content": {TAXII: {"schema": _schema(Error)}},
    },
}

# The body of POST .../objects/: read by the endpoint itself, so that credentials and the
# write right are checked before a byte of it is.
ENVELOPE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            TAXII: {
                "schema": _schema(EnvelopeIn),
                "example": {
                    "objects": [
                        {
                            "type": "indicator",
                            "spec_version": "2.1",
                            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                            "created": "2026-03-02T08:15:00.000Z",
                            "modified": "2026-03-02T08:15:00.000Z",
                            "pattern": "[ipv4-addr:value = '198.51.100.7']",
                            "pattern_type": "stix",
                            "valid_from": "2026-03-02T08:15:00Z",
                        }
                    ]
                },
            }
        },
    }
}
