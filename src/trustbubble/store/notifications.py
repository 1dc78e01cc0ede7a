"""Queries on in-app notifications, the delivery outbox and webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Row, func, insert, select, update

from trustbubble.domain.notifications import (
    Channel,
    Delivery,
    DeliveryState,
    Notification,
    Webhook,
)
from trustbubble.store.tables import deliveries, notifications, webhooks


def _notification(row: Row[tuple[object, ...]]) -> Notification:
    m = row._mapping
    return Notification(
        m["id"],
        m["user_id"],
        m["kind"],
        m["subject"],
        m["body"],
        m["link"],
        m["created"],
        m["read"],
    )


def insert_notifications(conn: Connection, rows: Sequence[Notification]) -> None:
    if rows:
        conn.execute(
            insert(notifications),
            [
                {
                    "id": n.id,
                    "user_id": n.user_id,
                    "kind": n.kind,
                    "subject": n.subject,
                    "body": n.body,
                    "link": n.link,
                    "created": n.created,
                    "read": n.read,
                }
                for n in rows
            ],
        )


def notifications_of(conn: Connection, user_id: str, limit: int) -> list[Notification]:
    rows = conn.execute(
        select(notifications)
        .where(notifications.c.user_id == user_id)
        .order_by(notifications.c.created.desc(), notifications.c.id)
        .limit(limit)
    )
    return [_notification(row) for row in rows]


def unread_count(conn: Connection, user_id: str) -> int:
    return int(
        conn.execute(
            select(func.count()).where(
                notifications.c.user_id == user_id, notifications.c.read.is_(None)
            )
        ).scalar_one()
    )


def mark_read(conn: Connection, user_id: str, notification_id: str | None, now: datetime) -> int:
    """Mark one of the user's notifications read (or all, given None); how many changed."""
    statement = update(notifications).where(
        notifications.c.user_id == user_id, notifications.c.read.is_(None)
    )
    if notification_id is not None:
        statement = statement.where(notifications.c.id == notification_id)
    return conn.execute(statement.values(read=now)).rowcount


def notification_of(conn: Connection, user_id: str, notification_id: str) -> Notification | None:
    row = conn.execute(
        select(notifications).where(
            notifications.c.id == notification_id, notifications.c.user_id == user_id
        )
    ).first()
    return _notification(row) if row else None


# The outbox.


def _delivery(row: Row[tuple[object, ...]]) -> Delivery:
    m = row._mapping
    return Delivery(
        m["id"],
        Channel(m["channel"]),
        m["target"],
        m["subject"],
        m["payload"],
        DeliveryState(m["state"]),
        m["attempts"],
        m["next_attempt"],
        m["last_error"],
    )


def insert_delivery(
    conn: Connection, channel: Channel, target: str, subject: str, payload: str, now: datetime
) -> None:
    conn.execute(
        insert(deliveries).values(
            channel=channel.value,
            target=target,
            subject=subject,
            payload=payload,
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt=now,
            last_error="",
            created=now,
        )
    )


def any_due(conn: Connection, now: datetime) -> bool:
    return (
        conn.execute(
            select(deliveries.c.id)
            .where(
                deliveries.c.state == DeliveryState.PENDING.value,
                deliveries.c.next_attempt <= now,
            )
            .limit(1)
        ).first()
        is not None
    )


def claim_due(conn: Connection, now: datetime, lease: timedelta) -> Delivery | None:
    """Take the oldest pending delivery that is due, and hide it from other workers for `lease`.

    Call under the writer lock: two workers never claim the same delivery at once.
    """
    row = conn.execute(
        select(deliveries)
        .where(deliveries.c.state == DeliveryState.PENDING.value, deliveries.c.next_attempt <= now)
        .order_by(deliveries.c.next_attempt, deliveries.c.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == row.id)
        .values(attempts=deliveries.c.attempts + 1, next_attempt=now + lease)
    )
    claimed = _delivery(row)
    return Delivery(
        claimed.id,
        claimed.channel,
        claimed.target,
        claimed.subject,
        claimed.payload,
        claimed.state,
        claimed.attempts + 1,
        now + lease,
        claimed.last_error,
    )


def finish(
    conn: Connection,
    delivery_id: int,
    state: DeliveryState,
    now: datetime,
    error: str = "",
    next_attempt: datetime | None = None,
) -> bool:
    """Record the outcome of an attempt on a pending delivery; False if it was no longer pending."""
    values: dict[str, object] = {"state": state.value, "last_error": error}
    if state is DeliveryState.SENT:
        # The outbox keeps what it must send, not what it sent: a mail may hold a one-time link.
        values.update(sent=now, payload="")
    if next_attempt is not None:
        values["next_attempt"] = next_attempt
    return (
        conn.execute(
            update(deliveries)
            .where(
                deliveries.c.id == delivery_id,
                deliveries.c.state == DeliveryState.PENDING.value,
            )
            .values(**values)
        ).rowcount
        > 0
    )


def delivery_by_id(conn: Connection, delivery_id: int) -> Delivery | None:
    row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
    return _delivery(row) if row else None


def all_deliveries(conn: Connection) -> list[Delivery]:
    return [_delivery(row) for row in conn.execute(select(deliveries).order_by(deliveries.c.id))]


# Webhooks.


def _webhook(row: Row[tuple[object, ...]]) -> Webhook:
    m = row._mapping
    return Webhook(m["id"], m["org_id"], m["url"], m["created"], m["revoked"])


def insert_webhook(conn: Connection, webhook: Webhook) -> None:
    conn.execute(
        insert(webhooks).values(
            id=webhook.id,
            org_id=webhook.org_id,
            url=webhook.url,
            created=webhook.created,
            revoked=webhook.revoked,
        )
    )


def webhook_by_id(conn: Connection, webhook_id: str) -> Webhook | None:
    row = conn.execute(select(webhooks).where(webhooks.c.id == webhook_id)).first()
    return _webhook(row) if row else None


def webhooks_of(conn: Connection, org_ids: Sequence[str] | None) -> list[Webhook]:
    """The webhooks of these organizations (of every one, given None), oldest first."""
    statement = select(webhooks).order_by(webhooks.c.created, webhooks.c.id)
    if org_ids is not None:
        statement = statement.where(webhooks.c.org_id.in_(org_ids))
    return [_webhook(row) for row in conn.execute(statement)]


def revoke_webhook(conn: Connection, webhook_id: str, now: datetime) -> bool:
    return (
        conn.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook_id, webhooks.c.revoked.is_(None))
            .values(revoked=now)
        ).rowcount
        > 0
    )
