"""The `trustbubble` command: thin wrappers that parse arguments and call the services."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

from trustbubble.domain.accounts import parse_role
from trustbubble.domain.bubbles import parse_bubble_kind, parse_bubble_role
from trustbubble.domain.errors import DomainError
from trustbubble.domain.tlp import TlpLevel
from trustbubble.settings import Settings
from trustbubble.store.database import Database

app = typer.Typer(
    help="Run and operate a TrustBubble node: bubbles of trust sharing STIX 2.1 over TAXII 2.1.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The node's database.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
bubble_app = typer.Typer(help="Bubbles of trust.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (org_app, "org"),
    (user_app, "user"),
    (token_app, "token"),
    (bubble_app, "bubble"),
    (audit_app, "audit"),
):
    app.add_typer(sub, name=name)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

REFUSED = 3  # exit code of an import that stored what it could and refused the rest

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object, for scripts.")]


@contextmanager
def _database() -> Iterator[Database]:
    """The node's store, from the settings; bad settings end the command with one line."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"TRUSTBUBBLE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        _fail(f"bad setting: {problems}")
    try:
        db = Database(settings.database_url)
    except (ValueError, ArgumentError, NoSuchModuleError) as error:
        _fail(f"TRUSTBUBBLE_DATABASE_URL: {error}")
    try:
        yield db
    finally:
        db.dispose()


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Domain and store errors become one line on stderr and a non-zero exit."""
    try:
        yield
    except DomainError as error:
        _fail(error.message)
    except (OperationalError, ProgrammingError) as error:
        if "no such table" in str(error) or "does not exist" in str(error):
            _fail("the database is not set up: run `trustbubble db upgrade` first")
        _fail(f"the database refused: {error.orig}")


def _operator(email: str) -> str:
    """How the audit log names an operator acting on a user's behalf from the CLI."""
    return f"operator as {email}"


def _report(as_json: bool, data: dict[str, Any], text: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
    else:
        text()


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema to the newest version (run after every upgrade)."""
    from trustbubble.services import node

    with _database() as db, _errors():
        node.upgrade(db)
        url = db.engine.url.render_as_string(hide_password=True)
    _report(
        as_json, {"database": url, "status": "up to date"}, lambda: out.print(f"{url}: up to date")
    )


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

    with _database() as db, _errors():
        org = accounts.create_org(db, name, kind, country, parent)
    data = {"id": org.id, "name": org.name, "identity": org.identity_id}
    _report(
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

    with _database() as db, _errors():
        user, password = accounts.create_user(db, email, org, parse_role(role))
    data = {
        "id": user.id,
        "email": user.email,
        "identity": user.identity_id,
        "password": password,
    }
    _report(
        as_json,
        data,
        lambda: out.print(
            f"added {user.email}; password (shown once): {password}", highlight=False
        ),
    )


@token_app.command("create")
def token_create(
    email: str,
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Create an API token for a user; prints it once."""
    from trustbubble.services import accounts

    with _database() as db, _errors():
        user = accounts.user_by_email(db, email)
        token, secret = accounts.create_token(db, user, name)
    data = {"id": token.id, "token": secret}
    _report(as_json, data, lambda: out.print(f"token (shown once): {secret}", highlight=False))


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

    with _database() as db, _errors():
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
    _report(as_json, {"id": bubble.id, "name": bubble.name}, lambda: out.print(bubble.id))


AsUser = Annotated[str, typer.Option("--as", help="E-mail of the user who acts.")]


@bubble_app.command("list")
def bubble_list(as_json: JsonOption = False) -> None:
    """List the bubbles of the node with their members and roles."""
    from trustbubble.services import bubbles

    with _database() as db, _errors():
        found = bubbles.overview(db)
    data = {"bubbles": found}

    def text() -> None:
        for bubble in found:
            out.print(f"[bold]{bubble['name']}[/] {bubble['id']} ({bubble['kind']})")
            for m in bubble["members"]:
                out.print(f"  {m['org']:<40} {m['role']:<9} {m['state']}", highlight=False)

    _report(as_json, data, text)


@bubble_app.command("invite")
def bubble_invite(
    bubble: str,
    org: str,
    as_user: AsUser,
    role: Annotated[str, typer.Option(help="owner, member or observer.")] = "member",
) -> None:
    """Invite an organization into a bubble (by an analyst or admin of an owner)."""
    from trustbubble.services import accounts, bubbles

    with _database() as db, _errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        bubbles.invite(db, user, found.id, org, parse_bubble_role(role))
    out.print(f"invited {org} to {found.name} as {role}")


@bubble_app.command("accept")
def bubble_accept(bubble: str, as_user: AsUser) -> None:
    """Accept your organization's invitation (by an admin of the invited organization)."""
    _respond(bubble, as_user, accept=True)


@bubble_app.command("decline")
def bubble_decline(bubble: str, as_user: AsUser) -> None:
    """Decline your organization's invitation (by an admin of the invited organization)."""
    _respond(bubble, as_user, accept=False)


def _respond(bubble: str, as_user: str, *, accept: bool) -> None:
    from trustbubble.services import accounts, bubbles

    with _database() as db, _errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        bubbles.respond(db, user, found.id, accept=accept)
    out.print(f"{'accepted' if accept else 'declined'} the invitation to {found.name}")


@bubble_app.command("leave")
def bubble_leave(bubble: str, as_user: AsUser) -> None:
    """Take your organization out of a bubble (by one of its admins)."""
    from trustbubble.services import accounts, bubbles

    with _database() as db, _errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        bubbles.leave(db, user, found.id)
    out.print(f"left {found.name}")


@bubble_app.command("role")
def bubble_role(bubble: str, org: str, role: str, as_user: AsUser) -> None:
    """Change an organization's role in a bubble (by an analyst or admin of an owner)."""
    from trustbubble.services import accounts, bubbles

    with _database() as db, _errors():
        user = accounts.user_by_email(db, as_user)
        found = bubbles.bubble_by_name(db, bubble)
        bubbles.change_role(db, user, found.id, org, parse_bubble_role(role))
    out.print(f"{org} is now {role} of {found.name}")


@token_app.command("list")
def token_list(email: str, as_json: JsonOption = False) -> None:
    """List a user's API tokens with their last use (never the tokens themselves)."""
    from trustbubble.services import accounts

    with _database() as db, _errors():
        tokens = accounts.tokens_of(db, accounts.user_by_email(db, email))
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "prefix": t.prefix,
            "created": t.created.isoformat(),
            "last_used": t.last_used.isoformat() if t.last_used else None,
            "revoked": t.revoked.isoformat() if t.revoked else None,
        }
        for t in tokens
    ]

    def text() -> None:
        for row in rows:
            state = f"revoked {row['revoked']}" if row["revoked"] else "active"
            used = row["last_used"] or "never"
            out.print(f"{row['id']}  {row['prefix']}…  {row['name']:<12} last used {used}  {state}")

    _report(as_json, {"tokens": rows}, text)


