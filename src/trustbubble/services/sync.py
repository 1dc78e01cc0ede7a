"""Sync with peer nodes over TAXII 2.1: mirror, pull, push, deletions (docs/federation.md).

Each step stores what it moved with its cursor in one transaction, so a node killed mid-sync
resumes from the last page it stored, and a replayed page changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import orjson
from sqlalchemy import Connection

from trustbubble.domain import access
from trustbubble.domain.access import Reader
from trustbubble.domain.accounts import Organization, OrgKind
from trustbubble.domain.bubbles import Bubble, BubbleKind, BubbleRole, Membership, MembershipState
from trustbubble.domain.errors import Invalid, NotFound
from trustbubble.domain.federation import NodeKey
from trustbubble.domain.timestamps import format_timestamp, parse_timestamp
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import audit, bubbles, federation, peers
from trustbubble.services.bubbles import CollectionAccess
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import federation as store
from trustbubble.store.accounts import org_by_id, org_by_name
from trustbubble.store.database import Database
from trustbubble.store.federation import Link, Peer
from trustbubble.store.objects import ObjectQuery, VersionFilter

log = logging.getLogger(__name__)

TAXII = "application/taxii+json;version=2.1"
PAGE = 1000
EVERY_VERSION = ObjectQuery(versions=VersionFilter(all=True))
FIRST_RETRY = timedelta(seconds=1)
HOLD_ATTEMPTS = 5  # syncs in a row a page refused for now is read again before the refusal stands
LAST_RETRY = timedelta(minutes=5)

# Opens an HTTP client for a peer's base address (tests hand in in-process clients).
Connect = Callable[[str], AbstractContextManager[httpx2.Client]]


def connect(url: str) -> httpx2.Client:
    return httpx2.Client(base_url=url, timeout=60.0)


class SyncError(Exception):
    """A peer did not answer as a TAXII peer should: the link's status records it."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Outcome:
    peer: str
    bubble: str | None
    received: int = 0
    sent: int = 0
    refused: int = 0
    deleted: int = 0
    error: str | None = None
    details: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Session:
    """One peer's link: the client with our credential, and who we are."""

    db: Database
    key: NodeKey
    peer: Peer
    client: httpx2.Client
    actor: str

    def get(self, path: str, **params: Any) -> httpx2.Response:
        return self._checked(self.client.get(path, params=params, headers=self._headers()))

    def post(self, path: str, body: bytes, content_type: str = TAXII) -> httpx2.Response:
        headers = {**self._headers(), "Content-Type": content_type}
        return self._checked(self.client.post(path, content=body, headers=headers))

    def _headers(self) -> dict[str, str]:
        token = peers.unseal(self.key, self.peer)
        if token is None:
            raise SyncError(f"no credential from {self.peer.name}: `peer add ... --token` sets it")
        return {"Authorization": f"Bearer {token}", "Accept": TAXII}

    def _checked(self, response: httpx2.Response) -> httpx2.Response:
        if response.status_code >= 400:
            try:
                detail = response.json().get("description") or response.text[:200]
            except ValueError:
                detail = response.text[:200]
            raise SyncError(
                f"{self.peer.name} answered {response.status_code} to "
                f"{response.request.method} {response.request.url.path}: {detail}",
                response.status_code,
            )
        return response


def run(
    db: Database,
    key: NodeKey,
    connect_to: Connect = connect,
    *,
    peer_ref: str | None = None,
    force: bool = False,
    quiet_seconds: float = 0.0,
) -> list[Outcome]:
    """Sync every link once (or one peer's): those waiting out a retry unless `force`.

    `quiet_seconds` skips links attempted that recently (by another worker process)."""
    outcomes: list[Outcome] = []
    every = peers.all_peers(db)
    if peer_ref is not None:
        wanted = peers.find(db, peer_ref)
        every = [p for p in every if p.id == wanted.id]
    for peer in every:
        if peers.unseal(key, peer) is None:
            outcomes.append(Outcome(peer.name, None, error="no credential from this peer yet"))
            continue
        with connect_to(peer.url) as client:
            session = Session(db, key, peer, client, f"sync with {peer.name}")
            try:
                mirror(session)
            except (SyncError, httpx2.HTTPError, Invalid, ValueError, KeyError, TypeError) as error:
                # ValueError, KeyError, TypeError: an answer that is not the JSON a peer sends.
                outcomes.append(Outcome(peer.name, None, error=str(error)))
                with db.read() as conn:
                    peer_links = store.links(conn, peer.id)
                for link in peer_links:
                    _failed(db, link, str(error))
                continue
            with db.read() as conn:
                peer_links = store.links(conn, peer.id)
            now = datetime.now(UTC)
            for link in peer_links:
                if not force and link.retry_at is not None and link.retry_at > now:
                    continue
                recent = now - timedelta(seconds=quiet_seconds)
                if quiet_seconds and link.last_attempt is not None and link.last_attempt > recent:
                    continue
                outcomes.append(sync_link(session, link))
    return outcomes


