"""Bubbles of trust: creation, invitations, answers, roles, and what a reader may reach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection

from trustbubble.domain import access
from trustbubble.domain.access import PeerScope, Reader, ReadGrant, Standing
from trustbubble.domain.accounts import Organization, User, UserRole, normalize_name
from trustbubble.domain.bubbles import (
    Bubble,
    BubbleKind,
    BubbleRole,
    Membership,
    MembershipState,
)
from trustbubble.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID, organization_identity
from trustbubble.domain.stix import format_timestamp
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import audit
from trustbubble.services.accounts import org_named
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as store
from trustbubble.store import federation as federation_store
from trustbubble.store.database import Database


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CollectionAccess:
    """A TAXII collection as one reader sees it: a bubble, or the public collection (None)."""

    id: str
    bubble: Bubble | None
    grant: ReadGrant
    can_write: bool
    standing: Standing

    @property
    def title(self) -> str:
        return self.bubble.name if self.bubble else "Public (TLP:CLEAR)"

    @property
    def default_tlp(self) -> TlpLevel:
        return self.bubble.default_tlp if self.bubble else TlpLevel.CLEAR


def create_bubble(
    db: Database,
    name: str,
    kind: BubbleKind,
    owner: str,
    *,
    charter: str = "",
    default_tlp: TlpLevel = TlpLevel.AMBER,
    members: tuple[str, ...] = (),
    observers: tuple[str, ...] = (),
    actor: str = "operator",
) -> Bubble:
    """Create a bubble with its owner; organizations the operator names join at once."""
    bubble = Bubble(
        id=str(uuid.uuid4()),
        name=normalize_name(name),
        kind=kind,
        charter=charter.strip(),
        default_tlp=default_tlp,
        created=_now(),
    )
    named = [normalize_name(n, "member") for n in (owner, *members, *observers)]
    if len(set(named)) != len(named):
        raise Invalid("member", "an organization is named more than once")
    with db.write() as conn:
        if store.bubble_by_name(conn, bubble.name) is not None:
            raise Conflict(f"a bubble named {bubble.name!r} already exists")
        store.insert_bubble(conn, bubble)
        audit.record(conn, actor, "bubble.created", bubble.id, name=bubble.name)
        roles = [(owner, BubbleRole.OWNER)]
        roles += [(m, BubbleRole.MEMBER) for m in members]
        roles += [(o, BubbleRole.OBSERVER) for o in observers]
        for org_name, role in roles:
            org = org_named(conn, org_name, "owner" if role is BubbleRole.OWNER else "member")
            _activate(conn, bubble, org, role, actor)
    return bubble


def _activate(
    conn: Connection, bubble: Bubble, org: Organization, role: BubbleRole, actor: str
) -> None:
    now = _now()
    store.put_membership(
        conn, Membership(bubble.id, org.id, role, MembershipState.ACTIVE, now, now)
    )
    audit.record(conn, actor, "membership.active", bubble.id, org=org.id, role=role.value)
    _share_identity(conn, bubble, org)


def _share_identity(conn: Connection, bubble: Bubble, org: Organization) -> None:
    """Put the organization's STIX identity in the bubble, so members can name it as recipient."""
    from trustbubble.services.objects import store_node_objects

    created = format_timestamp(int(org.created.timestamp()) * 1_000_000)
    identity = organization_identity(
        org.identity_id, org.name, org.kind.value, org.country, created
    )
    store_node_objects(conn, bubble.id, org.id, [orjson.loads(orjson.dumps(identity))])


def bubble_named(conn: Connection, name: str) -> Bubble:
    bubble = store.bubble_by_name(conn, normalize_name(name, "bubble"))
    if bubble is None:
        raise NotFound(f"no bubble named {name!r}")
    return bubble


def _owner_check(conn: Connection, actor: User, bubble: Bubble) -> None:
    mine = store.membership(conn, bubble.id, actor.org_id)
    is_owner = (
        mine is not None and mine.state is MembershipState.ACTIVE and mine.role is BubbleRole.OWNER
    )
    if not is_owner or actor.role is UserRole.VIEWER:
        raise Forbidden("only analysts and admins of an owner organization may do this")


def invite(db: Database, actor: User, bubble_id: str, org_name: str, role: BubbleRole) -> None:
    with db.write() as conn:
        bubble = visible_bubble(conn, actor, bubble_id)
        _owner_check(conn, actor, bubble)
        org = org_named(conn, org_name)
        current = store.membership(conn, bubble.id, org.id)
        if current is not None and current.state in (
            MembershipState.ACTIVE,
            MembershipState.INVITED,
        ):
            raise Conflict(f"{org.name} is already {current.state.value} in {bubble.name}")
        store.put_membership(
            conn, Membership(bubble.id, org.id, role, MembershipState.INVITED, _now(), None)
        )
        audit.record(conn, actor.email, "membership.invited", bubble.id, org=org.id)


def respond(db: Database, actor: User, bubble_id: str, accept: bool) -> None:
    """The invited organization's admin accepts or declines."""
    with db.write() as conn:
        current = store.membership(conn, bubble_id, actor.org_id)
        bubble = store.bubble_by_id(conn, bubble_id)
        if bubble is None or current is None or current.state is not MembershipState.INVITED:
            raise NotFound("no open invitation to this bubble for your organization")
        if actor.role is not UserRole.ADMIN:
            raise Forbidden("only an admin of the invited organization may answer")
        if accept:
            org = account_store.org_by_id(conn, actor.org_id)
            assert org is not None
            _activate(conn, bubble, org, current.role, actor.email)
        else:
            store.set_state(conn, bubble_id, actor.org_id, MembershipState.DECLINED, _now())
            audit.record(conn, actor.email, "membership.declined", bubble_id, org=actor.org_id)


