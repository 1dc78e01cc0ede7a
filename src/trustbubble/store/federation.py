"""Queries of the federation: peers, mirrored organizations, shared bubbles and their sync state,
deletions, and the object versions a peer is sent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from trustbubble.domain.access import ReadGrant
from trustbubble.domain.accounts import Organization
from trustbubble.store.accounts import orgs_where
from trustbubble.store.objects import ObjectQuery, conditions
from trustbubble.store.tables import (
    bubble_peers,
    deletions,
    objects,
    organizations,
    peers,
    remote_identities,
)


@dataclass(frozen=True, slots=True)
class Peer:
    id: str
    name: str
    country: str | None
    url: str
    public_key: str
    outbound_token: bytes | None
    credential_prefix: str | None
    added: datetime
    last_seen: datetime | None


def _peer(row: Any) -> Peer:
    m = row._mapping
    return Peer(
        m["id"],
        m["name"],
        m["country"],
        m["url"],
        m["public_key"],
        m["outbound_token"],
        m["credential_prefix"],
        m["added"],
        m["last_seen"],
    )


def insert_peer(conn: Connection, peer: Peer) -> None:
    conn.execute(
        insert(peers).values(
            id=peer.id,
            name=peer.name,
            country=peer.country,
            url=peer.url,
            public_key=peer.public_key,
            outbound_token=peer.outbound_token,
            added=peer.added,
        )
    )


def update_peer(conn: Connection, peer_id: str, **values: object) -> None:
    conn.execute(update(peers).where(peers.c.id == peer_id).values(**values))


def peer_by_id(conn: Connection, peer_id: str) -> Peer | None:
    row = conn.execute(select(peers).where(peers.c.id == peer_id)).first()
    return _peer(row) if row else None


def peer_by_credential(conn: Connection, credential_hash: str) -> Peer | None:
    row = conn.execute(select(peers).where(peers.c.credential_hash == credential_hash)).first()
    return _peer(row) if row else None


def all_peers(conn: Connection) -> list[Peer]:
    return [_peer(row) for row in conn.execute(select(peers).order_by(peers.c.name))]


def has_credential(conn: Connection, peer_id: str) -> bool:
    found = conn.execute(select(peers.c.credential_hash).where(peers.c.id == peer_id)).first()
    return found is not None and found[0] is not None


# -- organizations a peer hosts ---------------------------------------------------------------


def hosted_by(conn: Connection, node_id: str | None) -> list[Organization]:
    """The organizations a node hosts; None: this node."""
    if node_id is None:
        return orgs_where(conn, organizations.c.node_id.is_(None))
    return orgs_where(conn, organizations.c.node_id == node_id)


def put_remote_org(conn: Connection, org: Organization) -> None:
    """Insert or refresh an organization a peer hosts (its id is the one it has there)."""
    values = {
        "name": org.name,
        "kind": org.kind.value,
        "country": org.country,
        "parent_id": org.parent_id,
        "identity_id": org.identity_id,
        "node_id": org.node_id,
    }
    found = conn.execute(select(organizations.c.id).where(organizations.c.id == org.id)).first()
    if found is None:
        conn.execute(insert(organizations).values(id=org.id, created=org.created, **values))
    else:
        conn.execute(update(organizations).where(organizations.c.id == org.id).values(**values))


def set_remote_identities(conn: Connection, org_id: str, identities: Iterable[str]) -> None:
    conn.execute(delete(remote_identities).where(remote_identities.c.org_id == org_id))
    rows = [{"identity_id": i, "org_id": org_id} for i in sorted(set(identities))]
    if rows:
        conn.execute(insert(remote_identities), rows)


def remote_identities_of(conn: Connection, org_ids: Sequence[str]) -> set[str]:
    if not org_ids:
        return set()
    rows = conn.execute(
        select(remote_identities.c.identity_id).where(remote_identities.c.org_id.in_(org_ids))
    )
    return {row[0] for row in rows}


# -- bubbles shared with peers, and their sync -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """A bubble shared with a peer, and where its sync stands."""

    bubble_id: str
    peer_id: str
    since: datetime
    pull_cursor: int | None
    push_cursor: int | None
    deletions_cursor: int | None
    received: int
    sent: int
    refused: int
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    failures: int
    retry_at: datetime | None
    newest_moved: int | None
    their_standing: int | None
    our_standing: int | None


def _link(row: Any) -> Link:
    m = row._mapping
    return Link(*(m[column.name] for column in bubble_peers.columns))


def share(conn: Connection, bubble_id: str, peer_id: str, since: datetime) -> bool:
    """Mark the bubble as shared with the peer; False when it already was."""
    if link(conn, bubble_id, peer_id) is not None:
        return False
    conn.execute(insert(bubble_peers).values(bubble_id=bubble_id, peer_id=peer_id, since=since))
    return True


def unshare(conn: Connection, bubble_id: str, peer_id: str) -> None:
    conn.execute(
        delete(bubble_peers).where(
            bubble_peers.c.bubble_id == bubble_id, bubble_peers.c.peer_id == peer_id
        )
    )


def link(conn: Connection, bubble_id: str, peer_id: str) -> Link | None:
    row = conn.execute(
        select(bubble_peers).where(
            bubble_peers.c.bubble_id == bubble_id, bubble_peers.c.peer_id == peer_id
        )
    ).first()
    return _link(row) if row else None


def links(conn: Connection, peer_id: str | None = None) -> list[Link]:
    statement = select(bubble_peers).order_by(bubble_peers.c.peer_id, bubble_peers.c.bubble_id)
    if peer_id is not None:
        statement = statement.where(bubble_peers.c.peer_id == peer_id)
    return [_link(row) for row in conn.execute(statement)]


def shared_with(conn: Connection, peer_id: str) -> list[str]:
    rows = conn.execute(select(bubble_peers.c.bubble_id).where(bubble_peers.c.peer_id == peer_id))
    return [row[0] for row in rows]


def update_link(conn: Connection, bubble_id: str, peer_id: str, **values: object) -> None:
    conn.execute(
        update(bubble_peers)
        .where(bubble_peers.c.bubble_id == bubble_id, bubble_peers.c.peer_id == peer_id)
        .values(**values)
    )


def advance(conn: Connection, bubble_id: str, peer_id: str, column: str, value: int) -> None:
    """Move a cursor forward to `value`; never back."""
    current = bubble_peers.c[column]
    conn.execute(
        update(bubble_peers)
        .where(
            bubble_peers.c.bubble_id == bubble_id,
            bubble_peers.c.peer_id == peer_id,
            or_(current.is_(None), current < value),
        )
        .values({column: value})
    )


def count_moved(
    conn: Connection, bubble_id: str, peer_id: str, column: str, moved: int, refused: int
) -> None:
    """Add to the link's counters of versions moved one way and refused."""
    conn.execute(
        update(bubble_peers)
        .where(bubble_peers.c.bubble_id == bubble_id, bubble_peers.c.peer_id == peer_id)
        .values(
            {
                column: bubble_peers.c[column] + moved,
                "refused": bubble_peers.c.refused + refused,
            }
        )
    )


