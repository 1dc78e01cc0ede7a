"""Failed password checks counted per account and per client address, in the store so that every
worker process shares the count: too many in the window and the next check is refused, with
when to try again, before any password is looked at."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from trustbubble.domain.errors import TooManyAttempts
from trustbubble.settings import Settings
from trustbubble.store import sessions as store


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """How many failures a key may have within `window` before it is locked."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInLimits:
        return cls(
            per_account=settings.sign_in_failures_per_account,
            per_address=settings.sign_in_failures_per_address,
            window=timedelta(minutes=settings.sign_in_window_minutes),
        )

    def keys(self, email: str, address: str | None) -> list[tuple[str, int, str]]:
        """(key, most failures, who it is in a message) for an attempt."""
        keys = [(account_key(email), self.per_account, "for this e-mail address")]
        if address:
            keys.append((address_key(address), self.per_address, "from your network address"))
        return keys

    def refuse_if_locked(
        self, conn: Connection, keys: list[tuple[str, int, str]], now: datetime
    ) -> int:
        """Raise TooManyAttempts if a key is locked; else how many failures the account has.

        The account is counted whether or not it exists, so a lock says nothing about that."""
        found = store.recent_failures(conn, [key for key, _, _ in keys], now - self.window)
        for key, most, whose in keys:
            times = found[key]
            if len(times) >= most:
                # Unlocked when enough of the failures have left the window.
                unlock = times[len(times) - most] + self.window
                wait = max(1, math.ceil((unlock - now).total_seconds()))
                raise TooManyAttempts(
                    f"too many failed sign-ins {whose}: try again after "
                    f"{unlock:%H:%M} UTC, in {_duration(wait)}",
                    retry_after=wait,
                )
        return len(found[keys[0][0]])

    def record_failure(
        self, conn: Connection, keys: list[tuple[str, int, str]], now: datetime
    ) -> None:
        for key, _, _ in keys:
            store.add_failure(conn, key, now)
        store.forget_failures(conn, None, before=now - self.window)


def account_key(email: str) -> str:
    return f"email:{email}"


def address_key(address: str) -> str:
    """An IPv6 client counts by its /64, which one subscriber usually holds whole."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.ip_network((ip, 64), strict=False)}"
    return f"address:{ip}"


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' * (seconds != 1)}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' * (minutes != 1)}"
