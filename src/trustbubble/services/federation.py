"""Federation, the serving side: who a peer is, what it is sent and may send.

See docs/federation.md.

Both directions of sync end here: a page a peer pulls is made by `outgoing_page()` and a page a
peer pushes, or one this node pulled, is taken by `receive()`, which checks every object's
signature, origin, author and marking before storing the page in one transaction with its cursor.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from trustbubble.domain import access
from trustbubble.domain.access import PeerScope, Reader, Standing
from trustbubble.domain.accounts import Organization, UserRole
from trustbubble.domain.bubbles import Bubble, MembershipState
from trustbubble.domain.errors import Invalid, NotFound, Unauthenticated
from trustbubble.domain.federation import (
    NodeKey,
    canonical,
    deletion_statement,
    provenance_of,
    read_key,
    verify,
    verify_object,
    without_provenance,
)
from trustbubble.domain.tlp import TlpLevel, level_of, red_recipients
from trustbubble.services import audit, secrets
from trustbubble.services.bubbles import CollectionAccess
from trustbubble.services.objects import (
    Page,
    Status,
    StatusDetail,
    StoredVersion,
    now_us,
    prepare,
    save_status,
)
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import federation as store
from trustbubble.store import objects as object_store
from trustbubble.store.database import Database
from trustbubble.store.objects import NewVersion, ObjectQuery

PEER_CREDENTIAL_PREFIX = "tbp_"


def looks_like_peer_credential(secret: str) -> bool:
    return secret.startswith(PEER_CREDENTIAL_PREFIX) and len(secret) > 40


def peer_scope(conn: Connection, node_id: str | None) -> PeerScope:
    """The organizations a node hosts as the policy sees them; None: this node."""
    hosted = store.hosted_by(conn, node_id)
    chains = tuple(account_store.org_chain(conn, org.id) for org in hosted)
    identities = {org.identity_id for org in hosted}
    if node_id is None:
        identities |= {
            u.identity_id
            for u in account_store.users_of(conn, [o.id for o in hosted], list(UserRole))
        }
    else:
        identities |= store.remote_identities_of(conn, [org.id for org in hosted])
    return PeerScope(node_id or "", chains, frozenset(identities))


def peer_reader(db: Database, credential: str) -> tuple[Reader, str]:
    """The reader of a peer node presenting the credential this node issued it."""
    with db.read() as conn:
        peer = store.peer_by_credential(conn, secrets.token_hash(credential))
        if peer is None:
            raise Unauthenticated("unknown or withdrawn peer credential")
        scope = peer_scope(conn, peer.id)
    return scope.as_reader(), f"peer {peer.name} ({peer.id})"


# -- what a peer is sent --------------------------------------------------------------------------


def outgoing_page(
    db: Database,
    key: NodeKey,
    actor: str,
    where: CollectionAccess,
    query: ObjectQuery,
    after: int | None,
    limit: int,
    *,
    with_body: bool = True,
) -> Page:
    """A page of what the peer may receive, ours signed on the way out.

    The link's push cursor says up to where the peer holds what we have: pushed, or
    acknowledged by the `added_after` of its own pulls (it stores a page with its cursor). A
    pull starts after it, so nothing crosses twice; a pull without `added_after` starts over.
    """
    peer = where.grant.peer_node
    if peer is not None and after is None:
        with db.write() as conn:
            if query.added_after is None:
                # A pull from the start (a new link, or one whose standing changed): serve all.
                store.update_link(conn, where.id, peer, push_cursor=None)
            else:
                store.advance(conn, where.id, peer, "push_cursor", query.added_after)
    with db.read() as conn:
        held = store.link(conn, where.id, peer) if peer is not None else None
        if held is not None and held.push_cursor is not None:
            query = replace(query, added_after=max(query.added_after or 0, held.push_cursor))
        rows = store.outgoing(conn, where.id, where.grant, query, after, limit)
        more = len(rows) > limit
        rows = rows[:limit]
        authors = store.identities_of_orgs(conn, {r.author_org_id for r in rows})
    items = []
    for row in rows:
        body: bytes | None = None
        if with_body:
            body = (
                row.body if row.origin_node else _signed(key, row.body, authors[row.author_org_id])
            )
        items.append(StoredVersion(row.added, row.id, row.version, body))
    sensitive = [row.id for row in rows if row.tlp >= TlpLevel.AMBER_STRICT]
    if sensitive:
        with db.write() as conn:
            audit.record(conn, actor, "objects.sent", where.id, ids=sorted(set(sensitive)))
    return Page(items, more)


def _signed(key: NodeKey, body: bytes, author: str) -> bytes:
    return orjson.dumps(key.sign_object(orjson.loads(body), author), option=orjson.OPT_SORT_KEYS)


# -- what a peer sends -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cursor:
    """A link's cursor to move in the transaction that stores the page it covers."""

    bubble_id: str
    peer_id: str
    column: str  # pull_cursor or deletions_cursor
    value: int | None
    # Keep the cursor where it was when an object is refused for now (`StatusDetail.retry`),
    # so that the page is read again once our mirror has caught up.
    hold: bool = False


