"""Random federations for the TLP-on-the-wire property test, their oracle, and building them.

A world is three or four nodes, each hosting one to three organizations (some in the
constituency of another on the same node), peered in pairs (a full mesh, a star, or any pairs);
one or two bubbles, each homed on a node and owned by an organization it hosts, with members and
observers invited from that node and its peers, who accept, decline or leave the invitation open;
answering in two waves (the second once the federation settled after the first); and indicators
posted on the nodes where their authors (full members) live, before the answers or right after
each wave, with a random TLP marking (2.0 or 1.0 ids) or none (the bubble's default), and RED
recipients naming organizations or people.

The oracle is plain Python over the world, written from docs/federation.md ("Who lives where",
"Signed objects", "TLP on the wire") and the TLP table of DESIGN.md section 4: it does not ask
trustbubble.domain.access, on purpose. A bubble travels between its home node and the peers it
was shared with (each hosts an invited organization), and between two of those peers that peer
with each other and both host an active member ("Sync"); an object moves from its origin over
such a link, or onward from another node when it is CLEAR or GREEN, to a node that knows the
origin (a peer of it).
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from httpx2 import Response
from hypothesis import strategies as st
from sqlalchemy import delete, text, update

from tests.federation_nodes import Federation, Node
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind, BubbleRole
from trustbubble.domain.federation import PROVENANCE_EXTENSION_ID
from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID, TlpLevel
from trustbubble.services import bubbles, peers, sync
from trustbubble.services import node as node_service
from trustbubble.store import tables
from trustbubble.store.accounts import org_by_name
from trustbubble.store.database import Database

# --- the oracle's own words ---

CLEAR, GREEN, AMBER, AMBER_STRICT, RED = "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"
LEVELS = (CLEAR, GREEN, AMBER, AMBER_STRICT, RED)
# Standing, weakest first (docs/access-policy.md, "Standing").
NONE, OBSERVER_CONSTITUENT, OBSERVER, MEMBER_CONSTITUENT, MEMBER = range(5)
# Who reads each level (DESIGN.md section 4): the weakest standing that does; RED by name only.
THRESHOLD = {CLEAR: OBSERVER_CONSTITUENT, GREEN: OBSERVER_CONSTITUENT}
THRESHOLD |= {AMBER: MEMBER_CONSTITUENT, AMBER_STRICT: MEMBER}
# docs/federation.md: only these may pass through a node other than their origin.
PASSED_ON = (CLEAR, GREEN)
# The OASIS ids: TLP 2.0 (FIRST's extension) and TLP 1.0 (STIX 2.1 section 7.2.1.4).
TLP2_IDS = {
    CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_IDS = {
    CLEAR: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",  # WHITE
    GREEN: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    AMBER: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    RED: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
# A post's marking as drawn: None for none (the bubble's default).
DRAWN_LEVELS = (AMBER, GREEN, RED, None, CLEAR, GREEN, AMBER, AMBER_STRICT, RED)
EARLY, PROMPT, LATE = "early", "prompt", "late"
PEOPLE = ("admin", "analyst")  # every organization has one of each

# --- what Hypothesis draws: indexes only; ids are made when the world is built ---


@dataclass(frozen=True)
class OrgSpec:
    node: int
    parent: int | None  # an organization drawn earlier on the same node


@dataclass(frozen=True)
class Seat:
    org: int
    role: str  # member or observer
    answer: str  # accept, decline, or none (the invitation stays open)
    wave: int = 1  # answered in the first wave, or in the second, once all settled


@dataclass(frozen=True)
class BubbleSpec:
    home: int
    owner: int  # an organization the home node hosts
    default: str  # the level of an object without a TLP marking
    seats: tuple[Seat, ...]  # organizations of the home node and of its peers


@dataclass(frozen=True)
class Post:
    bubble: int
    author: int  # an owner or member organization; its analyst posts on its node
    level: str | None  # None: no TLP marking, the bubble's default
    tlp1: bool  # marked with the TLP 1.0 id where there is one
    recipients: tuple[tuple[int, str | None], ...]  # (organization, None or one of its PEOPLE)
    # When: EARLY, by the owner before any invitation is answered; PROMPT, right after the
    # first wave of answers; LATE, right after the second; both before any node synced.
    when: str


@dataclass(frozen=True)
class World:
    nodes: int
    orgs: tuple[OrgSpec, ...]
    peerings: frozenset[tuple[int, int]]
    bubbles: tuple[BubbleSpec, ...]
    posts: tuple[Post, ...]

    # -- who lives where --

    def peered(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.peerings

    def hosted(self, node: int) -> list[int]:
        return [o for o, spec in enumerate(self.orgs) if spec.node == node]

    def chain(self, org: int) -> list[int]:
        found = [org]
        while (parent := self.orgs[found[-1]].parent) is not None:
            found.append(parent)
        return found

    def spokes(self, b: int) -> set[int]:
        """The peers the home node shared the bubble with: each hosts an invited organization."""
        bubble = self.bubbles[b]
        return {self.orgs[seat.org].node for seat in bubble.seats} - {bubble.home}

    def linked(self, b: int, x: int, y: int) -> bool:
        """Do these two nodes sync the bubble with each other? Its home with each peer it shared
        the bubble with; two of those that peer and both host an active member, directly."""
        home, spokes = self.bubbles[b].home, self.spokes(b)
        if x == y:
            return False
        if home in (x, y):
            return ({x, y} - {home}) <= spokes
        direct = {x, y} <= spokes and self.peered(x, y)
        return direct and self.hosts_member(x, b) and self.hosts_member(y, b)

    def hosts_member(self, node: int, b: int) -> bool:
        """Does the node host an organization active in the bubble (of any role)?"""
        return any(org in self.roles(b) for org in self.hosted(node))

    def in_star(self, b: int, node: int) -> bool:
        return node == self.bubbles[b].home or node in self.spokes(b)

    # -- standing and audience --

    def roles(self, b: int, wave: int = 2) -> dict[int, str]:
        """Active memberships after a wave of answers: the owner's, and the invitations accepted."""
        bubble = self.bubbles[b]
        active = {s.org: s.role for s in bubble.seats if s.answer == "accept" and s.wave <= wave}
        return {**active, bubble.owner: "owner"}

    def standing(self, org: int, b: int) -> int:
        roles = self.roles(b)
        best = NONE
        for depth, ancestor in enumerate(self.chain(org)):
            role = roles.get(ancestor)
            if role is None:
                continue
            full = role in ("owner", "member")
            if depth == 0:
                best = max(best, MEMBER if full else OBSERVER)
            else:
                best = max(best, MEMBER_CONSTITUENT if full else OBSERVER_CONSTITUENT)
        return best

    def writers(self, b: int, wave: int = 2) -> list[int]:
        return sorted(o for o, role in self.roles(b, wave).items() if role in ("owner", "member"))

    def joined_late(self, org: int, b: int) -> bool:
        return any(
            s.org == org and s.answer == "accept" and s.wave == 2 for s in self.bubbles[b].seats
        )

    def level(self, post: Post) -> str:
        return post.level or self.bubbles[post.bubble].default

    def origin(self, post: Post) -> int:
        return self.orgs[post.author].node

    def may_read(self, org: int, person: str, post: Post) -> bool:
        """Does this person of this organization read the post on a node that holds it?"""
        standing = self.standing(org, post.bubble)
        if standing == NONE:
            return False
        level = self.level(post)
        if level != RED:
            return standing >= THRESHOLD[level]
        named = (org, None) in post.recipients or (org, person) in post.recipients
        return org == post.author or named

    def audience_on(self, node: int, post: Post) -> bool:
        """Does the node host someone of the post's audience (docs/federation.md's table)?"""
        level = self.level(post)
        if level == RED:
            named = {org for org, _person in post.recipients} | {post.author}
            return any(self.orgs[org].node == node for org in named)
        threshold = THRESHOLD[level]
        return any(self.standing(org, post.bubble) >= threshold for org in self.hosted(node))

    def stands(self, node: int, b: int) -> bool:
        """Does the node host an organization with some standing? Else it takes no part."""
        return any(self.standing(org, b) > NONE for org in self.hosted(node))

    def may_cross(self, sender: int, receiver: int, post: Post) -> bool:
        """May the post go over the wire from one node to another?"""
        origin = self.origin(post)
        return (
            receiver != origin
            and self.linked(post.bubble, sender, receiver)
            and self.audience_on(receiver, post)
            and (sender == origin or self.level(post) in PASSED_ON)
        )

    def may_hold(self, node: int, post: Post) -> bool:
        """May the node store the post: its origin, or in its audience and reached by the rules
        of the wire, directly from the origin or, CLEAR and GREEN, through another node to a
        node that knows the origin?"""
        origin, b = self.origin(post), post.bubble
        if node == origin:
            return True
        if not self.audience_on(node, post):
            return False
        if self.linked(b, node, origin):
            return True
        relayed = self.in_star(b, node) and self.in_star(b, origin) and self.peered(node, origin)
        return relayed and self.level(post) in PASSED_ON

    def must_hold(self, node: int, post: Post) -> bool:
        """Must it have arrived? Every node that may hold it and takes part in the bubble (the
        home node, which hosts the owner, passes CLEAR and GREEN on to the others)."""
        if node == self.origin(post):
            return True
        return self.may_hold(node, post) and self.stands(node, post.bubble)


