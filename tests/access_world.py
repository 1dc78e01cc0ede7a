"""The random worlds of the access property test, their oracle, and building them on a node.

A world is organizations in a forest of constituencies, bubbles with memberships in every state,
users of every role, and objects (indicators, IPv4 addresses, incidents, relationships) with random
TLP markings and RED recipients. The oracle is plain Python over the generated world, written from
DESIGN.md section 4: it does not ask trustbubble.domain.access, on purpose.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from trustbubble.domain.accounts import Organization, User, UserRole
from trustbubble.domain.bubbles import Bubble, BubbleKind, BubbleRole, Membership, MembershipState
from trustbubble.domain.incidents import read_report, to_stix
from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID, TlpLevel
from trustbubble.services import accounts, bubbles
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import tables
from trustbubble.store.database import Database

TAXII = "application/taxii+json;version=2.1"
COLLECTIONS = "/taxii2/bubbles/collections/"

# The oracle's own copy of the levels and of the OASIS marking-definition ids (TLP 2.0 from the
# FIRST extension, TLP 1.0 from STIX 2.1 section 7.2.1.4), ordered from widest to narrowest.
CLEAR, GREEN, AMBER, AMBER_STRICT, RED = range(5)
CLEAR_MARKING = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP2 = {
    CLEAR_MARKING: CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": RED,
}
TLP1 = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": CLEAR,  # WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": RED,
}
TLP_MARKINGS = {**TLP2, **TLP1}
# A marking that is not TLP (a statement, say): it must not change the level.
OTHER_MARKING = "marking-definition--0b7a2b3c-7e7b-4c59-9a8e-5d3c1f0e2a41"

FULL = (BubbleRole.OWNER, BubbleRole.MEMBER)
WRITERS = (UserRole.ADMIN, UserRole.ANALYST)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CREATED_US = (datetime(2020, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)

# A small pool of observable values, so that objects of every bubble hold the same ones and
# correlation ("also seen in", search) has something to find and something to hide.
VALUES = ("203.0.113.1", "203.0.113.2", "203.0.113.3")
COUNTRIES = ("FR", "KE", "BR")
ATTACKS = ("ransomware", "ddos", "wiper")


# --- the world Hypothesis draws: indexes only; ids are made when it is built on the node ---


@dataclass(frozen=True)
class OrgSpec:
    parent: int | None  # an organization drawn earlier, so parents form a forest
    users: tuple[UserRole, ...]


@dataclass(frozen=True)
class Seat:
    """An organization's membership of a bubble while objects are shared, and afterwards."""

    role: BubbleRole
    state: MembershipState
    later_role: BubbleRole
    later_state: MembershipState


@dataclass(frozen=True)
class Report:
    """What the incident list and the observatory count of an incident version."""

    country: str
    attack_type: str
    patients: int
    month: int  # of 2019


@dataclass(frozen=True)
class VersionSpec:
    modified: int  # microseconds after CREATED_US; unused for SCOs, which have no version
    poster: int  # index into World.users
    marking_refs: tuple[str, ...]
    granular_refs: tuple[str, ...]
    lang_granular: bool
    recipients: tuple[tuple[str, int], ...]  # ("org", i), ("user", j), ("stranger", 0)
    values: tuple[int, ...] = ()  # indexes into VALUES, for indicators and IPv4 addresses
    report: Report | None = None  # for incidents


@dataclass(frozen=True)
class ObjectSpec:
    key: int  # objects with one key share a STIX id: the same object shared in two bubbles
    kind: str  # "indicator", "incident", "relationship" (versioned) or "ipv4-addr" (an SCO)
    versions: tuple[VersionSpec, ...]
    ends: tuple[int, int] = (0, 0)  # a relationship's source and target: keys drawn earlier


@dataclass(frozen=True)
class BubbleSpec:
    owner: int
    default: int
    seats: tuple[tuple[int, Seat], ...]  # (organization, seat), the owner's included
    objects: tuple[ObjectSpec, ...]


