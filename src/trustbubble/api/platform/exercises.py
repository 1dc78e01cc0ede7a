"""Scenarios and exercise sessions over JSON (docs/exercises.md).

A guest plays with the token of their one-time link in the `X-Guest-Token` header instead of
credentials; everyone else uses their token or session as for the rest of the API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import CurrentUser, NodeDep, OptionalPlatformUser
from trustbubble.api.platform.filters import RowNumber
from trustbubble.api.platform.media import EVENT_STREAM
from trustbubble.domain.accounts import User
from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import Unauthenticated
from trustbubble.domain.exercises.engine import Entry, Step
from trustbubble.domain.exercises.scenario import read_scenario, schema, shipped, shipped_text
from trustbubble.services import exercises
from trustbubble.services.exercises import Participant
from trustbubble.store.database import Database
from trustbubble.store.exercises import Said

router = APIRouter(prefix="/api/v1", tags=["exercises"])

GuestToken = Annotated[str, Header(alias="X-Guest-Token", description="A guest's link token.")]


class NewSession(BaseModel):
    scenario: str = Field(default="", description="The id of a shipped scenario.")
    source: str = Field(
        default="", description="Or a scenario file of your own (YAML), checked before use."
    )
    title: str = Field(default="", description="The session's title; the scenario's if empty.")


class Casting(BaseModel):
    role: str = Field(description="A role id of the scenario.")
    email: str = Field(default="", description="A user of the node to play it.")
    guest_name: str = Field(default="", description="Or a guest's name: answers a link token.")


class Action(BaseModel):
    step: str = Field(description="start, pause, resume, advance, release, decide or end.")
    minutes: int = Field(default=0, description="For advance: minutes of game time.")
    inject: str = Field(default="", description="For release: the inject's id.")
    decision: str = Field(default="", description="For decide: the decision's id.")
    option: str = Field(default="", description="For decide: the chosen option's id.")
    role: str = Field(default="", description="For decide: the role that decides.")


class Answers(BaseModel):
    kind: str = Field(description="before or after (knowledge questions), or debrief.")
    answers: dict[int, str] = Field(
        description="Question number (from 0) to the answer: an option's number for knowledge "
        "questions, text for the debrief."
    )


class Message(BaseModel):
    text: str = Field(description="The message, to the speaker's team.")


def _who(db: Database, user: User | None, guest: str) -> Participant:
    if guest:
        return exercises.as_guest(db, guest)[0]
    if user is None:
        raise Unauthenticated("this resource needs credentials or a guest link's token")
    return exercises.as_user(user)


@router.get("/scenarios")
async def list_scenarios() -> list[dict[str, Any]]:
    """The shipped scenarios: the gallery."""
    return [
        {
            "id": s.id,
            "title": s.title,
            "summary": s.summary,
            "audience": s.audience,
            "minutes": s.minutes,
            "teams": [t.name for t in s.teams],
            "roles": [r.name for r in s.roles],
            "norms": sorted({n for o in s.objectives for n in o.norms}),
        }
        for s in shipped()
    ]


@router.get("/scenarios/schema")
async def scenario_schema() -> dict[str, Any]:
    """The JSON Schema that scenario files follow."""
    return schema()


@router.get("/scenarios/{scenario_id}")
async def get_scenario(scenario_id: str) -> dict[str, Any]:
    """A shipped scenario, whole."""
    found = read_scenario(shipped_text(scenario_id), scenario_id)
    return dataclasses.asdict(found)


@router.get("/exercises")
async def my_sessions(node: NodeDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The sessions I facilitate or play in."""
    return await run_in_threadpool(exercises.sessions_of, node.db, user)


@router.post("/exercises", status_code=201)
async def create_session(node: NodeDep, user: CurrentUser, body: NewSession) -> dict[str, str]:
    """A new session of a shipped scenario, which I facilitate."""
    made = await run_in_threadpool(
        exercises.create, node.db, user, body.scenario, body.title, body.source
    )
    return {"id": made}


@router.post("/exercises/{session_id}/players", status_code=201)
async def cast(node: NodeDep, user: CurrentUser, session_id: str, body: Casting) -> dict[str, str]:
    """Give a role to a user, or to a guest: then the answer holds the link's token, once."""
    if body.email:
        await run_in_threadpool(exercises.assign, node.db, user, session_id, body.role, body.email)
        node.hub.poke(session_id)
        return {"role": body.role}
    token = await run_in_threadpool(
        exercises.invite_guest, node.db, user, session_id, body.role, body.guest_name
    )
    node.hub.poke(session_id)
    return {"role": body.role, "guest_token": token}


