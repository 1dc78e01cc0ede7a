"""Random worlds for the consultations property test, their oracle, and building them on a node.

A world is three to six organizations of every stakeholder kind, most in a constituency, each
with one or two users (analyst, admin or viewer); one or two bubbles with memberships in every
state (active, invited, declined, left); one or two drafts, each by an organization with a
writer, some with a second version; one to three consultations of those drafts, each opened to
a drawn audience (the public, stakeholder kinds, bubbles) for a period that is scheduled, open,
over, or open until the drafter closes it early, with up to two questions and an objection period
of 0 or 30 days; then a sequence of events: comments, replies, answers to the questions,
accreditation requests, objections and decisions, the drafter's answers, hiding and showing,
closing, new versions answering comments, and organizations leaving, joining or changing role
in a bubble after the consultations opened.

The oracle is plain Python over the model of the world, written from docs/consultations.md ("Who
reads what") and docs/access-policy.md ("Standing"): it does not ask trustbubble.domain (access
or consultations) on purpose. An organization's part in a consultation is judged at read time:
the drafter's; a participant when the consultation is public, or the organization is of a chosen
kind, or has any standing in a chosen bubble, or was admitted; an applicant while its request is
pending; else none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Row, delete, select, update

from trustbubble.domain.accounts import Organization, OrgKind, User, UserRole
from trustbubble.domain.bubbles import (
    Bubble,
    BubbleKind,
    BubbleRole,
    Membership,
    MembershipState,
)
from trustbubble.domain.tlp import TlpLevel
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import tables
from trustbubble.store.database import Database

# --- the oracle's own words ---

NONE, OBSERVER_CONSTITUENT, OBSERVER, MEMBER_CONSTITUENT, MEMBER = range(5)
# A part in a consultation (docs/consultations.md, "Who reads what"), weakest first.
NO_PART, APPLICANT, PARTICIPANT, DRAFTER = range(4)
PART_NAMES = ("none", "applicant", "participant", "drafter")
OWNER, FULL_MEMBER, WATCHER = "owner", "member", "observer"
ACTIVE = "active"
SCHEDULED, OPEN, CLOSED = "scheduled", "open", "closed"
WEIGHTS = {"accepted": 1.0, "partly-accepted": 0.5, "not-accepted": 0.0}
# Placeholder: the test calls the services with User objects and nobody signs in.
PASSWORD_HASH = "not a password hash: nobody signs in"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# --- what Hypothesis draws: indexes only; ids are made when the world is built ---

KINDS = tuple(k.value for k in OrgKind)
USER_ROLES = (UserRole.ANALYST, UserRole.ADMIN, UserRole.VIEWER)
SEAT_ROLES = (OWNER, FULL_MEMBER, WATCHER, WATCHER)
STATES = (ACTIVE, ACTIVE, ACTIVE, ACTIVE, "invited", "declined", "left")
# "early": open, then closed by the drafter with close() at a drawn point of the events.
PERIODS = (OPEN, OPEN, "early", "early", SCHEDULED, CLOSED)
STANCES = ("support", "object", "amend")
VERDICTS = tuple(WEIGHTS)
LETTERS = "abcdefghijk"
CHOICES = ("yes", "no", "not sure")
EVENT_KINDS = (
    ("comment",) * 5
    + ("reply",) * 2
    + ("answer",) * 2
    + ("ask",) * 3
    + ("object",) * 2
    + ("decide",) * 2
    + ("respond",) * 2
    + ("hide",) * 2
    + ("show", "close", "revise", "revise")
    + ("leave",) * 2
    + ("join", "role")
)
MEMBERSHIP_CHANGES = ("leave", "join", "role")
# Actions drawn with a wrong actor (or a wrong target), besides those drawn at random.
PROBES = st.sampled_from(("respond", "hide", "show", "close", "decide", "revise", "ask", "object"))
LIFE = (
    *("comment", "comment", "ask", "reply", "answer", "object"),
    *("respond", "hide", "decide", "revise", "ask"),
)


@dataclass(frozen=True)
class OrgSpec:
    kind: str
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
    seats: tuple[Seat, ...]  # besides the owner's


@dataclass(frozen=True)
class DraftSpec:
    org: int  # the drafter, which has a writer
    paragraphs: int  # of the first version
    versions: int  # 1 or 2 before any consultation


@dataclass(frozen=True)
class ConsultationSpec:
    draft: int  # modulo the drafts
    version: int  # 1 or 2, modulo the versions the draft has
    public: bool
    kinds: tuple[str, ...]
    bubbles: tuple[int, ...]  # modulo the bubbles
    period: str  # scheduled, open, closed (over), early (closed with close() during the events)
    questions: tuple[tuple[str, ...], ...]  # each question's choices; () for free text
    objection_days: int  # 0 or 30


@dataclass(frozen=True)
class Event:
    kind: str  # see EVENT_KINDS
    actor: int  # a user, modulo
    proper: bool  # an actor (and target) that should succeed, when the world has one
    consultation: int = 0  # modulo
    target: int = 0  # a comment, a request, an organization or a draft, modulo
    stray: bool = False  # a paragraph out of range, or a version answering no comment of the draft
    stance: str = "support"
    norms: tuple[str, ...] = ()
    incident: bool = False
    choices: tuple[int, ...] = ()  # answers: a choice per question (free text: any words)
    verdict: str = "accepted"
    admit: bool = True
    bubble: int = 0  # membership changes
    role: str = FULL_MEMBER  # membership changes: join as, or change to


@dataclass(frozen=True)
class World:
    orgs: tuple[OrgSpec, ...]
    bubbles: tuple[BubbleSpec, ...]
    drafts: tuple[DraftSpec, ...]
    consultations: tuple[ConsultationSpec, ...]
    events: tuple[Event, ...]
    turn: int  # which write each user tries last on each consultation


@st.composite
def event(
    draw: st.DrawFn,
    kind: str | None = None,
    proper: bool | None = None,
    consultation: int | None = None,
) -> Event:
    return Event(
        kind or draw(st.sampled_from(EVENT_KINDS)),
        actor=draw(st.integers(0, 11)),
        proper=draw(st.integers(0, 3)) > 0 if proper is None else proper,
        consultation=draw(st.integers(0, 2)) if consultation is None else consultation,
        target=draw(st.integers(0, 11)),
        stray=draw(st.integers(0, 5)) == 0,
        stance=draw(st.sampled_from(STANCES)),
        norms=tuple(draw(st.lists(st.sampled_from(LETTERS), max_size=2))),
        incident=draw(st.booleans()),
        choices=tuple(draw(st.lists(st.integers(0, 2), min_size=2, max_size=2))),
        verdict=draw(st.sampled_from(VERDICTS)),
        admit=draw(st.booleans()),
        bubble=draw(st.integers(0, 1)),
        role=draw(st.sampled_from((OWNER, FULL_MEMBER, WATCHER))),
    )


@st.composite
def consultation(draw: st.DrawFn, bubble_count: int) -> ConsultationSpec:
    public = draw(st.integers(0, 5)) == 0
    kinds = tuple(draw(st.lists(st.sampled_from(KINDS), max_size=2, unique=True)))
    chosen = tuple(draw(st.lists(st.integers(0, bubble_count - 1), max_size=2, unique=True)))
    if not (public or kinds or chosen):  # an audience names someone (read_audience insists)
        kinds = (draw(st.sampled_from(KINDS)),)
    questions = draw(st.lists(st.sampled_from(((), CHOICES[:2], CHOICES)), max_size=2).map(tuple))
    return ConsultationSpec(
        draw(st.integers(0, 1)),
        draw(st.integers(1, 2)),
        public,
        kinds,
        chosen,
        draw(st.sampled_from(PERIODS)),
        questions,
        draw(st.sampled_from((0, 30, 30))),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(3, 6))
    orgs = []
    for i in range(count):
        # No parent (-1) or one drawn earlier, evenly: most organizations are in a constituency.
        parent: int | None = draw(st.sampled_from(range(-1, i))) if i else None
        roles = draw(st.lists(st.sampled_from(USER_ROLES), min_size=1, max_size=2))
        orgs.append(
            OrgSpec(draw(st.sampled_from(KINDS)), None if parent == -1 else parent, tuple(roles))
        )
    drafts = [
        DraftSpec(draw(st.integers(0, count - 1)), draw(st.integers(1, 3)), draw(st.integers(1, 2)))
        for _ in range(draw(st.integers(1, 2)))
    ]
    for drafted in drafts:  # a drafter has a writer
        kept = orgs[drafted.org]
        if not any(role.may_write for role in kept.roles):
            orgs[drafted.org] = OrgSpec(kept.kind, kept.parent, (UserRole.ANALYST, *kept.roles[1:]))
    bubbles = []
    for _ in range(draw(st.integers(1, 2))):
        # A drafter addresses only bubbles it stands in: half the bubbles are a drafter's.
        owner = draw(st.sampled_from([s.org for s in drafts] or [0]) | st.integers(0, count - 1))
        seats = []
        for org in range(count):
            if org == owner or draw(st.integers(0, 2)) == 0:
                continue  # about one in three organizations has no seat at all
            seats.append(
                Seat(org, draw(st.sampled_from(SEAT_ROLES)), draw(st.sampled_from(STATES)))
            )
        bubbles.append(BubbleSpec(owner, tuple(seats)))
    consultations = draw(st.lists(consultation(len(bubbles)), min_size=1, max_size=3))
    # A consultation's life first (comments, a request to take part, an objection, the
    # drafter's answers and moderation, a decision, a new version, another request), each by an
    # actor who should succeed if there is one;
    # then random events, and actions by a wrong actor.
    events = [draw(event(kind, proper=True)) for kind in LIFE]
    events += draw(st.lists(event(), min_size=3, max_size=10))
    events += [draw(event(kind, proper=False)) for kind in draw(st.lists(PROBES, max_size=2))]
    # A consultation closed early is closed by its drafter at a drawn point after two comments.
    for c, spec in enumerate(consultations):
        if spec.period == "early":
            at = draw(st.integers(2, len(events)))
            events.insert(at, draw(event("close", proper=True, consultation=c)))
    return World(
        tuple(orgs),
        tuple(bubbles),
        tuple(drafts),
        tuple(consultations),
        tuple(events),
        draw(st.integers(0, 100)),
    )


# --- the model of the world on the node, and the oracle ---


@dataclass
class Person:
    org: int
    role: UserRole
    user: User

    @property
    def writes(self) -> bool:
        return self.role is not UserRole.VIEWER


@dataclass
class Draft:
    id: str
    org: int
    title: str
    versions: list[list[str]]  # each version's paragraphs
    answers: list[tuple[int, ...]]  # per version, the comments it answers


@dataclass
class Request:
    """An organization's request to take part in one consultation."""

    org: int
    reason: str
    objections: list[tuple[int, str]] = field(default_factory=list)  # (objector, reason)
    decision: str | None = None  # admitted, refused


