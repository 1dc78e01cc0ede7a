"""Sending the outbox: e-mail through an SMTP server and signed webhook calls, with retries.

A delivery is claimed under the writer lock (so two workers never take the same one), sent
outside any transaction, then marked sent in a transaction of its own. A delivery marked sent is
never claimed again; one that fails waits twice as long after each failure, and is marked failed
after the policy's last attempt. If the process dies between the send and the mark, the delivery
is sent again after its lease: at least once, and exactly once whenever the node keeps running.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx2
import orjson

from trustbubble.domain.notifications import Channel, Delivery, DeliveryState, RetryPolicy
from trustbubble.services import webhooks
from trustbubble.store import notifications as store
from trustbubble.store.database import Database

log = logging.getLogger(__name__)

# Longer than any one send may take (the SMTP and HTTP timeouts below): while a worker sends, no
# other worker takes the delivery.
LEASE = timedelta(minutes=2)
SEND_TIMEOUT = 30.0


class DeliveryError(Exception):
    """This attempt failed; a later one may succeed."""


class Undeliverable(Exception):
    """No attempt can succeed (a revoked webhook, no SMTP server): stop trying now."""

    def __init__(self, reason: str, state: DeliveryState) -> None:
        super().__init__(reason)
        self.state = state


class Courier(Protocol):
    def send(self, delivery: Delivery) -> None:
        """Send it, or raise DeliveryError or Undeliverable."""


@dataclass(frozen=True, slots=True)
class MailServer:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False


class NodeCourier:
    """Sends e-mail with smtplib and webhook calls with an HTTP client."""

    def __init__(
        self,
        db: Database,
        mail: MailServer | None,
        secret_key: str | None,
        public_url: str | None,
        http: httpx2.Client | None = None,
    ) -> None:
        self._db = db
        self._mail = mail
        self._secret_key = secret_key
        self._public_url = (public_url or "").rstrip("/")
        self._http = http or httpx2.Client(timeout=SEND_TIMEOUT, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def _absolute(self, link: str) -> str:
        return self._public_url + link if link.startswith("/") else link

    def send(self, delivery: Delivery) -> None:
        if delivery.channel is Channel.EMAIL:
            self._send_mail(delivery)
        else:
            self._call_webhook(delivery)

    def _send_mail(self, delivery: Delivery) -> None:
        if self._mail is None:
            raise Undeliverable("no SMTP server configured", DeliveryState.SKIPPED)
        content: dict[str, Any] = orjson.loads(delivery.payload)
        message = EmailMessage()
        message["From"] = self._mail.sender
        message["To"] = delivery.target
        message["Subject"] = delivery.subject
        message["Message-ID"] = make_msgid(domain="trustbubble")
        # Lets a mail filter drop the copy of a mail sent again after a crash.
        message["X-TrustBubble-Delivery"] = str(delivery.id)
        text = content["body"]
        if content.get("link"):
            text += "\n\n" + self._absolute(content["link"])
        message.set_content(text + "\n")
        try:
            with smtplib.SMTP(self._mail.host, self._mail.port, timeout=SEND_TIMEOUT) as smtp:
                if self._mail.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._mail.user:
                    smtp.login(self._mail.user, self._mail.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP {self._mail.host}:{self._mail.port}: {error}") from error

    def _call_webhook(self, delivery: Delivery) -> None:
        with self._db.read() as conn:
            webhook = store.webhook_by_id(conn, delivery.target)
        if webhook is None or webhook.revoked is not None:
            raise Undeliverable("the webhook was revoked", DeliveryState.FAILED)
        if not self._secret_key:
            raise DeliveryError("TRUSTBUBBLE_SECRET_KEY is not set: cannot sign the call")
        event: dict[str, Any] = orjson.loads(delivery.payload)
        event["link"] = self._absolute(event.get("link", ""))
        event["delivery"] = delivery.id
        body = orjson.dumps(event)
        key = webhooks.signing_key(self._secret_key, webhook.id)
        headers = {
            "Content-Type": "application/json",
            webhooks.SIGNATURE_HEADER: webhooks.signature(key, body),
            "X-TrustBubble-Webhook": webhook.id,
            "X-TrustBubble-Delivery": str(delivery.id),
        }
        # Its path or query may hold the receiver's own secret (many services put one there):
        # the log and the outbox name only the host.
        where = f"webhook {webhook.id} at {_origin(webhook.url)}"
        try:
            answer = self._http.post(webhook.url, content=body, headers=headers)
        except httpx2.HTTPError as error:
            said = str(error).replace(webhook.url, _origin(webhook.url))
            raise DeliveryError(f"{where}: {said}") from error
        if not answer.is_success:
            raise DeliveryError(f"{where} answered HTTP {answer.status_code}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _now() -> datetime:
    return datetime.now(UTC)


def send_due(
    db: Database,
    courier: Courier,
    policy: RetryPolicy,
    now: datetime | None = None,
    limit: int = 100,
) -> int:
    """Attempt the deliveries due now, one at a time, at most `limit`; how many were attempted."""
    attempted = 0
    while attempted < limit:
        at = now or _now()
        # A read first: an idle node's worker never takes the writer lock.
        with db.read() as conn:
            if not store.any_due(conn, at):
                return attempted
        with db.write() as conn:
            delivery = store.claim_due(conn, at, LEASE)
        if delivery is None:
            return attempted
        attempted += 1
        _attempt(db, courier, policy, delivery, at if now else None)
    return attempted


def _attempt(
    db: Database, courier: Courier, policy: RetryPolicy, delivery: Delivery, now: datetime | None
) -> None:
    try:
        courier.send(delivery)
    except Undeliverable as error:
        with db.write() as conn:
            store.finish(conn, delivery.id, error.state, now or _now(), str(error))
        return
    except Exception as error:
        # Any failure counts as an attempt (a bug in a message too), so none is retried for ever.
        at = now or _now()
        if isinstance(error, DeliveryError):
            log.warning("delivery %s, attempt %s: %s", delivery.id, delivery.attempts, error)
        else:
            log.exception("delivery %s, attempt %s", delivery.id, delivery.attempts)
        with db.write() as conn:
            if policy.gives_up_after(delivery.attempts):
                store.finish(conn, delivery.id, DeliveryState.FAILED, at, str(error))
            else:
                retry = at + policy.delay_after(delivery.attempts)
                store.finish(conn, delivery.id, DeliveryState.PENDING, at, str(error), retry)
        return
    # Marked in a transaction of its own, right after the send: a sent delivery is never claimed
    # again, whatever happens to the next one.
    with db.write() as conn:
        store.finish(conn, delivery.id, DeliveryState.SENT, now or _now())