@dataclass(frozen=True)
class World:
    orgs: tuple[OrgSpec, ...]
    bubbles: tuple[BubbleSpec, ...]
    page_limit: int
    public_reader: int  # the user who reads the public collection over TAXII, as anonymous does

    @property
    def users(self) -> list[tuple[int, UserRole]]:
        """Every user as (organization, role), in the order they are created."""
        return [(i, role) for i, org in enumerate(self.orgs) for role in org.users]


# Strategies are built once: Hypothesis spends much of its time making and checking them.
ROLES = (BubbleRole.MEMBER, BubbleRole.OBSERVER, BubbleRole.OWNER)
STATES = (
    MembershipState.ACTIVE,
    MembershipState.INVITED,
    MembershipState.DECLINED,
    MembershipState.LEFT,
)
CHANGES = ("none", "leave", "role", "join")
LEVELS = (AMBER, CLEAR, GREEN, AMBER_STRICT, RED)  # AMBER first: the usual bubble default
KINDS = ("indicator", "ipv4-addr", "incident", "indicator", "ipv4-addr", "incident", "relationship")
MARKINGS = st.lists(st.sampled_from([*sorted(TLP_MARKINGS), OTHER_MARKING]), max_size=2).map(tuple)
USER_ROLES = st.sampled_from(tuple(UserRole))
STAFF = st.tuples(USER_ROLES) | st.tuples(USER_ROLES, USER_ROLES)  # one or two users, evenly
# Who a RED recipient is: ("org" | "user", an index taken modulo their number) or a stranger.
RECIPIENTS = st.lists(
    st.tuples(st.sampled_from(("org", "user", "stranger")), st.integers(0, 13)), max_size=3
).map(tuple)
STAMPS = st.lists(st.integers(0, 10**12), min_size=1, max_size=3, unique=True)
VERSION_PARTS = st.tuples(st.integers(0, 1), MARKINGS, MARKINGS, st.booleans(), RECIPIENTS)
HELD = st.lists(st.integers(0, len(VALUES) - 1), min_size=1, max_size=2, unique=True).map(tuple)
REPORTS = st.builds(
    Report,
    st.sampled_from(COUNTRIES),
    st.sampled_from(ATTACKS),
    st.integers(0, 1000),
    st.integers(1, 4),
)
SEAT_PARTS = st.none() | st.tuples(
    st.sampled_from(STATES),
    st.sampled_from(ROLES),
    st.sampled_from(CHANGES),
    st.sampled_from(ROLES),
)


def seat_of(parts: tuple[MembershipState, BubbleRole, str, BubbleRole] | None) -> Seat | None:
    """A seat from its drawn parts: a state, a role, and what changes after the sharing."""
    if parts is None:
        return None
    state, role, change, other_role = parts
    later_role, later_state = role, state
    if state is MembershipState.ACTIVE and change == "leave":
        later_state = MembershipState.LEFT
    elif state is MembershipState.ACTIVE and change == "role":
        later_role = other_role
    elif state is not MembershipState.ACTIVE and change == "join":
        later_state = MembershipState.ACTIVE
    return Seat(role, state, later_role, later_state)