# --- drawing a world ---


@st.composite
def worlds(draw: st.DrawFn) -> World:
    nodes = draw(st.sampled_from((3, 3, 3, 4)))
    orgs: list[OrgSpec] = []
    for node in range(nodes):
        first = len(orgs)
        for _ in range(draw(st.integers(1, 3))):
            here = range(first, len(orgs))
            parent = draw(st.none() | st.sampled_from(here)) if here else None
            orgs.append(OrgSpec(node, parent))
    # Often a full mesh, so that objects have somewhere to go, through the home node too; else a
    # star (its tips know only the centre), or any pairs.
    pairs = list(combinations(range(nodes), 2))
    shape = draw(st.sampled_from(("mesh", "star", "mesh", "pairs")))
    centre = draw(st.integers(0, nodes - 1))
    chosen = [
        pair
        for pair in pairs
        if shape == "mesh"
        or (shape == "star" and centre in pair)
        or (shape == "pairs" and draw(st.booleans()))
    ]
    peerings = frozenset(chosen or [draw(st.sampled_from(pairs))])
    world = World(nodes, tuple(orgs), peerings, (), ())
    bubbles = []
    for _ in range(draw(st.integers(1, 2))):
        home = draw(st.integers(0, nodes - 1))
        owner = draw(st.sampled_from(world.hosted(home)))
        near = [o for o, spec in enumerate(orgs) if o != owner and world.peered(spec.node, home)]
        near += [o for o in world.hosted(home) if o != owner]
        seats = []
        for org in near:
            role = draw(st.sampled_from(("member", "observer", None, "observer", "member")))
            if role is not None:
                answer = draw(st.sampled_from(("accept", "accept", "accept", "decline", "none")))
                seats.append(Seat(org, role, answer, draw(st.sampled_from((1, 1, 2)))))
        # Most bubbles reach every peer of their home: objects then have a third node to be
        # passed on to, or kept from.
        if draw(st.sampled_from((True, True, False))):
            for peer in range(nodes):
                there = [o for o in world.hosted(peer) if o != owner]
                if world.peered(home, peer) and not {s.org for s in seats} & set(there):
                    seats.append(Seat(draw(st.sampled_from(there)), "member", "accept"))
        default = draw(st.sampled_from(LEVELS))
        bubbles.append(BubbleSpec(home, owner, default, tuple(seats)))
    world = World(nodes, tuple(orgs), peerings, tuple(bubbles), ())
    people = st.none() | st.sampled_from(PEOPLE)
    posts = []
    for b in range(len(bubbles)):
        # Recipients in the bubble most of the time: RED then has somewhere to go.
        inside = sorted(world.roles(b)) + [seat.org for seat in bubbles[b].seats]
        named = st.sampled_from(inside) | st.sampled_from(inside) | st.integers(0, len(orgs) - 1)
        for _ in range(draw(st.integers(3, 10))):
            when = draw(st.sampled_from((LATE, EARLY, PROMPT)))
            writers = world.writers(b, {EARLY: 0, PROMPT: 1, LATE: 2}[when])
            # Authors on the bubble's peers most of the time: their objects travel furthest.
            away = [o for o in writers if orgs[o].node != bubbles[b].home]
            author = draw(st.sampled_from(away if away and not draw(st.booleans()) else writers))
            level = draw(st.sampled_from(DRAWN_LEVELS))
            recipients = draw(st.lists(st.tuples(named, people), max_size=2, unique=True))
            posts.append(Post(b, author, level, draw(st.booleans()), tuple(recipients), when))
    return World(nodes, tuple(orgs), peerings, tuple(bubbles), tuple(posts))


