"""Random worlds for the assistance property test, their oracle and a model of a request's life.

A world is organizations (some in a constituency), one or two bubbles with memberships in every
state, an analyst and an admin per organization (and sometimes a viewer), points of contact, then a
sequence of events: requests raised, answered, discussed and withdrawn, organizations leaving,
joining and changing role, communication checks started. The oracle and the lifecycle model are
plain Python written from DESIGN.md section 4 and docs/assistance.md: they do not ask
trustbubble.domain (access or assistance), on purpose.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import strategies as st
from sqlalchemy import text

from trustbubble.domain.accounts import ApiToken, Organization, OrgKind, User, UserRole
from trustbubble.domain.bubbles import BubbleKind, BubbleRole
from trustbubble.domain.contacts import Poc, PocFields, PocKind
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import bubbles, node, secrets
from trustbubble.store import accounts as account_store
from trustbubble.store import pocs as poc_store
from trustbubble.store.database import Database
from trustbubble.store.tables import metadata

# --- the oracle's own words for standing and levels ---

NONE, OBSERVER_CONSTITUENT, OBSERVER, MEMBER_CONSTITUENT, MEMBER = range(5)
LEVELS = ("clear", "green", "amber", "amber+strict", "red")
OWNER, FULL_MEMBER, WATCHER = "owner", "member", "observer"
ACTIONS = ("acknowledge", "decline", "start", "resolve", "withdraw")
FINAL = ("resolved", "declined", "withdrawn")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PASSWORD_HASH = secrets.hash_password("a long test password")


def new_identity() -> str:
    return f"identity--{uuid.uuid4()}"


# --- what Hypothesis draws: indexes only ---


@dataclass(frozen=True)
class OrgSpec:
    parent: int | None  # an organization drawn earlier: constituencies form a forest
    viewer: bool  # a viewer besides the analyst and the admin
    pocs: tuple[str, ...]  # kinds of its points of contact


@dataclass(frozen=True)
class Seat:
    org: int
    role: str  # owner, member, observer
    state: str  # active, invited, declined, left


@dataclass(frozen=True)
class BubbleSpec:
    owner: int
    default_tlp: str
    seats: tuple[Seat, ...]  # besides the owner's


@dataclass(frozen=True)
class Event:
    kind: str  # raise, act, message, leave, join, role, check
    bubble: int = 0
    org: int = 0
    user: int = 0  # 0 analyst, 1 admin, 2 viewer (the analyst when the organization has none)
    request: int = 0  # index among the requests raised so far (modulo)
    action: str = ""
    reason: str = ""
    recipients: tuple[int, ...] | None = None
    tlp: str | None = None
    role: str = ""


@dataclass(frozen=True)
class World:
    orgs: tuple[OrgSpec, ...]
    bubbles: tuple[BubbleSpec, ...]
    events: tuple[Event, ...]
    # Per organization: which of its users reads every path (they read alike), or none (3 to 5:
    # about half of the organizations, turning with the example), so that examples stay cheap.
    full_check: tuple[int, ...]


ROLE_NAMES = (OWNER, FULL_MEMBER, WATCHER)
SEAT_ROLES = (FULL_MEMBER, WATCHER, FULL_MEMBER, OWNER)
STATES = ("active", "invited", "active", "declined", "active", "left", "active")
TLPS = st.sampled_from((None, *LEVELS, "red", "amber+strict"))
POC_KINDS = st.lists(st.sampled_from(("technical", "diplomatic")), max_size=2).map(tuple)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(3, 6))
    orgs = []
    for i in range(count):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        viewer = draw(st.integers(0, 4)) == 4
        orgs.append(OrgSpec(parent, viewer, draw(POC_KINDS)))
    specs = []
    for _ in range(draw(st.integers(1, 2))):
        owner = draw(st.integers(0, count - 1))
        seats = []
        for org in range(count):
            if org == owner or draw(st.integers(0, 4)) == 4:
                continue  # about one in five organizations has no seat at all
            seats.append(
                Seat(org, draw(st.sampled_from(SEAT_ROLES)), draw(st.sampled_from(STATES)))
            )
        specs.append(BubbleSpec(owner, draw(st.sampled_from(LEVELS)), tuple(seats)))
    # Who is a full member at first, per bubble: recipients are drawn mostly among them.
    full = [
        [s.owner, *(x.org for x in s.seats if x.state == "active" and x.role != WATCHER)]
        for s in specs
    ]
    parties: list[list[int]] = []  # per drawn request: requester and recipients, as intended
    events: list[Event] = []
    steps: dict[tuple[int, int], int] = {}  # (request, recipient) -> its moves drawn so far
    for _ in range(draw(st.integers(2, 12))):
        kind = draw(
            st.sampled_from(
                ("raise", "raise", "act", "act", "act", "act", "message", "leave", "join", "role")
            )
        )
        b = draw(st.integers(0, len(specs) - 1))
        user = draw(st.integers(0, 2))
        if kind == "raise" or not parties:
            org = draw(st.sampled_from(full[b])) if draw(st.integers(0, 5)) < 5 else draw_org(draw)
            others = [o for o in full[b] if o != org]
            recipients: tuple[int, ...] | None = None
            if draw(st.booleans()):
                pool = others if others and draw(st.integers(0, 5)) < 5 else list(range(count))
                recipients = tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2)))
            parties.append([org, *(others if recipients is None else recipients)])
            events.append(Event("raise", b, org, user, recipients=recipients, tlp=draw(TLPS)))
            continue
        if kind in ("act", "message"):
            last = len(parties) - 1  # mostly the newest request, so that its life goes on
            r = last if draw(st.booleans()) else draw(st.integers(0, last))
            pool = parties[r] if draw(st.integers(0, 3)) < 3 else list(range(count))
            org = draw(st.sampled_from(pool))
            action = draw(st.sampled_from(ACTIONS))
            if draw(st.integers(0, 3)) < 3:  # mostly the organization's next step in its part
                if org == parties[r][0]:
                    action = draw(st.sampled_from(("withdraw", "resolve")))
                else:
                    # A recipient acknowledges, starts and resolves, or declines (why or not).
                    done = steps.get((r, org), 0)
                    if done == 0:
                        action = draw(st.sampled_from(("acknowledge", "acknowledge", "decline")))
                    elif done < 3:
                        action = ("acknowledge", "start", "resolve")[done]
                    steps[(r, org)] = done + 1
            reason = draw(st.sampled_from(("busy", "", "out of scope")))
            events.append(Event(kind, b, org, user, r, action, reason))
        else:  # leave, join or role: mostly a party to a request, whose view then changes
            org = draw(st.sampled_from(parties[-1])) if draw(st.booleans()) else draw_org(draw)
            events.append(Event(kind, b, org, user, role=draw(st.sampled_from(ROLE_NAMES))))
        if draw(st.integers(0, 12)) == 0:
            events.append(Event("check", b, draw_org(draw), draw(st.integers(0, 2))))
    if draw(st.integers(0, 3)) == 0:
        events.append(Event("check", 0, specs[0].owner, draw(st.integers(0, 2))))
    full_check = tuple(draw(st.integers(0, 5)) for _ in range(count))
    return World(tuple(orgs), tuple(specs), tuple(events), full_check)


def draw_org(draw: st.DrawFn) -> int:
    return draw(st.integers(0, 5))  # taken modulo the number of organizations


# --- the world on the node, and the model of what it holds ---


@dataclass
class Person:
    org: int
    role: UserRole
    user: User
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Request:
    """The model of one request: who asked whom, its state, answers, history and versions."""

    id: str
    note_id: str
    bubble: int
    tlp: str
    requester: int
    recipients: list[int]
    state: str = "open"
    answers: dict[int, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=lambda: ["raised"])
    versions: int = 1


@dataclass
class Model:
    orgs: list[Organization]
    parents: list[int | None]
    people: list[list[Person]]  # per organization: analyst, admin, then a viewer if any
    bubble_ids: list[str]
    default_tlp: list[str]
    seats: list[dict[int, tuple[str, str]]]  # per bubble: organization -> (role, state)
    pocs: list[list[tuple[str, str]]]  # per organization: (kind, name)
    requests: list[Request] = field(default_factory=list)
    told: dict[str, Counter[str]] = field(default_factory=dict)  # user id -> request ids
    checks: list[tuple[int, str, Counter[tuple[str, str]]]] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)  # situations met, to show the worlds reach them

    def person(self, org: int, user: int) -> Person:
        staff = self.people[org]
        return staff[user] if user < len(staff) else staff[0]

    def active(self, b: int) -> dict[int, str]:
        return {o: role for o, (role, state) in self.seats[b].items() if state == "active"}

    def chain(self, org: int) -> list[int]:
        out = [org]
        while (parent := self.parents[out[-1]]) is not None:
            out.append(parent)
        return out

    def standing(self, org: int, b: int) -> int:
        """DESIGN.md 4 and docs/access-policy.md: the strongest of own role and constituencies."""
        active = self.active(b)
        best = NONE
        if org in active:
            best = OBSERVER if active[org] == WATCHER else MEMBER
        for ancestor in self.chain(org)[1:]:
            if ancestor in active:
                best = max(
                    best,
                    OBSERVER_CONSTITUENT if active[ancestor] == WATCHER else MEMBER_CONSTITUENT,
                )
        return best

    def sees(self, org: int, request: Request) -> bool:
        """May the organization read the request's note? DESIGN.md section 4's table."""
        standing = self.standing(org, request.bubble)
        if standing == NONE:
            return False
        if request.tlp == "red":
            return org == request.requester or org in request.recipients
        if request.tlp == "amber+strict":
            return standing == MEMBER
        if request.tlp == "amber":
            return standing in (MEMBER, MEMBER_CONSTITUENT)
        return True

    def directory_reader(self, org: int, b: int) -> bool:
        """docs/assistance.md: the directory is for the bubble's members and observers."""
        return org in self.active(b)

    def directory(self, b: int) -> Counter[tuple[str, str, str]]:
        return Counter(
            (self.orgs[o].name, kind, name) for o in self.active(b) for kind, name in self.pocs[o]
        )

    def tell(self, orgs: list[int], request: Request) -> None:
        """Analysts and admins of these organizations hear of it, if they may read it."""
        for org in orgs:
            if not self.sees(org, request):
                self.reached.add("a party told of a move could not read the request")
                continue
            for person in self.people[org]:
                if person.role is not UserRole.VIEWER:
                    self.told.setdefault(person.user.id, Counter())[request.id] += 1