# -- mirroring what the peer hosts and shares -----------------------------------------------------


def mirror(session: Session) -> None:
    """Mirror the peer's organizations and the bubbles it shares with us; send our answers."""
    orgs = session.get("/federation/v1/organizations").json()
    bubbles = session.get("/federation/v1/bubbles").json()
    if not isinstance(orgs, dict) or not isinstance(orgs.get("organizations"), list):
        raise SyncError(f"{session.peer.name} sent no list of organizations")
    if not isinstance(bubbles, dict) or not isinstance(bubbles.get("bubbles"), list):
        raise SyncError(f"{session.peer.name} sent no list of bubbles")
    answers: dict[str, list[dict[str, object]]] = {}
    with session.db.write() as conn:
        for item in orgs["organizations"]:
            _mirror_org(conn, session.peer.id, item)
        for item in bubbles["bubbles"]:
            answers[item["id"]] = _mirror_bubble(conn, session.peer, item)
    for bubble_id, given in answers.items():
        if given:
            session.post(
                f"/federation/v1/bubbles/{bubble_id}/answers",
                orjson.dumps(given),
                "application/json",
            )


def _mirror_org(conn: Connection, node_id: str, item: dict[str, Any]) -> None:
    try:
        org = Organization(
            id=item["id"],
            name=_free_name(conn, item["id"], item["name"], node_id),
            kind=OrgKind(item["kind"]),
            country=item["country"],
            parent_id=item.get("parent"),
            identity_id=item["identity"],
            created=datetime.fromisoformat(item["created"]),
            node_id=node_id,
        )
    except (KeyError, ValueError, TypeError) as error:
        raise SyncError(f"a mirrored organization is malformed: {error}") from None
    if org.parent_id is not None and not _org_exists(conn, org.parent_id):
        org = replace(org, parent_id=None)
    store.put_remote_org(conn, org)
    store.set_remote_identities(conn, org.id, item.get("people") or [])


def _org_exists(conn: Connection, org_id: str) -> bool:
    return org_by_id(conn, org_id) is not None


def _free_name(conn: Connection, org_id: str, name: str, node_id: str) -> str:
    """The peer's name for it, unless one of ours has that name: then with its node's."""
    holder = org_by_name(conn, name)
    if holder is None or holder.id == org_id:
        return name
    return f"{name} ({node_id[6:14]})"