def showcase() -> World:
    """A world drawn by hand, run first, in which every rule of the wire has work to do.

    N0 peers with N1, N2 and N3, and N1 with N3. Bubble 0, homed on N0, has members on N1 and
    N3 and an observer on N2: what N1 writes reaches N0 and N3 directly, and N3 through N0 too
    if CLEAR or GREEN; N2 refuses that (it does not know N1) and is never sent AMBER. Two
    constituents join it later, on N0 and N1, and write at once. Bubble 1
    is homed on N1, with N0 a member; N3 is shared it but takes no part (one of its organizations
    declined, the other, named on RED, has not answered), so nothing goes there.
    """
    orgs = (
        OrgSpec(0, None),  # 0: owns bubble 0
        OrgSpec(0, 0),  # 1: in 0's constituency, joins bubble 0 later
        OrgSpec(1, None),  # 2: member of bubble 0, owns bubble 1
        OrgSpec(1, 2),  # 3: in 2's constituency, joins bubble 0 later
        OrgSpec(2, None),  # 4: observer of bubble 0
        OrgSpec(3, None),  # 5: member of bubble 0, declined to observe bubble 1
        OrgSpec(3, None),  # 6: declined bubble 0, has not answered bubble 1
        OrgSpec(3, 5),  # 7: in 5's constituency
    )
    seats = (
        Seat(2, "member", "accept"),
        Seat(4, "observer", "accept"),
        Seat(5, "member", "accept"),
        Seat(6, "member", "decline"),
        Seat(1, "member", "accept", 2),
        Seat(3, "member", "accept", 2),
    )
    bubbles = (
        BubbleSpec(0, 0, AMBER, seats),
        BubbleSpec(
            1,
            2,
            GREEN,
            (
                Seat(0, "member", "accept"),
                Seat(5, "observer", "decline"),
                Seat(6, "member", "none"),
            ),
        ),
    )
    posts = (
        Post(0, 2, GREEN, False, (), LATE),
        Post(0, 2, CLEAR, True, (), LATE),
        Post(0, 2, AMBER, False, (), LATE),
        Post(0, 2, None, False, (), LATE),
        Post(0, 2, AMBER_STRICT, False, (), LATE),
        Post(0, 2, RED, False, ((5, "analyst"),), LATE),
        Post(0, 0, RED, False, ((4, None), (3, "admin")), EARLY),
        Post(0, 0, AMBER, True, ((4, None),), PROMPT),
        Post(0, 5, GREEN, False, (), LATE),
        Post(0, 1, GREEN, False, (), LATE),
        Post(0, 1, AMBER_STRICT, False, ((4, None),), LATE),
        Post(0, 3, AMBER, True, ((0, None),), LATE),
        Post(1, 2, AMBER, False, (), LATE),
        Post(1, 2, GREEN, False, (), LATE),
        Post(1, 0, RED, False, ((6, None),), LATE),
    )
    peerings = frozenset({(0, 1), (0, 2), (0, 3), (1, 3)})
    return World(4, orgs, peerings, bubbles, posts)


