"""Exercise sessions: a facilitator runs a scenario, players decide for their roles
(docs/exercises.md). The state shown is always `replay(scenario, log)`; every action is checked
against the engine and appended to the log in one write transaction.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from trustbubble.domain.accounts import User
from trustbubble.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trustbubble.domain.exercises.engine import Entry, Scores, State, Step, check, replay, scores
from trustbubble.domain.exercises.report import KNOWLEDGE_PHASES, Response, after_action
from trustbubble.domain.exercises.scenario import Scenario, read_scenario, shipped_text
from trustbubble.domain.fields import text
from trustbubble.services import audit
from trustbubble.services.secrets import token_hash
from trustbubble.store import accounts as account_store
from trustbubble.store import exercises as store
from trustbubble.store.database import Database
from trustbubble.store.exercises import StoredSession

FACILITATOR_STEPS = frozenset(
    {Step.START, Step.PAUSE, Step.RESUME, Step.ADVANCE, Step.RELEASE, Step.END}
)
# While a session runs, game time follows the wall clock: one game minute per minute.
GAME_MINUTE = timedelta(minutes=1)
CLOCK = "clock"  # the actor of the advances the wall clock makes


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Participant:
    """Who acts in a session: its facilitator, or the player of one role (a user or a guest)."""

    name: str  # for the log and the chat: an e-mail, or a guest's name
    user_id: str | None
    guest_hash: str | None = None

    @property
    def key(self) -> str:
        return self.user_id or self.guest_hash or ""

    def plays(self, player: store.Player) -> bool:
        if self.user_id is not None:
            return player.user_id == self.user_id
        return self.guest_hash is not None and player.guest_hash == self.guest_hash


def as_user(user: User) -> Participant:
    return Participant(user.email, user.id)


def as_guest(db: Database, token: str) -> tuple[Participant, str]:
    """The guest holding this link, and the session it is for; NotFound for a stale link."""
    with db.read() as conn:
        found = store.guest(conn, token_hash(token))
    if found is None:
        raise NotFound("this guest link is not valid (any more)")
    session_id, _role, name = found
    return Participant(name or "guest", None, token_hash(token)), session_id


def create(
    db: Database, user: User, scenario_id: str = "", title: str = "", source: str = ""
) -> str:
    """A new session, facilitated by the user, of a shipped scenario or of the user's own
    scenario file (`source`, checked as `trustbubble exercise check` does)."""
    if not user.role.may_write:
        raise Forbidden("facilitating an exercise needs the analyst or admin role")
    if source:
        scenario = read_scenario(source, scenario_id or "scenario file")
    else:
        if not scenario_id:
            raise Invalid("scenario", "choose a shipped scenario or give a scenario file")
        source = shipped_text(scenario_id)
        scenario = read_scenario(source, scenario_id)
    session = StoredSession(
        str(uuid.uuid4()),
        scenario.id,
        source,
        text({"title": title}, "title", 300) or scenario.title,
        user.id,
        _now(),
    )
    with db.write() as conn:
        store.insert_session(conn, session)
        audit.record(conn, user.email, "exercise.created", session.id, scenario=scenario.id)
    return session.id


@dataclass(frozen=True, slots=True)
class Loaded:
    session: StoredSession
    scenario: Scenario
    roles: list[str]  # the participant's roles; empty for the facilitator
    facilitator: bool


def _load(db: Database, who: Participant, session_id: str) -> Loaded:
    """The session if the participant takes part in it; NotFound otherwise, as if absent."""
    with db.read() as conn:
        session = store.session_by_id(conn, session_id)
        players = store.players(conn, session_id) if session else []
    if session is None:
        raise NotFound(f"no exercise session {session_id}")
    facilitator = who.user_id is not None and session.facilitator_id == who.user_id
    roles = [p.role_id for p in players if who.plays(p)]
    if not facilitator and not roles:
        raise NotFound(f"no exercise session {session_id}")
    return Loaded(session, _scenario(session), roles, facilitator)


def _scenario(session: StoredSession) -> Scenario:
    return _parsed(session.scenario_text, session.scenario_id)


@lru_cache(maxsize=64)
def _parsed(text: str, name: str) -> Scenario:
    """A session's scenario, read once per process: reading and checking a large file costs
    tens of milliseconds, and live play reads its session many times a second. The text is the
    key, so a stored scenario that differed would be read afresh."""
    return read_scenario(text, name)


def assign(db: Database, user: User, session_id: str, role_id: str, email: str) -> None:
    """Give a role to a user of the node (of any organization)."""
    loaded = _facilitating(db, user, session_id)
    _role(loaded.scenario, role_id)
    with db.write() as conn:
        found = account_store.user_by_email(conn, email.strip().lower())
        if found is None:
            raise Invalid("email", f"no user {email!r} on this node")
        store.set_player(conn, session_id, role_id, found[0].id)
        audit.record(conn, user.email, "exercise.assigned", session_id, role=role_id, to=email)


def invite_guest(db: Database, user: User, session_id: str, role_id: str, name: str) -> str:
    """A one-time link's token for a guest to play a role; shown once, stored hashed."""
    loaded = _facilitating(db, user, session_id)
    _role(loaded.scenario, role_id)
    token = secrets.token_urlsafe(32)
    guest_name = text({"name": name}, "name", 200, required=True)
    with db.write() as conn:
        store.set_player(conn, session_id, role_id, None, guest_name, token_hash(token))
        audit.record(conn, user.email, "exercise.guest", session_id, role=role_id)
    return token