def receive(
    db: Database,
    key: NodeKey,
    sender: str,
    actor: str,
    where: CollectionAccess,
    objects: Sequence[Any],
    cursor: Cursor | None = None,
) -> Status:
    """Check and store a page of objects from the peer node `sender`, in one transaction.

    Each object must carry a provenance whose signature verifies with its origin's key; its
    author must be an organization its origin hosts and a member of the bubble (as the home
    node has it; an observer writes only its own identity); what came through a node other than
    its origin must be re-shareable; and this node must host some of its audience. A refused
    object is listed with its reason and recorded in the audit log.
    """
    if where.bubble is None:
        raise NotFound(f"no collection {where.id}")
    gate = _Gate.of(db, key, sender, where.bubble, objects)
    # A status names its poster by a 36-character id: the node id without its prefix.
    status = Status(str(uuid.uuid4()), where.id, sender.removeprefix("node--"), datetime.now(UTC))
    ready: list[NewVersion] = []
    successes: dict[int, str] = {}
    verdicts = gate.verify_all(objects)
    for index, obj in enumerate(objects):
        checked = gate.check(index, obj, verdicts.get(index))
        if isinstance(checked, StatusDetail):
            status.failures.append(checked)
            continue
        successes[checked.index] = orjson.dumps({"id": checked.id, "version": _label(obj)}).decode()
        ready.append(checked)
    with db.write() as conn:
        outcome = object_store.insert_versions(conn, where.id, sender, ready, now_us())
        for new in outcome.conflicts:
            status.failures.append(
                StatusDetail(
                    new.id,
                    "",
                    f"object {new.index} ({new.id}): this version is already stored with other "
                    "content",
                )
            )
        stored = sorted(new.index for new in outcome.stored + outcome.duplicates)
        status.success_count = len(stored)
        status.duplicate_count = len(outcome.duplicates)
        status.successes_json = ("[" + ",".join(successes[i] for i in stored) + "]").encode()
        save_status(conn, status)
        held = any(detail.retry for detail in status.failures)
        if cursor is not None and cursor.value is not None and not (held and cursor.hold):
            store.advance(conn, cursor.bubble_id, cursor.peer_id, cursor.column, cursor.value)
        store.count_moved(
            conn, where.id, sender, "received", len(outcome.stored), len(status.failures)
        )
        audit.record(
            conn,
            actor,
            "federation.received",
            where.id,
            sender=sender,
            stored=len(outcome.stored),
            duplicates=len(outcome.duplicates),
            refused=len(status.failures),
        )
        if status.failures:
            audit.record(
                conn,
                actor,
                "federation.refused",
                where.id,
                sender=sender,
                refusals=[d.to_json() for d in status.failures],
            )
    return status