# --- the wire, as a tap on each node's client ---


@dataclass(frozen=True)
class Crossing:
    """One object sent from one node to another: pulled by the receiver or pushed to it."""

    bubble_id: str
    sender: str  # node name
    receiver: str
    object_id: str
    origin_node: str | None  # as its provenance says


class Tap:
    """A node's client as one peer reaches it, noting every object that crosses either way.

    It stands in for the httpx client a sync session calls `get` and `post` on.
    """

    def __init__(self, caller: Node, callee: Node, crossings: list[Crossing]) -> None:
        self.caller, self.callee, self.crossings = caller, callee, crossings

    def get(self, path: str, **kwargs: Any) -> Response:
        response = self.callee.client.get(path, **kwargs)
        if response.status_code == 200 and path.endswith("/objects/"):
            self._note(path, self.callee, self.caller, response.json().get("objects") or [])
        return response

    def post(self, path: str, **kwargs: Any) -> Response:
        if path.endswith("/objects/"):
            body = orjson.loads(kwargs["content"])
            self._note(path, self.caller, self.callee, body.get("objects") or [])
        return self.callee.client.post(path, **kwargs)

    def _note(self, path: str, sender: Node, receiver: Node, objects: list[Any]) -> None:
        bubble_id = path.rstrip("/").split("/")[-2]
        for obj in objects:
            provenance = obj.get("extensions", {}).get(PROVENANCE_EXTENSION_ID, {})
            self.crossings.append(
                Crossing(
                    bubble_id, sender.name, receiver.name, obj["id"], provenance.get("origin_node")
                )
            )


