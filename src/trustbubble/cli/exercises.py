"""`trustbubble exercise ...`: scenario files, and exercise sessions run from the command line.

Thin over `services/exercises.py` (docs/exercises.md): the commands act `--as` a user, with that
user's part in the session (facilitator or player), and print what the API's JSON holds.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich import box
from rich.table import Table
from rich.text import Text

from trustbubble.cli.common import AsUser, JsonOption, database, err, errors, fail, out, report

if TYPE_CHECKING:
    from trustbubble.domain.exercises.scenario import InvalidScenario
    from trustbubble.services.exercises import Screen, SessionView

exercise_app = typer.Typer(
    help="Role-play exercises: scenario files, the shipped scenarios, and sessions.",
    no_args_is_help=True,
)

SessionArgument = Annotated[str, typer.Argument(help="The session's id.")]
JOIN_PATH = "/exercises/join/"  # the web page a guest's link opens (web/pages/exercises.py)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{path}: is not UTF-8 text")
    except OSError as error:
        fail(f"{path}: cannot be read ({error.strerror})")


def _print_problems(path: Path, invalid: InvalidScenario) -> None:
    for p in invalid.problems:
        where = f"{p.path}: " if p.path else ""
        err.print(Text(f"{path}:{p.line}: {where}{p.message}"))


@exercise_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="A scenario file (YAML).", dir_okay=False)],
    as_json: JsonOption = False,
) -> None:
    """Check a scenario file; print every problem with its line and path."""
    path = file
    from trustbubble.domain.exercises.scenario import InvalidScenario, read_scenario

    text = _read(path)
    try:
        scenario = read_scenario(text, path.name)
    except InvalidScenario as invalid:
        if as_json:
            problems = [
                {"line": p.line, "path": p.path, "message": p.message} for p in invalid.problems
            ]
            sys.stdout.write(orjson.dumps({"ok": False, "problems": problems}).decode() + "\n")
        else:
            _print_problems(path, invalid)
        raise typer.Exit(1) from None
    summary = {
        "ok": True,
        "id": scenario.id,
        "title": scenario.title,
        "teams": len(scenario.teams),
        "roles": len(scenario.roles),
        "injects": len(scenario.injects),
        "decisions": len(scenario.decisions),
    }
    report(
        as_json,
        summary,
        lambda: out.print(
            Text(
                f"{path}: ok: {scenario.title} ({len(scenario.teams)} teams, "
                f"{len(scenario.roles)} roles, {len(scenario.injects)} injects, "
                f"{len(scenario.decisions)} decisions)"
            )
        ),
    )


@exercise_app.command("scenarios")
def scenarios(as_json: JsonOption = False) -> None:
    """List the scenarios shipped with TrustBubble."""
    from trustbubble.domain.exercises.scenario import shipped

    found = shipped()
    data = {
        "scenarios": [
            {
                "id": s.id,
                "title": s.title,
                "audience": s.audience,
                "minutes": s.minutes,
                "teams": [t.name for t in s.teams],
                "roles": len(s.roles),
            }
            for s in found
        ]
    }

    def text() -> None:
        table = Table(title="Shipped scenarios", box=box.SIMPLE)
        table.add_column("Id", no_wrap=True)
        table.add_column("Title")
        table.add_column("Minutes", justify="right")
        table.add_column("Roles", justify="right")
        for s in found:
            table.add_row(s.id, Text(s.title), str(s.minutes), str(len(s.roles)))
        out.print(table)

    report(as_json, data, text)


# -- sessions ----------------------------------------------------------------------------------


def _status(started: bool, running: bool, ended: bool, end_reason: str) -> str:
    if ended:
        return f"ended: {end_reason}"
    if running:
        return "running"
    return "paused" if started else "not started"


def _teams_table(teams: Sequence[Mapping[str, Any]]) -> Table:
    """A column per team: its resources, then its alignment on every norm a choice touched."""
    table = Table(box=box.SIMPLE, pad_edge=False)
    table.add_column("")
    for team in teams:
        table.add_column(Text(team["name"]), justify="right")
    for name in teams[0]["resources"] if teams else ():
        table.add_row(name.replace("_", " "), *(str(t["resources"][name]) for t in teams))
    touched = sorted({n for t in teams for n, value in t["alignment"].items() if value})
    if touched:
        table.add_section()
    for letter in touched:
        table.add_row(f"norm ({letter})", *(_signed(t["alignment"].get(letter, 0)) for t in teams))
    return table


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _heading(title: str) -> None:
    out.print()
    out.print(Text(title, style="bold"))


@exercise_app.command("sessions")
def sessions_list(as_user: AsUser, as_json: JsonOption = False) -> None:
    """List the sessions the user facilitates or plays in."""
    from trustbubble.services import accounts, exercises

    with database() as db, errors():
        found = exercises.sessions_of(db, accounts.user_by_email(db, as_user))

    def text() -> None:
        if not found:
            out.print("no exercise session")
            return
        table = Table(box=box.SIMPLE, pad_edge=False)
        table.add_column("Id", no_wrap=True)
        table.add_column("You", no_wrap=True)
        table.add_column("Created", no_wrap=True)
        table.add_column("Title")
        for s in found:
            part = "facilitate" if s["facilitator"] else "play"
            table.add_row(s["id"], part, f"{s['created']:%Y-%m-%d}", Text(s["title"]))
        out.print(table)

    report(as_json, {"sessions": found}, text)


@exercise_app.command("create")
def session_create(
    as_user: AsUser,
    scenario: Annotated[
        str | None, typer.Argument(help="A shipped scenario's id (see `exercise scenarios`).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            exists=True,
            dir_okay=False,
            help="Or a scenario file of your own (YAML), checked as `exercise check` does.",
        ),
    ] = None,
    title: Annotated[str, typer.Option(help="The session's title; the scenario's if empty.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a session of a scenario; the user facilitates it."""
    from trustbubble.domain.exercises.scenario import InvalidScenario
    from trustbubble.services import accounts, exercises

    if (scenario is None) == (file is None):
        raise typer.BadParameter("give a shipped scenario's id or --file FILE, one of them")
    source = _read(file) if file is not None else ""
    name = file.name if file is not None else str(scenario)
    if file is not None and not source:
        fail(f"{file}: is empty")  # the service would take an empty source for no file at all
    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        try:
            made = exercises.create(db, user, name, title, source)
        except InvalidScenario as invalid:
            if file is None:
                raise
            _print_problems(file, invalid)
            raise typer.Exit(1) from None
        seen = exercises.view(db, exercises.as_user(user), made)
    report(
        as_json,
        {"id": made, "title": seen.title, "scenario": seen.scenario},
        lambda: out.print(Text(f"created {made}: {seen.title} (scenario {seen.scenario})")),
    )


