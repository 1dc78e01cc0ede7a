"""Commands for the webhooks of organizations."""

from __future__ import annotations

from typing import Annotated

import typer

from trustbubble.cli.common import JsonOption, database, errors, out, report

webhook_app = typer.Typer(
    help="Webhooks: notifications POSTed to an organization.", no_args_is_help=True
)


@webhook_app.command("add")
def webhook_add(
    url: str,
    org: Annotated[
        str, typer.Option(help="The organization whose users' notifications it receives.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Add a webhook; prints its signing key (it can be worked out again from the secret key)."""
    from trustbubble.services import webhooks
    from trustbubble.settings import Settings

    with database() as db, errors():
        secret = Settings().secret_key
        webhook, key = webhooks.add_for_org(
            db, secret.get_secret_value() if secret else None, org, url
        )
    data = {"id": webhook.id, "org": org, "url": webhook.url, "signing_key": key}
    report(
        as_json,
        data,
        lambda: out.print(
            f"added webhook {webhook.id} -> {webhook.url}\nsigning key: {key}", highlight=False
        ),
    )


@webhook_app.command("list")
def webhook_list(
    org: Annotated[str | None, typer.Option(help="Only this organization's webhooks.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List webhooks: id, organization, address, creation and revocation."""
    from trustbubble.services import webhooks

    with database() as db, errors():
        found = webhooks.all_webhooks(db, org)
    rows = [
        {
            "id": w.id,
            "org": org_name,
            "url": w.url,
            "created": w.created.isoformat(),
            "revoked": w.revoked.isoformat() if w.revoked else None,
        }
        for w, org_name in found
    ]

    def text() -> None:
        for row in rows:
            state = f"revoked {row['revoked']}" if row["revoked"] else "active"
            out.print(f"{row['id']}  {row['org']}  {row['url']}  {state}", highlight=False)

    report(as_json, {"webhooks": rows}, text)


@webhook_app.command("revoke")
def webhook_revoke(webhook_id: str) -> None:
    """Revoke a webhook, by the id `webhook list` shows: no call is made to it after this."""
    from trustbubble.services import webhooks

    with database() as db, errors():
        webhooks.revoke_any(db, webhook_id)
    out.print(f"revoked {webhook_id}")