# -- what a peer is sent ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutgoingVersion:
    added: int
    id: str
    version: int
    author_org_id: str
    origin_node: str | None
    tlp: int
    body: bytes


def outgoing(
    conn: Connection,
    collection_id: str,
    grant: ReadGrant,
    query: ObjectQuery,
    after: int | None,
    limit: int,
) -> list[OutgoingVersion]:
    """Up to `limit + 1` versions the peer's grant reads, in date_added order."""
    where = conditions(collection_id, grant, query)
    if after is not None:
        where.append(objects.c.added > after)
    rows = conn.execute(
        select(
            objects.c.added,
            objects.c.id,
            objects.c.version,
            objects.c.author_org_id,
            objects.c.origin_node,
            objects.c.tlp,
            objects.c.body,
        )
        .where(*where)
        .order_by(objects.c.added)
        .limit(limit + 1)
    )
    return [OutgoingVersion(*row) for row in rows]


def identities_of_orgs(conn: Connection, org_ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(org_ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(organizations.c.id, organizations.c.identity_id).where(
            organizations.c.id.in_(wanted)
        )
    )
    return {row.id: row.identity_id for row in rows}


def orgs_by_identity(conn: Connection, identities: Iterable[str]) -> dict[str, Organization]:
    wanted = sorted(set(identities))
    if not wanted:
        return {}
    found = orgs_where(conn, organizations.c.identity_id.in_(wanted))
    return {org.identity_id: org for org in found}


def origins_of(
    conn: Connection, collection_id: str, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], str | None]:
    """The origin node of stored versions (id, version), for applying deletions."""
    found: dict[tuple[str, int], str | None] = {}
    for object_id in sorted({k[0] for k in keys}):
        rows = conn.execute(
            select(objects.c.version, objects.c.origin_node).where(
                objects.c.collection_id == collection_id, objects.c.id == object_id
            )
        )
        for version, origin in rows:
            found[(object_id, version)] = origin
    return found


# -- deletions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deletion:
    seq: int
    collection_id: str
    object_id: str
    version: int
    origin_node: str | None  # None: this node's, signed when sent
    signature: bytes | None
    deleted: datetime


def add_deletions(conn: Connection, rows: Sequence[dict[str, object]]) -> None:
    if rows:
        conn.execute(insert(deletions), list(rows))


def deletions_after(
    conn: Connection, collection_id: str, after: int | None, limit: int
) -> list[Deletion]:
    statement = select(deletions).where(deletions.c.collection_id == collection_id)
    if after is not None:
        statement = statement.where(deletions.c.seq > after)
    rows = conn.execute(statement.order_by(deletions.c.seq).limit(limit))
    return [Deletion(*row) for row in rows]