def _role(scenario: Scenario, role_id: str) -> None:
    if role_id not in {r.id for r in scenario.roles}:
        roles = ", ".join(r.id for r in scenario.roles)
        raise Invalid("role", f"no role {role_id!r} in this scenario (roles: {roles})")


def _facilitating(db: Database, user: User, session_id: str) -> Loaded:
    loaded = _load(db, as_user(user), session_id)
    if not loaded.facilitator:
        raise Forbidden("only the facilitator of the session may do this")
    return loaded


def _catch_up(conn: Connection, session_id: str, scenario: Scenario, now: datetime) -> list[Entry]:
    """The log, with game time moved on to the wall clock's if the session is running: one
    `advance` of the whole minutes passed since time last moved, stamped when they passed."""
    log = store.log_of(conn, session_id)
    state = replay(scenario, log)
    anchor = store.clock_anchor(conn, session_id) if state.running else None
    if anchor is None:
        return log
    passed = min(int((now - anchor) / GAME_MINUTE), scenario.end_minutes - state.minute, 480)
    if passed < 1:
        return log
    entry = Entry(Step.ADVANCE, passed)
    store.append(conn, session_id, entry, CLOCK, anchor + passed * GAME_MINUTE)
    return [*log, entry]


def tick(db: Database, session_id: str, now: datetime | None = None) -> bool:
    """Move a running session's game time on to the wall clock's; whether it moved."""
    moment = now or _now()
    with db.read() as conn:
        session = store.session_by_id(conn, session_id)
        if session is None:
            return False
        scenario = _scenario(session)
        state = replay(scenario, store.log_of(conn, session_id))
        anchor = store.clock_anchor(conn, session_id) if state.running else None
    if anchor is None or moment - anchor < GAME_MINUTE:
        return False
    with db.write() as conn:
        store.lock(conn, session_id)
        before = store.last_seq(conn, session_id)
        _catch_up(conn, session_id, scenario, moment)
        return store.last_seq(conn, session_id) > before


def act(db: Database, who: Participant, session_id: str, entry: Entry) -> State:
    """Apply one step: the facilitator's, or a player's decision for their own role. Game time
    first catches up with the wall clock, so a decision late by the clock is late."""
    loaded = _load(db, who, session_id)
    if entry.step in FACILITATOR_STEPS and not loaded.facilitator:
        raise Forbidden(f"only the facilitator may {entry.step.value} the exercise")
    if entry.step is Step.DECIDE and entry.role not in loaded.roles and not loaded.facilitator:
        raise Forbidden(f"you do not play the role {entry.role!r}")
    now = _now()
    with db.write() as conn:
        store.lock(conn, session_id)
        log = _catch_up(conn, session_id, loaded.scenario, now)
        state = check(loaded.scenario, log, entry)
        store.append(conn, session_id, entry, who.name, now)
    return state


