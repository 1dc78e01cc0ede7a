"""Sign-in limits on every password check (web form, HTTP Basic on TAXII and the JSON API, the
current password of a change), per e-mail and per client address, shared through the store."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TAXII, Member
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.errors import Invalid, TooManyAttempts, Unauthenticated
from trustbubble.services import accounts
from trustbubble.services.accounts import Authenticator
from trustbubble.services.throttle import SignInLimits, address_key
from trustbubble.store.database import Database

PASSWORD = "a long enough test password"
LIMITS = SignInLimits(per_account=3, per_address=5, window=timedelta(minutes=10))


@pytest.fixture
def user(db: Database) -> str:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST, PASSWORD)
    return "a@cert.test"


def _fail(auth: Authenticator, email: str, times: int, address: str = "192.0.2.1") -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated, match="unknown e-mail or wrong password"):
            auth.basic(email, "a wrong password guess", address)


def test_an_account_locks_after_its_failures_and_says_when_to_try_again(
    db: Database, user: str
) -> None:
    auth = Authenticator(db, LIMITS)
    _fail(auth, user, LIMITS.per_account)
    # The right password is not even looked at while locked.
    with pytest.raises(TooManyAttempts) as locked:
        auth.basic(user, PASSWORD, "192.0.2.1")
    assert 9 * 60 < locked.value.retry_after <= 10 * 60
    assert "too many failed sign-ins for this e-mail address: try again after" in str(locked.value)
    assert "UTC, in 10 minutes" in str(locked.value)
    # Another worker process, with its own memory, reads the same count from the store.
    with pytest.raises(TooManyAttempts):
        Authenticator(db, LIMITS).password(user, PASSWORD, "web", "198.51.100.9")


def test_a_lock_does_not_tell_whether_the_e_mail_has_an_account(db: Database, user: str) -> None:
    auth = Authenticator(db, LIMITS)
    _fail(auth, user, LIMITS.per_account, "192.0.2.1")
    _fail(auth, "nobody@cert.test", LIMITS.per_account, "192.0.2.2")
    messages = []
    for email, address in ((user, "192.0.2.1"), ("nobody@cert.test", "192.0.2.2")):
        with pytest.raises(TooManyAttempts) as locked:
            auth.basic(email, PASSWORD, address)
        messages.append(str(locked.value).split(" after ")[0])
    assert messages[0] == messages[1]


def test_a_success_resets_the_account_but_not_the_address(db: Database, user: str) -> None:
    auth = Authenticator(db, LIMITS)
    _fail(auth, user, LIMITS.per_account - 1)
    assert auth.basic(user, PASSWORD, "192.0.2.1").email == user
    _fail(auth, user, LIMITS.per_account - 1)  # counted from zero again: not locked
    assert auth.basic(user, PASSWORD, "192.0.2.1").email == user
    # The address has failed 4 times; one more locks it, for every e-mail.
    _fail(auth, "other@cert.test", 1)
    with pytest.raises(TooManyAttempts, match="from your network address"):
        auth.basic(user, PASSWORD, "192.0.2.1")
    assert auth.basic(user, PASSWORD, "192.0.2.77").email == user


def test_an_ipv6_client_counts_by_its_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1")


def test_api_tokens_are_never_locked(db: Database, user: str) -> None:
    auth = Authenticator(db, LIMITS)
    _token, secret = accounts.create_token(db, accounts.user_by_email(db, user))
    _fail(auth, user, LIMITS.per_account)
    _fail(auth, "other@cert.test", LIMITS.per_address - LIMITS.per_account)
    with pytest.raises(TooManyAttempts):
        auth.basic(user, PASSWORD, "192.0.2.1")
    assert auth.basic(user, secret, "192.0.2.1").email == user
    assert auth.bearer(secret).email == user


def test_the_current_password_of_a_change_counts_like_a_sign_in(db: Database, user: str) -> None:
    auth = Authenticator(db, LIMITS)
    account = accounts.user_by_email(db, user)
    for _ in range(LIMITS.per_account):
        with pytest.raises(Invalid, match="is not your password"):
            accounts.change_password(db, auth, account, "a guess at it", "a new password here", "h")
    with pytest.raises(TooManyAttempts):
        accounts.change_password(db, auth, account, PASSWORD, "a new password here", "h")


def _basic(email: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Accept": TAXII, "Authorization": f"Basic {pair}"}


def test_taxii_and_the_json_api_answer_429_with_retry_after(
    client: TestClient, member: Member
) -> None:
    wrong = _basic(member.email, "not the password at all")
    for _ in range(SignInLimits().per_account):
        assert client.get("/taxii2/bubbles/collections/", headers=wrong).status_code == 401
    answer = client.get("/api/v1/account", headers=_basic(member.email, "any password"))
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    assert "too many failed sign-ins" in answer.json()["description"]
    taxii = client.get("/taxii2/bubbles/collections/", headers=wrong)
    assert taxii.status_code == 429
    assert taxii.headers["content-type"].startswith("application/taxii+json")
    # The member's token still works.
    assert client.get("/taxii2/bubbles/collections/", headers=member.headers).status_code == 200
