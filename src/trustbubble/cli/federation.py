"""Commands of the federation: this node's identity, its peers, sync (docs/federation.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table

from trustbubble.cli.common import JsonOption, database, errors, fail, out, report
from trustbubble.domain.federation import NodeKey
from trustbubble.settings import Settings

node_app = typer.Typer(help="This node's identity among its peers.", no_args_is_help=True)
peer_app = typer.Typer(help="Peer nodes that share bubbles with this one.", no_args_is_help=True)
sync_app = typer.Typer(help="Sync shared bubbles with peer nodes.", no_args_is_help=True)

ACTOR = "operator"


@contextmanager
def node_key() -> Iterator[NodeKey]:
    from trustbubble.services import node_key as keys

    try:
        yield keys.load(Settings(), create=False)
    except keys.NodeKeyError as error:
        fail(str(error))


@node_app.command("show")
def node_show(as_json: JsonOption = False) -> None:
    """Print this node's descriptor, to hand to a peer's operator."""
    from trustbubble.services import peers

    settings = Settings()
    with node_key() as key:
        found = peers.descriptor(settings, key, settings.public_url or "http://127.0.0.1:8000")

    def text() -> None:
        out.print(f"node:       {found.id}")
        out.print(f"name:       {found.name}")
        out.print(f"country:    {found.country or '-'}")
        out.print(f"key:        {found.public_key}")
        out.print(f"address:    {found.taxii}")
        if not settings.public_url:
            out.print("(set TRUSTBUBBLE_PUBLIC_URL to the address peers reach this node at)")

    report(as_json, found.to_json(), text)


@peer_app.command("add")
def peer_add(
    url: Annotated[str, typer.Argument(help="The peer's address, as https://node.example.")],
    key: Annotated[str, typer.Option("--key", help="The peer's public key (ed25519:...).")],
    token: Annotated[
        str | None,
        typer.Option("--token", help="The credential the peer's operator issued this node."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a peer (or update its address and credential); prints this node's credential for it
    the first time."""
    from trustbubble.services import peers

    with database() as db, errors(), node_key() as own:
        added = peers.add(db, own, ACTOR, url, key, token)
    peer = added.peer
    data = {
        "id": peer.id,
        "name": peer.name,
        "url": peer.url,
        "new": added.new,
        "credential": added.credential,
        "can_call": peer.outbound_token is not None,
    }

    def text() -> None:
        out.print(f"{'added' if added.new else 'updated'} peer {peer.name} ({peer.id})")
        if added.credential:
            out.print("Give this credential to the peer's operator (shown once):")
            out.print(added.credential, highlight=False)
        if peer.outbound_token is None:
            out.print("No credential from the peer yet: run again with --token once you have it.")

    report(as_json, data, text)


@peer_app.command("credential")
def peer_credential(
    peer: Annotated[str, typer.Argument(help="The peer's node id, name or address.")],
    as_json: JsonOption = False,
) -> None:
    """Issue the peer a new credential; the old one stops working at once."""
    from trustbubble.services import peers

    with database() as db, errors():
        found, credential = peers.new_credential(db, ACTOR, peer)
    report(
        as_json,
        {"id": found.id, "credential": credential},
        lambda: out.print(credential, highlight=False),
    )


@peer_app.command("list")
def peer_list(as_json: JsonOption = False) -> None:
    """The peers, with what they host and whether each side holds a credential."""
    from trustbubble.services import peers
    from trustbubble.store.federation import hosted_by

    with database() as db, errors():
        every = peers.all_peers(db)
        with db.read() as conn:
            hosted = {p.id: [o.name for o in hosted_by(conn, p.id)] for p in every}
    rows: list[dict[str, Any]] = [
        {
            "id": p.id,
            "name": p.name,
            "country": p.country,
            "url": p.url,
            "public_key": p.public_key,
            "can_call": p.outbound_token is not None,
            "issued": p.credential_prefix is not None,
            "hosts": hosted[p.id],
        }
        for p in every
    ]

    def text() -> None:
        if not rows:
            out.print("no peers: `trustbubble peer add URL --key KEY` adds one")
            return
        table = Table("peer", "address", "hosts", "credentials")
        for row in rows:
            both = ("ours issued" if row["issued"] else "none issued") + (
                ", theirs held" if row["can_call"] else ", theirs missing"
            )
            table.add_row(str(row["name"]), str(row["url"]), ", ".join(row["hosts"]) or "-", both)
        out.print(table)

    report(as_json, {"peers": rows}, text)


@sync_app.command("run")
def sync_run(
    peer: Annotated[
        str | None, typer.Option(help="Only this peer (node id, name or address).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sync every shared bubble with its peers once, now (retries waiting or not)."""
    from trustbubble.services import sync

    with database() as db, errors(), node_key() as own:
        outcomes = sync.run(db, own, peer_ref=peer, force=True)
    data = {
        "links": [
            {
                "peer": o.peer,
                "bubble": o.bubble,
                "received": o.received,
                "sent": o.sent,
                "refused": o.refused,
                "deleted": o.deleted,
                "error": o.error,
                "notes": o.details,
            }
            for o in outcomes
        ]
    }

    def text() -> None:
        if not outcomes:
            out.print("nothing to sync: no peer yet")
        for o in outcomes:
            where = f"{o.peer} / {o.bubble or '-'}"
            if o.error:
                out.print(f"[red]{where}: {o.error}[/]", highlight=False)
                continue
            out.print(
                f"{where}: received {o.received}, sent {o.sent}, refused {o.refused}, "
                f"deleted {o.deleted}"
            )
            for note in o.details[:10]:
                out.print(f"  {note}", highlight=False)

    report(as_json, data, text)
    if any(o.error for o in outcomes):
        raise typer.Exit(1)


@sync_app.command("status")
def sync_status(as_json: JsonOption = False) -> None:
    """Per peer and bubble: last success, lag, objects moved each way, refusals, last error."""
    from trustbubble.services import sync

    with database() as db, errors():
        links = sync.status(db)

    def text() -> None:
        if not links:
            out.print("no bubble is shared with a peer")
            return
        table = Table("peer", "bubble", "last success", "lag", "in", "out", "refused", "error")
        for link in links:
            table.add_row(
                link.peer,
                link.bubble,
                link.last_success.strftime("%Y-%m-%d %H:%M:%S") if link.last_success else "never",
                f"{link.lag_seconds:.0f} s" if link.lag_seconds is not None else "-",
                str(link.received),
                str(link.sent),
                str(link.refused),
                (link.last_error or "")[:60],
            )
        out.print(table)

    report(as_json, {"links": [link.to_json() for link in links]}, text)
