"""Points of contact of an organization: who to call, diplomatic or technical, and when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import available_timezones

from trustbubble.domain.accounts import normalize_email
from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import Invalid
from trustbubble.domain.fields import text


class PocKind(StrEnum):
    DIPLOMATIC = "diplomatic"
    TECHNICAL = "technical"


@dataclass(frozen=True, slots=True)
class PocFields:
    kind: PocKind
    name: str
    role: str
    email: str
    phone: str
    languages: str
    hours: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class Poc:
    id: str
    org_id: str
    fields: PocFields
    updated: datetime


def read_poc(data: Mapping[str, Any]) -> PocFields:
    """A point of contact from form fields or JSON; an error names the field."""
    zone = text(data, "time_zone", 60) or "UTC"
    if zone not in available_timezones() and zone != "UTC":
        raise Invalid("time_zone", f"{zone!r} is not an IANA time zone such as Europe/Paris")
    phone = text(data, "phone", 60)
    if phone and not all(c.isdigit() or c in "+-() ." for c in phone):
        raise Invalid("phone", f"{phone!r} is not a phone number such as +33 1 23 45 67 89")
    return PocFields(
        kind=parse_choice(PocKind, text(data, "kind", 12) or "technical", "kind", "POC kind"),
        name=text(data, "name", 200, required=True),
        role=text(data, "role", 200),
        email=normalize_email(text(data, "email", 254, required=True)),
        phone=phone,
        languages=text(data, "languages", 200),
        hours=text(data, "hours", 200),
        time_zone=zone,
    )