@dataclass
class Consultation:
    id: str
    draft: int
    version: int
    spec: ConsultationSpec
    opens: datetime
    closes: datetime
    closed: tuple[datetime, datetime] | None = None  # closed early: between these two instants
    requests: dict[int, Request] = field(default_factory=dict)  # in the order asked


@dataclass
class Comment:
    id: int
    consultation: int
    paragraph: int
    parent: int | None
    org: int
    author: str
    stance: str
    text: str
    wording: str
    norms: tuple[str, ...]
    incident: str
    verdict: str | None = None
    verdict_reason: str = ""
    hidden: str | None = None


@dataclass
class Model:
    world: World
    orgs: list[Organization]
    people: list[Person]
    bubble_ids: list[str]
    seats: list[dict[int, tuple[str, str]]]  # per bubble: organization -> (role, state)
    drafts: list[Draft] = field(default_factory=list)
    consultations: list[Consultation] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    answers: dict[tuple[int, int, int], str] = field(default_factory=dict)  # (c, org, question)
    reached: set[str] = field(default_factory=set)  # situations met

    def kind(self, org: int) -> str:
        return self.world.orgs[org].kind

    def chain(self, org: int) -> list[int]:
        out = [org]
        while (parent := self.world.orgs[out[-1]].parent) is not None:
            out.append(parent)
        return out

    def active(self, b: int) -> dict[int, str]:
        return {o: role for o, (role, state) in self.seats[b].items() if state == ACTIVE}

    def standing(self, org: int, b: int) -> int:
        """docs/access-policy.md: the strongest of the organization's own active role and its
        ancestors' (constituencies); invited, declined and left count for nothing."""
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

    def accreditation(self, org: int, c: int) -> str | None:
        """As in the OEWG: the drafter's decision if any; else admitted when the objection period
        ends without an objection (at once for a period of 0 days; a 30-day one does not end
        while the test runs); pending otherwise."""
        asked = self.consultations[c].requests.get(org)
        if asked is None:
            return None
        if asked.decision is not None:
            return asked.decision
        if not asked.objections and self.consultations[c].spec.objection_days == 0:
            return "admitted"
        return "pending"

    def in_audience(self, org: int, c: int) -> bool:
        spec = self.consultations[c].spec
        return (
            spec.public
            or self.kind(org) in spec.kinds
            or any(self.standing(org, b) != NONE for b in spec.bubbles)
        )

    def part(self, org: int, c: int) -> int:
        if org == self.drafts[self.consultations[c].draft].org:
            return DRAFTER
        state = self.accreditation(org, c)
        if self.in_audience(org, c) or state == "admitted":
            return PARTICIPANT
        return APPLICANT if state == "pending" else NO_PART

    def phase(self, c: int) -> str:
        spec, found = self.consultations[c].spec, self.consultations[c]
        if found.closed is not None or spec.period == CLOSED:
            return CLOSED
        return SCHEDULED if spec.period == SCHEDULED else OPEN

    def may_write_in(self, person: Person, c: int) -> bool:
        """Comment, reply, answer: a writer taking part (the drafter's included) while open."""
        return person.writes and self.part(person.org, c) >= PARTICIPANT and self.phase(c) == OPEN

    def may_read_draft(self, org: int, d: int) -> bool:
        """The drafter always; anyone else once one of its consultations includes them."""
        return self.drafts[d].org == org or any(
            self.part(org, c) >= PARTICIPANT
            for c, found in enumerate(self.consultations)
            if found.draft == d
        )

    def comments_of(self, c: int) -> list[Comment]:
        return [k for k in self.comments if k.consultation == c]

    def answered_in(self, comment_id: int, d: int) -> int | None:
        """The latest version of the draft that names the comment among those it answers."""
        found = None
        for number, answers in enumerate(self.drafts[d].answers, start=1):
            if comment_id in answers:
                found = number
        return found

    def people_of(self, org: int) -> list[Person]:
        return [p for p in self.people if p.org == org]

    def writers_of(self, org: int) -> list[Person]:
        return [p for p in self.people if p.org == org and p.writes]