def _label(obj: dict[str, Any]) -> str:
    version = obj.get("modified") or obj.get("created") or ""
    return version if isinstance(version, str) else ""


@dataclass(frozen=True, slots=True)
class _Gate:
    """What decides whether an object from a peer may be stored here."""

    key: NodeKey
    sender: str
    bubble: Bubble
    origins: dict[str, Ed25519PublicKey]
    authors: dict[str, Organization]
    standing: dict[str, Standing]  # of each author, in the bubble
    here: access.ReadGrant  # what this node's organizations may read of the bubble

    @classmethod
    def of(
        cls, db: Database, key: NodeKey, sender: str, bubble: Bubble, objects: Sequence[Any]
    ) -> _Gate:
        named = []
        for obj in objects:
            try:
                provenance = provenance_of(obj) if isinstance(obj, dict) else None
            except Invalid:
                provenance = None
            if provenance is not None:
                named.append(provenance.author)
        with db.read() as conn:
            origins = {p.id: read_key(p.public_key) for p in store.all_peers(conn)}
            authors = store.orgs_by_identity(conn, named)
            roles = bubble_store.active_roles(conn, bubble.id)
            standing = {
                org.id: access.standing(account_store.org_chain(conn, org.id), roles)
                for org in authors.values()
            }
            ours = peer_scope(conn, None)
        here = access.peer_grant(ours, access.peer_standing(ours, roles), shared=True)
        return cls(key, sender, bubble, origins, authors, standing, here)

    def _may_write(self, author: Organization, obj: dict[str, Any]) -> bool:
        """Did the author stand in the bubble as one who writes into it?

        The home node's memberships decide. What it sends, it took under them; ours are a mirror
        refreshed when we sync, which may not have caught up yet, and a refusal would be for
        good (the cursors move on). An observer writes one object: the identity that joining
        put in the bubble (docs/access-policy.md).
        """
        if self.sender == self.bubble.home_node:
            return True
        standing = self.standing[author.id]
        own_identity = obj.get("type") == "identity" and obj.get("id") == author.identity_id
        return standing is Standing.MEMBER or (standing is Standing.OBSERVER and own_identity)

    def verify_all(self, objects: Sequence[Any]) -> dict[int, bool]:
        """Each signature that can be checked, checked in two threads at once (libsodium
        lets go of the interpreter while it works): index -> verifies."""
        work: list[tuple[int, Ed25519PublicKey, bytes, bytes]] = []
        for index, obj in enumerate(objects):
            try:
                provenance = provenance_of(obj) if isinstance(obj, dict) else None
                if provenance is None or provenance.origin_node not in self.origins:
                    continue
                data = canonical(without_provenance(obj))
            except (Invalid, rfc8785.CanonicalizationError):
                continue  # check() names the problem
            work.append((index, self.origins[provenance.origin_node], data, provenance.signature))

        def run(part: list[tuple[int, Ed25519PublicKey, bytes, bytes]]) -> dict[int, bool]:
            return {index: verify(key, data, signature) for index, key, data, signature in part}

        if len(work) < 64:
            return run(work)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="trustbubble-verify") as pool:
            halves = pool.map(run, (work[0::2], work[1::2]))
            return {index: good for half in halves for index, good in half.items()}

    def check(self, index: int, obj: Any, verdict: bool | None = None) -> NewVersion | StatusDetail:
        """The object ready to store, or the refusal naming why it may not be; `verdict` is
        its signature's, when `verify_all()` checked it."""

        def refuse(reason: str) -> StatusDetail:
            found = obj.get("id") if isinstance(obj, dict) else None
            name = found if isinstance(found, str) else f"(object {index} without an id)"
            version = _label(obj) if isinstance(obj, dict) else ""
            return StatusDetail(name, version, f"object {index} ({name}): {reason}")

        def held(reason: str) -> StatusDetail:
            return replace(refuse(reason + " (as this node knows; send it again)"), retry=True)

        if not isinstance(obj, dict):
            return refuse("not a JSON object")
        try:
            provenance = provenance_of(obj)
        except Invalid as error:
            return refuse(f"{error.field}: {error.reason}")
        if provenance is None:
            return refuse("it carries no provenance: a node signs what it sends")
        origin = provenance.origin_node
        if origin == self.key.node_id:
            return refuse("it was written on this node and comes back")
        if origin not in self.origins:
            return refuse(f"its origin {origin} is not a peer of this node")
        try:
            good = verdict
            if good is None:
                good = verify_object(self.origins[origin], obj, provenance.signature)
        except rfc8785.CanonicalizationError as error:
            return refuse(f"it cannot be put in canonical form ({error})")
        if not good:
            return refuse(f"the signature of {origin} does not verify: it was altered or forged")
        author = self.authors.get(provenance.author)
        # Both refusals below may only mean that our mirror of the origin's organizations or
        # of the home's memberships lags: the sender keeps the object and sends it again.
        if author is None or author.node_id != origin:
            return held(f"its author {provenance.author} is no organization {origin} hosts")
        if not self._may_write(author, obj):
            return held(f"its author {author.name} is not a member of the bubble")
        level = level_of(obj, self.bubble.default_tlp)
        if origin != self.sender and level not in access.RESHAREABLE:
            return refuse(
                f"it came through {self.sender}, not its origin, and TLP:{level.label} "
                "may not be re-shared"
            )
        recipients = red_recipients(obj) if level is TlpLevel.RED else frozenset()
        if not self.here.allows(level, author.id, recipients):
            return refuse(f"TLP:{level.label} reaches no one this node hosts")
        prepared = prepare(obj, index, self.bubble.default_tlp)
        if isinstance(prepared, StatusDetail):
            return prepared
        prepared.author_org_id = author.id
        prepared.origin_node = origin
        return prepared


