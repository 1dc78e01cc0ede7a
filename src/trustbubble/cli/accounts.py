"""Commands for organizations, users and API tokens."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from trustbubble.cli.common import JsonOption, database, errors, fail, out, report
from trustbubble.domain.accounts import parse_role

org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


@org_app.command("add")
def org_add(
    name: str,
    kind: Annotated[
        str,
        typer.Option(
            help="government, cert, operator, private, civil-society, international or academia."
        ),
    ],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code, e.g. FR.")],
    parent: Annotated[
        str | None, typer.Option(help="Organization whose constituency this is.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an organization."""
    from trustbubble.services import accounts

    with database() as db, errors():
        org = accounts.create_org(db, name, kind, country, parent)
    data = {"id": org.id, "name": org.name, "identity": org.identity_id}
    report(
        as_json, data, lambda: out.print(f"added {org.name} ({org.id}), identity {org.identity_id}")
    )


@user_app.command("add")
def user_add(
    email: str,
    org: Annotated[str, typer.Option(help="Name of the user's organization.")],
    role: Annotated[str, typer.Option(help="admin, analyst or viewer.")] = "analyst",
    as_json: JsonOption = False,
) -> None:
    """Add a user; prints a generated password once."""
    from trustbubble.services import accounts

    with database() as db, errors():
        user, password = accounts.create_user(db, email, org, parse_role(role))
    data = {
        "id": user.id,
        "email": user.email,
        "identity": user.identity_id,
        "password": password,
    }
    report(
        as_json,
        data,
        lambda: out.print(
            f"added {user.email}; password (shown once): {password}", highlight=False
        ),
    )


@user_app.command("password")
def user_password(
    email: str,
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the new password from standard input.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Set a user's password (generated and printed once, unless read with --stdin); ends their
    browser sessions and lifts a sign-in lock."""
    from trustbubble.services import accounts

    given = sys.stdin.readline().rstrip("\r\n") if stdin else None
    with database() as db, errors():
        user, password = accounts.set_password(db, email, given)
    data: dict[str, str] = {"id": user.id, "email": user.email}
    if given is None:
        data["password"] = password
    report(
        as_json,
        data,
        lambda: out.print(
            f"password of {user.email} set"
            + ("" if given is not None else f" (shown once): {password}"),
            highlight=False,
        ),
    )


@token_app.command("create")
def token_create(
    email: str,
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "cli",
    expires_in: Annotated[
        int | None,
        typer.Option(
            "--expires-in",
            metavar="DAYS",
            min=1,
            help="Days until it stops working; default TRUSTBUBBLE_TOKEN_DAYS (90).",
        ),
    ] = None,
    no_expiry: Annotated[
        bool, typer.Option("--no-expiry", help="A token that works until it is revoked.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create an API token for a user; prints it once, with when it expires."""
    from trustbubble.services import accounts
    from trustbubble.settings import Settings

    if no_expiry and expires_in is not None:
        fail("give --expires-in or --no-expiry, not both")
    with database() as db, errors():
        days = None if no_expiry else expires_in or Settings().token_days
        user = accounts.user_by_email(db, email)
        token, secret = accounts.create_token(db, user, name, days)
    expires = token.expires.isoformat() if token.expires else None
    data = {"id": token.id, "token": secret, "expires": expires}
    until = f"expires {expires}" if expires else "never expires"
    report(
        as_json, data, lambda: out.print(f"token (shown once): {secret}; {until}", highlight=False)
    )


@token_app.command("list")
def token_list(email: str, as_json: JsonOption = False) -> None:
    """List a user's API tokens with their last use and expiry (never the tokens themselves)."""
    from trustbubble.services import accounts

    with database() as db, errors():
        tokens = accounts.tokens_of(db, accounts.user_by_email(db, email))
    now = datetime.now(UTC)
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "prefix": t.prefix,
            "created": t.created.isoformat(),
            "last_used": t.last_used.isoformat() if t.last_used else None,
            "expires": t.expires.isoformat() if t.expires else None,
            "revoked": t.revoked.isoformat() if t.revoked else None,
            "state": "revoked" if t.revoked else "expired" if t.expired(now) else "active",
        }
        for t in tokens
    ]

    def text() -> None:
        for row in rows:
            state = f"revoked {row['revoked']}" if row["revoked"] else row["state"]
            used = row["last_used"] or "never"
            expires = row["expires"] or "never"
            out.print(
                f"{row['id']}  {row['prefix']}…  {row['name']:<12} last used {used}  "
                f"expires {expires}  {state}"
            )

    report(as_json, {"tokens": rows}, text)


@token_app.command("revoke")
def token_revoke(email: str, token_id: str) -> None:
    """Revoke one of a user's API tokens, by the id `token list` shows."""
    from trustbubble.services import accounts

    with database() as db, errors():
        accounts.revoke_token(db, accounts.user_by_email(db, email), token_id)
    out.print(f"revoked {token_id}")