class TappedFederation(Federation):
    """A federation whose sync calls go through taps, so the test sees what each node sends."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.crossings: list[Crossing] = []
        self._caller: Node | None = None

    def connect(self, url: str) -> contextlib.AbstractContextManager[Any]:
        assert self._caller is not None, "only a node's sync reaches its peers"
        callee = self.nodes[f"http://{urlsplit(url).netloc}"]
        return contextlib.nullcontext(Tap(self._caller, callee, self.crossings))

    def sync(self, node: Node) -> list[sync.Outcome]:
        """Sync one node; the only error allowed is an object refused for now (a mirror lags)."""
        self._caller = node
        try:
            outcomes = sync.run(node.db, node.key, self.connect, force=True)
        finally:
            self._caller = None
        errors = [o.error for o in outcomes if o.error and "refused for now" not in o.error]
        assert not errors, errors
        return outcomes

    def settle_until_quiet(self, most: int = 6) -> int:
        """Sync every node in turn until a round moves nothing and holds nothing back; that
        round is the proof. Returns the rounds it took."""
        for rounds in range(1, most + 1):
            outcomes = [o for node in list(self.nodes.values()) for o in self.sync(node)]
            if not any(o.received or o.sent or o.error for o in outcomes):
                return rounds
        busy = [o for o in outcomes if o.received or o.sent or o.error]
        raise AssertionError(f"still moving after {most} rounds: {busy}")


# --- building it ---


@dataclass
class Built:
    world: World
    federation: TappedFederation
    nodes: list[Node]
    org_names: list[str]
    identities: dict[tuple[int, str | None], str] = field(default_factory=dict)
    bubble_ids: list[str] = field(default_factory=list)
    posted: dict[str, Post] = field(default_factory=dict)  # object id -> what it is

    def email(self, org: int, person: str) -> str:
        return f"{person}@org{org}.test"


def empty(db: Database) -> None:
    """Empty a store reused across examples, as if just migrated, with the node's objects."""
    with db.write() as conn:
        if db.is_sqlite:
            conn.execute(update(tables.organizations).values(parent_id=None))
            for table in reversed(tables.metadata.sorted_tables):
                conn.execute(delete(table))
        else:
            names = ", ".join(f'"{t.name}"' for t in tables.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names}"))
    node_service.publish(db)


@contextlib.contextmanager
def federation_of(world: World, first: Database, template: Path, tmp: Path) -> Iterator[Built]:
    """The world's nodes (the first on `first`, the others on copies of a migrated SQLite store),
    with their organizations, people and peerings, each node having mirrored its peers'."""
    stores = [first]
    with contextlib.ExitStack() as stack:
        for n in range(1, world.nodes):
            shutil.copyfile(template, tmp / f"N{n}.sqlite3")
            database = Database(f"sqlite:///{tmp / f'N{n}.sqlite3'}")
            stack.callback(database.dispose)
            node_service.publish(database)
            stores.append(database)
        federation = TappedFederation(tmp)
        stack.callback(federation.close)
        nodes = [federation.add(f"N{n}", stores[n]) for n in range(world.nodes)]
        built = Built(world, federation, nodes, [f"Org {o}" for o in range(len(world.orgs))])
        for o, spec in enumerate(world.orgs):
            node = nodes[spec.node]
            parent = None if spec.parent is None else built.org_names[spec.parent]
            node.add_org(built.org_names[o], "cert", "NL", parent)
            built.identities[o, None] = _org_identity(node, built.org_names[o])
            for person in PEOPLE:
                user = node.add_user(built.email(o, person), built.org_names[o], UserRole(person))
                built.identities[o, person] = user.identity_id
        for a, b in sorted(world.peerings):
            federation.peer(nodes[a], nodes[b])
        for node in nodes:
            federation.sync(node)
        yield built


