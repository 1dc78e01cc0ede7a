"""TAXII 2.1 media types (section 1.6.8) and content negotiation: 406 and 415 answers."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse

from trustbubble.domain.errors import DomainError

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"

_ACCEPTED = {
    "application/taxii+json;version=2.1",
    "application/taxii+json",
    "application/*",
    "*/*",
}


class NotAcceptable(DomainError):
    """The client accepts no media type we can answer with (406)."""


class UnsupportedMediaType(DomainError):
    """The request body is not a TAXII envelope (415)."""


def _media_types(header: str) -> list[str]:
    out = []
    for part in header.split(","):
        params = [p.strip().lower() for p in part.split(";")]
        base = params[0]
        version = [p for p in params[1:] if p.replace(" ", "").startswith("version=")]
        out.append(base + (";" + version[0].replace(" ", "") if version else ""))
    return out


async def check_accept(request: Request) -> None:
    """Accept must allow TAXII 2.1; no Accept header means anything goes."""
    header = request.headers.get("accept")
    if header is None or not header.strip():
        return
    if not any(media in _ACCEPTED for media in _media_types(header)):
        raise NotAcceptable(f"this server answers with {TAXII}; the request accepts only {header}")


def check_content_type(request: Request) -> None:
    header = request.headers.get("content-type", "")
    if _media_types(header)[0] not in ("application/taxii+json;version=2.1",):
        raise UnsupportedMediaType(
            f"the body must be {TAXII}, not {header or 'a body without Content-Type'}"
        )


class TaxiiResponse(JSONResponse):
    """A TAXII body; JSON, so the OpenAPI document shows a route's `response_model` for it."""

    media_type = TAXII

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content)
