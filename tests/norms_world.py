"""Random worlds for the norms property test, their oracle, and building them on a node.

A world is organizations (mostly government, some CERTs and operators, of three countries, most
in a constituency), one to three bubbles with memberships in every state (active, invited,
declined, left), users of every role, then a sequence of events: a report's whole life (started,
submitted to bubbles, revised, changed, submitted again), random report actions (start, edit,
submit as private, to bubbles at a TLP or public, revise, discard), one action that must be
refused, then organizations leaving, joining and changing role and reports deleted over TAXII
from a bubble, and a few more report actions.

The oracle is plain Python over the model of the world, written from docs/norms.md and
docs/access-policy.md: it does not ask trustbubble.domain (access, tlp or norms) on purpose. A
revision is readable by its keeper's users always, drafts too; by anyone else only once submitted,
and then when it is public, or shared into a bubble at a TLP the reader's standing there allows
(standing computed at read time), or shared anywhere as CLEAR.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Row, delete, func, or_, select, update

from trustbubble.domain.accounts import ApiToken, Organization, OrgKind, User, UserRole
from trustbubble.domain.bubbles import (
    Bubble,
    BubbleKind,
    BubbleRole,
    Membership,
    MembershipState,
)
from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import secrets
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import tables
from trustbubble.store.database import Database

# --- the oracle's own words for standing, levels and reports ---

NONE, OBSERVER_CONSTITUENT, OBSERVER, MEMBER_CONSTITUENT, MEMBER = range(5)
CLEAR, GREEN, AMBER, AMBER_STRICT, RED = range(5)
LABELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
# docs/access-policy.md, "Who reads what" (RED: only the author or the named; a report names
# nobody, and its author is its keeper, who reads every revision anyway).
READS = {
    MEMBER: {CLEAR, GREEN, AMBER, AMBER_STRICT},
    MEMBER_CONSTITUENT: {CLEAR, GREEN, AMBER},
    OBSERVER: {CLEAR, GREEN},
    OBSERVER_CONSTITUENT: {CLEAR, GREEN},
    NONE: set(),
}
OWNER, FULL_MEMBER, WATCHER = "owner", "member", "observer"
ACTIVE = "active"
# docs/norms.md: the levels of a report, in rank order, and those that count as implementing.
LEVEL_NAMES = ("not-started", "initial", "in-progress", "implemented", "leading")
IMPLEMENTING = ("implemented", "leading")
LETTERS = "abcdefghijk"
COUNTRIES = ("KE", "FR", "BR")
YEARS = (2024, 2025, 2026)
GAPS = ("", "Training for hospitals", "training for  HOSPITALS", "Funding for a CSIRT")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PASSWORD_HASH = secrets.hash_password("a long test password")


def gap_key(text: str) -> str:
    """docs/norms.md: gaps are the same when their text is, ignoring case and spaces."""
    return " ".join(text.lower().split())


# --- what Hypothesis draws: indexes only; ids are made when the world is built ---


@dataclass(frozen=True)
class OrgSpec:
    kind: str
    country: int
    parent: int | None  # an organization drawn earlier: constituencies form a forest
    roles: tuple[UserRole, ...]  # its users


@dataclass(frozen=True)
class Seat:
    org: int
    role: str  # owner, member, observer
    state: str  # active, invited, declined, left


@dataclass(frozen=True)
class BubbleSpec:
    owner: int
    default: int  # the bubble's default TLP
    seats: tuple[Seat, ...]  # besides the owner's


# An entry as drawn: (norm letter, level, capacity gap or "").
EntrySpec = tuple[str, str, str]


@dataclass(frozen=True)
class Event:
    kind: str  # start, edit, submit, revise, discard; leave, join, role; delete (over TAXII)
    actor: int  # a user, modulo their number
    proper: bool  # the actor and target the action is meant for (a writer of the keeper, a draft)
    wrong: int = 0  # else, what is wrong with it (see tests/test_access_norms.py, target)
    target: int = 0  # a revision, modulo
    year: int = 0  # index into YEARS
    entries: tuple[EntrySpec, ...] = ()
    copy: bool = False  # start: copy the previous year's report
    visibility: str = "private"
    bubbles: tuple[int, ...] = ()
    writable: bool = True  # narrow the bubbles to those the actor may write in
    tlp: str = ""  # empty: the bubble's default
    org: int = 0  # membership changes: the organization, modulo
    bubble: int = 0  # membership changes: the bubble, modulo
    role: str = ""  # membership changes: join as, or change to


@dataclass(frozen=True)
class World:
    orgs: tuple[OrgSpec, ...]
    bubbles: tuple[BubbleSpec, ...]
    events: tuple[Event, ...]
    turn: int  # which scorecard, comparison or bubble view each reader reads


KINDS = ("government", "government", "government", "government", "cert", "operator")
USER_ROLES = (UserRole.ANALYST, UserRole.ADMIN, UserRole.ANALYST, UserRole.VIEWER)
ROLE = st.sampled_from(USER_ROLES)
STAFF = st.tuples(ROLE) | st.tuples(ROLE) | st.tuples(ROLE) | st.tuples(ROLE, ROLE)
SEAT_ROLES = (FULL_MEMBER, WATCHER, WATCHER, OWNER)
STATES = (ACTIVE, ACTIVE, ACTIVE, ACTIVE, "invited", "declined", "left")
DEFAULTS = (AMBER, CLEAR, GREEN, AMBER, AMBER_STRICT, RED)
TLPS = ("", "clear", "green", "amber", "amber+strict")  # "": the bubble's default
ENTRY = st.tuples(st.sampled_from(LETTERS), st.sampled_from(LEVEL_NAMES), st.sampled_from(GAPS))
ENTRIES = st.lists(ENTRY, min_size=1, max_size=3, unique_by=lambda e: e[0]).map(tuple)
REPORT_KINDS = ("start",) * 3 + ("edit",) + ("submit",) * 4 + ("revise",) * 2 + ("discard",)
PROBES = [
    (kind, wrong) for kind in ("start", "edit", "submit", "revise", "discard") for wrong in range(4)
]
VISIBILITIES = ("bubbles", "bubbles", "bubbles", "public", "private")
# Membership changes, and (docs/access-policy.md) a report deleted over TAXII from a bubble.
CHANGES = ("leave", "leave", "join", "role", "delete", "delete")


@st.composite
def report_event(draw: st.DrawFn) -> Event:
    kind = draw(st.sampled_from(REPORT_KINDS))
    tlp = draw(st.sampled_from(TLPS)) if draw(st.integers(0, 30)) else "red"
    return Event(
        kind,
        actor=draw(st.integers(0, 11)),
        proper=draw(st.integers(0, 3)) > 0,
        wrong=draw(st.integers(0, 3)),
        target=draw(st.integers(0, 11)),
        year=draw(st.integers(0, len(YEARS) - 1)),
        entries=draw(ENTRIES),
        copy=draw(st.integers(0, 3)) == 0,
        visibility=draw(st.sampled_from(VISIBILITIES)),
        bubbles=tuple(draw(st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True))),
        writable=draw(st.integers(0, 3)) > 0,
        tlp=tlp,
    )


@st.composite
def membership_event(draw: st.DrawFn) -> Event:
    return Event(
        draw(st.sampled_from(CHANGES)),
        actor=draw(st.integers(0, 11)),
        proper=draw(st.integers(0, 3)) > 0,
        org=draw(st.integers(0, 5)),
        bubble=draw(st.integers(0, 2)),
        role=draw(st.sampled_from((OWNER, FULL_MEMBER, WATCHER))),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(3, 5))
    orgs = []
    for i in range(count):
        # No parent (-1) or one drawn earlier, evenly: most organizations are in a constituency.
        parent: int | None = draw(st.sampled_from(range(-1, i))) if i else None
        parent = None if parent == -1 else parent
        kind = draw(st.sampled_from(KINDS))
        orgs.append(OrgSpec(kind, draw(st.integers(0, len(COUNTRIES) - 1)), parent, draw(STAFF)))
    bubbles = []
    for _ in range(draw(st.integers(1, 3))):
        owner = draw(st.integers(0, count - 1))
        seats = []
        for org in range(count):
            if org == owner or draw(st.integers(0, 4)) == 0:
                continue  # about one in five organizations has no seat at all
            seats.append(
                Seat(org, draw(st.sampled_from(SEAT_ROLES)), draw(st.sampled_from(STATES)))
            )
        bubbles.append(BubbleSpec(owner, draw(st.sampled_from(DEFAULTS)), tuple(seats)))
    # Reports first: a report's whole life to begin with (started, submitted to bubbles,
    # revised, changed and submitted again as drawn), then random actions; then memberships
    # change and reports are deleted over TAXII, so that readers lose (or gain) what was
    # shared; then a few more report actions.
    events = []
    for kind in ("start", "submit", "revise", "edit", "submit"):
        events.append(replace(draw(report_event()), kind=kind, proper=True))
    events[1] = replace(events[1], visibility="bubbles", writable=True)
    events += draw(st.lists(report_event(), min_size=1, max_size=4))
    # One action that must be refused, of a kind drawn evenly (the events above draw them at
    # random, so that each refusal would otherwise be rare).
    kind, wrong = draw(st.sampled_from(PROBES))
    events.append(replace(draw(report_event()), kind=kind, proper=False, wrong=wrong))
    events += draw(st.lists(membership_event(), min_size=1, max_size=3))
    events += draw(st.lists(report_event(), max_size=2))
    return World(tuple(orgs), tuple(bubbles), tuple(events), draw(st.integers(0, 100)))


# --- the model of the world on the node, and the oracle ---


@dataclass
class Person:
    org: int
    role: UserRole
    user: User
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def writes(self) -> bool:
        return self.role is not UserRole.VIEWER


@dataclass
class Revision:
    """One revision of a (country, year) report, as the model holds it."""

    id: str
    country: str
    year: int
    number: int
    keeper: int  # organization index
    entries: dict[str, tuple[str, tuple[str, ...]]]  # letter -> (level, gaps)
    submitted: bool = False
    visibility: str = "private"
    tlp: str | None = None  # as the API shows it: the chosen TLP, CLEAR when public
    shares: list[tuple[int | None, int]] = field(default_factory=list)  # (bubble or public, TLP)
    readers_then: frozenset[int] = frozenset()  # organizations that read it when submitted

    @property
    def key(self) -> tuple[str, int]:
        return (self.country, self.year)


def entries_of(drawn: tuple[EntrySpec, ...]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {letter: (level, (gap,) if gap else ()) for letter, level, gap in drawn}


def entries_body(drawn: tuple[EntrySpec, ...]) -> dict[str, Any]:
    return {
        letter: {"level": level, **({"gaps": [gap + " "]} if gap else {})}
        for letter, level, gap in drawn
    }


@dataclass
class Model:
    world: World
    orgs: list[Organization]
    people: list[Person]
    bubble_ids: list[str]
    seats: list[dict[int, tuple[str, str]]]  # per bubble: organization -> (role, state)
    revisions: list[Revision] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # discarded drafts: nobody reads them
    reached: set[str] = field(default_factory=set)  # situations met

    def country(self, org: int) -> str:
        return COUNTRIES[self.world.orgs[org].country]

    def government(self, org: int) -> bool:
        return self.world.orgs[org].kind == "government"

    def chain(self, org: int) -> list[int]:
        out = [org]
        while (parent := self.world.orgs[out[-1]].parent) is not None:
            out.append(parent)
        return out

    def active(self, b: int) -> dict[int, str]:
        return {o: role for o, (role, state) in self.seats[b].items() if state == ACTIVE}

    def standing(self, org: int, b: int) -> int:
        """The strongest of the organization's own role and its ancestors' (constituencies)."""
        active = self.active(b)
        best = NONE
        if org in active:
            best = OBSERVER if active[org] == WATCHER else MEMBER
        for ancestor in self.chain(org)[1:]:
            if ancestor in active:
                through = (
                    OBSERVER_CONSTITUENT if active[ancestor] == WATCHER else MEMBER_CONSTITUENT
                )
                best = max(best, through)
        return best

    def may_write(self, person: Person, b: int) -> bool:
        return person.writes and self.standing(person.org, b) == MEMBER

    def readable(self, org: int | None, rev: Revision) -> bool:
        if org is not None and org == rev.keeper:
            return True  # the keeper reads every revision, drafts included
        if not rev.submitted:
            return False
        for b, level in rev.shares:
            if b is None or level == CLEAR:
                return True  # public, or CLEAR in a bubble: in the public collection
            if org is not None and level in READS[self.standing(org, b)]:
                return True
        return False

    def reach(self, org: int | None, rev: Revision) -> Counter[tuple[str, str]]:
        """Where the revision reaches the reader, as its page says: for the keeper every place
        it was shared; for others each place where they may read it, a bubble they have no
        standing in (whose name they may not learn) reading as Public."""
        if org is not None and org == rev.keeper:
            return Counter(
                ("Public" if b is None else f"Bubble {b}", LABELS[level]) for b, level in rev.shares
            )
        found = set()
        for b, level in rev.shares:
            standing = NONE if b is None or org is None else self.standing(org, b)
            if b is None or level == CLEAR or level in READS[standing]:
                found.add(("Public" if standing == NONE else f"Bubble {b}", LABELS[level]))
        return Counter(found)

    def readers(self, rev: Revision) -> frozenset[int]:
        return frozenset(o for o in range(len(self.orgs)) if self.readable(o, rev))

    def latest(self, org: int | None) -> dict[tuple[str, int], Revision]:
        """For each country and year, the latest submitted revision the organization reads."""
        found: dict[tuple[str, int], Revision] = {}
        for rev in self.revisions:
            newer = rev.key not in found or found[rev.key].number < rev.number
            if rev.submitted and newer and self.readable(org, rev):
                found[rev.key] = rev
        return found

    def of_year(self, key: tuple[str, int]) -> list[Revision]:
        return sorted((r for r in self.revisions if r.key == key), key=lambda r: r.number)

    def people_of(self, org: int) -> list[Person]:
        return [p for p in self.people if p.org == org]

    def writers_of(self, org: int) -> list[Person]:
        return [p for p in self.people if p.org == org and p.writes]


# --- building ---


def forget(db: Database) -> None:
    """Empty what an example writes, keeping the node's own objects in the public collection.

    DELETE rather than TRUNCATE: on tables this small it is much quicker on PostgreSQL.
    """
    t = tables
    with db.write() as conn:
        conn.execute(delete(t.norm_report_shares))
        conn.execute(delete(t.norm_reports))
        conn.execute(
            delete(t.objects).where(
                or_(t.objects.c.collection_id != PUBLIC_COLLECTION_ID, t.objects.c.type == "report")
            )
        )
        conn.execute(delete(t.memberships))
        conn.execute(delete(t.bubbles))
        conn.execute(delete(t.api_tokens))
        conn.execute(delete(t.users))
        conn.execute(update(t.organizations).values(parent_id=None))
        conn.execute(delete(t.organizations))


def build(db: Database, world: World) -> Model:
    """The world on the node, in one transaction through the stores: organizations, users with a
    token each, bubbles and memberships. (The services would also share each member's identity
    into the bubble and write the audit log, which no read path here looks at.)"""
    orgs: list[Organization] = []
    people: list[Person] = []
    model = Model(world, orgs, people, [], [])
    with db.write() as conn:
        for i, spec in enumerate(world.orgs):
            parent = None if spec.parent is None else orgs[spec.parent].id
            org = Organization(
                str(uuid.uuid4()),
                f"Org {i}",
                OrgKind(spec.kind),
                COUNTRIES[spec.country],
                parent,
                f"identity--{uuid.uuid4()}",
                NOW,
            )
            account_store.insert_org(conn, org)
            orgs.append(org)
            for k, role in enumerate(spec.roles):
                user = User(
                    str(uuid.uuid4()),
                    f"{role.value}{k}@org{i}.test",
                    org.id,
                    role,
                    f"identity--{uuid.uuid4()}",
                    NOW,
                )
                account_store.insert_user(conn, user, PASSWORD_HASH)
                secret = secrets.new_token()
                token = ApiToken(str(uuid.uuid4()), user.id, "api", secret[:8], NOW, None, None)
                account_store.insert_token(conn, token, secrets.token_hash(secret))
                people.append(Person(i, role, user, secret))
        for b, place in enumerate(world.bubbles):
            bubble = Bubble(
                str(uuid.uuid4()),
                f"Bubble {b}",
                BubbleKind.REGIONAL,
                "",
                TlpLevel(place.default),
                NOW,
            )
            bubble_store.insert_bubble(conn, bubble)
            seats = {place.owner: (OWNER, ACTIVE)}
            seats.update({s.org: (s.role, s.state) for s in place.seats})
            for org_index, (seat_role, state) in seats.items():
                bubble_store.put_membership(
                    conn,
                    Membership(
                        bubble.id,
                        orgs[org_index].id,
                        BubbleRole(seat_role),
                        MembershipState(state),
                        NOW,
                        None if state == "invited" else NOW,
                    ),
                )
            model.bubble_ids.append(bubble.id)
            model.seats.append(seats)
    return model


def change_membership(db: Database, model: Model, event: Event) -> None:
    """An organization leaves, joins or changes role; a bubble keeps an owner, as the services
    make sure. Written through the store, like the world."""
    b = event.bubble % len(model.bubble_ids)
    org = event.org % len(model.orgs)
    seats, active = model.seats[b], model.active(b)
    if event.proper:  # the keeper of a report shared into the bubble, or one of its readers
        shared = [r for r in model.revisions if any(place == b for place, _ in r.shares)]
        if event.org % 2:
            found = {r.keeper for r in shared}
        else:
            found = {o for r in shared for o in model.readers(r) if o != r.keeper}
        chosen = sorted(found & set(active))
        org = chosen[event.org // 2 % len(chosen)] if chosen else org
    owners = [o for o, role in active.items() if role == OWNER]
    if event.kind == "leave":
        if org not in active or owners == [org]:
            return
        seats[org] = (seats[org][0], "left")
    elif event.kind == "join":
        if org in active:
            return
        seats[org] = (event.role, ACTIVE)
    else:
        if org not in active or (owners == [org] and event.role != OWNER):
            return
        seats[org] = (event.role, ACTIVE)
    role, state = seats[org]
    with db.write() as conn:
        bubble_store.put_membership(
            conn,
            Membership(
                model.bubble_ids[b],
                model.orgs[org].id,
                BubbleRole(role),
                MembershipState(state),
                NOW,
                NOW,
            ),
        )
    model.reached.add(f"an organization {event.kind}s a bubble after reports")


def snapshot(db: Database) -> tuple[list[Row[Any]], list[Row[Any]], int]:
    """Every revision, every share and the number of stored versions: a refused action must
    leave them as they were."""
    t = tables
    with db.read() as conn:
        reports = list(conn.execute(select(t.norm_reports).order_by(t.norm_reports.c.id)))
        shares = list(
            conn.execute(
                select(t.norm_report_shares).order_by(
                    t.norm_report_shares.c.report_id, t.norm_report_shares.c.object_added
                )
            )
        )
        stored = conn.execute(select(func.count()).select_from(t.objects)).scalar_one()
    return reports, shares, int(stored)
