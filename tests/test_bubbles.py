"""Bubbles of trust: invitations, answers, roles, leaving, and what each step lets one read."""

from __future__ import annotations

import pytest

from trustbubble.domain.access import Standing
from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.bubbles import BubbleKind, BubbleRole, MembershipState
from trustbubble.domain.errors import Conflict, Forbidden, NotFound
from trustbubble.services import accounts, bubbles
from trustbubble.store.database import Database


def admin_of(db: Database, org: str, country: str, parent: str | None = None) -> User:
    accounts.create_org(db, org, "cert", country, parent)
    user, _ = accounts.create_user(
        db, f"admin@{org.lower().replace(' ', '-')}.test", org, UserRole.ADMIN
    )
    return user


def standing(db: Database, user: User, bubble_id: str) -> Standing:
    reader = accounts.reader_for(db, user)
    with db.read() as conn:
        try:
            return bubbles.collection_access(conn, reader, bubble_id).standing
        except NotFound:
            return Standing.NONE


def test_an_invitation_gives_nothing_until_accepted(db: Database) -> None:
    owner = admin_of(db, "CERT FR", "FR")
    guest = admin_of(db, "CERT KE", "KE")
    bubble = bubbles.create_bubble(db, "FR-KE", BubbleKind.BILATERAL, "CERT FR")
    bubbles.invite(db, owner, bubble.id, "CERT KE", BubbleRole.MEMBER)
    assert standing(db, guest, bubble.id) is Standing.NONE
    bubbles.respond(db, guest, bubble.id, accept=True)
    assert standing(db, guest, bubble.id) is Standing.MEMBER
    with pytest.raises(Conflict, match="already active"):
        bubbles.invite(db, owner, bubble.id, "CERT KE", BubbleRole.MEMBER)


def test_a_declined_invitation_leaves_the_organization_outside(db: Database) -> None:
    owner = admin_of(db, "CERT FR", "FR")
    guest = admin_of(db, "CERT BR", "BR")
    bubble = bubbles.create_bubble(db, "Regional", BubbleKind.REGIONAL, "CERT FR")
    bubbles.invite(db, owner, bubble.id, "CERT BR", BubbleRole.OBSERVER)
    bubbles.respond(db, guest, bubble.id, accept=False)
    states = {m.org_id: m.state for m in bubbles.members(db, bubble.id)}
    assert states[guest.org_id] is MembershipState.DECLINED
    assert standing(db, guest, bubble.id) is Standing.NONE
    with pytest.raises(NotFound):
        bubbles.respond(db, guest, bubble.id, accept=True)


def test_constituents_read_through_their_parent_and_lose_it_when_it_leaves(db: Database) -> None:
    owner = admin_of(db, "CERT FR", "FR")
    member = admin_of(db, "CERT KE", "KE")
    hospital = admin_of(db, "Nairobi Hospital", "KE", parent="CERT KE")
    bubble = bubbles.create_bubble(
        db, "FR-KE", BubbleKind.BILATERAL, "CERT FR", members=("CERT KE",)
    )
    assert standing(db, hospital, bubble.id) is Standing.MEMBER_CONSTITUENT
    bubbles.change_role(db, owner, bubble.id, "CERT KE", BubbleRole.OBSERVER)
    assert standing(db, hospital, bubble.id) is Standing.OBSERVER_CONSTITUENT
    bubbles.leave(db, member, bubble.id)
    assert standing(db, hospital, bubble.id) is Standing.NONE


def test_only_owners_invite_and_the_last_owner_stays(db: Database) -> None:
    owner = admin_of(db, "CERT FR", "FR")
    member = admin_of(db, "CERT KE", "KE")
    admin_of(db, "CERT DE", "DE")
    bubble = bubbles.create_bubble(
        db, "FR-KE", BubbleKind.BILATERAL, "CERT FR", members=("CERT KE",)
    )
    with pytest.raises(Forbidden):
        bubbles.invite(db, member, bubble.id, "CERT DE", BubbleRole.MEMBER)
    with pytest.raises(Conflict, match="last owner"):
        bubbles.leave(db, owner, bubble.id)
    with pytest.raises(Conflict, match="at least one owner"):
        bubbles.change_role(db, owner, bubble.id, "CERT FR", BubbleRole.MEMBER)


def test_an_outsider_cannot_learn_that_a_bubble_exists(db: Database) -> None:
    admin_of(db, "CERT FR", "FR")
    outsider = admin_of(db, "CERT DE", "DE")
    bubble = bubbles.create_bubble(db, "FR only", BubbleKind.SECTORAL, "CERT FR")
    with pytest.raises(NotFound):
        bubbles.leave(db, outsider, bubble.id)
    listed = {c.id for c in bubbles.collections_for(db, accounts.reader_for(db, outsider))}
    assert bubble.id not in listed