def _version(draw: st.DrawFn, kind: str, stamp: int, users: int, orgs: int) -> VersionSpec:
    poster, marking_refs, granular_refs, lang, named = draw(VERSION_PARTS)
    recipients = tuple((what, index % (orgs if what == "org" else users)) for what, index in named)
    values: tuple[int, ...] = ()
    if kind == "indicator":
        values = draw(HELD)
    elif kind == "ipv4-addr":
        values = (draw(st.integers(0, len(VALUES) - 1)),)
    report = draw(REPORTS) if kind == "incident" else None
    return VersionSpec(stamp, poster, marking_refs, granular_refs, lang, recipients, values, report)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    orgs: list[OrgSpec] = []
    for i in range(draw(st.integers(3, 7))):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        orgs.append(OrgSpec(parent, draw(STAFF)))
    users = [(i, role) for i, org in enumerate(orgs) for role in org.users]
    shared: list[ObjectSpec] = []  # objects of earlier bubbles, which may be shared again
    bubble_specs: list[BubbleSpec] = []
    for _ in range(draw(st.integers(1, 3))):
        owner = draw(st.integers(0, len(orgs) - 1))
        owner_seat = Seat(
            BubbleRole.OWNER, MembershipState.ACTIVE, BubbleRole.OWNER, MembershipState.ACTIVE
        )
        bubble_seats = [(owner, owner_seat)]
        for i in range(len(orgs)):
            seat = seat_of(draw(SEAT_PARTS)) if i != owner else None
            if seat is not None:
                bubble_seats.append((i, seat))
        roles = {i: s.role for i, s in bubble_seats if s.state is MembershipState.ACTIVE}
        writers = [
            j for j, (i, role) in enumerate(users) if role in WRITERS and roles.get(i) in FULL
        ]
        specs: list[ObjectSpec] = []
        keys_here: set[int] = set()
        for _ in range(draw(st.integers(0, 12)) if writers else 0):
            author = users[draw(st.sampled_from(writers))][0]
            posters = [j for j in writers if users[j][0] == author]
            again = [o for o in shared if o.key not in keys_here]
            earlier = draw(st.none() | st.sampled_from(again)) if again else None
            kind = earlier.kind if earlier else draw(st.sampled_from(KINDS))
            others = [o.key for o in (*shared, *specs) if o.kind != "relationship"]
            if kind == "relationship" and not others:
                kind = "indicator"
            key = earlier.key if earlier else len(shared) + len(specs)
            keys_here.add(key)
            ends = (0, 0)
            if kind == "relationship":
                pick = st.sampled_from(others)
                ends = earlier.ends if earlier else (draw(pick), draw(pick))
            stamps = draw(STAMPS)[: 1 if kind == "ipv4-addr" else 3]
            versions = [_version(draw, kind, stamp, len(users), len(orgs)) for stamp in stamps]
            versions = [
                VersionSpec(
                    v.modified,
                    posters[v.poster % len(posters)],
                    v.marking_refs,
                    v.granular_refs,
                    v.lang_granular,
                    v.recipients,
                    v.values,
                    v.report,
                )
                for v in versions
            ]
            specs.append(ObjectSpec(key, kind, tuple(versions), ends))
        default = draw(st.sampled_from(LEVELS))
        bubble_specs.append(BubbleSpec(owner, default, tuple(bubble_seats), tuple(specs)))
        shared.extend(specs)
    page_limit = draw(st.integers(2, 12))
    return World(tuple(orgs), tuple(bubble_specs), page_limit, draw(st.integers(0, len(users) - 1)))


# --- the oracle: DESIGN.md section 4 over the world, written without the node's policy ---


@dataclass(frozen=True)
class Fact:
    """One stored version, as the oracle sees it."""

    key: tuple[str, int]  # (STIX id, version in microseconds; 0 when unversioned)
    level: int
    author: int  # organization index
    recipients: frozenset[str]
    order: int  # when it was stored: date_added follows this order
    kind: str = "identity"
    values: frozenset[str] = frozenset()  # the observable values it holds
    report: Report | None = None
    ends: tuple[str, str] | None = None  # a relationship's source and target ids

    @property
    def id(self) -> str:
        return self.key[0]


def level_of(body: dict[str, Any], default: int) -> int:
    refs = list(body.get("object_marking_refs", []))
    refs += [m["marking_ref"] for m in body.get("granular_markings", []) if "marking_ref" in m]
    levels = [TLP_MARKINGS[ref] for ref in refs if ref in TLP_MARKINGS]
    return max(levels, default=default)


def ancestors(world: World, org: int) -> list[int]:
    found = []
    parent = world.orgs[org].parent
    while parent is not None:
        found.append(parent)
        parent = world.orgs[parent].parent
    return found


def final_roles(spec: BubbleSpec) -> dict[int, BubbleRole]:
    return {i: s.later_role for i, s in spec.seats if s.later_state is MembershipState.ACTIVE}


def invited(spec: BubbleSpec, org: int) -> bool:
    """The organization's own invitation is open: it may see the bubble's page, not its content."""
    return any(i == org and s.later_state is MembershipState.INVITED for i, s in spec.seats)


