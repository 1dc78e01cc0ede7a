"""Organizations, users, API tokens, and who a caller is."""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

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
from trustbubble.services import audit, secrets
from trustbubble.store import accounts as store
from trustbubble.store.database import Database

# Token use is written to the token and the audit log at most this often per token, so a busy
# TAXII client does not turn every read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


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
    db: Database, email: str, org_name: str, role: UserRole, password: str | None = None
) -> tuple[User, str]:
    """Create a user; returns the user and the password (generated unless given), shown once."""
    address = normalize_email(email)
    password = password or secrets.new_password()
    if len(password) < 12:
        raise Invalid("password", "must be at least 12 characters")
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


def user_by_email(db: Database, email: str) -> User:
    with db.read() as conn:
        found = store.user_by_email(conn, normalize_email(email))
    if found is None:
        raise NotFound(f"no user with e-mail {email}")
    return found[0]


def create_token(db: Database, user: User, name: str = "api") -> tuple[ApiToken, str]:
    """A new API token for the user; the secret is returned once and only its hash is kept."""
    secret = secrets.new_token()
    token = ApiToken(
        id=str(uuid.uuid4()),
        user_id=user.id,
        name=normalize_name(name, "name")[:100],
        prefix=secret[:8],
        created=_now(),
        last_used=None,
        revoked=None,
    )
    with db.write() as conn:
        store.insert_token(conn, token, secrets.token_hash(secret))
        audit.record(conn, user.email, "token.created", token.id, name=token.name)
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

    A verified password is remembered for a few minutes, keyed by a hash of the e-mail, the
    password and the stored hash, so a TAXII client sending Basic credentials on every request
    does not pay argon2 each time; a password change invalidates the entry by changing its key.
    """

    PASSWORD_MEMORY_SECONDS = 300.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self._verified: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def basic(self, username: str, password: str) -> User:
        """E-mail and password, or e-mail and one of that user's API tokens."""
        try:
            email = normalize_email(username)
        except Invalid:
            raise Unauthenticated("unknown e-mail or wrong password") from None
        if secrets.looks_like_token(password):
            try:
                owner = self.bearer(password)
            except Unauthenticated:
                owner = None  # perhaps a password that looks like a token: check it as one
            if owner is not None:
                if owner.email != email:
                    raise Unauthenticated("this API token belongs to another user")
                return owner
        return self.password(email, password, method="basic")

    def password(self, email: str, password: str, method: str) -> User:
        """E-mail and password only; `method` (basic, web) goes to the audit log."""
        with self.db.read() as conn:
            found = store.user_by_email(conn, email)
        if found is None:
            secrets.verify_password(_dummy_hash(), password)  # same time as a real check
            raise Unauthenticated("unknown e-mail or wrong password")
        user, password_hash = found
        key = secrets.token_hash(f"{email}\0{password}\0{password_hash}")
        now = time.monotonic()
        with self._lock:
            remembered = self._verified.get(key)
        if remembered is None or now - remembered[0] > self.PASSWORD_MEMORY_SECONDS:
            if not secrets.verify_password(password_hash, password):
                with self.db.write() as conn:
                    audit.record(conn, email, "login.failed", user.id)
                raise Unauthenticated("unknown e-mail or wrong password")
            with self._lock:
                if len(self._verified) > 10_000:
                    self._verified.clear()
                self._verified[key] = (now, user.id)
            with self.db.write() as conn:
                audit.record(conn, email, "login", user.id, method=method)
        return user

    def bearer(self, secret: str) -> User:
        with self.db.read() as conn:
            token = store.token_by_hash(conn, secrets.token_hash(secret))
            user = store.user_by_id(conn, token.user_id) if token else None
        if token is None or user is None or token.revoked is not None:
            raise Unauthenticated("unknown or revoked API token")
        now = _now()
        if token.last_used is None or now - token.last_used >= TOKEN_USE_RESOLUTION:
            with self.db.write() as conn:
                store.mark_token_used(conn, token.id, now)
                audit.record(conn, user.email, "token.used", token.id)
        return user


@functools.cache
def _dummy_hash() -> str:
    return secrets.hash_password("not the password of anyone here")