def _mirror_bubble(conn: Connection, peer: Peer, item: dict[str, Any]) -> list[dict[str, object]]:
    """Mirror a bubble homed on the peer; the answers our organizations gave and it lacks."""
    try:
        bubble = Bubble(
            id=item["id"],
            name=item["name"],
            kind=BubbleKind(item["kind"]),
            charter=item["charter"],
            default_tlp=TlpLevel.parse(item["default_tlp"]),
            created=datetime.fromisoformat(item["created"]),
            home_node=peer.id,
        )
    except (KeyError, ValueError, TypeError, Invalid) as error:
        raise SyncError(f"a mirrored bubble is malformed: {error}") from None
    existing = bubble_store.bubble_by_id(conn, bubble.id)
    holder = bubble_store.bubble_by_name(conn, bubble.name)
    if holder is not None and holder.id != bubble.id:
        bubble = replace(bubble, name=f"{bubble.name} ({peer.name})")
    if existing is None:
        bubble_store.insert_bubble(conn, bubble)
    elif existing.home_node != peer.id:
        raise SyncError(f"{peer.name} shares bubble {bubble.id}, which is not homed there")
    else:
        bubble_store.update_bubble(conn, bubble)
    store.share(conn, bubble.id, peer.id, datetime.now(UTC))
    ours = {org.id for org in store.hosted_by(conn, None)}
    answers: list[dict[str, object]] = []
    for member in item.get("members") or []:
        org_id = member["org"]
        org = org_by_id(conn, org_id)
        if org is None:
            continue  # hosted on a node we do not peer with
        state = MembershipState(member["state"])
        local = bubble_store.membership(conn, bubble.id, org_id)
        if (
            org_id in ours
            and state is MembershipState.INVITED
            and local is not None
            and local.state in (MembershipState.ACTIVE, MembershipState.DECLINED)
        ):
            # Answered here, not yet there: keep our answer and send it home.
            answers.append({"org": org_id, "accept": local.state is MembershipState.ACTIVE})
            continue
        now = datetime.now(UTC)
        bubble_store.put_membership(
            conn,
            Membership(
                bubble.id,
                org_id,
                BubbleRole(member["role"]),
                state,
                local.invited if local else now,
                local.responded if local else None,
            ),
        )
        # Members hosted on a third node we peer with: sync with it directly too, so what is
        # not re-shareable (AMBER, RED) reaches it from its origin, not through the home.
        third = org.node_id
        if third is not None and third != peer.id and state is MembershipState.ACTIVE:
            store.share(conn, bubble.id, third, datetime.now(UTC))
    return answers


# -- one link: pull, push, deletions ---------------------------------------------------------------


def _collection(bubble_id: str) -> str:
    return f"/taxii2/bubbles/collections/{bubble_id}/objects/"


def sync_link(session: Session, link: Link) -> Outcome:
    outcome = Outcome(session.peer.name, link.bubble_id)
    db = session.db
    with db.write() as conn:
        store.update_link(conn, link.bubble_id, link.peer_id, last_attempt=datetime.now(UTC))
    ours = _standing(db, link.bubble_id)
    if ours is access.Standing.NONE:
        outcome.details.append("waiting: no organization of this node is an active member yet")
        return outcome
    try:
        where = _where(session, link.bubble_id)
    except NotFound:
        outcome.details.append(f"waiting: {session.peer.name} hosts no active member yet")
        return outcome
    theirs = where.standing
    if (link.our_standing, link.their_standing) != (int(ours), int(theirs)):
        # What either side may receive or send changed (an observer made member): start both
        # directions over; the versions already held are duplicates and change nothing.
        with db.write() as conn:
            store.update_link(
                conn,
                link.bubble_id,
                link.peer_id,
                pull_cursor=None,
                push_cursor=None,
                our_standing=int(ours),
                their_standing=int(theirs),
            )
        link = replace(link, pull_cursor=None, push_cursor=None)
    try:
        try:
            _pull(session, link, where, outcome)
        except SyncError as error:
            if (
                error.status != 404
                or where.bubble is None
                or where.bubble.home_node == session.peer.id
            ):
                raise
            # A member's node that has not mirrored the bubble from its home yet.
            outcome.details.append(f"waiting: {session.peer.name} does not share it yet")
            return outcome
        _push(session, link, where, outcome)
        _pull_deletions(session, link, where, outcome)
    except (SyncError, httpx2.HTTPError, Invalid, NotFound, ValueError) as error:
        outcome.error = str(error)
        _failed(db, link, outcome.error)
        log.warning(
            "sync of bubble %s with %s failed: %s", link.bubble_id, session.peer.name, error
        )
        return outcome
    with db.write() as conn:
        store.update_link(
            conn,
            link.bubble_id,
            link.peer_id,
            last_success=datetime.now(UTC),
            last_error=None,
            failures=0,
            retry_at=None,
        )
    return outcome


def _failed(db: Database, link: Link, error: str) -> None:
    """Record the error and when to try again: the wait doubles, from 1 s up to 5 minutes."""
    wait = min(FIRST_RETRY * (2 ** min(link.failures, 20)), LAST_RETRY)
    with db.write() as conn:
        store.update_link(
            conn,
            link.bubble_id,
            link.peer_id,
            last_error=error[:2000],
            failures=link.failures + 1,
            retry_at=datetime.now(UTC) + wait,
        )


