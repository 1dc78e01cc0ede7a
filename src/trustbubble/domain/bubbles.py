"""Bubbles of trust: partnerships whose members share under TLP 2.0, and their memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from trustbubble.domain.choices import parse_choice
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
    home_node: str | None = None  # the peer node of its owner; None for this node


@dataclass(frozen=True, slots=True)
class Membership:
    bubble_id: str
    org_id: str
    role: BubbleRole
    state: MembershipState
    invited: datetime
    responded: datetime | None


def parse_bubble_kind(text: str) -> BubbleKind:
    return parse_choice(BubbleKind, text, "kind", "bubble kind")


def parse_bubble_role(text: str) -> BubbleRole:
    return parse_choice(BubbleRole, text, "role", "bubble role")
