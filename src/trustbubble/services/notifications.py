"""In-app notifications, and the outbox of their e-mails and webhook calls, written with the change.

`notify()` runs inside the caller's write transaction: the notification and its deliveries commit
with the change that causes them, or not at all. The worker (`services/delivery.py`) sends the
deliveries afterwards, so no request waits for a mail server or a webhook.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import Connection

from trustbubble.domain.accounts import User
from trustbubble.domain.errors import NotFound
from trustbubble.domain.notifications import Channel, Notification
from trustbubble.store import notifications as store
from trustbubble.store.database import Database

INBOX_SIZE = 100


def _now() -> datetime:
    return datetime.now(UTC)


def notify(
    conn: Connection,
    users: Sequence[User],
    kind: str,
    subject: str,
    body: str,
    link: str,
) -> None:
    """Tell these users: in the app, by e-mail, and through their organizations' webhooks.

    `kind` names the event (`assistance.requested`, `check.started`); `link` is a path on the
    node (`/bubbles/ID`), made absolute with the node's public address when sent.
    """
    now = _now()
    recipients = list({user.id: user for user in users}.values())
    store.insert_notifications(
        conn,
        [
            Notification(str(uuid.uuid4()), user.id, kind, subject, body, link, now, None)
            for user in recipients
        ],
    )
    for user in recipients:
        email(conn, user.email, subject, body, link, now=now)
    by_org: dict[str, list[str]] = {}
    for user in recipients:
        by_org.setdefault(user.org_id, []).append(user.email)
    for webhook in store.webhooks_of(conn, list(by_org)):
        if webhook.revoked is not None:
            continue
        event = {
            "event": kind,
            "subject": subject,
            "body": body,
            "link": link,
            "created": now.isoformat(),
            "recipients": by_org[webhook.org_id],
        }
        store.insert_delivery(
            conn, Channel.WEBHOOK, webhook.id, subject, orjson.dumps(event).decode(), now
        )


def email(
    conn: Connection,
    address: str,
    subject: str,
    body: str,
    link: str,
    *,
    now: datetime | None = None,
) -> None:
    """Queue one e-mail, inside the caller's write transaction.

    Queued whether or not the node has an SMTP server: the worker, which knows the settings,
    marks it `skipped` when there is none, so a service never needs the settings.
    """
    message = {"to": address, "subject": subject, "body": body, "link": link}
    store.insert_delivery(
        conn, Channel.EMAIL, address, subject, orjson.dumps(message).decode(), now or _now()
    )


@dataclass(frozen=True, slots=True)
class Inbox:
    """A user's newest notifications and how many of all of theirs are unread."""

    unread: int
    notifications: list[Notification]


def inbox(db: Database, user: User) -> Inbox:
    with db.read() as conn:
        return Inbox(
            store.unread_count(conn, user.id), store.notifications_of(conn, user.id, INBOX_SIZE)
        )


def unread_count(db: Database, user: User) -> int:
    with db.read() as conn:
        return store.unread_count(conn, user.id)


def mark_read(db: Database, user: User, notification_id: str) -> Notification:
    """Mark one of my notifications read; marking it again changes nothing."""
    with db.write() as conn:
        store.mark_read(conn, user.id, notification_id, _now())
        found = store.notification_of(conn, user.id, notification_id)
    if found is None:
        raise NotFound(f"no notification {notification_id}")
    return found


def mark_all_read(db: Database, user: User) -> int:
    with db.write() as conn:
        return store.mark_read(conn, user.id, None, _now())
