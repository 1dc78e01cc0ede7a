"""Organizations, users and API tokens: who acts on the node."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import Invalid


class OrgKind(StrEnum):
    GOVERNMENT = "government"
    CERT = "cert"
    OPERATOR = "operator"
    PRIVATE = "private"
    CIVIL_SOCIETY = "civil-society"
    INTERNATIONAL = "international"
    ACADEMIA = "academia"


class UserRole(StrEnum):
    """A user's role on the node. Admins manage accounts, which gives no right to read content."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"

    @property
    def may_write(self) -> bool:
        return self is not UserRole.VIEWER


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str
    kind: OrgKind
    country: str
    parent_id: str | None
    identity_id: str
    created: datetime
    node_id: str | None = None  # the peer node that hosts it; None for this node


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    org_id: str
    role: UserRole
    identity_id: str
    created: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    user_id: str
    name: str
    prefix: str
    created: datetime
    last_used: datetime | None
    revoked: datetime | None
    expires: datetime | None = None  # None: it lasts until revoked

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def parse_kind(text: str) -> OrgKind:
    return parse_choice(OrgKind, text, "kind", "organization kind")


def parse_role(text: str) -> UserRole:
    return parse_choice(UserRole, text, "role", "role")


def normalize_email(text: str) -> str:
    email = text.strip().lower()
    if not _EMAIL.match(email):
        raise Invalid("email", f"{text!r} is not an e-mail address")
    return email


def normalize_country(text: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper case. Only the shape is checked: new codes appear."""
    code = text.strip().upper()
    if not _COUNTRY.match(code):
        raise Invalid("country", f"{text!r} is not an ISO 3166-1 alpha-2 code such as FR or KE")
    return code


def normalize_name(text: str, field: str = "name") -> str:
    name = " ".join(text.split())
    if not name:
        raise Invalid(field, "must not be empty")
    if len(name) > 200:
        raise Invalid(field, "must be at most 200 characters")
    return name
