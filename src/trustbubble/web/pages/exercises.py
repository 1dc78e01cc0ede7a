"""Exercises as pages: the scenario gallery, the facilitator's console and the player's screen
(live, by server-sent events), the after-action report and its PDF (docs/exercises.md).

A guest follows their one-time link to `/exercises/join/TOKEN`, which keeps the token in a cookie
scoped to that session's pages; a guest needs no account.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.api.node import Node
from trustbubble.api.platform.exercises import event_stream
from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import DomainError, NotFound, Unauthenticated
from trustbubble.domain.exercises.engine import Entry, Step
from trustbubble.domain.exercises.report import KNOWLEDGE_PHASES
from trustbubble.domain.exercises.scenario import read_scenario, shipped, shipped_text
from trustbubble.services import exercises
from trustbubble.services.exercise_pdf import report_pdf
from trustbubble.services.exercises import Live, Participant
from trustbubble.store.exercises import Said
from trustbubble.web.deps import (
    CSRF_COOKIE,
    CsrfChecked,
    MaybeSession,
    SignedIn,
    form_fields,
    render,
    set_cookie,
)
from trustbubble.web.deps import templates as page_templates

router = APIRouter(include_in_schema=False)

GUEST_COOKIE = "tb_guest"
ADVANCE_CHOICES = (1, 5, 10, 15, 30)


def _who(request: Request, node: Node, session: MaybeSession, session_id: str) -> Participant:
    """The guest whose link cookie this session's pages carry, else the signed-in user."""
    token = request.cookies.get(GUEST_COOKIE)
    if token:
        who, for_session = exercises.as_guest(node.db, token)
        if for_session == session_id:
            return who
    if session is None:
        raise Unauthenticated("sign in, or open the guest link you were given, to take part")
    return exercises.as_user(session.user)


def _problem(message: str) -> str:
    return f'<p class="problem" role="alert">{escape(message)}</p>'


def _following(node: Node, who: Participant, session_id: str) -> tuple[Live, list[str]]:
    """The session as it stands and the participant's roles ([] for the facilitator); a 404
    to anyone else."""
    exercises.tick(node.db, session_id)
    current = exercises.live(node.db, session_id, 0)
    roles = exercises.roles_of(current, who)
    if roles is None:
        raise NotFound(f"no exercise session {session_id}")
    return current, roles


@router.get("/exercises", response_class=HTMLResponse)
async def gallery(request: Request, node: NodeDep, session: SignedIn) -> Response:
    mine = await run_in_threadpool(exercises.sessions_of, node.db, session.user)
    return render(
        request,
        "exercises.html",
        scenarios=shipped(),
        sessions=mine,
        may_facilitate=session.user.role.may_write,
        twin="/api/v1/scenarios",
    )


@router.get("/exercises/scenarios/{scenario_id}", response_class=HTMLResponse)
async def scenario_page(request: Request, session: MaybeSession, scenario_id: str) -> Response:
    found = read_scenario(shipped_text(scenario_id), scenario_id)
    return render(
        request,
        "exercise_scenario.html",
        scenario=found,
        may_facilitate=session is not None and session.user.role.may_write,
        twin=f"/api/v1/scenarios/{scenario_id}",
    )


@router.post("/exercises", dependencies=[CsrfChecked])
async def create(request: Request, node: NodeDep, session: SignedIn) -> Response:
    form = await request.form()
    upload = form.get("file")
    source = ""
    scenario = str(form.get("scenario") or "")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        source = (await upload.read(1_000_001)).decode("utf-8", errors="replace")
        await upload.close()
        scenario = upload.filename
    title = str(form.get("title") or "")
    try:
        made = await run_in_threadpool(
            exercises.create, node.db, session.user, scenario, title, source
        )
    except DomainError as problem:
        mine = await run_in_threadpool(exercises.sessions_of, node.db, session.user)
        return render(
            request,
            "exercises.html",
            status_code=400,
            scenarios=shipped(),
            sessions=mine,
            may_facilitate=session.user.role.may_write,
            problem=problem,
        )
    return RedirectResponse(f"/exercises/{made}", status_code=303)