@token_app.command("revoke")
def token_revoke(email: str, token_id: str) -> None:
    """Revoke one of a user's API tokens, by the id `token list` shows."""
    from trustbubble.services import accounts

    with _database() as db, _errors():
        accounts.revoke_token(db, accounts.user_by_email(db, email), token_id)
    out.print(f"revoked {token_id}")


@app.command("import")
def import_bundle(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A STIX 2.1 bundle.")],
    bubble: Annotated[str, typer.Option(help="Name of the bubble to share into.")],
    as_user: Annotated[str, typer.Option("--as", help="E-mail of the user who shares.")],
    as_json: JsonOption = False,
) -> None:
    """Import a STIX bundle into a bubble, as a user; reports what was refused and why."""
    from trustbubble.services import exchange

    with _database() as db, _errors():
        objects = exchange.read_bundle(file.read_bytes(), str(file))
        with Progress(console=err, disable=as_json, transient=True) as progress:
            task = progress.add_task(f"importing {file.name}", total=len(objects))
            summary = exchange.import_objects(
                db,
                bubble,
                as_user,
                objects,
                lambda n: progress.advance(task, n),
                actor=_operator(as_user),
            )

    def text() -> None:
        refused = len(summary.failures)
        out.print(f"{summary.stored} stored, {summary.duplicates} already there, {refused} refused")
        for failure in summary.failures:
            out.print(f"  refused {failure}", highlight=False)

    _report(as_json, summary.to_json(), text)
    if summary.failures:
        raise typer.Exit(REFUSED)


@app.command("export")
def export_bundle(
    bubble: Annotated[str, typer.Option(help="Name of the bubble.")],
    as_user: Annotated[str, typer.Option("--as", help="E-mail of the reader.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")
    ] = None,
) -> None:
    """Export, as a STIX bundle, every version in a bubble that the user may read."""
    from trustbubble.services import exchange

    with _database() as db, _errors():
        data = exchange.export_bundle(db, bubble, as_user, actor=_operator(as_user))
    if output is None:
        sys.stdout.buffer.write(data + b"\n")
    else:
        output.write_bytes(data)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (more than 1 needs PostgreSQL).")
    ] = 1,
) -> None:
    """Serve the node: TAXII 2.1 at /taxii2/ and the JSON API."""
    import uvicorn

    settings = Settings()
    if workers > 1 and Database(settings.database_url).is_sqlite:
        _fail("several workers need PostgreSQL: set TRUSTBUBBLE_DATABASE_URL=postgresql://...")
    uvicorn.run(
        "trustbubble.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


@audit_app.command("verify")
def audit_verify(as_json: JsonOption = False) -> None:
    """Check the audit chain: a changed, inserted or removed entry is reported."""
    from trustbubble.services import audit

    with _database() as db, _errors():
        result = audit.verify(db)
    data = {
        "ok": result.ok,
        "entries": result.entries,
        "head": result.head,
        "problems": result.problems,
    }

    def text() -> None:
        if result.ok:
            out.print(f"audit log intact: {result.entries} entries, head {result.head}")
        for problem in result.problems:
            out.print(f"[red]{problem}[/]")

    _report(as_json, data, text)
    if not result.ok:
        raise typer.Exit(1)


@app.command("demo")
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Load the demo, do not serve.")
    ] = False,
) -> None:
    """Migrate, load demo data (once), print the demo logins, and serve the node."""
    from trustbubble.services import demo as demo_service
    from trustbubble.services import node

    with _database() as db, _errors():
        node.upgrade(db)
        logins = demo_service.load(db, progress=lambda text: err.print(text))
    out.print("\n[bold]Demo logins[/] (demo only; never use these passwords elsewhere):")
    width = max(len(login.email) for login in logins)
    secret_width = max(len(login.password) for login in logins)
    for login in logins:
        out.print(
            f"  {login.email:<{width}}  {login.password:<{secret_width}}  {login.description}",
            highlight=False,
        )
    out.print(f"\nTAXII discovery: http://{host}:{port}/taxii2/")
    if not no_serve:
        serve(host=host, port=port, workers=1)


def main() -> None:
    app()
