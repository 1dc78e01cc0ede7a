"""Exercise sessions: a facilitator runs a scenario, players decide for their roles
(docs/exercises.md). The state shown is always `replay(scenario, log)`; every action is checked
against the engine and appended to the log in one write transaction.
"""

from __future__ import annotations

import secrets as random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from trustbubble.domain.accounts import User
from trustbubble.domain.errors import Forbidden, Invalid, NotFound
from trustbubble.domain.exercises.engine import Entry, Scores, State, Step, check, replay, scores
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


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Participant:
    """Who acts in a session: its facilitator, or the player of one role (a user or a guest)."""

    name: str  # for the log and the chat: an e-mail, or a guest's name
    user_id: str | None
    guest_hash: str | None = None


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


def create(db: Database, user: User, scenario_id: str, title: str = "") -> str:
    """A new session of a shipped scenario, facilitated by the user."""
    if not user.role.may_write:
        raise Forbidden("facilitating an exercise needs the analyst or admin role")
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
        guest = store.guest(conn, who.guest_hash) if who.guest_hash else None
    if session is None:
        raise NotFound(f"no exercise session {session_id}")
    facilitator = who.user_id is not None and session.facilitator_id == who.user_id
    roles = [p.role_id for p in players if who.user_id is not None and p.user_id == who.user_id]
    if guest is not None and guest[0] == session.id:
        roles.append(guest[1])
    if not facilitator and not roles:
        raise NotFound(f"no exercise session {session_id}")
    return Loaded(
        session, read_scenario(session.scenario_text, session.scenario_id), roles, facilitator
    )


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
    token = random.token_urlsafe(32)
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


def act(db: Database, who: Participant, session_id: str, entry: Entry) -> State:
    """Apply one step: the facilitator's, or a player's decision for their own role."""
    loaded = _load(db, who, session_id)
    if entry.step in FACILITATOR_STEPS and not loaded.facilitator:
        raise Forbidden(f"only the facilitator may {entry.step.value} the exercise")
    if entry.step is Step.DECIDE and entry.role not in loaded.roles and not loaded.facilitator:
        raise Forbidden(f"you do not play the role {entry.role!r}")
    with db.write() as conn:
        log = store.log_of(conn, session_id)
        state = check(loaded.scenario, log, entry)
        store.append(conn, session_id, entry, who.name, _now())
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
    injects = [
        {
            "id": r.inject,
            "minute": r.minute,
            "channel": scenario.inject(r.inject).channel,
            "title": scenario.inject(r.inject).title,
            "content": scenario.inject(r.inject).content,
        }
        for r in state.released
        if role_id in scenario.inject(r.inject).roles
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


def view(db: Database, who: Participant, session_id: str) -> SessionView:
    loaded = _load(db, who, session_id)
    with db.read() as conn:
        log = store.log_of(conn, session_id)
        players = store.players(conn, session_id)
        emails = {u.id: u.email for u in _users(conn, [p.user_id for p in players])}
    state = replay(loaded.scenario, log)
    shown = [r.id for r in loaded.scenario.roles] if loaded.facilitator else loaded.roles
    return SessionView(
        loaded.session.id,
        loaded.session.title,
        loaded.scenario.id,
        loaded.facilitator,
        state.minute,
        state.started,
        state.running,
        state.ended,
        state.end_reason,
        [_screen(loaded.scenario, state, role) for role in shown],
        [
            {
                "role": p.role_id,
                "player": emails.get(p.user_id or "", "") or f"{p.guest_name} (guest)",
            }
            for p in players
        ],
        scores(loaded.scenario, state) if loaded.facilitator or state.ended else None,
    )


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
