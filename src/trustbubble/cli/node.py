"""Commands that run and check the node: database, server, audit log, demo."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustbubble.cli.common import JsonOption, database, err, errors, fail, out, report
from trustbubble.settings import Settings
from trustbubble.store.database import Database

if TYPE_CHECKING:
    from trustbubble.domain.federation import NodeKey

db_app = typer.Typer(help="The node's database.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema to the newest version (run after every upgrade)."""
    from trustbubble.services import node

    with database() as db, errors():
        node.upgrade(db)
        url = db.engine.url.render_as_string(hide_password=True)
    key = _node_key()
    data = {"database": url, "status": "up to date", "node": key.node_id}
    report(as_json, data, lambda: out.print(f"{url}: up to date; node {key.node_id}"))


def _node_key() -> NodeKey:
    """The node's key, made the first time (docs/federation.md)."""
    from trustbubble.services import node_key

    try:
        return node_key.load(Settings())
    except node_key.NodeKeyError as error:
        fail(str(error))


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (more than 1 needs PostgreSQL).")
    ] = 1,
    certfile: Annotated[
        Path | None,
        typer.Option(help="PEM certificate (chain) to serve HTTPS with; needs --keyfile."),
    ] = None,
    keyfile: Annotated[Path | None, typer.Option(help="PEM private key of --certfile.")] = None,
) -> None:
    """Serve the node: TAXII 2.1 at /taxii2/ and the JSON API; HTTPS with --certfile."""
    import uvicorn

    settings = Settings()
    if workers > 1 and Database(settings.database_url).is_sqlite:
        fail("several workers need PostgreSQL: set TRUSTBUBBLE_DATABASE_URL=postgresql://...")
    tls = _tls(certfile, keyfile)
    uvicorn.run(
        "trustbubble.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        **tls,
    )


def _tls(certfile: Path | None, keyfile: Path | None) -> dict[str, Any]:
    """uvicorn's TLS options, once the pair is known to load: TLS 1.2 or newer only."""
    if certfile is None and keyfile is None:
        return {}
    if certfile is None or keyfile is None:
        fail("HTTPS needs both --certfile and --keyfile")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile)
    except FileNotFoundError as error:
        fail(f"cannot read {error.filename}: no such file")
    except (ssl.SSLError, OSError) as error:
        fail(f"the certificate {certfile} and key {keyfile} do not load together: {error}")
    # TAXII 2.1 (section 1.6.1) requires TLS 1.2 or newer; Python's server default agrees,
    # and the context uvicorn builds is told so again.
    return {
        "ssl_certfile": str(certfile),
        "ssl_keyfile": str(keyfile),
        "ssl_version": ssl.PROTOCOL_TLS_SERVER,
        "ssl_ciphers": "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!MD5",
    }


@audit_app.command("verify")
def audit_verify(as_json: JsonOption = False) -> None:
    """Check the audit chain: a changed, inserted or removed entry is reported."""
    from trustbubble.services import audit

    with database() as db, errors():
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

    report(as_json, data, text)
    if not result.ok:
        raise typer.Exit(1)


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

    with database() as db, errors():
        node.upgrade(db)
        _node_key()
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
