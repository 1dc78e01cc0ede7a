"""The node's background worker, built from the settings at start-up: due checks, the outbox."""

from __future__ import annotations

from datetime import timedelta

from starlette.types import ASGIApp, Receive, Scope, Send

from trustbubble.domain.federation import NodeKey
from trustbubble.domain.notifications import RetryPolicy
from trustbubble.services import checks, delivery, sync
from trustbubble.services.delivery import MailServer, NodeCourier
from trustbubble.services.worker import Worker
from trustbubble.settings import Settings
from trustbubble.store.database import Database

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def mail_server(settings: Settings) -> MailServer | None:
    if not settings.smtp_host or not settings.smtp_from:
        return None
    return MailServer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        settings.smtp_user,
        settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        settings.smtp_starttls,
    )


def secret_key(settings: Settings) -> str | None:
    return settings.secret_key.get_secret_value() if settings.secret_key else None


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.delivery_attempts,
        first_delay=timedelta(seconds=settings.delivery_retry_seconds),
    )


class Background:
    """The worker and its courier, started and stopped by the app's lifespan."""

    def __init__(
        self, settings: Settings, db: Database, key: NodeKey, interval: float = 5.0
    ) -> None:
        self.courier = NodeCourier(
            db, mail_server(settings), secret_key(settings), settings.public_url
        )
        policy = retry_policy(settings)
        self.worker = Worker(
            # Checks first: the pings they start go out in the same round.
            [lambda: checks.run_due(db), lambda: delivery.send_due(db, self.courier, policy)],
            interval,
        )
        # Sync with peer nodes on its own thread: a slow peer must not hold up the outbox.
        # A link another worker process tried within the last second is left to it.
        every = settings.sync_seconds
        self.sync = Worker([lambda: sync.run(db, key, quiet_seconds=1.0)], every)

    def start(self) -> None:
        self.worker.start()
        self.sync.start()

    def wake(self) -> None:
        self.worker.wake()
        self.sync.wake()

    def stop(self) -> None:
        self.sync.stop()
        self.worker.stop()
        self.courier.close()


class WakeAfterWrites:
    """Pure ASGI middleware: after a request that may have filled the outbox, wake the worker.

    The services commit before the response is sent, so the worker finds what they wrote.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] in _WRITES:
            background: Background | None = getattr(scope["app"].state, "background", None)
            if background is not None:
                background.wake()