def _standing(db: Database, bubble_id: str) -> access.Standing:
    """How the organizations this node hosts stand in the bubble: NONE, nothing to move."""
    with db.read() as conn:
        ours = federation.peer_scope(conn, None)
        roles = bubble_store.active_roles(conn, bubble_id)
    return access.peer_standing(ours, roles)


def _where(session: Session, bubble_id: str) -> CollectionAccess:
    """The bubble as the peer may see it here: what it may be sent, and that it may send."""
    with session.db.read() as conn:
        scope = federation.peer_scope(conn, session.peer.id)
        return bubbles.collection_access(conn, scope.as_reader(), bubble_id)


def _held_back(hold: bool, count: int, where: str) -> None:
    """Objects refused for now stop the link before its cursor passes them: the next sync
    mirrors again first, then reads them again. After HOLD_ATTEMPTS the refusal stands."""
    if hold and count:
        raise SyncError(
            f"{count} object(s) refused for now: {where} does not yet know their author as a "
            "member of the bubble; they are sent again after the next mirror"
        )


def _pull(session: Session, link: Link, where: CollectionAccess, outcome: Outcome) -> None:
    """Read the peer's pages from our cursor on, each stored with its cursor.

    The first request says `added_after` (which tells the peer we hold everything before it);
    the next page is asked for by the envelope's `next` while this one is checked and stored, so
    the peer's signing and our checking overlap (docs/benchmarks.md, Federation sync).
    """
    cursor = link.pull_cursor
    hold = link.failures < HOLD_ATTEMPTS
    path = _collection(link.bubble_id)
    params: dict[str, Any] = {"match[version]": "all", "limit": PAGE}
    if cursor is not None:
        params["added_after"] = format_timestamp(cursor)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trustbubble-pull") as ahead:
        coming: Future[httpx2.Response] | None = ahead.submit(session.get, path, **params)
        while coming is not None:
            response = coming.result()
            coming = None
            envelope = response.json()
            more = bool(envelope.get("more"))
            if more and envelope.get("next"):
                following = {"match[version]": "all", "limit": PAGE, "next": envelope["next"]}
                coming = ahead.submit(session.get, path, **following)
            cursor = _take_page(session, link, where, outcome, response, envelope, hold)
            if cursor is None or not more:
                return
            if coming is None:  # more, without a `next`: ask after what we hold
                following = {"match[version]": "all", "limit": PAGE}
                following["added_after"] = format_timestamp(cursor)
                coming = ahead.submit(session.get, path, **following)


def _take_page(
    session: Session,
    link: Link,
    where: CollectionAccess,
    outcome: Outcome,
    response: httpx2.Response,
    envelope: dict[str, Any],
    hold: bool,
) -> int | None:
    """Check and store one pulled page with its cursor; the cursor, None if it was empty."""
    items = envelope.get("objects") or []
    if not items:
        return None
    last = response.headers.get("X-TAXII-Date-Added-Last")
    if not last:
        raise SyncError(f"{session.peer.name} sent a page without X-TAXII-Date-Added-Last")
    cursor = parse_timestamp(last)
    status = federation.receive(
        session.db,
        session.key,
        session.peer.id,
        session.actor,
        where,
        items,
        federation.Cursor(link.bubble_id, link.peer_id, "pull_cursor", cursor, hold),
    )
    outcome.received += status.success_count - status.duplicate_count
    outcome.refused += len(status.failures)
    outcome.details.extend(d.message or d.id for d in status.failures)
    with session.db.write() as conn:
        store.update_link(conn, link.bubble_id, link.peer_id, newest_moved=cursor)
    _held_back(hold, sum(d.retry for d in status.failures), "this node")
    return cursor


