"""Bubbles of trust: partnerships whose members share under TLP 2.0, and their memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from trustbubble.domain.errors import Invalid
from trustbubble.domain.tlp import TlpLevel


class BubbleKind(StrEnum):
    BILATERAL = "bilateral"
    MULTILATERAL = "multilateral"
    REGIONAL = "regional"
    SECTORAL = "sectoral"


class BubbleRole(StrEnum):
    """An organization's standing in a bubble: owners and members share; observers read."""

    OWNER = "owner"
    MEMBER = "member"
    OBSERVER = "observer"

    @property
    def is_full_member(self) -> bool:
        return self is not BubbleRole.OBSERVER


class MembershipState(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DECLINED = "declined"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class Bubble:
    id: str
    name: str
    kind: BubbleKind
    charter: str
    default_tlp: TlpLevel
    created: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    bubble_id: str
    org_id: str
    role: BubbleRole
    state: MembershipState
    invited: datetime
    responded: datetime | None


def parse_bubble_kind(text: str) -> BubbleKind:
    try:
        return BubbleKind(text.strip().lower())
    except ValueError:
        kinds = ", ".join(kind.value for kind in BubbleKind)
        raise Invalid("kind", f"unknown bubble kind {text!r} (use one of {kinds})") from None


def parse_bubble_role(text: str) -> BubbleRole:
    try:
        return BubbleRole(text.strip().lower())
    except ValueError:
        roles = ", ".join(role.value for role in BubbleRole)
        raise Invalid("role", f"unknown bubble role {text!r} (use one of {roles})") from None