def _org_identity(node: Node, name: str) -> str:
    with node.db.read() as conn:
        org = org_by_name(conn, name)
    assert org is not None
    return org.identity_id


def indicator(built: Built, post: Post, n: int) -> dict[str, Any]:
    """The STIX indicator of a post: its marking as drawn, its recipients whatever the level."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-28T08:00:00.000Z",
        "modified": "2026-11-28T08:00:00.000Z",
        "name": f"Post {n}",
        "pattern": f"[domain-name:value = 'post-{n}.example']",
        "pattern_type": "stix",
        "valid_from": "2026-11-28T08:00:00Z",
    }
    if post.level is not None:
        ids = TLP1_IDS if post.tlp1 and post.level in TLP1_IDS else TLP2_IDS
        obj["object_marking_refs"] = [ids[post.level]]
    if post.recipients:
        obj["extensions"] = {
            RED_RECIPIENTS_EXTENSION_ID: {
                "extension_type": "property-extension",
                "recipients": [built.identities[r] for r in post.recipients],
            }
        }
    return obj


def populate(built: Built) -> None:
    """Bubbles homed, invitations sent, shared and answered in two waves, objects posted before
    and right after each wave, then synced until a round of every node moves nothing."""
    world, nodes, federation = built.world, built.nodes, built.federation
    for b, spec in enumerate(world.bubbles):
        home = nodes[spec.home]
        owner = built.org_names[spec.owner]
        bubble = bubbles.create_bubble(
            home.db,
            f"Bubble {b}",
            BubbleKind.BILATERAL,
            owner,
            default_tlp=TlpLevel.parse(spec.default),
        )
        built.bubble_ids.append(bubble.id)
        owner_analyst = built.email(spec.owner, "analyst")
        for seat in spec.seats:
            name = built.org_names[seat.org]
            bubbles.invite(
                home.db, home.users[owner_analyst][0], bubble.id, name, BubbleRole(seat.role)
            )
        for spoke in sorted(world.spokes(b)):
            peers.share(home.db, "operator", bubble, nodes[spoke].url)
    _post(built, EARLY)
    for node in nodes:  # the spokes mirror the bubbles and their invitations
        federation.sync(node)
    _answer(built, 1)
    _post(built, PROMPT)
    federation.settle_until_quiet()  # the answers go home, and the memberships out again
    _answer(built, 2)
    _post(built, LATE)
    federation.settle_until_quiet()


def _answer(built: Built, wave: int) -> None:
    """The admins of the invited organizations answer, on their own nodes."""
    for b, spec in enumerate(built.world.bubbles):
        for seat in spec.seats:
            if seat.answer == "none" or seat.wave != wave:
                continue
            node = built.nodes[built.world.orgs[seat.org].node]
            admin = node.users[built.email(seat.org, "admin")][0]
            bubbles.respond(node.db, admin, built.bubble_ids[b], accept=seat.answer == "accept")


def _post(built: Built, when: str) -> None:
    """Each author's posts of this phase, in one envelope per author and bubble."""
    batches: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for n, post in enumerate(built.world.posts):
        if post.when != when:
            continue
        obj = indicator(built, post, n)
        built.posted[obj["id"]] = post
        batches.setdefault((post.bubble, post.author), []).append(obj)
    for (b, author), objects in batches.items():
        node = built.nodes[built.world.orgs[author].node]
        status = node.post(built.email(author, "analyst"), built.bubble_ids[b], objects)
        assert status["success_count"] == len(objects), status
