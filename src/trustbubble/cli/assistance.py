"""Commands for requests for assistance and points of contact."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from trustbubble.cli.common import AsUser, JsonOption, database, errors, out, report
from trustbubble.domain.assistance import Action

assist_app = typer.Typer(help="Requests for assistance (UN GGE norm 13(h)).", no_args_is_help=True)
poc_app = typer.Typer(help="Points of contact of organizations.", no_args_is_help=True)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@assist_app.command("list")
def assist_list(
    as_user: AsUser,
    bubble: Annotated[str | None, typer.Option(help="Only this bubble (its name).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the requests the user may see, newest first."""
    from trustbubble.services import accounts, assistance, bubbles

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        bubble_id = bubbles.bubble_by_name(db, bubble).id if bubble else None
        found = assistance.listing(db, user, bubble_id)
    data = {
        "requests": [
            {
                "id": r.id,
                "title": r.title,
                "state": r.state,
                "urgency": r.urgency,
                "tlp": r.tlp,
                "requester": r.requester,
                "created": _iso(r.created),
                "waiting_on_me": r.waiting_on_me,
            }
            for r in found
        ]
    }

    def text() -> None:
        if not found:
            out.print("no request")
        for r in found:
            mark = "  (waiting for your answer)" if r.waiting_on_me else ""
            out.print(f"{r.id}  {r.state:<12} {r.urgency:<8} {r.requester}: {r.title}{mark}")

    report(as_json, data, text)


@assist_app.command("raise")
def assist_raise(
    bubble: str,
    title: Annotated[str, typer.Option(help="What is happening, in a line.")],
    asked: Annotated[
        list[str],
        typer.Option(
            help="technical-analysis, mitigation, information-on-activity, law-enforcement or "
            "diplomatic; repeat for several."
        ),
    ],
    as_user: AsUser,
    details: Annotated[str, typer.Option(help="More about the request.")] = "",
    urgency: Annotated[str, typer.Option(help="routine, high or critical.")] = "high",
    to: Annotated[
        list[str] | None,
        typer.Option(help="A member organization to ask; repeat; none means every other member."),
    ] = None,
    incident: Annotated[
        str | None, typer.Option(help="STIX id of an incident of the bubble.")
    ] = None,
    tlp: Annotated[
        str | None, typer.Option(help="TLP of the request; the bubble's default if not given.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ask a bubble, or chosen members of it, for help; prints the request's id."""
    from trustbubble.services import accounts, assistance, bubbles

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        body = {
            "title": title,
            "details": details,
            "asked": asked,
            "urgency": urgency,
            "recipients": to or [],
            "incident_id": incident or "",
            "tlp": tlp or "",
        }
        made = assistance.raise_request(db, user, found.id, body)
    report(as_json, {"id": made}, lambda: out.print(f"raised request {made} in {found.name}"))


@assist_app.command("act")
def assist_act(
    request_id: str,
    action: Annotated[
        str, typer.Argument(help="acknowledge, decline, start, resolve or withdraw.")
    ],
    as_user: AsUser,
    reason: Annotated[str, typer.Option(help="Why; required to decline.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Answer or move a request, as the user's organization."""
    from trustbubble.domain.choices import parse_choice
    from trustbubble.services import accounts, assistance

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        chosen = parse_choice(Action, action, "action", "action")
        assistance.act(db, user, request_id, chosen, reason)
        state = assistance.view(db, user, request_id).state
    report(
        as_json,
        {"id": request_id, "state": state},
        lambda: out.print(f"{chosen.value}: request {request_id} is now {state}"),
    )


@assist_app.command("targets")
def assist_targets(
    bubble: str,
    as_user: AsUser,
    acknowledge: Annotated[int, typer.Option(help="Hours to acknowledge a request.")] = 24,
    resolve: Annotated[int, typer.Option(help="Hours to resolve a request.")] = 336,
) -> None:
    """Set a bubble's charter targets (by an analyst or admin of an owner)."""
    from trustbubble.services import accounts, assistance, bubbles

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        assistance.set_targets(db, user, found.id, acknowledge, resolve)
    out.print(f"{found.name}: acknowledge within {acknowledge} h, resolve within {resolve} h")


@poc_app.command("add")
def poc_add(
    name: str,
    email: Annotated[str, typer.Option(help="The contact's e-mail address.")],
    as_user: AsUser,
    kind: Annotated[str, typer.Option(help="diplomatic or technical.")] = "technical",
    role: Annotated[str, typer.Option(help="The contact's role.")] = "",
    phone: Annotated[str, typer.Option(help="A phone number, such as +33 1 23 45 67 89.")] = "",
    languages: Annotated[str, typer.Option(help="Languages spoken.")] = "",
    hours: Annotated[str, typer.Option(help="When the contact answers, such as 24/7.")] = "",
    time_zone: Annotated[str, typer.Option(help="IANA time zone, such as Europe/Paris.")] = "UTC",
    as_json: JsonOption = False,
) -> None:
    """Add a point of contact to the user's organization."""
    from trustbubble.services import accounts, pocs

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        poc = pocs.add(
            db,
            user,
            {
                "name": name,
                "email": email,
                "kind": kind,
                "role": role,
                "phone": phone,
                "languages": languages,
                "hours": hours,
                "time_zone": time_zone,
            },
        )
    report(as_json, {"id": poc.id}, lambda: out.print(f"added {poc.fields.name} ({poc.id})"))


@poc_app.command("list")
def poc_list(as_user: AsUser, as_json: JsonOption = False) -> None:
    """List the points of contact of the user's organization."""
    from trustbubble.services import accounts, pocs

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = pocs.of_my_org(db, user)
    data = {
        "pocs": [
            {
                "id": p.id,
                "kind": p.fields.kind.value,
                "name": p.fields.name,
                "email": p.fields.email,
                "phone": p.fields.phone,
                "hours": p.fields.hours,
                "time_zone": p.fields.time_zone,
            }
            for p in found
        ]
    }

    def text() -> None:
        if not found:
            out.print("no point of contact")
        for p in found:
            out.print(f"{p.id}  {p.fields.kind.value:<10} {p.fields.name} <{p.fields.email}>")

    report(as_json, data, text)


@poc_app.command("remove")
def poc_remove(poc_id: str, as_user: AsUser) -> None:
    """Remove a point of contact of the user's organization."""
    from trustbubble.services import accounts, pocs

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        pocs.remove(db, user, poc_id)
    out.print(f"removed {poc_id}")