# -- what peers learn of each other ------------------------------------------------------------


def hosted_organizations(db: Database) -> list[dict[str, Any]]:
    """This node's organizations, as a peer mirrors them: no e-mail, no account."""
    with db.read() as conn:
        hosted = store.hosted_by(conn, None)
        people = account_store.users_of(conn, [org.id for org in hosted], list(UserRole))
    identities: dict[str, list[str]] = {}
    for user in people:
        identities.setdefault(user.org_id, []).append(user.identity_id)
    return [
        {
            "id": org.id,
            "name": org.name,
            "kind": org.kind.value,
            "country": org.country,
            "parent": org.parent_id,
            "identity": org.identity_id,
            "created": org.created.isoformat(),
            "people": sorted(identities.get(org.id, [])),
        }
        for org in hosted
    ]


def shared_bubbles(db: Database, peer: PeerScope) -> list[dict[str, Any]]:
    """The bubbles homed here and shared with the peer, with every membership."""
    with db.read() as conn:
        out = []
        for bubble_id in store.shared_with(conn, peer.node_id):
            bubble = bubble_store.bubble_by_id(conn, bubble_id)
            if bubble is None or bubble.home_node is not None:
                continue
            out.append(
                {
                    "id": bubble.id,
                    "name": bubble.name,
                    "kind": bubble.kind.value,
                    "charter": bubble.charter,
                    "default_tlp": bubble.default_tlp.label,
                    "created": bubble.created.isoformat(),
                    "members": [
                        {"org": m.org_id, "role": m.role.value, "state": m.state.value}
                        for m in bubble_store.memberships_of(conn, bubble.id)
                    ],
                }
            )
    return out