@router.get("/exercises/{session_id}")
async def get_session(
    node: NodeDep, user: OptionalPlatformUser, session_id: str, guest: GuestToken = ""
) -> exercises.SessionView:
    """The session as I see it: every role's screen for the facilitator, my own for a player."""
    who = await run_in_threadpool(_who, node.db, user, guest)
    return await run_in_threadpool(exercises.view, node.db, who, session_id)


@router.post("/exercises/{session_id}/steps")
async def act(
    node: NodeDep,
    user: OptionalPlatformUser,
    session_id: str,
    body: Action,
    guest: GuestToken = "",
) -> exercises.SessionView:
    """One step: the facilitator's start, pause, resume, advance, release or end, or a
    player's decision for their role. Refused with the reason when it does not apply."""
    who = await run_in_threadpool(_who, node.db, user, guest)
    entry = Entry(
        parse_choice(Step, body.step, "step", "step"),
        body.minutes,
        body.inject,
        body.decision,
        body.option,
        body.role,
    )
    await run_in_threadpool(exercises.act, node.db, who, session_id, entry)
    node.hub.poke(session_id)
    return await run_in_threadpool(exercises.view, node.db, who, session_id)


@router.get(
    "/exercises/{session_id}/events", response_class=StreamingResponse, responses=EVENT_STREAM
)
async def follow(
    node: NodeDep, user: OptionalPlatformUser, session_id: str, guest: GuestToken = ""
) -> StreamingResponse:
    """Server-sent events: `screen` (the session as I see it, as from GET) whenever it moves
    on, and `chat` (all my teams' messages, first) and `said` (each newer one)."""
    who = await run_in_threadpool(_who, node.db, user, guest)
    await run_in_threadpool(exercises.view, node.db, who, session_id)  # 404 if not mine

    def screen(current: exercises.Live, roles: list[str]) -> str:
        return _json(exercises.present(current, roles))

    def said(messages: list[Said], whole: bool) -> str:
        return _json({"whole": whole, "messages": messages})

    return event_stream(node.hub.events(session_id, who, screen, said))


def _json(value: object) -> str:
    # orjson writes dataclasses, enums and datetimes itself, many times faster than FastAPI's
    # encoder: each release sends every follower a screen.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/exercises/{session_id}/report")
async def after_action_report(
    node: NodeDep, user: OptionalPlatformUser, session_id: str, guest: GuestToken = ""
) -> dict[str, Any]:
    """The after-action report: for the facilitator at any time, for players once it ended."""
    who = await run_in_threadpool(_who, node.db, user, guest)
    return await run_in_threadpool(exercises.report, node.db, who, session_id)


@router.get("/exercises/{session_id}/answers")
async def my_answers(
    node: NodeDep, user: OptionalPlatformUser, session_id: str, guest: GuestToken = ""
) -> dict[str, dict[int, str]]:
    """What I answered: knowledge questions before and after, and the debrief."""
    who = await run_in_threadpool(_who, node.db, user, guest)
    return await run_in_threadpool(exercises.answered, node.db, who, session_id)


@router.post("/exercises/{session_id}/answers", status_code=204)
async def answer(
    node: NodeDep,
    user: OptionalPlatformUser,
    session_id: str,
    body: Answers,
    guest: GuestToken = "",
) -> None:
    """Answer the knowledge questions before play starts or after it ends, or the debrief."""
    who = await run_in_threadpool(_who, node.db, user, guest)
    await run_in_threadpool(exercises.respond, node.db, who, session_id, body.kind, body.answers)


@router.get("/exercises/{session_id}/chat")
async def read_chat(
    node: NodeDep,
    user: OptionalPlatformUser,
    session_id: str,
    after: RowNumber = 0,
    guest: GuestToken = "",
) -> list[dict[str, Any]]:
    """My team's chat after a message id (the facilitator reads every team's)."""
    who = await run_in_threadpool(_who, node.db, user, guest)
    said = await run_in_threadpool(exercises.chat, node.db, who, session_id, after)
    return [dataclasses.asdict(s) for s in said]


@router.post("/exercises/{session_id}/chat", status_code=201)
async def post_chat(
    node: NodeDep,
    user: OptionalPlatformUser,
    session_id: str,
    body: Message,
    guest: GuestToken = "",
) -> None:
    """A message to my team (the facilitator's goes to every team)."""
    who = await run_in_threadpool(_who, node.db, user, guest)
    await run_in_threadpool(exercises.say, node.db, who, session_id, body.text)
    node.hub.poke(session_id)