@dataclass(frozen=True, slots=True)
class Screen:
    """One role's view: what it has been told, and what it must decide now."""

    role: str
    name: str
    team: str
    injects: list[dict[str, Any]]
    decisions: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str
    title: str
    scenario: str
    facilitator: bool
    minute: int
    started: bool
    running: bool
    ended: bool
    end_reason: str
    screens: list[Screen]  # every role's for the facilitator; the player's own otherwise
    players: list[dict[str, str]]
    scores: Scores | None  # once ended, or always for the facilitator


def _screen(scenario: Scenario, state: State, role_id: str) -> Screen:
    role = scenario.role(role_id)
    known = {i.id: i for i in scenario.injects}
    injects = [
        {
            "id": r.inject,
            "minute": r.minute,
            "channel": known[r.inject].channel,
            "title": known[r.inject].title,
            "content": known[r.inject].content,
        }
        for r in state.released
        if role_id in known[r.inject].roles
    ]
    decisions = []
    for decision_id in state.open_decisions():
        decision = scenario.decision(decision_id)
        if role_id in decision.roles:
            decisions.append(
                {
                    "id": decision.id,
                    "prompt": decision.prompt,
                    "deadline": state.opened[decision.id] + decision.minutes,
                    "default": decision.default,
                    "options": [{"id": o.id, "text": o.text} for o in decision.options],
                }
            )
    return Screen(role.id, role.name, role.team, injects[::-1], decisions)


@dataclass(frozen=True, slots=True)
class Live:
    """A session as it stands, read once for everyone who follows it (services/live.py)."""

    session: StoredSession
    scenario: Scenario
    state: State
    players: list[store.Player]
    names: dict[str, str]  # role -> who plays it
    seq: int  # the log's last entry
    said: list[store.Said]  # every team's messages after the id asked for


def live(db: Database, session_id: str, said_after: int | None = None) -> Live:
    """The session's state, players and (with `said_after`) newer chat messages."""
    with db.read() as conn:
        session = store.session_by_id(conn, session_id)
        if session is None:
            raise NotFound(f"no exercise session {session_id}")
        scenario = _scenario(session)
        log = store.log_of(conn, session_id)
        players = store.players(conn, session_id)
        emails = {u.id: u.email for u in _users(conn, [p.user_id for p in players])}
        teams = [t.id for t in scenario.teams]
        said = store.chat(conn, session_id, teams, said_after) if said_after is not None else []
    names = {
        p.role_id: emails.get(p.user_id or "", "") or f"{p.guest_name} (guest)" for p in players
    }
    return Live(session, scenario, replay(scenario, log), players, names, len(log), said)


def roles_of(current: Live, who: Participant) -> list[str] | None:
    """The roles the participant plays ([] for the facilitator), None if not in the session."""
    if who.user_id is not None and current.session.facilitator_id == who.user_id:
        return []
    roles = [p.role_id for p in current.players if who.plays(p)]
    return roles or None


def teams_of(current: Live, roles: list[str]) -> list[str]:
    """The chats a participant reads: their roles' teams, or every team for the facilitator."""
    if not roles:
        return [t.id for t in current.scenario.teams]
    return sorted({current.scenario.role(r).team for r in roles})


def present(current: Live, roles: list[str]) -> SessionView:
    """The session as seen by the facilitator (no roles) or the player of `roles`."""
    facilitator = not roles
    scenario, state = current.scenario, current.state
    shown = [r.id for r in scenario.roles] if facilitator else roles
    return SessionView(
        current.session.id,
        current.session.title,
        scenario.id,
        facilitator,
        state.minute,
        state.started,
        state.running,
        state.ended,
        state.end_reason,
        [_screen(scenario, state, role) for role in shown],
        [{"role": role, "player": name} for role, name in sorted(current.names.items())],
        scores(scenario, state) if facilitator or state.ended else None,
    )


def view(db: Database, who: Participant, session_id: str) -> SessionView:
    tick(db, session_id)
    current = live(db, session_id)
    roles = roles_of(current, who)
    if roles is None:
        raise NotFound(f"no exercise session {session_id}")
    return present(current, roles)


def _users(conn: Connection, user_ids: list[str | None]) -> list[User]:
    found = []
    for user_id in {u for u in user_ids if u}:
        user = account_store.user_by_id(conn, user_id)
        if user is not None:
            found.append(user)
    return found


