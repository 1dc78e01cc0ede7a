"""Organizations, users, API tokens, and who a caller is."""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy import Connection

from trustbubble.domain.access import Reader
from trustbubble.domain.accounts import (
    ApiToken,
    Organization,
    User,
    UserRole,
    normalize_country,
    normalize_email,
    normalize_name,
    parse_kind,
)
from trustbubble.domain.errors import Conflict, Invalid, NotFound, Unauthenticated
from trustbubble.domain.passwords import check as check_password
from trustbubble.domain.passwords import normalize as normalize_password
from trustbubble.services import audit, secrets
from trustbubble.services.throttle import SignInLimits, account_key
from trustbubble.store import accounts as store
from trustbubble.store import sessions as session_store
from trustbubble.store.database import Database

# Token use is written to the token and the audit log at most this often per token, so a busy
# TAXII client does not turn every read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
# A new API token's lifetime when nobody says otherwise (the CLI and API take it from settings).
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3650


def _now() -> datetime:
    return datetime.now(UTC)


def create_org(
    db: Database, name: str, kind: str, country: str, parent: str | None = None
) -> Organization:
    org = Organization(
        id=str(uuid.uuid4()),
        name=normalize_name(name),
        kind=parse_kind(kind),
        country=normalize_country(country),
        parent_id=None,
        identity_id=f"identity--{uuid.uuid4()}",
        created=_now(),
    )
    with db.write() as conn:
        if store.org_by_name(conn, org.name) is not None:
            raise Conflict(f"an organization named {org.name!r} already exists")
        if parent is not None:
            parent_org = org_named(conn, parent, field="parent")
            org = dataclasses.replace(org, parent_id=parent_org.id)
        store.insert_org(conn, org)
        audit.record(conn, "operator", "org.created", org.id, name=org.name, parent=org.parent_id)
    return org


def org_named(conn: Connection, name: str, field: str = "org") -> Organization:
    org = store.org_by_name(conn, normalize_name(name, field))
    if org is None:
        raise Invalid(field, f"no organization named {name!r}")
    return org


def create_user(
    db: Database,
    email: str,
    org_name: str,
    role: UserRole,
    password: str | None = None,
    *,
    password_rules: bool = True,
) -> tuple[User, str]:
    """Create a user; returns the user and the password (generated unless given), shown once.

    A given password must pass the rules of `domain.passwords`; only the demo, whose passwords
    are public anyway, sets `password_rules=False`."""
    address = normalize_email(email)
    if password is None:
        password = secrets.new_password()
    elif password_rules:
        check_password(password, address)
    with db.write() as conn:
        org = org_named(conn, org_name)
        if store.user_by_email(conn, address) is not None:
            raise Conflict(f"a user with e-mail {address} already exists")
        user = User(
            id=str(uuid.uuid4()),
            email=address,
            org_id=org.id,
            role=role,
            identity_id=f"identity--{uuid.uuid4()}",
            created=_now(),
        )
        store.insert_user(conn, user, secrets.hash_password(password))
        audit.record(conn, "operator", "user.created", user.id, email=address, role=role.value)
    return user, password


def set_password(db: Database, email: str, password: str | None = None) -> tuple[User, str]:
    """The operator sets a user's password (generated unless given): every browser session of
    the user ends and the e-mail's failed sign-ins are forgotten, which lifts a lock."""
    address = normalize_email(email)
    if password is None:
        password = secrets.new_password()
    else:
        check_password(password, address)
    with db.write() as conn:
        found = store.user_by_email(conn, address)
        if found is None:
            raise NotFound(f"no user with e-mail {address}")
        user = found[0]
        store.set_password_hash(conn, user.id, secrets.hash_password(password))
        session_store.delete_sessions_of(conn, user.id)
        session_store.forget_failures(conn, account_key(address))
        audit.record(conn, "operator", "password.set", user.id)
    return user, password


def change_password(
    db: Database,
    authenticator: Authenticator,
    user: User,
    current: str,
    new: str,
    address: str | None,
    keep_session: str | None = None,
) -> None:
    """A user changes their own password, proving the current one (a check counted like a
    sign-in); their other browser sessions end."""
    try:
        authenticator.password(user.email, current, method="password-change", address=address)
    except Unauthenticated:
        raise Invalid("current", "is not your password") from None
    check_password(new, user.email)
    if normalize_password(new) == normalize_password(current):
        raise Invalid("password", "must differ from the current one")
    with db.write() as conn:
        store.set_password_hash(conn, user.id, secrets.hash_password(new))
        session_store.delete_sessions_of(conn, user.id, except_hash=keep_session)
        audit.record(conn, user.email, "password.changed", user.id)


def user_by_email(db: Database, email: str) -> User:
    with db.read() as conn:
        found = store.user_by_email(conn, normalize_email(email))
    if found is None:
        raise NotFound(f"no user with e-mail {email}")
    return found[0]


def create_token(
    db: Database, user: User, name: str = "api", days: int | None = DEFAULT_TOKEN_DAYS
) -> tuple[ApiToken, str]:
    """A new API token for the user, valid for `days` (None: until revoked); the secret is
    returned once and only its hash is kept."""
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise Invalid("expires_in", f"must be 1 to {MAX_TOKEN_DAYS} days")
    secret = secrets.new_token()
    created = _now()
    token = ApiToken(
        id=str(uuid.uuid4()),
        user_id=user.id,
        name=normalize_name(name, "name")[:100],
        prefix=secret[:8],
        created=created,
        last_used=None,
        revoked=None,
        expires=created + timedelta(days=days) if days is not None else None,
    )
    with db.write() as conn:
        store.insert_token(conn, token, secrets.token_hash(secret))
        expires = token.expires.isoformat() if token.expires else None
        audit.record(conn, user.email, "token.created", token.id, name=token.name, expires=expires)
    return token, secret