@dataclass(frozen=True)
class Standing:
    sees: bool  # member, observer, or in the constituency of one: CLEAR and GREEN
    amber: bool  # full member, or in the constituency of one
    strict: bool  # full member itself


def standing_of(world: World, spec: BubbleSpec, org: int) -> Standing:
    roles = final_roles(spec)
    own = roles.get(org)
    above = {roles[a] for a in ancestors(world, org) if a in roles}
    full = own in FULL
    return Standing(
        sees=own is not None or bool(above),
        amber=full or any(role in FULL for role in above),
        strict=full,
    )


def may_read(standing: Standing, fact: Fact, org: int, identities: frozenset[str]) -> bool:
    if not standing.sees:
        return False
    if fact.level in (CLEAR, GREEN):
        return True
    if fact.level == AMBER:
        return standing.amber
    if fact.level == AMBER_STRICT:
        return standing.strict
    return fact.author == org or not identities.isdisjoint(fact.recipients)


def may_write(standing: Standing, role: UserRole) -> bool:
    return standing.strict and role in WRITERS


def latest(facts: list[Fact]) -> dict[str, Fact]:
    """The latest version of each object of a bubble, readable or not (TAXII's `last`)."""
    found: dict[str, Fact] = {}
    for fact in facts:
        if fact.id not in found or fact.key[1] > found[fact.id].key[1]:
            found[fact.id] = fact
    return found


def once_each(facts: list[tuple[int, Fact]]) -> dict[str, tuple[int, Fact]]:
    """(bubble, version) of each object id, the one stored last when several bubbles hold it."""
    found: dict[str, tuple[int, Fact]] = {}
    for b, fact in sorted(facts, key=lambda item: item[1].order):
        found[fact.id] = (b, fact)
    return found


# --- building the world on the node ---


@dataclass
class Person:
    org: int
    role: UserRole
    user: User
    token: str
    identities: frozenset[str]  # the user's identity and their organization's

    @property
    def headers(self) -> dict[str, str]:
        return {"Accept": TAXII, "Authorization": f"Bearer {self.token}"}

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Built:
    orgs: list[Organization]
    people: list[Person]
    bubbles: list[Bubble]
    facts: list[list[Fact]] = field(default_factory=list)  # per bubble, every stored version
    mark: int = 0  # date_added of the newest version stored before this example


