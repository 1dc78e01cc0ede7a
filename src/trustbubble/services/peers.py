"""Peer nodes: adding them, the credentials each side issues, sharing bubbles with them.

See docs/federation.md. The credential a peer issued us is kept encrypted (AES-GCM, with a key
derived from the node key), so a copy of the database alone does not let anyone act as us.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection

from trustbubble.domain.bubbles import Bubble
from trustbubble.domain.errors import Conflict, Invalid, NotFound
from trustbubble.domain.federation import Descriptor, NodeKey, key_text, read_key
from trustbubble.services import audit, secrets
from trustbubble.services.federation import PEER_CREDENTIAL_PREFIX
from trustbubble.settings import Settings
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import federation as store
from trustbubble.store.database import Database
from trustbubble.store.federation import Peer

DESCRIPTOR_PATH = "/federation/v1/node"

# Reads a peer's public descriptor: GET of an absolute URL, the JSON answer.
FetchJson = Callable[[str], Any]


def fetch_json(url: str) -> Any:
    """GET a peer's public JSON, with an error naming the address when it cannot."""
    try:
        response = httpx2.get(url, timeout=15.0, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except httpx2.HTTPError as error:
        raise Invalid("url", f"cannot read {url} ({error})") from None
    except ValueError:
        raise Invalid("url", f"{url} did not answer with JSON: is it a TrustBubble node?") from None


def descriptor(settings: Settings, key: NodeKey, base_url: str) -> Descriptor:
    """This node's descriptor; its address is the public URL, else the one it was reached at."""
    root = (settings.public_url or base_url).rstrip("/")
    return Descriptor(
        key.node_id, settings.node_name, settings.node_country, key.public_text, root + "/taxii2/"
    )


def _cipher(key: NodeKey) -> AESGCM:
    return AESGCM(key.secret_for("peer-credentials"))


def seal(key: NodeKey, peer_id: str, token: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _cipher(key).encrypt(nonce, token.encode(), peer_id.encode())


def unseal(key: NodeKey, peer: Peer) -> str | None:
    """The credential the peer issued us, or None if there is none (or not for this key)."""
    if not peer.outbound_token:
        return None
    sealed = peer.outbound_token
    try:
        return _cipher(key).decrypt(sealed[:12], sealed[12:], peer.id.encode()).decode()
    except InvalidTag:
        return None


@dataclass(frozen=True, slots=True)
class Added:
    peer: Peer
    new: bool
    credential: str | None  # ours for the peer, shown once when first issued


def add(
    db: Database,
    key: NodeKey,
    actor: str,
    url: str,
    public_key: str,
    token: str | None,
    fetch: FetchJson = fetch_json,
) -> Added:
    """Add a peer, or update its address and credential: its descriptor must carry `public_key`."""
    pinned = key_text(read_key(public_key))
    base = url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise Invalid("url", "a peer's address starts with http:// or https://")
    if token is not None and not token.startswith(PEER_CREDENTIAL_PREFIX):
        raise Invalid("token", f"a peer's credential starts with {PEER_CREDENTIAL_PREFIX!r}")
    found = Descriptor.read(fetch(base + DESCRIPTOR_PATH))
    if found.public_key != pinned:
        raise Invalid(
            "key", f"the node at {base} has the key {found.public_key}, not the one given"
        )
    if found.id == key.node_id:
        raise Invalid("url", f"{base} is this node")
    now = datetime.now(UTC)
    credential = None
    with db.write() as conn:
        existing = store.peer_by_id(conn, found.id)
        sealed = seal(key, found.id, token) if token else None
        if existing is None:
            store.insert_peer(
                conn,
                Peer(found.id, found.name, found.country, base, pinned, sealed, None, now, None),
            )
        else:
            values: dict[str, object] = {"url": base, "name": found.name, "country": found.country}
            if sealed is not None:
                values["outbound_token"] = sealed
            store.update_peer(conn, found.id, **values)
        if not store.has_credential(conn, found.id):
            credential = _issue(conn, found.id)
        audit.record(conn, actor, "peer.added" if existing is None else "peer.updated", found.id)
        peer = store.peer_by_id(conn, found.id)
    assert peer is not None
    return Added(peer, existing is None, credential)


def _issue(conn: Connection, peer_id: str) -> str:
    credential = PEER_CREDENTIAL_PREFIX + secrets.new_token().removeprefix(secrets.TOKEN_PREFIX)
    store.update_peer(
        conn,
        peer_id,
        credential_hash=secrets.token_hash(credential),
        credential_prefix=credential[:12],
    )
    return credential


def new_credential(db: Database, actor: str, ref: str) -> tuple[Peer, str]:
    """Issue the peer a new credential; the old one stops working at once."""
    with db.write() as conn:
        peer = _find(conn, ref)
        credential = _issue(conn, peer.id)
        audit.record(conn, actor, "peer.credential", peer.id)
    return peer, credential


def find(db: Database, ref: str) -> Peer:
    with db.read() as conn:
        return _find(conn, ref)


def _find(conn: Connection, ref: str) -> Peer:
    """A peer by node id, name or address."""
    wanted = ref.strip().rstrip("/")
    for peer in store.all_peers(conn):
        if wanted in (peer.id, peer.name, peer.url):
            return peer
    raise NotFound(f"no peer {ref!r} (give its node id, name or address; `peer list` shows them)")


def all_peers(db: Database) -> list[Peer]:
    with db.read() as conn:
        return store.all_peers(conn)


def share(db: Database, actor: str, bubble: Bubble, ref: str) -> Peer:
    """Share a bubble homed here with a peer that hosts one of its members."""
    with db.write() as conn:
        peer = _find(conn, ref)
        if bubble.home_node is not None:
            raise Conflict(
                f"{bubble.name} is homed on node {bubble.home_node}: only its home node shares it"
            )
        hosted = {org.id for org in store.hosted_by(conn, peer.id)}
        members = {m.org_id for m in bubble_store.memberships_of(conn, bubble.id)}
        if not hosted & members:
            raise Conflict(
                f"{peer.name} hosts no member of {bubble.name}: invite one of its organizations "
                "first (`peer list` shows what it hosts once it has synced)"
            )
        if store.share(conn, bubble.id, peer.id, datetime.now(UTC)):
            audit.record(conn, actor, "bubble.shared", bubble.id, peer=peer.id)
    return peer
