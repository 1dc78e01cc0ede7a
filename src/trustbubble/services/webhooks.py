"""Webhooks of an organization: added and revoked by its admins (or the operator), and signed.

The node keeps no webhook secret: each webhook's signing key is HMAC-SHA256(node secret key,
webhook id), worked out again when needed. Changing TRUSTBUBBLE_SECRET_KEY changes every key.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from sqlalchemy import Connection

from trustbubble.domain.accounts import Organization, User, UserRole
from trustbubble.domain.errors import Forbidden, Invalid, NotFound
from trustbubble.domain.fields import http_url
from trustbubble.domain.notifications import Webhook
from trustbubble.services import audit
from trustbubble.services.accounts import org_named
from trustbubble.store import accounts as account_store
from trustbubble.store import notifications as store
from trustbubble.store.database import Database

SIGNATURE_HEADER = "X-TrustBubble-Signature"


def signing_key(secret_key: str, webhook_id: str) -> bytes:
    return hmac.new(secret_key.encode(), webhook_id.encode(), hashlib.sha256).digest()


def signature(key: bytes, body: bytes) -> str:
    """The value of the X-TrustBubble-Signature header: `sha256=` and the hex HMAC of the body."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _require_secret(secret_key: str | None) -> str:
    if not secret_key:
        raise Invalid(
            "TRUSTBUBBLE_SECRET_KEY",
            "not set on this node, so it cannot sign webhooks; the operator sets it first",
        )
    return secret_key


def _check_url(url: str) -> str:
    url = url.strip()
    parts = http_url(url, "url")
    if not parts.hostname:
        raise Invalid("url", f"{url!r} is not an http or https address")
    if parts.username or parts.password:
        raise Invalid("url", "put no credentials in the address: the node signs each call")
    if len(url) > 500:
        raise Invalid("url", "at most 500 characters")
    return url


def _now() -> datetime:
    return datetime.now(UTC)


def _add(
    conn: Connection, secret_key: str, org: Organization, url: str, actor: str
) -> tuple[Webhook, str]:
    webhook = Webhook(str(uuid.uuid4()), org.id, url, _now(), None)
    store.insert_webhook(conn, webhook)
    audit.record(conn, actor, "webhook.added", webhook.id, org=org.id, url=url)
    return webhook, signing_key(secret_key, webhook.id).hex()


def add_for_org(
    db: Database, secret_key: str | None, org_name: str, url: str
) -> tuple[Webhook, str]:
    """The operator adds a webhook to an organization: the webhook, and its signing key in hex."""
    key = _require_secret(secret_key)
    url = _check_url(url)
    with db.write() as conn:
        return _add(conn, key, org_named(conn, org_name), url, "operator")


def add(db: Database, secret_key: str | None, actor: User, url: str) -> tuple[Webhook, str]:
    """An admin adds a webhook to their organization."""
    _require_admin(actor)
    key = _require_secret(secret_key)
    url = _check_url(url)
    with db.write() as conn:
        org = account_store.org_by_id(conn, actor.org_id)
        assert org is not None
        return _add(conn, key, org, url, actor.email)


def _require_admin(actor: User) -> None:
    if actor.role is not UserRole.ADMIN:
        raise Forbidden("only an admin of the organization may manage its webhooks")


def webhooks_of(db: Database, actor: User) -> list[Webhook]:
    _require_admin(actor)
    with db.read() as conn:
        return store.webhooks_of(conn, [actor.org_id])


def all_webhooks(db: Database, org_name: str | None = None) -> list[tuple[Webhook, str]]:
    """For the operator: every webhook (of one organization, given its name) and its org's name."""
    with db.read() as conn:
        names = {org.id: org.name for org in account_store.all_orgs(conn)}
        org_ids = [org_named(conn, org_name).id] if org_name else None
        return [(w, names.get(w.org_id, w.org_id)) for w in store.webhooks_of(conn, org_ids)]


def revoke(db: Database, actor: User, webhook_id: str) -> None:
    """An admin revokes one of their organization's webhooks; no call is made to it after this."""
    _require_admin(actor)
    with db.write() as conn:
        found = store.webhook_by_id(conn, webhook_id)
        if found is None or found.org_id != actor.org_id:
            raise NotFound(f"no webhook {webhook_id}")
        if store.revoke_webhook(conn, webhook_id, _now()):
            audit.record(conn, actor.email, "webhook.revoked", webhook_id, org=found.org_id)


def revoke_any(db: Database, webhook_id: str) -> None:
    """The operator revokes a webhook."""
    with db.write() as conn:
        found = store.webhook_by_id(conn, webhook_id)
        if found is None:
            raise NotFound(f"no webhook {webhook_id}")
        if store.revoke_webhook(conn, webhook_id, _now()):
            audit.record(conn, "operator", "webhook.revoked", webhook_id, org=found.org_id)
