"""What a signed-in person sees first: their bubbles, invitations, what is new; a bubble's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trustbubble.domain import access
from trustbubble.domain.access import Standing
from trustbubble.domain.accounts import User
from trustbubble.domain.bubbles import BubbleRole, MembershipState
from trustbubble.services import bubbles, feed
from trustbubble.services.accounts import reader_for
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as store
from trustbubble.store.database import Database

_STANDING = {
    Standing.NONE: "none",
    Standing.OBSERVER_CONSTITUENT: "constituent of an observer",
    Standing.OBSERVER: "observer",
    Standing.MEMBER_CONSTITUENT: "constituent of a member",
    Standing.MEMBER: "member",
}


@dataclass(frozen=True, slots=True)
class BubbleCard:
    id: str
    name: str
    kind: str
    default_tlp: str
    standing: str
    can_write: bool


@dataclass(frozen=True, slots=True)
class Invitation:
    bubble_id: str
    bubble_name: str
    role: str
    invited: datetime


@dataclass(frozen=True, slots=True)
class Dashboard:
    email: str
    organization: str
    role: str
    bubbles: list[BubbleCard]
    invitations: list[Invitation]
    recent: list[feed.FeedItem]


def dashboard(db: Database, user: User, recent: int = 20) -> Dashboard:
    reader = reader_for(db, user)
    cards = [
        BubbleCard(
            where.id,
            where.title,
            where.bubble.kind.value,
            where.default_tlp.label,
            _STANDING[where.standing],
            where.can_write,
        )
        for where in bubbles.collections_for(db, reader)
        if where.bubble is not None
    ]
    with db.read() as conn:
        org = account_store.org_by_id(conn, user.org_id)
        invitations = [
            Invitation(bubble.id, bubble.name, membership.role.value, membership.invited)
            for membership, bubble in store.invitations_of(conn, user.org_id)
        ]
    return Dashboard(
        user.email,
        org.name if org else "",
        user.role.value,
        cards,
        invitations,
        feed.newest(db, reader, user.email, [card.id for card in cards], recent),
    )


@dataclass(frozen=True, slots=True)
class Member:
    organization: str
    identity_id: str
    kind: str
    country: str
    role: str
    state: str


@dataclass(frozen=True, slots=True)
class BubblePage:
    id: str
    name: str
    kind: str
    charter: str
    default_tlp: str
    created: datetime
    standing: str
    can_write: bool
    can_manage: bool
    invited_as: str | None  # the role my organization is invited to, if it is
    members: list[Member]
    taxii_collection: str  # the collection's path under the node's address
    my_organization: str


def bubble_page(db: Database, user: User, bubble_id: str) -> BubblePage:
    """A bubble as its members, observers and invited organizations see it; else NotFound."""
    reader = reader_for(db, user)
    with db.read() as conn:
        bubble = bubbles.visible_bubble(conn, user, bubble_id)
        roles = store.active_roles(conn, bubble.id)
        standing = access.standing(reader.org_chain, roles)
        orgs = {org.id: org for org in account_store.all_orgs(conn)}
        everyone = store.memberships_of(conn, bubble.id)
    mine = next((m for m in everyone if m.org_id == user.org_id), None)
    invited_as = mine.role.value if mine and mine.state is MembershipState.INVITED else None
    shown = [m for m in everyone if m.state in (MembershipState.ACTIVE, MembershipState.INVITED)]
    return BubblePage(
        id=bubble.id,
        name=bubble.name,
        kind=bubble.kind.value,
        charter=bubble.charter,
        default_tlp=bubble.default_tlp.label,
        created=bubble.created,
        standing="invited" if invited_as and standing is Standing.NONE else _STANDING[standing],
        can_write=access.may_write(reader, standing),
        can_manage=roles.get(user.org_id) is BubbleRole.OWNER and user.role.may_write,
        invited_as=invited_as,
        members=[
            Member(
                orgs[m.org_id].name,
                orgs[m.org_id].identity_id,
                orgs[m.org_id].kind.value,
                orgs[m.org_id].country,
                m.role.value,
                m.state.value,
            )
            for m in shown
            if m.org_id in orgs
        ],
        taxii_collection=f"/taxii2/bubbles/collections/{bubble.id}/",
        my_organization=orgs[user.org_id].name if user.org_id in orgs else "",
    )