def stamp(us: int) -> str:
    return (EPOCH + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_of(body: dict[str, Any]) -> int:
    text = body.get("modified") or body.get("created")
    if text is None:
        return 0
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def _incident(report: Report, stix_id: str, modified: str, author: str) -> dict[str, Any]:
    """An incident as the node's form writes it, with the report's figures."""
    form = {
        "title": f"Incident {report.attack_type} in {report.country}",
        "started": f"2019-{report.month:02d}-15T08:00:00Z",
        "country": report.country,
        "attack_type": report.attack_type,
        "patients_affected": report.patients,
    }
    body = to_stix(
        read_report(form),
        object_id=stix_id,
        created=stamp(CREATED_US),
        modified=modified,
        author=author,
    )
    del body["object_marking_refs"]  # the version's own markings follow
    return body


def body_of(
    spec: ObjectSpec, version: VersionSpec, ids: dict[int, str], built: Built
) -> dict[str, Any]:
    stix_id = ids[spec.key]
    held = [VALUES[i] for i in version.values]
    modified = stamp(CREATED_US + version.modified)
    versioned = {"created": stamp(CREATED_US), "modified": modified}
    body: dict[str, Any] = {"type": spec.kind, "spec_version": "2.1", "id": stix_id}
    if spec.kind == "indicator":
        body |= versioned | {
            "pattern": " OR ".join(f"[ipv4-addr:value = '{value}']" for value in held),
            "pattern_type": "stix",
            "valid_from": "2020-01-01T00:00:00Z",
        }
        selector = "pattern"
    elif spec.kind == "incident":
        assert version.report is not None
        author = built.orgs[built.people[version.poster].org].identity_id
        body = _incident(version.report, stix_id, modified, author)
        selector = "name"
    elif spec.kind == "relationship":
        body |= versioned | {
            "relationship_type": "related-to",
            "source_ref": ids[spec.ends[0]],
            "target_ref": ids[spec.ends[1]],
        }
        selector = "relationship_type"
    else:
        body["value"] = held[0]
        selector = "value"
    if version.marking_refs:
        body["object_marking_refs"] = list(version.marking_refs)
    granular = [{"selectors": [selector], "marking_ref": ref} for ref in version.granular_refs]
    if version.lang_granular:
        granular.append({"selectors": [selector], "lang": "en"})
    if granular:
        body["granular_markings"] = granular
    if version.recipients:  # the node refuses the extension with an empty list
        named = []
        for what, index in version.recipients:
            if what == "org":
                named.append(built.orgs[index].identity_id)
            elif what == "user":
                named.append(built.people[index].user.identity_id)
            else:
                named.append(f"identity--{uuid.uuid4()}")
        body.setdefault("extensions", {})[RED_RECIPIENTS_EXTENSION_ID] = {
            "extension_type": "property-extension",
            "recipients": named,
        }
    return body


def recipients_of(body: dict[str, Any]) -> frozenset[str]:
    extension = body.get("extensions", {}).get(RED_RECIPIENTS_EXTENSION_ID, {})
    return frozenset(extension.get("recipients", []))


def build(db: Database, client: TestClient, world: World) -> Built:
    prefix = uuid.uuid4().hex[:12]
    with db.read() as conn:
        mark = conn.execute(select(func.max(tables.objects.c.added))).scalar_one_or_none() or 0
    orgs: list[Organization] = []
    for i, org_spec in enumerate(world.orgs):
        parent = None if org_spec.parent is None else orgs[org_spec.parent].name
        orgs.append(accounts.create_org(db, f"{prefix} org {i}", "cert", "FR", parent))
    people: list[Person] = []
    for j, (i, role) in enumerate(world.users):
        user, _ = accounts.create_user(
            db, f"u{j}-{prefix}@example.test", orgs[i].name, role, "a long test password"
        )
        _token, secret = accounts.create_token(db, user)
        identities = frozenset({user.identity_id, orgs[i].identity_id})
        people.append(Person(i, role, user, secret, identities))
    built = Built(orgs, people, [], mark=mark)
    ids = {obj.key: f"{obj.kind}--{uuid.uuid4()}" for spec in world.bubbles for obj in spec.objects}
    order = 0
    for b, spec in enumerate(world.bubbles):
        bubble, joined = _create_bubble(db, spec, orgs, f"{prefix} bubble {b}")
        built.bubbles.append(bubble)
        facts = []
        # Every organization active at the bubble's creation shares its identity, GREEN.
        for i in joined:
            order += 1
            created = int(orgs[i].created.timestamp()) * 1_000_000
            facts.append(Fact((orgs[i].identity_id, created), GREEN, i, frozenset(), order))
        envelopes: dict[int, list[dict[str, Any]]] = {}
        for obj in spec.objects:
            for version in obj.versions:
                body = body_of(obj, version, ids, built)
                envelopes.setdefault(version.poster, []).append(body)
                ends = (ids[obj.ends[0]], ids[obj.ends[1]]) if obj.kind == "relationship" else None
                fact = Fact(
                    (body["id"], version_of(body)),
                    level_of(body, spec.default),
                    people[version.poster].org,
                    recipients_of(body),
                    0,
                    obj.kind,
                    frozenset(VALUES[i] for i in version.values),
                    version.report,
                    ends,
                )
                facts.append(fact)
        # Versions are stored in the order they are posted: by poster, then in the envelope.
        stored = {fact.key: fact for fact in facts[len(joined) :]}
        for poster, items in envelopes.items():
            response = client.post(
                f"{COLLECTIONS}{bubble.id}/objects/",
                content=orjson.dumps({"objects": items}),
                headers={**people[poster].headers, "Content-Type": TAXII},
            )
            assert response.status_code == 202, response.text
            assert response.json()["success_count"] == len(items), response.text
            for item in items:
                order += 1
                key = (item["id"], version_of(item))
                stored[key] = _with_order(stored[key], order)
        built.facts.append([*facts[: len(joined)], *stored.values()])
        _change_seats(db, bubble, spec, orgs)
    return built


def _with_order(fact: Fact, order: int) -> Fact:
    return Fact(
        fact.key,
        fact.level,
        fact.author,
        fact.recipients,
        order,
        fact.kind,
        fact.values,
        fact.report,
        fact.ends,
    )


def _create_bubble(
    db: Database, spec: BubbleSpec, orgs: list[Organization], name: str
) -> tuple[Bubble, list[int]]:
    """The bubble with its seats as they stand while objects are shared; who joined at once."""
    was_active = [
        (i, s)
        for i, s in spec.seats
        if i != spec.owner and s.state in (MembershipState.ACTIVE, MembershipState.LEFT)
    ]
    members = [i for i, s in was_active if s.role is not BubbleRole.OBSERVER]
    observers = [i for i, s in was_active if s.role is BubbleRole.OBSERVER]
    bubble = bubbles.create_bubble(
        db,
        name,
        BubbleKind.MULTILATERAL,
        orgs[spec.owner].name,
        default_tlp=TlpLevel(spec.default),
        members=tuple(orgs[i].name for i in members),
        observers=tuple(orgs[i].name for i in observers),
    )
    now = datetime.now(UTC)
    with db.write() as conn:
        for i, seat in spec.seats:
            # Extra owners, departures and open or declined invitations, as invite(), respond(),
            # change_role() and leave() leave them; who may make those changes is not tested here.
            if i != spec.owner and (
                seat.role is BubbleRole.OWNER or seat.state is not MembershipState.ACTIVE
            ):
                bubble_store.put_membership(
                    conn, Membership(bubble.id, orgs[i].id, seat.role, seat.state, now, now)
                )
    # The node shares the identities in the order it activates them: owner, members, observers.
    return bubble, [spec.owner, *members, *observers]


def _change_seats(db: Database, bubble: Bubble, spec: BubbleSpec, orgs: list[Organization]) -> None:
    """Memberships change after the objects are shared: what counts is the standing now."""
    now = datetime.now(UTC)
    with db.write() as conn:
        for i, seat in spec.seats:
            if (seat.later_role, seat.later_state) != (seat.role, seat.state):
                bubble_store.put_membership(
                    conn,
                    Membership(bubble.id, orgs[i].id, seat.later_role, seat.later_state, now, now),
                )


def forget(db: Database, built: Built) -> None:
    """Delete the example's rows, so that listings, which visit every bubble, stay quick.

    The rows that describe a stored version (recipients, observable values, incident facts) go
    with it: their foreign keys cascade.
    """
    bubble_ids = [bubble.id for bubble in built.bubbles]
    org_ids = [org.id for org in built.orgs]
    user_ids = [person.user.id for person in built.people]
    with db.write() as conn:
        conn.execute(delete(tables.objects).where(tables.objects.c.collection_id.in_(bubble_ids)))
        conn.execute(delete(tables.statuses).where(tables.statuses.c.collection_id.in_(bubble_ids)))
        conn.execute(
            delete(tables.memberships).where(tables.memberships.c.bubble_id.in_(bubble_ids))
        )
        conn.execute(delete(tables.bubbles).where(tables.bubbles.c.id.in_(bubble_ids)))
        conn.execute(delete(tables.api_tokens).where(tables.api_tokens.c.user_id.in_(user_ids)))
        conn.execute(delete(tables.users).where(tables.users.c.id.in_(user_ids)))
        conn.execute(
            update(tables.organizations)
            .where(tables.organizations.c.id.in_(org_ids))
            .values(parent_id=None)
        )
        conn.execute(delete(tables.organizations).where(tables.organizations.c.id.in_(org_ids)))


def probe_object() -> dict[str, Any]:
    """A CLEAR indicator for a POST that must fail: were it stored, every reader would see it."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": stamp(CREATED_US),
        "modified": stamp(CREATED_US),
        "pattern": f"[ipv4-addr:value = '{VALUES[0]}']",
        "pattern_type": "stix",
        "valid_from": "2020-01-01T00:00:00Z",
        "object_marking_refs": [CLEAR_MARKING],
    }
