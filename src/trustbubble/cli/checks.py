"""Commands for communication checks: start one, read a report, schedule them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustbubble.cli.common import AsUser, JsonOption, database, errors, out, report

if TYPE_CHECKING:
    from trustbubble.services.checks import CheckReport

check_app = typer.Typer(
    help="Communication checks of a bubble's points of contact.", no_args_is_help=True
)

BubbleOption = Annotated[str, typer.Option("--bubble", help="Name of the bubble.")]


def _report_data(found: CheckReport) -> dict[str, Any]:
    return {
        "id": found.id,
        "bubble": found.bubble_name,
        "started": found.started.isoformat(),
        "started_by": found.started_by,
        "asked": found.asked,
        "answered": found.answered,
        "median_seconds": found.median_seconds,
        "pings": [
            {
                "org": p.org,
                "poc": p.poc_name,
                "email": p.poc_email,
                "answered": p.answered.isoformat() if p.answered else None,
                "seconds": p.seconds,
            }
            for p in found.pings
        ],
    }


def _print_report(data: dict[str, Any]) -> None:
    out.print(
        f"check {data['id']} of {data['bubble']}, started {data['started']} by "
        f"{data['started_by']}: {data['answered']} of {data['asked']} answered",
        highlight=False,
    )
    for ping in data["pings"]:
        after = f"after {ping['seconds']:.0f} s" if ping["seconds"] is not None else "no answer"
        out.print(f"  {ping['org']}  {ping['poc']} <{ping['email']}>  {after}", highlight=False)


@check_app.command("start")
def check_start(bubble: BubbleOption, as_user: AsUser, as_json: JsonOption = False) -> None:
    """Ping every POC of the bubble's members; the server's worker sends the messages."""
    from trustbubble.services import accounts, bubbles, checks

    with database() as db, errors():
        actor = accounts.user_by_email(db, as_user)
        found = checks.start(db, actor, bubbles.bubble_by_name(db, bubble).id)
    data = _report_data(found)
    report(as_json, data, lambda: _print_report(data))


@check_app.command("report")
def check_report(
    bubble: BubbleOption,
    check: Annotated[
        str | None, typer.Option("--check", help="Id of a check; the newest without it.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Who answered a check, how fast, and who did not."""
    from trustbubble.services import checks

    with database() as db, errors():
        found = checks.operator_report(db, bubble, check)
    data = _report_data(found)
    report(as_json, data, lambda: _print_report(data))


@check_app.command("schedule")
def check_schedule(
    bubble: BubbleOption,
    every: Annotated[int, typer.Option("--every", help="Days between checks; 0 stops them.")],
    as_user: AsUser,
    as_json: JsonOption = False,
) -> None:
    """Repeat the bubble's check every so many days."""
    from trustbubble.services import accounts, bubbles, checks

    with database() as db, errors():
        actor = accounts.user_by_email(db, as_user)
        planned = checks.schedule(db, actor, bubbles.bubble_by_name(db, bubble).id, every)
    data = {
        "bubble": bubble,
        "every_days": planned.every_days if planned else None,
        "next_due": planned.next_due.isoformat() if planned else None,
    }
    text = (
        f"checks of {bubble} every {planned.every_days} days, next {data['next_due']}"
        if planned
        else f"checks of {bubble} are no longer scheduled"
    )
    report(as_json, data, lambda: out.print(text, highlight=False))
