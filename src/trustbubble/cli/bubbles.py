"""Commands for bubbles of trust and their memberships."""

from __future__ import annotations

from typing import Annotated

import typer

from trustbubble.cli.common import AsUser, JsonOption, database, errors, out, report
from trustbubble.domain.bubbles import parse_bubble_kind, parse_bubble_role
from trustbubble.domain.tlp import TlpLevel

bubble_app = typer.Typer(help="Bubbles of trust.", no_args_is_help=True)


def _tlp(text: str) -> TlpLevel:
    return TlpLevel.parse(text)


@bubble_app.command("add")
def bubble_add(
    name: str,
    owner: Annotated[str, typer.Option(help="The owning organization.")],
    member: Annotated[
        list[str] | None, typer.Option(help="A member organization (repeat).")
    ] = None,
    observer: Annotated[
        list[str] | None, typer.Option(help="An observer organization (repeat).")
    ] = None,
    kind: Annotated[
        str, typer.Option(help="bilateral, multilateral, regional or sectoral.")
    ] = "multilateral",
    default_tlp: Annotated[
        str, typer.Option(help="TLP of objects shared without a marking.")
    ] = "amber",
    charter: Annotated[str, typer.Option(help="The charter text.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a bubble of trust; prints its id, which is its TAXII collection id."""
    from trustbubble.services import bubbles

    with database() as db, errors():
        bubble = bubbles.create_bubble(
            db,
            name,
            parse_bubble_kind(kind),
            owner,
            charter=charter,
            default_tlp=_tlp(default_tlp),
            members=tuple(member or ()),
            observers=tuple(observer or ()),
        )
    report(as_json, {"id": bubble.id, "name": bubble.name}, lambda: out.print(bubble.id))


@bubble_app.command("list")
def bubble_list(as_json: JsonOption = False) -> None:
    """List the bubbles of the node with their members and roles."""
    from trustbubble.services import bubbles

    with database() as db, errors():
        found = bubbles.overview(db)
    data = {"bubbles": found}

    def text() -> None:
        for bubble in found:
            out.print(f"[bold]{bubble['name']}[/] {bubble['id']} ({bubble['kind']})")
            for m in bubble["members"]:
                out.print(f"  {m['org']:<40} {m['role']:<9} {m['state']}", highlight=False)

    report(as_json, data, text)


@bubble_app.command("invite")
def bubble_invite(
    bubble: str,
    org: str,
    as_user: AsUser,
    role: Annotated[str, typer.Option(help="owner, member or observer.")] = "member",
    as_json: JsonOption = False,
) -> None:
    """Invite an organization into a bubble (by an analyst or admin of an owner)."""
    from trustbubble.services import accounts, bubbles

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        bubbles.invite(db, user, found.id, org, parse_bubble_role(role))
    report(
        as_json,
        {"bubble": found.id, "org": org, "role": role, "state": "invited"},
        lambda: out.print(f"invited {org} to {found.name} as {role}"),
    )


@bubble_app.command("accept")
def bubble_accept(bubble: str, as_user: AsUser, as_json: JsonOption = False) -> None:
    """Accept your organization's invitation (by an admin of the invited organization)."""
    _respond(bubble, as_user, accept=True, as_json=as_json)


@bubble_app.command("decline")
def bubble_decline(bubble: str, as_user: AsUser, as_json: JsonOption = False) -> None:
    """Decline your organization's invitation (by an admin of the invited organization)."""
    _respond(bubble, as_user, accept=False, as_json=as_json)


def _respond(bubble: str, as_user: str, *, accept: bool, as_json: bool) -> None:
    from trustbubble.services import accounts, bubbles

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        bubbles.respond(db, user, found.id, accept=accept)
    report(
        as_json,
        {"bubble": found.id, "state": "active" if accept else "declined"},
        lambda: out.print(f"{'accepted' if accept else 'declined'} the invitation to {found.name}"),
    )


@bubble_app.command("leave")
def bubble_leave(bubble: str, as_user: AsUser) -> None:
    """Take your organization out of a bubble (by one of its admins)."""
    from trustbubble.services import accounts, bubbles

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        bubbles.leave(db, user, found.id)
    out.print(f"left {found.name}")


@bubble_app.command("role")
def bubble_role(bubble: str, org: str, role: str, as_user: AsUser) -> None:
    """Change an organization's role in a bubble (by an analyst or admin of an owner)."""
    from trustbubble.services import accounts, bubbles

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        bubbles.change_role(db, user, found.id, org, parse_bubble_role(role))
    out.print(f"{org} is now {role} of {found.name}")


@bubble_app.command("share")
def bubble_share(
    bubble: str,
    peer: Annotated[str, typer.Option(help="The peer node (node id, name or address).")],
    as_json: JsonOption = False,
) -> None:
    """Share a bubble homed here with a peer node that hosts one of its members."""
    from trustbubble.services import bubbles, peers

    with database() as db, errors():
        found = bubbles.bubble_by_name(db, bubble)
        shared = peers.share(db, "operator", found, peer)
    report(
        as_json,
        {"bubble": found.id, "peer": shared.id},
        lambda: out.print(f"{found.name} is shared with {shared.name}"),
    )
