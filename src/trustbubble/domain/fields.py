"""Reading fields of a form or a JSON body, with errors that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