# --- building ---


def forget(db: Database) -> None:
    """Empty what an example writes (the audit log stays: nothing here reads it)."""
    t = tables
    with db.write() as conn:
        for table in (
            t.consultation_answers,
            t.accreditation_objections,
            t.accreditations,
            t.consultation_comments,
            t.consultations,
            t.draft_versions,
            t.drafts,
            t.memberships,
            t.bubbles,
            t.users,
        ):
            conn.execute(delete(table))
        conn.execute(update(t.organizations).values(parent_id=None))
        conn.execute(delete(t.organizations))


def build(db: Database, world: World) -> Model:
    """Organizations, users, bubbles and memberships, in one transaction through the stores (the
    services would also share identities and write the audit log, which nothing here reads)."""
    orgs: list[Organization] = []
    people: list[Person] = []
    model = Model(world, orgs, people, [], [])
    with db.write() as conn:
        for i, spec in enumerate(world.orgs):
            org = Organization(
                str(uuid.uuid4()),
                f"Org {i}",
                OrgKind(spec.kind),
                "KE",
                None if spec.parent is None else orgs[spec.parent].id,
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
                people.append(Person(i, role, user))
        for b, place in enumerate(world.bubbles):
            bubble = Bubble(
                str(uuid.uuid4()), f"Bubble {b}", BubbleKind.REGIONAL, "", TlpLevel.AMBER, NOW
            )
            bubble_store.insert_bubble(conn, bubble)
            seats = {place.owner: (OWNER, ACTIVE)}
            seats.update({s.org: (s.role, s.state) for s in place.seats})
            model.bubble_ids.append(bubble.id)
            model.seats.append(seats)
            for org_index in seats:
                put_seat(conn, model, b, org_index)
    return model


def put_seat(conn: Any, model: Model, b: int, org: int) -> None:
    role, state = model.seats[b][org]
    bubble_store.put_membership(
        conn,
        Membership(
            model.bubble_ids[b],
            model.orgs[org].id,
            BubbleRole(role),
            MembershipState(state),
            NOW,
            None if state == "invited" else NOW,
        ),
    )


def change_membership(db: Database, model: Model, event: Event) -> None:
    """An organization leaves, joins or changes role after the consultations opened; a bubble
    keeps an owner, as the services make sure. Written through the store, like the world. The
    proper change concerns an organization that takes part, or one that waits to."""
    b = event.bubble % len(model.bubble_ids)
    org = event.actor % len(model.orgs)
    seats, active = model.seats[b], model.active(b)
    if event.proper:  # a seat that gives or takes standing to an organization taking part
        taking = {
            o
            for c in range(len(model.consultations))
            for o in range(len(model.orgs))
            if model.part(o, c) in (APPLICANT, PARTICIPANT)
        }
        seated = {a for o in taking for a in model.chain(o)} & set(active)
        found = sorted(
            set(range(len(model.orgs))) - set(active) if event.kind == "join" else seated
        )
        org = found[event.target % len(found)] if found else org
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
    with db.write() as conn:
        put_seat(conn, model, b, org)
    done = {"leave": "leaves", "join": "joins", "role": "changes role in"}[event.kind]
    model.reached.add(f"an organization {done} a bubble after the consultations opened")


Snapshot = tuple[list[Row[Any]], ...]


def snapshot(db: Database) -> Snapshot:
    """Everything a write on a consultation may change: a refused one must leave it as it was."""
    t = tables
    with db.read() as conn:
        return tuple(
            list(conn.execute(select(table).order_by(*table.primary_key.columns)))
            for table in (
                t.consultation_comments,
                t.consultation_answers,
                t.accreditations,
                t.accreditation_objections,
                t.consultations,
                t.draft_versions,
            )
        )
