"""The account page and its JSON twin: tokens with a lifetime, and the password changed under the
rules, which ends the user's other sessions."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TAXII, Member
from tests.test_web import PASSWORD, form_token, sign_in
from trustbubble.domain.accounts import UserRole
from trustbubble.services import accounts
from trustbubble.store.database import Database

NEW_PASSWORD = "a new and much better passphrase"


@pytest.fixture
def analyst(db: Database, member: Member) -> Member:
    accounts.create_user(db, "web@cert.test", "National CERT", UserRole.ANALYST, PASSWORD)
    return Member(member.bubble_id, "web@cert.test", member.token)


def _basic(email: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Accept": TAXII, "Authorization": f"Basic {pair}"}


def _days_from_now(text: str) -> float:
    return (datetime.fromisoformat(text) - datetime.now(UTC)) / timedelta(days=1)


def test_a_token_made_on_the_page_gets_the_lifetime_chosen(
    client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    page = client.get("/account").text
    assert '<option value="90" selected>90 days</option>' in page
    client.post("/account/tokens", data={"name": "week", "days": "7", "csrf": form_token(page)})
    in_a_week = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%d")
    assert in_a_week in client.get("/account").text
    client.post("/account/tokens", data={"name": "kept", "days": "", "csrf": form_token(page)})
    soon = {"name": "x", "days": "soon", "csrf": form_token(page)}
    bad = client.post("/account/tokens", data=soon)
    assert bad.status_code == 400
    assert "days: &#39;soon&#39; is not a number of days" in bad.text
    tokens = {t["name"]: t for t in client.get("/api/v1/account").json()["tokens"]}
    assert 6.9 < _days_from_now(tokens["week"]["expires"]) <= 7
    assert tokens["kept"]["expires"] is None


def test_the_json_api_makes_tokens_of_the_default_a_chosen_or_no_lifetime(
    client: TestClient, analyst: Member
) -> None:
    bearer = {"Authorization": f"Bearer {analyst.token}"}
    made = {
        name: client.post("/api/v1/account/tokens", json={"name": name, **body}, headers=bearer)
        for name, body in (
            ("default", {}),
            ("month", {"expires_in_days": 30}),
            ("service", {"never_expires": True}),
        )
    }
    assert all(answer.status_code == 201 for answer in made.values())
    assert 89.9 < _days_from_now(made["default"].json()["token"]["expires"]) <= 90
    assert 29.9 < _days_from_now(made["month"].json()["token"]["expires"]) <= 30
    assert made["service"].json()["token"]["expires"] is None
    zero = client.post(
        "/api/v1/account/tokens", json={"name": "x", "expires_in_days": 0}, headers=bearer
    )
    assert zero.status_code == 400


def _change(client: TestClient, current: str, new: str, repeat: str | None = None) -> str:
    page = client.get("/account").text
    data = {"current": current, "new": new, "repeat": repeat or new, "csrf": form_token(page)}
    answer = client.post("/account/password", data=data)
    return f"{answer.status_code} {answer.text}"


def test_a_person_changes_their_password_on_the_page_under_the_rules(
    db: Database, client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    with TestClient(client.app) as elsewhere:
        sign_in(elsewhere, analyst.email)
        assert _change(client, "not my password", NEW_PASSWORD).startswith("400")
        assert "current: is not your password" in _change(client, "wrong", NEW_PASSWORD)
        assert "the two new passwords differ" in _change(client, PASSWORD, NEW_PASSWORD, "typo")
        refused = _change(client, PASSWORD, "Password1234")
        assert refused.startswith("400")
        assert "published after data breaches" in refused
        assert "must not contain &#39;web&#39;" in _change(client, PASSWORD, "the web is my home")
        done = _change(client, PASSWORD, NEW_PASSWORD)
        assert done.startswith("200")
        assert "Your password is changed" in done
        # The other browser is signed out; this one stays.
        assert elsewhere.get("/account", follow_redirects=False).status_code == 303
        assert client.get("/account", follow_redirects=False).status_code == 200
    assert client.get("/api/v1/account", headers=_basic(analyst.email, PASSWORD)).status_code == 401
    ok = client.get("/api/v1/account", headers=_basic(analyst.email, NEW_PASSWORD))
    assert ok.status_code == 200


def test_the_json_twin_changes_the_password_over_basic_or_bearer_only(
    client: TestClient, analyst: Member
) -> None:
    body = {"current": PASSWORD, "new": NEW_PASSWORD}
    sign_in(client, analyst.email)
    assert client.post("/api/v1/account/password", json=body).status_code == 401  # cookie only
    client.cookies.clear()
    basic = _basic(analyst.email, PASSWORD)
    breached = {"current": PASSWORD, "new": "iloveyou1234"}
    refused = client.post("/api/v1/account/password", json=breached, headers=basic)
    assert refused.status_code == 400
    assert refused.json()["description"].startswith("password: is on a list of passwords")
    assert client.post("/api/v1/account/password", json=body, headers=basic).status_code == 204
    ok = client.get("/api/v1/account", headers=_basic(analyst.email, NEW_PASSWORD))
    assert ok.status_code == 200


def test_the_sign_in_form_says_until_when_an_account_is_locked(
    client: TestClient, analyst: Member
) -> None:
    token = form_token(client.get("/sign-in").text)
    for _ in range(5):
        client.post("/sign-in", data={"email": analyst.email, "password": "no", "csrf": token})
    answer = client.post(
        "/sign-in", data={"email": analyst.email, "password": PASSWORD, "csrf": token}
    )
    assert answer.status_code == 429
    assert re.search(r"try again after \d\d:\d\d UTC, in 1[45] minutes", answer.text)
    assert 'name="password"' in answer.text  # the form, with the message above it
