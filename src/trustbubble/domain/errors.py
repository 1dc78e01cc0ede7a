"""Typed domain errors, mapped to HTTP status codes and CLI exits once, at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the project raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""


class Forbidden(DomainError):
    """The caller is known and may see the thing, but may not do this to it."""


class Unauthenticated(DomainError):
    """No credentials, or credentials that do not match an active account."""


class Conflict(DomainError):
    """The request contradicts what is stored (a duplicate name, a repeated invitation)."""


class Invalid(DomainError):
    """Input that breaks a rule; `field` names where, `reason` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class TooLarge(DomainError):
    """A request body over the configured maximum."""


class TooManyAttempts(DomainError):
    """Too many failed attempts in a short time; `retry_after` says how many seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