@router.get("/exercises/join/{token}")
async def join(request: Request, node: NodeDep, token: str) -> Response:
    """A guest's link: keep its token for the session's pages, then open the session."""
    _guest, session_id = await run_in_threadpool(exercises.as_guest, node.db, token)
    response = RedirectResponse(f"/exercises/{session_id}", status_code=303)
    set_cookie(request, response, GUEST_COOKIE, token, path=f"/exercises/{session_id}")
    return response


async def _session_page(
    request: Request,
    node: Node,
    session: MaybeSession,
    session_id: str,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    who = _who(request, node, session, session_id)
    current, roles = await run_in_threadpool(_following, node, who, session_id)
    found = exercises.present(current, roles)
    teams = set(exercises.teams_of(current, roles))
    answered = await run_in_threadpool(exercises.answered, node.db, who, session_id)
    return render(
        request,
        "exercise.html",
        status_code=status_code,
        said=[s for s in current.said if s.team in teams],
        team_names={t.id: t.name for t in current.scenario.teams},
        answered=answered,
        phase=_phase(found),
        **_live_context(current, found),
        **extra,
        twin=f"/api/v1/exercises/{session_id}",
    )


def _phase(view: exercises.SessionView) -> str:
    if view.ended:
        return "ended"
    return "playing" if view.started else "before"


def _live_context(current: Live, view: exercises.SessionView) -> dict[str, Any]:
    state = current.state
    return {
        "view": view,
        "scenario": current.scenario,
        "unreleased": [i for i in current.scenario.injects if not state.is_released(i.id)],
        "advance_choices": ADVANCE_CHOICES,
    }


@router.get("/exercises/{session_id}", response_class=HTMLResponse)
async def session_page(
    request: Request, node: NodeDep, session: MaybeSession, session_id: str
) -> Response:
    return await _session_page(request, node, session, session_id)


@router.get("/exercises/{session_id}/live")
async def live(request: Request, node: NodeDep, session: MaybeSession, session_id: str) -> Response:
    """Server-sent events: the live panel as HTML, and the team chat's messages."""
    who = _who(request, node, session, session_id)
    current, _roles = await run_in_threadpool(_following, node, who, session_id)
    names = {t.id: t.name for t in current.scenario.teams}
    csrf = session.csrf if session else request.cookies.get(CSRF_COOKIE, "")
    panel = page_templates(request).get_template("_exercise_live.html")
    chat = page_templates(request).get_template("_exercise_said.html")

    def screen(current: Live, roles: list[str]) -> str:
        view = exercises.present(current, roles)
        return panel.render(csrf=csrf, phase=_phase(view), **_live_context(current, view))

    def said(messages: list[Said], whole: bool) -> str:
        return chat.render(said=messages, team_names=names)

    return event_stream(node.hub.events(session_id, who, screen, said))


def _entry(form: dict[str, str]) -> Entry:
    minutes = form.get("minutes", "0") or "0"
    return Entry(
        parse_choice(Step, form.get("step", ""), "step", "step"),
        int(minutes) if minutes.isdigit() else -1,
        form.get("inject", ""),
        form.get("decision", ""),
        form.get("option", ""),
        form.get("role", ""),
    )


async def _fields(request: Request) -> dict[str, str]:
    return await form_fields(request)


def _answer(request: Request, session_id: str, problem: DomainError | None) -> Response:
    """After a form on the session page: htmx gets the problem (or nothing) in place; a browser
    without scripts goes back to the page."""
    if request.headers.get("hx-request"):
        return HTMLResponse(_problem(problem.message) if problem else "")
    if problem is not None:
        return HTMLResponse(_problem(problem.message), status_code=400)
    return RedirectResponse(f"/exercises/{session_id}", status_code=303)


@router.post("/exercises/{session_id}/steps", dependencies=[CsrfChecked])
async def step(request: Request, node: NodeDep, session: MaybeSession, session_id: str) -> Response:
    who = _who(request, node, session, session_id)
    try:
        entry = _entry(await _fields(request))
        await run_in_threadpool(exercises.act, node.db, who, session_id, entry)
    except DomainError as problem:
        return _answer(request, session_id, problem)
    node.hub.poke(session_id)
    return _answer(request, session_id, None)


@router.post("/exercises/{session_id}/chat", dependencies=[CsrfChecked])
async def say(
    request: Request,
    node: NodeDep,
    session: MaybeSession,
    session_id: str,
    text: Annotated[str, Form()] = "",
) -> Response:
    who = _who(request, node, session, session_id)
    try:
        await run_in_threadpool(exercises.say, node.db, who, session_id, text)
    except DomainError as problem:
        return _answer(request, session_id, problem)
    node.hub.poke(session_id)
    return _answer(request, session_id, None)


@router.post("/exercises/{session_id}/players", dependencies=[CsrfChecked])
async def cast(request: Request, node: NodeDep, session: SignedIn, session_id: str) -> Response:
    fields = await _fields(request)
    role, email, guest = fields.get("role", ""), fields.get("email", ""), fields.get("guest", "")
    link = ""
    try:
        if email.strip():
            await run_in_threadpool(
                exercises.assign, node.db, session.user, session_id, role, email
            )
        else:
            token = await run_in_threadpool(
                exercises.invite_guest, node.db, session.user, session_id, role, guest
            )
            link = str(request.url_for("join", token=token))
    except DomainError as problem:
        return await _session_page(
            request, node, session, session_id, status_code=400, cast_problem=problem
        )
    node.hub.poke(session_id)
    return await _session_page(request, node, session, session_id, guest_link=link, cast_role=role)


@router.post("/exercises/{session_id}/answers", dependencies=[CsrfChecked])
async def answer(
    request: Request, node: NodeDep, session: MaybeSession, session_id: str
) -> Response:
    who = _who(request, node, session, session_id)
    fields = await _fields(request)
    kind = fields.get("kind", "")
    given = {
        int(key[1:]): value
        for key, value in fields.items()
        if key.startswith("q") and key[1:].isdigit() and value.strip()
    }
    try:
        await run_in_threadpool(exercises.respond, node.db, who, session_id, kind, given)
    except DomainError as problem:
        return await _session_page(
            request, node, session, session_id, status_code=400, answer_problem=problem
        )
    saved = "Your answers are saved." if kind in KNOWLEDGE_PHASES else "Your debrief is saved."
    return await _session_page(request, node, session, session_id, saved=saved)


@router.get("/exercises/{session_id}/report", response_class=HTMLResponse)
async def report_page(
    request: Request, node: NodeDep, session: MaybeSession, session_id: str
) -> Response:
    who = _who(request, node, session, session_id)
    found = await run_in_threadpool(exercises.report, node.db, who, session_id)
    return render(
        request,
        "exercise_report.html",
        report=found,
        charts=[
            {
                "name": team["name"],
                "data": {
                    "minutes": found["scenario"]["minutes"],
                    "series": [
                        {
                            "label": name.replace("_", " "),
                            "points": [[p["minute"], p[name]] for p in team["points"]],
                        }
                        for name in found["resources"]
                    ],
                },
            }
            for team in found["resources_over_time"]
        ],
        twin=f"/api/v1/exercises/{session_id}/report",
    )


@router.get("/exercises/{session_id}/report.pdf")
async def report_file(
    request: Request, node: NodeDep, session: MaybeSession, session_id: str
) -> Response:
    who = _who(request, node, session, session_id)
    found = await run_in_threadpool(exercises.report, node.db, who, session_id)
    document = await run_in_threadpool(report_pdf, found)
    return Response(
        document,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="after-action-{session_id[:8]}.pdf"'
        },
    )