def refusal(request: Request, org: int, action: str, reason: str) -> set[int]:
    """The answers that may refuse this move by a writer who reads the request; empty: allowed.

    docs/assistance.md: each recipient answers for itself; acknowledged at the first
    acknowledgement, declined when every recipient declined; start by an acknowledging
    recipient; resolve by the requester or a recipient that acknowledged, not while open;
    withdraw by the requester; final states refuse everything (409). When several rules say no,
    any of their answers will do.
    """
    codes: set[int] = set()
    if request.state in FINAL:
        codes.add(409)
    requester = org == request.requester
    answer = request.answers.get(org)
    if action == "withdraw":
        if not requester:
            codes.add(403)
    elif action == "resolve":
        if not requester and answer != "acknowledged":
            codes.add(403)
        if request.state == "open":
            codes.add(409)
    elif action in ("acknowledge", "decline"):
        if answer is None:
            codes.add(403)
        elif answer != "pending":
            codes.add(409)
        if action == "decline" and not reason.strip():
            codes.add(400)
    else:  # start
        if answer is None:
            codes.add(403)
        elif answer != "acknowledged":
            codes.add(409)
        if request.state == "in-progress":
            codes.add(409)
    return codes


def move(request: Request, org: int, action: str) -> None:
    """The request after an allowed move."""
    request.versions += 1
    request.events.append(action)
    if action == "withdraw":
        request.state = "withdrawn"
    elif action == "resolve":
        request.state = "resolved"
    elif action == "start":
        request.state = "in-progress"
    elif action == "acknowledge":
        request.answers[org] = "acknowledged"
        if request.state == "open":
            request.state = "acknowledged"
    else:
        request.answers[org] = "declined"
        if all(a == "declined" for a in request.answers.values()):
            request.state = "declined"