def leave(db: Database, actor: User, bubble_id: str) -> None:
    with db.write() as conn:
        bubble = visible_bubble(conn, actor, bubble_id)
        if actor.role is not UserRole.ADMIN:
            raise Forbidden("only an admin of the organization may leave a bubble")
        roles = store.active_roles(conn, bubble.id)
        if actor.org_id not in roles:
            raise NotFound("your organization is not a member of this bubble")
        owners = [org for org, role in roles.items() if role is BubbleRole.OWNER]
        if owners == [actor.org_id]:
            raise Conflict("the last owner cannot leave; make another organization owner first")
        store.set_state(conn, bubble.id, actor.org_id, MembershipState.LEFT, _now())
        audit.record(conn, actor.email, "membership.left", bubble.id, org=actor.org_id)


def change_role(db: Database, actor: User, bubble_id: str, org_name: str, role: BubbleRole) -> None:
    with db.write() as conn:
        bubble = visible_bubble(conn, actor, bubble_id)
        _owner_check(conn, actor, bubble)
        org = org_named(conn, org_name)
        roles = store.active_roles(conn, bubble.id)
        if org.id not in roles:
            raise Invalid("org", f"{org.name} is not an active member of {bubble.name}")
        owners = [o for o, r in roles.items() if r is BubbleRole.OWNER]
        if owners == [org.id] and role is not BubbleRole.OWNER:
            raise Conflict("a bubble keeps at least one owner")
        current = store.membership(conn, bubble.id, org.id)
        assert current is not None
        store.put_membership(
            conn,
            Membership(bubble.id, org.id, role, current.state, current.invited, _now()),
        )
        audit.record(conn, actor.email, "membership.role", bubble.id, org=org.id, role=role.value)


def visible_bubble(conn: Connection, actor: User, bubble_id: str) -> Bubble:
    bubble = store.bubble_by_id(conn, bubble_id)
    if bubble is None:
        raise NotFound(f"no bubble {bubble_id}")
    chain = account_store.org_chain(conn, actor.org_id)
    mine = store.membership(conn, bubble.id, actor.org_id)
    # An open invitation shows the bubble; a declined or left membership does not.
    invited = mine is not None and mine.state is MembershipState.INVITED
    if access.standing(chain, store.active_roles(conn, bubble.id)) is Standing.NONE and not invited:
        raise NotFound(f"no bubble {bubble_id}")
    return bubble


def collection_access(conn: Connection, reader: Reader, collection_id: str) -> CollectionAccess:
    """The reader's view of one collection; NotFound when they may not know it exists."""
    if collection_id == PUBLIC_COLLECTION_ID:
        return CollectionAccess(collection_id, None, access.PUBLIC_GRANT, False, Standing.NONE)
    bubble = store.bubble_by_id(conn, collection_id)
    if bubble is None:
        raise NotFound(f"no collection {collection_id}")
    if reader.peer is not None:
        return _peer_access(conn, reader.peer, bubble)
    standing = access.standing(reader.org_chain, store.active_roles(conn, bubble.id))
    grant = access.read_grant(reader, standing)
    if not grant.visible:
        raise NotFound(f"no collection {collection_id}")
    return CollectionAccess(bubble.id, bubble, grant, access.may_write(reader, standing), standing)


def _peer_access(conn: Connection, peer: PeerScope, bubble: Bubble) -> CollectionAccess:
    """A peer node's view: what it may receive; it may send if the bubble is shared with it."""
    roles = store.active_roles(conn, bubble.id)
    shared = federation_store.link(conn, bubble.id, peer.node_id) is not None
    standing = access.peer_standing(peer, roles)
    grant = access.peer_grant(peer, standing, shared)
    if not grant.visible:
        raise NotFound(f"no collection {bubble.id}")
    return CollectionAccess(bubble.id, bubble, grant, shared, standing)


def collections_for(db: Database, reader: Reader) -> list[CollectionAccess]:
    """Every collection the reader may see: their bubbles, then the public collection."""
    seen: list[CollectionAccess] = []
    if reader.peer is not None:
        with db.read() as conn:
            shared = federation_store.shared_with(conn, reader.peer.node_id)
            for bubble_id in shared:
                try:
                    seen.append(collection_access(conn, reader, bubble_id))
                except NotFound:
                    continue
        return seen
    with db.read() as conn:
        # Only bubbles where the reader's organization or one of its parents is active can be
        # visible: the policy then decides for each of those.
        for bubble_id in store.bubbles_with_active(conn, reader.org_chain):
            try:
                seen.append(collection_access(conn, reader, bubble_id))
            except NotFound:
                continue
        seen.append(collection_access(conn, reader, PUBLIC_COLLECTION_ID))
    return seen


def bubble_by_name(db: Database, name: str) -> Bubble:
    with db.read() as conn:
        return bubble_named(conn, name)


def members(db: Database, bubble_id: str) -> list[Membership]:
    with db.read() as conn:
        return store.memberships_of(conn, bubble_id)


def overview(db: Database) -> list[dict[str, Any]]:
    """Every bubble with its memberships, for operators."""
    with db.read() as conn:
        names = {org.id: org.name for org in account_store.all_orgs(conn)}
        return [
            {
                "id": bubble.id,
                "name": bubble.name,
                "kind": bubble.kind.value,
                "default_tlp": bubble.default_tlp.label,
                "members": [
                    {
                        "org": names.get(m.org_id, m.org_id),
                        "role": m.role.value,
                        "state": m.state.value,
                    }
                    for m in store.memberships_of(conn, bubble.id)
                ],
            }
            for bubble in store.all_bubbles(conn)
        ]
