"""Accounts: hashed secrets, tokens shown once, revocation, last use, clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from trustbubble.domain.accounts import UserRole
from trustbubble.domain.errors import Conflict, Invalid, Unauthenticated
from trustbubble.services import accounts
from trustbubble.services.accounts import Authenticator
from trustbubble.store.database import Database
from trustbubble.store.tables import api_tokens, users


def test_passwords_and_tokens_are_stored_only_as_hashes(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    user, password = accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST)
    _token, secret = accounts.create_token(db, user, "siem")
    with db.read() as conn:
        stored_password = conn.execute(select(users.c.password_hash)).scalar_one()
        stored_token = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert password not in stored_password
    assert stored_password.startswith("$argon2")
    assert secret not in stored_token
    assert len(stored_token) == 64


def test_a_token_authenticates_records_its_use_and_stops_when_revoked(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    user, _ = accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST)
    token, secret = accounts.create_token(db, user)
    auth = Authenticator(db)
    assert auth.bearer(secret).id == user.id
    assert auth.basic("a@cert.test", secret).id == user.id
    [listed] = accounts.tokens_of(db, user)
    assert listed.last_used is not None
    accounts.revoke_token(db, user, token.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        auth.bearer(secret)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    _user, password = accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.VIEWER)
    auth = Authenticator(db)
    assert auth.basic("A@Cert.test", password).email == "a@cert.test"
    for email, guess in (("a@cert.test", password + "x"), ("nobody@cert.test", password)):
        with pytest.raises(Unauthenticated, match="unknown e-mail or wrong password"):
            auth.basic(email, guess)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "X", "kind": "ngo", "country": "FR"}, "kind"),
        ({"name": "X", "kind": "cert", "country": "France"}, "country"),
        ({"name": "  ", "kind": "cert", "country": "FR"}, "name"),
        ({"name": "X", "kind": "cert", "country": "FR", "parent": "Nobody"}, "parent"),
    ],
)
def test_bad_organizations_are_refused_naming_the_field(
    db: Database, kwargs: dict[str, str], field: str
) -> None:
    with pytest.raises(Invalid) as raised:
        accounts.create_org(db, **kwargs)
    assert raised.value.field == field


def test_names_and_emails_are_unique(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    with pytest.raises(Conflict):
        accounts.create_org(db, "CERT  FR", "cert", "FR")
    accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST)
    with pytest.raises(Conflict):
        accounts.create_user(db, "A@cert.test", "CERT FR", UserRole.ANALYST)


def _expire(db: Database, token_id: str, at: datetime) -> None:
    with db.write() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(expires=at))


def test_a_token_expires_after_its_lifetime_and_says_when(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    user, _ = accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST)
    token, secret = accounts.create_token(db, user, "siem")
    assert token.expires is not None
    assert token.expires - token.created == timedelta(days=accounts.DEFAULT_TOKEN_DAYS)
    auth = Authenticator(db)
    assert auth.bearer(secret).id == user.id
    _expire(db, token.id, datetime(2026, 2, 1, 9, 30, tzinfo=UTC))
    expired = r"expired on 2026-02-01 09:30 UTC; create a new"
    with pytest.raises(Unauthenticated, match=expired):
        auth.bearer(secret)
    with pytest.raises(Unauthenticated, match=expired):
        auth.basic("a@cert.test", secret)
    [listed] = accounts.tokens_of(db, user)
    assert listed.expired(datetime.now(UTC))


def test_a_token_may_last_a_chosen_time_or_until_revoked(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    user, _ = accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST)
    week, _ = accounts.create_token(db, user, "week", days=7)
    assert week.expires is not None
    assert week.expires - week.created == timedelta(days=7)
    forever, secret = accounts.create_token(db, user, "forever", days=None)
    assert forever.expires is None
    assert not forever.expired(datetime(2100, 1, 1, tzinfo=UTC))
    assert Authenticator(db).bearer(secret).id == user.id
    with pytest.raises(Invalid) as refused:
        accounts.create_token(db, user, "never", days=0)
    assert refused.value.field == "expires_in"