def say(db: Database, who: Participant, session_id: str, message: str) -> None:
    """A message in the chat of the speaker's team (the facilitator speaks to every team)."""
    loaded = _load(db, who, session_id)
    body = text({"text": message}, "text", 2000, required=True)
    teams = _teams(loaded)
    with db.write() as conn:
        for team in teams:
            store.say(conn, session_id, team, who.name, body, _now())


def chat(db: Database, who: Participant, session_id: str, after: int = 0) -> list[store.Said]:
    loaded = _load(db, who, session_id)
    with db.read() as conn:
        return store.chat(conn, session_id, _teams(loaded), after)


def _teams(loaded: Loaded) -> list[str]:
    if loaded.facilitator:
        return [t.id for t in loaded.scenario.teams]
    return sorted({loaded.scenario.role(r).team for r in loaded.roles})


def sessions_of(db: Database, user: User) -> list[dict[str, Any]]:
    with db.read() as conn:
        found = store.sessions_of(conn, user.id)
    return [
        {
            "id": s.id,
            "title": s.title,
            "scenario": s.scenario_id,
            "facilitator": s.facilitator_id == user.id,
            "created": s.created,
        }
        for s in found
    ]


def respond(
    db: Database, who: Participant, session_id: str, kind: str, given: dict[int, str]
) -> None:
    """Keep a participant's answers: to the knowledge questions `before` play or `after` it (an
    option's index), or to the `debrief` questions (text, once the exercise has ended)."""
    loaded = _load(db, who, session_id)
    scenario = loaded.scenario
    questions: tuple[object, ...]
    if kind in KNOWLEDGE_PHASES:
        questions = scenario.knowledge
    elif kind == "debrief":
        questions = scenario.debrief
    else:
        raise Invalid("kind", f"answers are before, after or debrief, not {kind!r}")
    with db.write() as conn:
        state = replay(scenario, store.log_of(conn, session_id))
        if kind == "before" and state.started:
            raise Conflict("the exercise has started: the questions before it are closed")
        if kind != "before" and not state.ended:
            raise Conflict(f"the {kind} questions open when the exercise ends")
        kept = []
        for index, answer in sorted(given.items()):
            if not 0 <= index < len(questions):
                raise Invalid(f"answers.{index}", f"no question {index + 1} in this scenario")
            if kind in KNOWLEDGE_PHASES:
                options = scenario.knowledge[index].options
                if answer not in {str(i) for i in range(len(options))}:
                    raise Invalid(f"answers.{index}", f"choose one of the {len(options)} options")
            body = text({"answer": answer}, "answer", 4000)
            if body:
                kept.append(store.Answer(who.key, kind, index, who.name, _role_names(loaded), body))
        for answer_given in kept:
            store.answer(conn, session_id, answer_given, _now())


def _role_names(loaded: Loaded) -> str:
    if loaded.facilitator:
        return "facilitator"
    return ", ".join(loaded.scenario.role(r).name for r in loaded.roles)


def answered(db: Database, who: Participant, session_id: str) -> dict[str, dict[int, str]]:
    """What the participant answered so far, per kind."""
    _load(db, who, session_id)
    found: dict[str, dict[int, str]] = {}
    with db.read() as conn:
        for given in store.answers(conn, session_id):
            if given.participant == who.key:
                found.setdefault(given.kind, {})[given.question] = given.answer
    return found


def report(db: Database, who: Participant, session_id: str) -> dict[str, Any]:
    """The after-action report: for the facilitator at any time, for players once it ended."""
    tick(db, session_id)
    current = live(db, session_id)
    roles = roles_of(current, who)
    if roles is None:
        raise NotFound(f"no exercise session {session_id}")
    if roles and not current.state.ended:
        raise Conflict("the after-action report opens to players when the exercise ends")
    with db.read() as conn:
        given = [
            Response(a.kind, a.question, a.name, a.role, a.answer)
            for a in store.answers(conn, session_id)
        ]
    found = after_action(current.scenario, current.state, current.names, given)
    return {
        "id": current.session.id,
        "title": current.session.title,
        "created": current.session.created.isoformat(),
        **found,
    }
