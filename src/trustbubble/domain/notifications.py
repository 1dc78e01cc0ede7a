"""Notifications, their deliveries by e-mail and webhook, and the retry schedule of a delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt
    SKIPPED = "skipped"  # e-mail while the node has no SMTP server configured


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    user_id: str
    kind: str
    subject: str
    body: str
    link: str
    created: datetime
    read: datetime | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    channel: Channel
    target: str  # an e-mail address or a webhook id
    subject: str
    payload: str  # JSON: what to send, rendered for the channel by the sender
    state: DeliveryState
    attempts: int
    next_attempt: datetime
    last_error: str


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    org_id: str
    url: str
    created: datetime
    revoked: datetime | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to try a delivery: the delay doubles after each failure."""

    attempts: int = 10
    first_delay: timedelta = timedelta(seconds=30)
    longest_delay: timedelta = timedelta(hours=6)

    def delay_after(self, attempts: int) -> timedelta:
        """The wait before the next try, after `attempts` tries (1 or more) have failed."""
        doubled: timedelta = self.first_delay * (2 ** max(attempts - 1, 0))
        return min(doubled, self.longest_delay)

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.attempts