def my_actions(request: Request, org: int, writer: bool) -> list[str]:
    if not writer:
        return []
    return [a for a in ACTIONS if not refusal(request, org, a, "a reason")]


# --- building ---


def reset(db: Database) -> None:
    """Empty every table and publish the node's objects again, as the `db` fixture does.

    DELETE rather than TRUNCATE: on tables this small it is 8 times quicker on PostgreSQL.
    """
    names = [f'"{t.name}"' for t in metadata.sorted_tables]
    with db.write() as conn:
        for name in reversed(names):
            conn.execute(text(f"DELETE FROM {name}"))
    node.publish(db)


def build(db: Database, world: World) -> Model:
    """The world on the node. Organizations, users, tokens and POCs go in one transaction through
    the store (a transaction each costs PostgreSQL a commit); memberships through the services."""
    orgs: list[Organization] = []
    people: list[list[Person]] = []
    model = Model(orgs, [s.parent for s in world.orgs], people, [], [], [], [])
    with db.write() as conn:
        for i, spec in enumerate(world.orgs):
            parent = None if spec.parent is None else orgs[spec.parent].id
            org = Organization(
                str(uuid.uuid4()), f"Org {i}", OrgKind.CERT, "FR", parent, new_identity(), NOW
            )
            account_store.insert_org(conn, org)
            orgs.append(org)
            staff = []
            roles = [UserRole.ANALYST, UserRole.ADMIN] + ([UserRole.VIEWER] if spec.viewer else [])
            for role in roles:
                user = User(
                    str(uuid.uuid4()),
                    f"{role.value}{i}@org.test",
                    org.id,
                    role,
                    new_identity(),
                    NOW,
                )
                account_store.insert_user(conn, user, PASSWORD_HASH)
                secret = secrets.new_token()
                token = ApiToken(str(uuid.uuid4()), user.id, "api", secret[:8], NOW, None, None)
                account_store.insert_token(conn, token, secrets.token_hash(secret))
                staff.append(Person(i, role, user, secret))
            people.append(staff)
            found = []
            for k, kind in enumerate(spec.pocs):
                name = f"POC {i}.{k}"
                fields = PocFields(PocKind(kind), name, "", f"poc{k}@o{i}.test", "", "", "", "UTC")
                poc_store.insert_poc(conn, Poc(str(uuid.uuid4()), org.id, fields, NOW))
                found.append((kind, name))
            model.pocs.append(found)
    for b, bubble_spec in enumerate(world.bubbles):
        # Active members and observers join with the bubble; the others through invitations.
        direct = [x for x in bubble_spec.seats if x.state == "active" and x.role != OWNER]
        bubble = bubbles.create_bubble(
            db,
            f"Bubble {b}",
            BubbleKind.REGIONAL,
            orgs[bubble_spec.owner].name,
            default_tlp=TlpLevel.parse(bubble_spec.default_tlp),
            members=tuple(orgs[x.org].name for x in direct if x.role == FULL_MEMBER),
            observers=tuple(orgs[x.org].name for x in direct if x.role == WATCHER),
        )
        seats = {bubble_spec.owner: (OWNER, "active")}
        owner = people[bubble_spec.owner][0].user
        for seat in bubble_spec.seats:
            seats[seat.org] = (seat.role, seat.state)
            if seat in direct:
                continue
            name, admin = orgs[seat.org].name, people[seat.org][1].user
            bubbles.invite(db, owner, bubble.id, name, BubbleRole(seat.role))
            if seat.state != "invited":
                bubbles.respond(db, admin, bubble.id, accept=seat.state != "declined")
            if seat.state == "left":
                bubbles.leave(db, admin, bubble.id)
        model.bubble_ids.append(bubble.id)
        model.default_tlp.append(bubble_spec.default_tlp)
        model.seats.append(seats)
    return model


