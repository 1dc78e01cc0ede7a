"""Reading a value from a closed list (a kind, a role), with an error that lists the choices."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from trustbubble.domain.errors import Invalid

Choice = TypeVar("Choice", bound=StrEnum)


def parse_choice(kind: type[Choice], text: str, field: str, what: str) -> Choice:
    try:
        return kind(text.strip().lower())
    except ValueError:
        options = ", ".join(member.value for member in kind)
        raise Invalid(field, f"unknown {what} {text!r} (use one of {options})") from None