def _push(session: Session, link: Link, where: CollectionAccess, outcome: Outcome) -> None:
    """Send the peer what it may receive of ours and hasn't had: from our push cursor on."""
    cursor = link.push_cursor
    hold = link.failures < HOLD_ATTEMPTS
    while True:
        page = federation.outgoing_page(
            session.db, session.key, session.actor, where, EVERY_VERSION, cursor, PAGE
        )
        if not page.items:
            return
        body = b'{"objects":[' + b",".join(item.body or b"{}" for item in page.items) + b"]}"
        status = session.post(_collection(link.bubble_id), body).json()
        cursor = page.items[-1].added
        refused = int(status.get("failure_count", 0))
        sent = int(status.get("success_count", 0))
        outcome.sent += sent
        outcome.refused += refused
        for failure in status.get("failures") or []:
            outcome.details.append(str(failure.get("message") or failure.get("id")))
        retry = sum(bool(f.get("x_trustbubble_retry")) for f in status.get("failures") or [])
        with session.db.write() as conn:
            if not (hold and retry):
                store.advance(conn, link.bubble_id, link.peer_id, "push_cursor", cursor)
            store.count_moved(conn, link.bubble_id, link.peer_id, "sent", sent, 0)
            if refused:
                audit.record(
                    conn,
                    session.actor,
                    "federation.refused_by_peer",
                    link.bubble_id,
                    peer=link.peer_id,
                    failures=status.get("failures"),
                )
        _held_back(hold, retry, session.peer.name)
        if not page.more:
            return


def _pull_deletions(
    session: Session, link: Link, where: CollectionAccess, outcome: Outcome
) -> None:
    cursor = link.deletions_cursor
    while True:
        params: dict[str, Any] = {"limit": PAGE}
        if cursor is not None:
            params["after"] = cursor
        page = session.get(
            f"/federation/v1/collections/{link.bubble_id}/deletions", **params
        ).json()
        last = page.get("last")
        if last is None or last == cursor:
            return
        deleted, refused = federation.apply_deletions(
            session.db,
            session.peer.id,
            session.actor,
            link.bubble_id,
            page,
            federation.Cursor(link.bubble_id, link.peer_id, "deletions_cursor", int(last)),
        )
        outcome.deleted += deleted
        outcome.refused += refused
        cursor = int(last)
        if not page.get("more"):
            return


# -- status ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """Where the sync of one bubble with one peer stands, for `sync status`, its page, /metrics."""

    peer_id: str
    peer: str
    bubble_id: str
    bubble: str
    home: str  # "here" or the peer's name
    last_success: datetime | None
    lag_seconds: float | None  # since the last complete sync; None if there was none
    received: int
    sent: int
    refused: int
    failures: int
    last_error: str | None
    retry_at: datetime | None

    def to_json(self) -> dict[str, object]:
        return {
            "peer_id": self.peer_id,
            "peer": self.peer,
            "bubble_id": self.bubble_id,
            "bubble": self.bubble,
            "home": self.home,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "lag_seconds": self.lag_seconds,
            "received": self.received,
            "sent": self.sent,
            "refused": self.refused,
            "failures": self.failures,
            "last_error": self.last_error,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
        }


def _sees(conn: Connection, reader: Reader, bubble_id: str) -> bool:
    try:
        bubbles.collection_access(conn, reader, bubble_id)
    except NotFound:
        return False
    return True


def status(db: Database, reader: Reader | None = None) -> list[LinkStatus]:
    """Every link (for operators), or those of the bubbles `reader` may see (for people)."""
    now = datetime.now(UTC)
    with db.read() as conn:
        names = {p.id: p.name for p in store.all_peers(conn)}
        out = []
        for link in store.links(conn):
            bubble = bubble_store.bubble_by_id(conn, link.bubble_id)
            if bubble is None or (reader is not None and not _sees(conn, reader, bubble.id)):
                continue
            home = "here" if bubble.home_node is None else names.get(bubble.home_node, "?")
            lag = (now - link.last_success).total_seconds() if link.last_success else None
            out.append(
                LinkStatus(
                    link.peer_id,
                    names.get(link.peer_id, link.peer_id),
                    bubble.id,
                    bubble.name,
                    home,
                    link.last_success,
                    lag,
                    link.received,
                    link.sent,
                    link.refused,
                    link.failures,
                    link.last_error,
                    link.retry_at,
                )
            )
    return out
