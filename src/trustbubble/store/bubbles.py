"""Queries on bubbles and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, insert, select, update

from trustbubble.domain.bubbles import (
    Bubble,
    BubbleKind,
    BubbleRole,
    Membership,
    MembershipState,
)
from trustbubble.domain.tlp import TlpLevel
from trustbubble.store.tables import bubbles, memberships


def _bubble(row: Row[tuple[object, ...]]) -> Bubble:
    m = row._mapping
    return Bubble(
        id=m["id"],
        name=m["name"],
        kind=BubbleKind(m["kind"]),
        charter=m["charter"],
        default_tlp=TlpLevel(m["default_tlp"]),
        created=m["created"],
        home_node=m["home_node"],
    )


def _membership(row: Row[tuple[object, ...]]) -> Membership:
    m = row._mapping
    return Membership(
        bubble_id=m["bubble_id"],
        org_id=m["org_id"],
        role=BubbleRole(m["role"]),
        state=MembershipState(m["state"]),
        invited=m["invited"],
        responded=m["responded"],
    )


def insert_bubble(conn: Connection, bubble: Bubble) -> None:
    conn.execute(
        insert(bubbles).values(
            id=bubble.id,
            name=bubble.name,
            kind=bubble.kind.value,
            charter=bubble.charter,
            default_tlp=int(bubble.default_tlp),
            created=bubble.created,
            home_node=bubble.home_node,
        )
    )


def update_bubble(conn: Connection, bubble: Bubble) -> None:
    """Refresh a mirrored bubble from its home node."""
    conn.execute(
        update(bubbles)
        .where(bubbles.c.id == bubble.id)
        .values(
            name=bubble.name,
            kind=bubble.kind.value,
            charter=bubble.charter,
            default_tlp=int(bubble.default_tlp),
        )
    )


def bubble_by_id(conn: Connection, bubble_id: str) -> Bubble | None:
    row = conn.execute(select(bubbles).where(bubbles.c.id == bubble_id)).first()
    return _bubble(row) if row else None


def bubble_by_name(conn: Connection, name: str) -> Bubble | None:
    row = conn.execute(select(bubbles).where(bubbles.c.name == name)).first()
    return _bubble(row) if row else None


def all_bubbles(conn: Connection) -> list[Bubble]:
    return [_bubble(row) for row in conn.execute(select(bubbles).order_by(bubbles.c.name))]


def memberships_of(conn: Connection, bubble_id: str) -> list[Membership]:
    rows = conn.execute(
        select(memberships)
        .where(memberships.c.bubble_id == bubble_id)
        .order_by(memberships.c.invited)
    )
    return [_membership(row) for row in rows]


def active_roles(conn: Connection, bubble_id: str) -> dict[str, BubbleRole]:
    rows = conn.execute(
        select(memberships.c.org_id, memberships.c.role).where(
            memberships.c.bubble_id == bubble_id,
            memberships.c.state == MembershipState.ACTIVE.value,
        )
    )
    return {row.org_id: BubbleRole(row.role) for row in rows}


def bubbles_with_active(conn: Connection, org_ids: Sequence[str]) -> list[str]:
    """Ids of the bubbles where any of these organizations holds an active membership, by name."""
    if not org_ids:
        return []
    rows = conn.execute(
        select(bubbles.c.id)
        .join(memberships, memberships.c.bubble_id == bubbles.c.id)
        .where(
            memberships.c.org_id.in_(org_ids),
            memberships.c.state == MembershipState.ACTIVE.value,
        )
        .group_by(bubbles.c.id, bubbles.c.name)
        .order_by(bubbles.c.name)
    )
    return [row.id for row in rows]


def membership(conn: Connection, bubble_id: str, org_id: str) -> Membership | None:
    row = conn.execute(
        select(memberships).where(
            memberships.c.bubble_id == bubble_id, memberships.c.org_id == org_id
        )
    ).first()
    return _membership(row) if row else None


def put_membership(conn: Connection, new: Membership) -> None:
    """Insert the membership, or overwrite the one the organization already has."""
    values = {
        "role": new.role.value,
        "state": new.state.value,
        "invited": new.invited,
        "responded": new.responded,
    }
    if membership(conn, new.bubble_id, new.org_id) is None:
        conn.execute(
            insert(memberships).values(bubble_id=new.bubble_id, org_id=new.org_id, **values)
        )
    else:
        conn.execute(
            update(memberships)
            .where(memberships.c.bubble_id == new.bubble_id, memberships.c.org_id == new.org_id)
            .values(**values)
        )


def set_state(
    conn: Connection, bubble_id: str, org_id: str, state: MembershipState, at: datetime
) -> None:
    conn.execute(
        update(memberships)
        .where(memberships.c.bubble_id == bubble_id, memberships.c.org_id == org_id)
        .values(state=state.value, responded=at)
    )


def invitations_of(conn: Connection, org_id: str) -> list[tuple[Membership, Bubble]]:
    """Open invitations of one organization, oldest first, with their bubbles."""
    rows = conn.execute(
        select(memberships)
        .where(
            memberships.c.org_id == org_id,
            memberships.c.state == MembershipState.INVITED.value,
        )
        .order_by(memberships.c.invited)
    )
    found = []
    for membership_row in [_membership(row) for row in rows]:
        bubble = bubble_by_id(conn, membership_row.bubble_id)
        if bubble is not None:
            found.append((membership_row, bubble))
    return found
