"""TAXII 2.1 query parameters (section 3.4): match[...] filters, added_after, limit and next."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import Request

from trustbubble.domain.errors import Invalid
from trustbubble.domain.stix import parse_timestamp
from trustbubble.services.objects import ObjectQuery, VersionFilter

_TEXT: dict[str, Any] = {"type": "string"}
_TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"}
_DECLARED: dict[str, tuple[str, dict[str, Any]]] = {
    "match[id]": ("STIX ids, comma-separated or the parameter repeated.", _TEXT),
    "match[type]": ("STIX types, comma-separated or the parameter repeated.", _TEXT),
    "match[version]": ("`last`, `first`, `all` or STIX timestamps, comma-separated.", _TEXT),
    "match[spec_version]": ("STIX specification versions, such as 2.1.", _TEXT),
    "added_after": ("Only versions added after this STIX timestamp.", _TIMESTAMP),
    "limit": (
        "The most versions on a page; above the node's maximum, lowered to it.",
        {"type": "integer", "minimum": 1},
    ),
    "next": ("The `next` of the previous page, unchanged.", _TEXT),
}
_KNOWN = frozenset(_DECLARED)


def parameters(*names: str) -> dict[str, Any]:
    """The OpenAPI declaration of these query parameters, for a route's `openapi_extra`: read
    from the request by the functions below, they are not in the handlers' signatures."""
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": _DECLARED[name][0],
                "schema": _DECLARED[name][1],
            }
            for name in names
        ]
    }


def _values(request: Request, name: str) -> tuple[str, ...]:
    """Every comma-separated value of a parameter, which may also be repeated."""
    out: list[str] = []
    for raw in request.query_params.getlist(name):
        out.extend(value.strip() for value in raw.split(",") if value.strip())
    return tuple(out)


def _timestamp(name: str, value: str) -> int:
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise Invalid(name, f"{value!r} is not a STIX timestamp ({error})") from None


def object_query(request: Request, *, default_version: str = "last") -> ObjectQuery:
    for name in request.query_params:
        if name.startswith("match[") and name not in _KNOWN:
            raise Invalid(
                name,
                "unknown filter; use match[id], match[type], match[version] or match[spec_version]",
            )
    versions = _values(request, "match[version]") or (default_version,)
    wanted = VersionFilter(
        all="all" in versions,
        first="first" in versions,
        last="last" in versions,
        versions=tuple(
            _timestamp("match[version]", v) for v in versions if v not in ("all", "first", "last")
        ),
    )
    added_after = request.query_params.get("added_after")
    return ObjectQuery(
        ids=_values(request, "match[id]"),
        types=_values(request, "match[type]"),
        spec_versions=_values(request, "match[spec_version]"),
        versions=wanted,
        added_after=_timestamp("added_after", added_after) if added_after else None,
    )


def limit(request: Request, default: int, maximum: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return min(default, maximum)
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("limit", f"{raw!r} is not a whole number") from None
    if value < 1:
        raise Invalid("limit", "must be at least 1")
    return min(value, maximum)


_FIRST_ADDED = parse_timestamp("0001-01-01T00:00:00Z")
_LAST_ADDED = parse_timestamp("9999-12-31T23:59:59.999999Z")


def encode_next(added: int) -> str:
    return base64.urlsafe_b64encode(f"a{added}".encode()).decode().rstrip("=")


def decode_next(request: Request) -> int | None:
    raw = request.query_params.get("next")
    if raw is None:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        if not text.startswith("a"):
            raise ValueError(text)
        added = int(text[1:])
        # A date_added this server gave lies within the years 1 to 9999; others would reach
        # the database as numbers too large for it.
        if not _FIRST_ADDED <= added <= _LAST_ADDED:
            raise ValueError(text)
        return added
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        raise Invalid("next", "not a value this server gave in a 'next' property") from None
