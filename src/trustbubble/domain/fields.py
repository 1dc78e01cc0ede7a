"""Reading fields of a form or a JSON body, with errors that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from trustbubble.domain.errors import Invalid

MAX_TEXT = 20_000


def text(data: Mapping[str, Any], name: str, most: int = MAX_TEXT, required: bool = False) -> str:
    """A text field, stripped, at most `most` characters; absent reads as empty."""
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(name, "must be text")
    value = value.strip()
    if required and not value:
        raise Invalid(name, "is required")
    if len(value) > most:
        raise Invalid(name, f"is {len(value)} characters long; at most {most}")
    return value


def http_url(value: str, name: str) -> SplitResult:
    """An http or https address, split into its parts; an error names the field."""
    try:
        parts = urlsplit(value)
    except ValueError:  # an unclosed [IPv6] host; characters NFKC turns into / ? # @ or :
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(name, f"{value!r} is not an http or https address")
    return parts
