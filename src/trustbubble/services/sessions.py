"""Browser sessions of the web UI: sign in (rate-limited), who a cookie is, sign out."""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from trustbubble.domain.accounts import User, normalize_email
from trustbubble.domain.errors import Invalid, Unauthenticated
from trustbubble.services import audit, secrets
from trustbubble.services.accounts import Authenticator
from trustbubble.store import sessions as store
from trustbubble.store.database import Database

IDLE_LIMIT = timedelta(hours=12)
AGE_LIMIT = timedelta(days=7)
# A session's last use is written at most this often, so reading pages stays read-only.
USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class WebSession:
    user: User
    csrf: str
    id_hash: str


def _now() -> datetime:
    return datetime.now(UTC)


def sign_in(
    db: Database, authenticator: Authenticator, email: str, password: str, address: str
) -> tuple[str, WebSession]:
    """A new session for this e-mail and password: the cookie value (shown once) and the session.

    The password check is the authenticator's, limited per e-mail and per client address."""
    now = _now()
    try:
        email = normalize_email(email)
    except Invalid:
        raise Unauthenticated("unknown e-mail or wrong password") from None
    user = authenticator.password(email, password, method="web", address=address)
    cookie = random.token_urlsafe(32)
    session = WebSession(user, random.token_urlsafe(32), secrets.token_hash(cookie))
    with db.write() as conn:
        store.delete_sessions_before(conn, now - AGE_LIMIT, now - IDLE_LIMIT)
        store.insert_session(conn, session.id_hash, user.id, session.csrf, now)
        audit.record(conn, user.email, "session.started", user.id, address=address)
    return cookie, session


def session_for(db: Database, cookie: str) -> WebSession | None:
    """The live session behind a cookie value, or None when it is unknown or has expired."""
    id_hash = secrets.token_hash(cookie)
    now = _now()
    with db.read() as conn:
        found = store.session_by_hash(conn, id_hash)
    if found is None:
        return None
    user, csrf, created, last_used = found
    if now - created > AGE_LIMIT or now - last_used > IDLE_LIMIT:
        with db.write() as conn:
            store.delete_session(conn, id_hash)
        return None
    if now - last_used >= USE_RESOLUTION:
        with db.write() as conn:
            store.touch_session(conn, id_hash, now)
    return WebSession(user, csrf, id_hash)


def sign_out(db: Database, session: WebSession) -> None:
    with db.write() as conn:
        if store.delete_session(conn, session.id_hash):
            audit.record(conn, session.user.email, "session.ended", session.user.id)