def take_answers(
    db: Database, peer: PeerScope, actor: str, bubble_id: str, answers: Any
) -> list[dict[str, str]]:
    """A peer's organizations accept or decline invitations to a bubble homed here."""
    if not isinstance(answers, list):
        raise Invalid("answers", "a list of {org, accept}")
    hosted = peer.org_ids
    applied = []
    with db.write() as conn:
        bubble = bubble_store.bubble_by_id(conn, bubble_id)
        if bubble is None or store.link(conn, bubble_id, peer.node_id) is None:
            raise NotFound(f"no bubble {bubble_id} shared with this peer")
        for n, answer in enumerate(answers):
            if not isinstance(answer, dict) or not isinstance(answer.get("accept"), bool):
                raise Invalid(f"answers[{n}]", "needs org and accept (true or false)")
            org_id = answer.get("org")
            if org_id not in hosted:
                raise Invalid(f"answers[{n}].org", "is not an organization the peer hosts")
            found = bubble_store.membership(conn, bubble_id, org_id)
            if found is None or found.state is not MembershipState.INVITED:
                continue
            state = MembershipState.ACTIVE if answer["accept"] else MembershipState.DECLINED
            bubble_store.set_state(conn, bubble_id, org_id, state, datetime.now(UTC))
            audit.record(conn, actor, f"membership.{state.value}", bubble_id, org=org_id)
            applied.append({"org": org_id, "state": state.value})
    return applied


# -- deletions ------------------------------------------------------------------------------------


def deletions_page(
    db: Database, key: NodeKey, where: CollectionAccess, after: int | None, limit: int
) -> dict[str, Any]:
    """Deletions in a bubble after a point, ours signed on the way out; never the peer's own."""
    peer = where.grant.peer_node
    with db.read() as conn:
        found = store.deletions_after(conn, where.id, after, limit + 1)
    more = len(found) > limit
    found = found[:limit]
    items = []
    for d in found:
        origin = d.origin_node or key.node_id
        if origin == peer:
            continue
        signature = d.signature or key.sign(
            deletion_statement(d.collection_id, d.object_id, d.version, origin)
        )
        items.append(
            {
                "seq": d.seq,
                "id": d.object_id,
                "version": d.version,
                "origin_node": origin,
                "signature": base64.b64encode(signature).decode(),
            }
        )
    last = found[-1].seq if found else after
    return {"deletions": items, "more": more, "last": last}


def apply_deletions(
    db: Database,
    sender: str,
    actor: str,
    collection_id: str,
    page: Any,
    cursor: Cursor,
) -> tuple[int, int]:
    """Apply a page of deletions from a peer: each signed by the origin of what it deletes, and
    only to versions that came from that origin. Returns (deleted, refused)."""
    items = page.get("deletions") if isinstance(page, dict) else None
    if not isinstance(items, list):
        raise Invalid("deletions", "the peer's answer has no list of deletions")
    with db.read() as conn:
        origins = {p.id: read_key(p.public_key) for p in store.all_peers(conn)}
    good: list[tuple[str, str, int, bytes]] = []
    refused: list[str] = []
    for item in items:
        try:
            origin, object_id, version = item["origin_node"], item["id"], int(item["version"])
            signature = base64.b64decode(item["signature"], validate=True)
        except (KeyError, TypeError, ValueError):
            refused.append(f"malformed deletion {item!r:.80}")
            continue
        public = origins.get(origin)
        statement = deletion_statement(collection_id, object_id, version, origin)
        if public is None or not verify(public, statement, signature):
            refused.append(f"deletion of {object_id} not signed by its origin {origin}")
            continue
        good.append((origin, object_id, version, signature))
    deleted = 0
    with db.write() as conn:
        now = datetime.now(UTC)
        for origin, object_id, version, signature in good:
            gone = object_store.delete_exact(conn, collection_id, [(object_id, version)], origin)
            if not gone:
                continue
            deleted += 1
            row = {
                "collection_id": collection_id,
                "object_id": object_id,
                "version": version,
                "origin_node": origin,
                "signature": signature,
                "deleted": now,
            }
            store.add_deletions(conn, [row])
        if cursor.value is not None:
            store.advance(conn, cursor.bubble_id, cursor.peer_id, cursor.column, cursor.value)
        if deleted or refused:
            audit.record(
                conn,
                actor,
                "federation.deletions",
                collection_id,
                sender=sender,
                deleted=deleted,
                refused=refused,
            )
    return deleted, len(refused)
