"""`trustbubble exercise ...`: check scenario files and list the shipped scenarios."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich import box
from rich.table import Table
from rich.text import Text

from trustbubble.cli.common import JsonOption, err, fail, out, report

exercise_app = typer.Typer(
    help="Role-play exercises: scenario files and the shipped scenarios.", no_args_is_help=True
)


@exercise_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="A scenario file (YAML).", dir_okay=False)],
    as_json: JsonOption = False,
) -> None:
    """Check a scenario file; print every problem with its line and path."""
    path = file
    from trustbubble.domain.exercises.scenario import InvalidScenario, read_scenario

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{path}: is not UTF-8 text")
    except OSError as error:
        fail(f"{path}: cannot be read ({error.strerror})")
    try:
        scenario = read_scenario(text, path.name)
    except InvalidScenario as invalid:
        if as_json:
            problems = [
                {"line": p.line, "path": p.path, "message": p.message} for p in invalid.problems
            ]
            sys.stdout.write(orjson.dumps({"ok": False, "problems": problems}).decode() + "\n")
        else:
            for p in invalid.problems:
                where = f"{p.path}: " if p.path else ""
                err.print(Text(f"{path}:{p.line}: {where}{p.message}"))
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
