"""Exercise sessions: the scenario text, the players, the log and the team chats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, or_, select, update

from trustbubble.domain.exercises.engine import Entry, Step
from trustbubble.store.tables import (
    exercise_answers,
    exercise_chat,
    exercise_log,
    exercise_players,
    exercise_sessions,
)


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: str
    scenario_id: str
    scenario_text: str
    title: str
    facilitator_id: str
    created: datetime


@dataclass(frozen=True, slots=True)
class Player:
    role_id: str
    user_id: str | None
    guest_name: str
    guest_hash: str | None


@dataclass(frozen=True, slots=True)
class Said:
    id: int
    team: str
    author: str
    text: str
    at: datetime


def insert_session(conn: Connection, session: StoredSession) -> None:
    conn.execute(
        insert(exercise_sessions).values(
            id=session.id,
            scenario_id=session.scenario_id,
            scenario_text=session.scenario_text,
            title=session.title,
            facilitator_id=session.facilitator_id,
            created=session.created,
        )
    )


def session_by_id(conn: Connection, session_id: str) -> StoredSession | None:
    row = conn.execute(
        select(
            exercise_sessions.c.id,
            exercise_sessions.c.scenario_id,
            exercise_sessions.c.scenario_text,
            exercise_sessions.c.title,
            exercise_sessions.c.facilitator_id,
            exercise_sessions.c.created,
        ).where(exercise_sessions.c.id == session_id)
    ).first()
    return None if row is None else StoredSession(*row)


def sessions_of(conn: Connection, user_id: str) -> list[StoredSession]:
    """The sessions a user facilitates or plays in, newest first."""
    playing = select(exercise_players.c.session_id).where(exercise_players.c.user_id == user_id)
    rows = conn.execute(
        select(
            exercise_sessions.c.id,
            exercise_sessions.c.scenario_id,
            exercise_sessions.c.scenario_text,
            exercise_sessions.c.title,
            exercise_sessions.c.facilitator_id,
            exercise_sessions.c.created,
        )
        .where(
            or_(
                exercise_sessions.c.facilitator_id == user_id,
                exercise_sessions.c.id.in_(playing),
            )
        )
        .order_by(exercise_sessions.c.created.desc())
    )
    return [StoredSession(*row) for row in rows]


def set_player(
    conn: Connection,
    session_id: str,
    role_id: str,
    user_id: str | None,
    guest_name: str = "",
    token_hash: str | None = None,
) -> None:
    """Give a role to a user or a guest, replacing whoever held it."""
    values = {"user_id": user_id, "guest_name": guest_name, "guest_token_hash": token_hash}
    done = conn.execute(
        update(exercise_players)
        .where(exercise_players.c.session_id == session_id, exercise_players.c.role_id == role_id)
        .values(**values)
    )
    if done.rowcount == 0:
        conn.execute(
            insert(exercise_players).values(session_id=session_id, role_id=role_id, **values)
        )


def players(conn: Connection, session_id: str) -> list[Player]:
    rows = conn.execute(
        select(
            exercise_players.c.role_id,
            exercise_players.c.user_id,
            exercise_players.c.guest_name,
            exercise_players.c.guest_token_hash,
        )
        .where(exercise_players.c.session_id == session_id)
        .order_by(exercise_players.c.role_id)
    )
    return [Player(*row) for row in rows]


def guest(conn: Connection, token_hash: str) -> tuple[str, str, str] | None:
    """(session id, role id, guest name) of a guest link."""
    row = conn.execute(
        select(
            exercise_players.c.session_id,
            exercise_players.c.role_id,
            exercise_players.c.guest_name,
        ).where(exercise_players.c.guest_token_hash == token_hash)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def lock(conn: Connection, session_id: str) -> None:
    """Hold the session's row until the transaction ends, so that two processes append to its
    log one after the other (PostgreSQL; SQLite's write transactions are serial already)."""
    conn.execute(
        select(exercise_sessions.c.id).where(exercise_sessions.c.id == session_id).with_for_update()
    )


def clock_anchor(conn: Connection, session_id: str) -> datetime | None:
    """When game time last moved or began to run: the latest start, resume or advance."""
    found: datetime | None = conn.execute(
        select(exercise_log.c.at)
        .where(
            exercise_log.c.session_id == session_id,
            exercise_log.c.step.in_([Step.START.value, Step.RESUME.value, Step.ADVANCE.value]),
        )
        .order_by(exercise_log.c.seq.desc())
        .limit(1)
    ).scalar()
    return found


@dataclass(frozen=True, slots=True)
class Logged:
    seq: int
    at: datetime
    actor: str
    entry: Entry


def history(conn: Connection, session_id: str) -> list[Logged]:
    """The log with who did what and when, for the after-action report."""
    rows = conn.execute(
        select(
            exercise_log.c.seq,
            exercise_log.c.at,
            exercise_log.c.actor,
            exercise_log.c.step,
            exercise_log.c.minutes,
            exercise_log.c.inject,
            exercise_log.c.decision,
            exercise_log.c.option,
            exercise_log.c.role,
        )
        .where(exercise_log.c.session_id == session_id)
        .order_by(exercise_log.c.seq)
    )
    return [Logged(r[0], r[1], r[2], Entry(Step(r[3]), r[4], r[5], r[6], r[7], r[8])) for r in rows]


def last_seq(conn: Connection, session_id: str) -> int:
    found = conn.execute(
        select(func.max(exercise_log.c.seq)).where(exercise_log.c.session_id == session_id)
    ).scalar_one()
    return int(found or 0)


def last_said(conn: Connection, session_id: str) -> int:
    found = conn.execute(
        select(func.max(exercise_chat.c.id)).where(exercise_chat.c.session_id == session_id)
    ).scalar_one()
    return int(found or 0)


def log_of(conn: Connection, session_id: str) -> list[Entry]:
    return [logged.entry for logged in history(conn, session_id)]


def append(conn: Connection, session_id: str, entry: Entry, actor: str, at: datetime) -> int:
    """Add one entry at the end of the log; its sequence number."""
    seq = last_seq(conn, session_id) + 1
    conn.execute(
        insert(exercise_log).values(
            session_id=session_id,
            seq=seq,
            at=at,
            actor=actor,
            step=entry.step.value,
            minutes=entry.minutes,
            inject=entry.inject,
            decision=entry.decision,
            option=entry.option,
            role=entry.role,
        )
    )
    return seq


def say(conn: Connection, session_id: str, team: str, author: str, text: str, at: datetime) -> None:
    conn.execute(
        insert(exercise_chat).values(
            session_id=session_id, team=team, author=author, text=text, at=at
        )
    )


def chat(conn: Connection, session_id: str, teams: Sequence[str], after: int = 0) -> list[Said]:
    rows = conn.execute(
        select(
            exercise_chat.c.id,
            exercise_chat.c.team,
            exercise_chat.c.author,
            exercise_chat.c.text,
            exercise_chat.c.at,
        )
        .where(
            exercise_chat.c.session_id == session_id,
            exercise_chat.c.team.in_(teams),
            exercise_chat.c.id > after,
        )
        .order_by(exercise_chat.c.id)
    )
    return [Said(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Answer:
    participant: str
    kind: str
    question: int
    name: str
    role: str
    answer: str


def answer(conn: Connection, session_id: str, given: Answer, at: datetime) -> None:
    """Keep a participant's answer to one question, replacing an earlier one."""
    key = (
        exercise_answers.c.session_id == session_id,
        exercise_answers.c.participant == given.participant,
        exercise_answers.c.kind == given.kind,
        exercise_answers.c.question == given.question,
    )
    values = {"name": given.name, "role": given.role, "answer": given.answer, "at": at}
    if conn.execute(update(exercise_answers).where(*key).values(**values)).rowcount == 0:
        conn.execute(
            insert(exercise_answers).values(
                session_id=session_id,
                participant=given.participant,
                kind=given.kind,
                question=given.question,
                **values,
            )
        )


def answers(conn: Connection, session_id: str) -> list[Answer]:
    rows = conn.execute(
        select(
            exercise_answers.c.participant,
            exercise_answers.c.kind,
            exercise_answers.c.question,
            exercise_answers.c.name,
            exercise_answers.c.role,
            exercise_answers.c.answer,
        )
        .where(exercise_answers.c.session_id == session_id)
        .order_by(exercise_answers.c.kind, exercise_answers.c.question, exercise_answers.c.at)
    )
    return [Answer(*row) for row in rows]