def revoke_token(db: Database, user: User, token_id: str) -> None:
    with db.write() as conn:
        owned = {token.id for token in store.tokens_of(conn, user.id)}
        if token_id not in owned:
            raise NotFound(f"no token {token_id} of {user.email}")
        store.revoke_token(conn, token_id, _now())
        audit.record(conn, user.email, "token.revoked", token_id)


def tokens_of(db: Database, user: User) -> list[ApiToken]:
    with db.read() as conn:
        return store.tokens_of(conn, user.id)


def reader_for(db: Database, user: User) -> Reader:
    with db.read() as conn:
        chain = store.org_chain(conn, user.org_id)
        org = store.org_by_id(conn, user.org_id)
    identities = {user.identity_id}
    if org is not None:
        identities.add(org.identity_id)
    return Reader(user.id, user.org_id, user.role, chain, frozenset(identities))


class Authenticator:
    """Checks credentials of HTTP Basic (e-mail and password or token) and Bearer tokens.

    Every password check goes through `password()`, which refuses while the e-mail or the
    client's address has failed too often lately (`SignInLimits`, counted in the store).

    A verified password is remembered for a few minutes, keyed by a hash of the e-mail, the
    password and the stored hash, so a TAXII client sending Basic credentials on every request
    does not pay argon2 each time; a password change invalidates the entry by changing its key.
    """

    PASSWORD_MEMORY_SECONDS = 300.0

    def __init__(self, db: Database, limits: SignInLimits | None = None) -> None:
        self.db = db
        self.limits = limits or SignInLimits()
        self._verified: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def basic(self, username: str, password: str, address: str | None = None) -> User:
        """E-mail and password, or e-mail and one of that user's API tokens."""
        try:
            email = normalize_email(username)
        except Invalid:
            raise Unauthenticated("unknown e-mail or wrong password") from None
        if secrets.looks_like_token(password):
            owner = self._token_owner(password)  # None: perhaps a password that looks like one
            if owner is not None:
                if owner.email != email:
                    raise Unauthenticated("this API token belongs to another user")
                return owner
        return self.password(email, password, method="basic", address=address)

    def password(self, email: str, password: str, method: str, address: str | None = None) -> User:
        """E-mail and password only; `method` (basic, web) goes to the audit log."""
        now = _now()
        keys = self.limits.keys(email, address)
        with self.db.read() as conn:
            failures = self.limits.refuse_if_locked(conn, keys, now)
            found = store.user_by_email(conn, email)
        if found is None:
            secrets.verify_password(_dummy_hash(), password)  # same time as a real check
            self._failed(keys, now, None, method)
        user, password_hash = found
        key = secrets.token_hash(f"{email}\0{password}\0{password_hash}")
        moment = time.monotonic()
        with self._lock:
            remembered = self._verified.get(key)
        if remembered is None or moment - remembered[0] > self.PASSWORD_MEMORY_SECONDS:
            if not secrets.verify_password(password_hash, password):
                self._failed(keys, now, user, method)
            with self._lock:
                if len(self._verified) > 10_000:
                    self._verified.clear()
                self._verified[key] = (moment, user.id)
            with self.db.write() as conn:
                session_store.forget_failures(conn, account_key(email))
                audit.record(conn, email, "login", user.id, method=method)
        elif failures:
            with self.db.write() as conn:
                session_store.forget_failures(conn, account_key(email))
        return user

    def _failed(
        self, keys: list[tuple[str, int, str]], now: datetime, user: User | None, method: str
    ) -> NoReturn:
        with self.db.write() as conn:
            self.limits.record_failure(conn, keys, now)
            if user is not None:
                audit.record(conn, user.email, "login.failed", user.id, method=method)
        raise Unauthenticated("unknown e-mail or wrong password")

    def bearer(self, secret: str) -> User:
        owner = self._token_owner(secret)
        if owner is None:
            raise Unauthenticated("unknown or revoked API token")
        return owner

    def _token_owner(self, secret: str) -> User | None:
        """The user of an API token; None when no token has this value, an error naming why
        when it has been revoked or has expired."""
        with self.db.read() as conn:
            token = store.token_by_hash(conn, secrets.token_hash(secret))
            user = store.user_by_id(conn, token.user_id) if token else None
        if token is None or user is None:
            return None
        now = _now()
        if token.revoked is not None:
            raise Unauthenticated(f"this API token was revoked on {_moment(token.revoked)}")
        if token.expires is not None and token.expired(now):
            raise Unauthenticated(
                f"this API token expired on {_moment(token.expires)}; create a new one "
                "(web page /account, POST /api/v1/account/tokens or trustbubble token create)"
            )
        if token.last_used is None or now - token.last_used >= TOKEN_USE_RESOLUTION:
            with self.db.write() as conn:
                store.mark_token_used(conn, token.id, now)
                audit.record(conn, user.email, "token.used", token.id)
        return user


def _moment(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@functools.cache
def _dummy_hash() -> str:
    return secrets.hash_password("not the password of anyone here")
