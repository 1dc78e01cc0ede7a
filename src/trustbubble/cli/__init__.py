"""The `trustbubble` command: thin wrappers that parse arguments and call the services."""

from __future__ import annotations

import typer

from trustbubble.cli.accounts import org_app, token_app, user_app
from trustbubble.cli.assistance import assist_app, poc_app
from trustbubble.cli.bubbles import bubble_app
from trustbubble.cli.checks import check_app
from trustbubble.cli.consultations import consultation_app, draft_app
from trustbubble.cli.exercises import exercise_app
from trustbubble.cli.federation import node_app, peer_app, sync_app
from trustbubble.cli.maintenance import backup, restore
from trustbubble.cli.node import audit_app, db_app, demo, serve
from trustbubble.cli.norms import norms_app
from trustbubble.cli.notifications import webhook_app
from trustbubble.cli.sharing import export_bundle, import_bundle

app = typer.Typer(
    help="Run and operate a TrustBubble node: bubbles of trust sharing STIX 2.1 over TAXII 2.1.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for sub, name in (
    (db_app, "db"),
    (org_app, "org"),
    (user_app, "user"),
    (token_app, "token"),
    (bubble_app, "bubble"),
    (audit_app, "audit"),
    (assist_app, "assist"),
    (poc_app, "poc"),
    (webhook_app, "webhook"),
    (check_app, "check"),
    (norms_app, "norms"),
    (exercise_app, "exercise"),
    (draft_app, "draft"),
    (consultation_app, "consultation"),
    (node_app, "node"),
    (peer_app, "peer"),
    (sync_app, "sync"),
):
    app.add_typer(sub, name=name)
app.command("import")(import_bundle)
app.command("export")(export_bundle)
app.command("serve")(serve)
app.command("demo")(demo)
app.command("backup")(backup)
app.command("restore")(restore)


def main() -> None:
    app()