@exercise_app.command("cast")
def session_cast(
    session: SessionArgument,
    role: Annotated[str, typer.Argument(help="A role id of the scenario.")],
    as_user: AsUser,
    user: Annotated[
        str | None, typer.Option("--user", help="E-mail of a user of the node to play the role.")
    ] = None,
    guest: Annotated[
        str | None, typer.Option("--guest", help="Or a guest's name: prints a one-time link.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Give a role to a user of the node, or to a guest by a one-time link."""
    from trustbubble.services import accounts, exercises

    if (user is None) == (guest is None):
        raise typer.BadParameter("give --user EMAIL or --guest NAME, one of them")
    with database() as db, errors():
        facilitator = accounts.user_by_email(db, as_user)
        if user is not None:
            exercises.assign(db, facilitator, session, role, user)
            data = {"role": role, "user": user}
            said = f"{role}: played by {user}"
        else:
            token = exercises.invite_guest(db, facilitator, session, role, str(guest))
            link = JOIN_PATH + token
            data = {"role": role, "guest": str(guest), "guest_token": token, "link": link}
            said = f"{role}: played by the guest {guest}; their link (shown once): {link}"
    report(as_json, data, lambda: out.print(Text(said)))


@exercise_app.command("step")
def session_step(
    session: SessionArgument,
    step: Annotated[
        str, typer.Argument(help="start, pause, resume, advance, release, decide or end.")
    ],
    as_user: AsUser,
    minutes: Annotated[int, typer.Option(help="For advance: minutes of game time.")] = 0,
    inject: Annotated[str, typer.Option(help="For release: the inject's id.")] = "",
    decision: Annotated[str, typer.Option(help="For decide: the decision's id.")] = "",
    option: Annotated[str, typer.Option(help="For decide: the chosen option's id.")] = "",
    role: Annotated[str, typer.Option(help="For decide: the role that decides.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Take one step: the facilitator's start, pause, resume, advance, release or end, or a
    player's decision for their role."""
    from trustbubble.domain.choices import parse_choice
    from trustbubble.domain.exercises.engine import Entry, Step
    from trustbubble.services import accounts, exercises

    with errors():
        chosen = parse_choice(Step, step, "step", "step")
    entry = Entry(chosen, minutes, inject, decision, option, role)
    with database() as db, errors():
        who = exercises.as_user(accounts.user_by_email(db, as_user))
        state = exercises.act(db, who, session, entry)
    status = _status(state.started, state.running, state.ended, state.end_reason)
    data = {
        "id": session,
        "step": chosen.value,
        "minute": state.minute,
        "started": state.started,
        "running": state.running,
        "ended": state.ended,
        "end_reason": state.end_reason,
    }
    done = f"{role} chose {option} in {decision}" if chosen is Step.DECIDE else chosen.value
    report(as_json, data, lambda: out.print(Text(f"{done}: minute {state.minute}, {status}")))


def _print_screen(screen: Screen) -> None:
    _heading(f"{screen.name} ({screen.role}, team {screen.team})")
    for d in screen.decisions:
        due = f"by minute {d['deadline']} (default {d['default']})"
        out.print(Text(f"  decide {d['id']} {due}: {d['prompt']}"))
        for o in d["options"]:
            out.print(Text(f"    {o['id']}: {o['text']}"))
    if not screen.injects:
        out.print("  nothing yet")
    for i in screen.injects:
        out.print(Text(f"  minute {i['minute']}, {i['channel']}: {i['title']}", style="bold"))
        out.print(Text(f"    {i['content']}"))


def _print_view(seen: SessionView) -> None:
    status = _status(seen.started, seen.running, seen.ended, seen.end_reason)
    part = (
        "you facilitate"
        if seen.facilitator
        else "you play " + ", ".join(s.role for s in seen.screens)
    )
    out.print(Text(seen.title, style="bold"), Text(f"  {seen.id}"))
    out.print(Text(f"scenario {seen.scenario}, minute {seen.minute}, {status}; {part}"))
    cast = "; ".join(f"{p['role']} {p['player']}" for p in seen.players)
    out.print(Text(f"players: {cast or 'nobody yet'}"))
    for screen in seen.screens:
        _print_screen(screen)
    if seen.scores is not None:
        found = seen.scores
        _heading("Scores")
        teams = [
            {"name": t, "resources": r, "alignment": found.alignment_by_team[t]}
            for t, r in found.resources.items()
        ]
        out.print(_teams_table(teams))
        ratings = ", ".join(f"{o} {r.value}" for o, r in found.objectives.items())
        out.print(Text(f"objectives: {ratings}"))


@exercise_app.command("show")
def session_show(session: SessionArgument, as_user: AsUser, as_json: JsonOption = False) -> None:
    """Show a session as the user sees it: every role's screen for the facilitator, the
    player's own otherwise."""
    from trustbubble.services import accounts, exercises

    with database() as db, errors():
        who = exercises.as_user(accounts.user_by_email(db, as_user))
        seen = exercises.view(db, who, session)
    report(as_json, dataclasses.asdict(seen), lambda: _print_view(seen))


def _norm_marks(event: Mapping[str, Any]) -> str:
    marks = [f"+{n}" for n in event["upholds"]] + [f"-{n}" for n in event["strains"]]
    return " ".join(marks + (["chance"] if event["chance"] else []))


def _print_report(r: Mapping[str, Any]) -> None:
    scenario = r["scenario"]
    where = "ended at" if r["ended"] else "not ended yet,"
    end = f": {r['end_reason']}" if r["ended"] else ""
    out.print(Text(f"After-action report: {r['title']}", style="bold"), Text(f"  {r['id']}"))
    out.print(Text(f"{scenario['title']} ({scenario['id']}); {where} minute {r['minute']}{end}"))
    played = "; ".join(f"{x['name']}: {x['player']}" for x in r["roles"] if x["player"])
    out.print(Text(f"played by {played}" if played else "no role was cast"))

    _heading("Objectives")
    objectives = Table(box=box.SIMPLE, pad_edge=False)
    objectives.add_column("Rating", no_wrap=True)
    objectives.add_column("Objective")
    objectives.add_column("Norms", no_wrap=True)
    for o in r["objectives"]:
        objectives.add_row(o["rating"], Text(o["text"]), " ".join(o["norms"]))
    out.print(objectives)
    meanings = dict.fromkeys(f"{o['rating']}: {o['meaning']}" for o in r["objectives"])
    out.print(Text("; ".join(meanings)))

    _heading("Teams: resources and norm alignment")
    out.print(_teams_table(r["teams"]))

    _heading("Decisions")
    decisions = Table(box=box.SIMPLE, pad_edge=False)
    decisions.add_column("Minute", justify="right", no_wrap=True)
    decisions.add_column("By")
    decisions.add_column("Decision and choice")
    decisions.add_column("Norms", no_wrap=True)
    chosen = [e for e in r["timeline"] if e["kind"] == "decision"]
    for e in chosen:
        said = Text.assemble((e["prompt"], "dim"), "\n", e["choice"])
        decisions.add_row(str(e["minute"]), Text(e["by"]), said, _norm_marks(e))
    out.print(decisions if chosen else "no decision taken")

    for title, key in (("Strengths", "strengths"), ("Areas for improvement", "improvements")):
        _heading(title)
        for line in r[key] or ["none"]:
            out.print(Text(f"- {line}"))
    answered = [q for q in r["debrief"] if q["answers"]]
    if answered:
        _heading("Debrief")
    for q in answered:
        out.print(Text(q["question"]))
        for a in q["answers"]:
            out.print(Text(f"- {a['name']} ({a['role']}): {a['answer']}"))
    known = r["knowledge"]
    if known["before"]["answers"] or known["after"]["answers"]:
        scored = ", ".join(
            f"{phase} {known[phase]['correct']} of {known[phase]['answers']} right"
            for phase in ("before", "after")
        )
        out.print(Text(f"\nknowledge questions: {scored}"))


@exercise_app.command("report")
def session_report(
    session: SessionArgument,
    as_user: AsUser,
    pdf: Annotated[
        Path | None,
        typer.Option("--pdf", dir_okay=False, help="Write the report as a PDF to this file."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The after-action report: for the facilitator at any time, for players once it ended."""
    from trustbubble.services import accounts, exercises

    with database() as db, errors():
        who = exercises.as_user(accounts.user_by_email(db, as_user))
        found = exercises.report(db, who, session)
    if pdf is None:
        report(as_json, found, lambda: _print_report(found))
        return
    from trustbubble.services.exercise_pdf import report_pdf

    try:
        pdf.write_bytes(report_pdf(found))
    except OSError as error:
        fail(f"{pdf}: cannot be written ({error.strerror})")
    report(as_json, found, lambda: out.print(Text(f"wrote {pdf}")))