def change_membership(db: Database, model: Model, event: Event) -> None:
    """An organization leaves, joins (invited and accepting) or changes role, through services.

    Only moves the services allow are made (a bubble keeps an owner); the model follows.
    """
    b, org = event.bubble, event.org % len(model.orgs)
    seats, active = model.seats[b], model.active(event.bubble)
    owners = [o for o, role in active.items() if role == OWNER]
    bubble_id, name, admin = model.bubble_ids[b], model.orgs[org].name, model.people[org][1].user
    if event.kind == "leave":
        if org not in active or owners == [org]:
            return
        bubbles.leave(db, admin, bubble_id)
        seats[org] = (seats[org][0], "left")
    elif event.kind == "join":
        if org in active:
            return
        if seats.get(org, ("", ""))[1] != "invited":
            bubbles.invite(
                db, model.people[owners[0]][0].user, bubble_id, name, BubbleRole(event.role)
            )
            seats[org] = (event.role, "invited")
        bubbles.respond(db, admin, bubble_id, accept=True)
        seats[org] = (seats[org][0], "active")
    else:
        if org not in active or (owners == [org] and event.role != OWNER):
            return
        bubbles.change_role(
            db, model.people[owners[0]][0].user, bubble_id, name, BubbleRole(event.role)
        )
        seats[org] = (event.role, "active")
