"""The web UI in-process: sign-in and sessions, CSRF, headers, the pages and their JSON twins."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TAXII, Member
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleRole
from trustbubble.services import accounts, bubbles
from trustbubble.services.throttle import SignInLimits
from trustbubble.store.database import Database

PASSWORD = "a long enough test password"


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    token = form_token(client.get("/sign-in").text)
    answer = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


@pytest.fixture
def analyst(db: Database, member: Member) -> Member:
    """An analyst of the member fixture's organization, with a password we know."""
    accounts.create_user(db, "web@cert.test", "National CERT", UserRole.ANALYST, PASSWORD)
    return Member(member.bubble_id, "web@cert.test", member.token)


def test_pages_need_a_session_and_send_people_to_the_sign_in_form(client: TestClient) -> None:
    answer = client.get("/account?x=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Faccount%3Fx%3D1"


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/sign-in", "/taxii2/", "/static/app.css", "/no-such-page"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path


def test_sign_in_sets_a_strict_cookie_and_shows_the_dashboard(
    client: TestClient, analyst: Member
) -> None:
    token = form_token(client.get("/sign-in").text)
    answer = client.post(
        "/sign-in",
        data={"email": analyst.email, "password": PASSWORD, "csrf": token, "next": "/account"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/account"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("tb_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = client.get("/").text
    assert "Health bubble" in page
    assert analyst.email in page


def test_the_session_is_stored_hashed(db: Database, client: TestClient, analyst: Member) -> None:
    sign_in(client, analyst.email)
    cookie = client.cookies["tb_session"]
    with db.read() as conn:
        stored = conn.exec_driver_sql("SELECT id_hash FROM web_sessions").scalars().all()
    assert stored
    assert cookie not in stored


def test_a_sign_in_from_another_site_without_the_token_is_refused(
    client: TestClient, analyst: Member
) -> None:
    client.get("/sign-in")  # the browser has a CSRF cookie, but the other site cannot read it
    answer = client.post(
        "/sign-in", data={"email": analyst.email, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert "security token" in answer.text
    assert "tb_session" not in client.cookies


def test_posts_without_the_session_token_change_nothing(
    db: Database, client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    user = accounts.user_by_email(db, analyst.email)
    before = accounts.tokens_of(db, user)
    for data in ({"name": "forged"}, {"name": "forged", "csrf": "guessed"}):
        answer = client.post("/account/tokens", data=data)
        assert answer.status_code == 403
    assert accounts.tokens_of(db, user) == before
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.get("/account", follow_redirects=False).status_code == 200


def test_a_wrong_password_is_named_and_guessing_is_slowed(
    db: Database, client: TestClient, analyst: Member
) -> None:
    token = form_token(client.get("/sign-in").text)
    for _ in range(SignInLimits().per_account):
        answer = client.post(
            "/sign-in", data={"email": analyst.email, "password": "wrong", "csrf": token}
        )
        assert answer.status_code == 401
        assert "wrong password" in answer.text
    answer = client.post(
        "/sign-in", data={"email": analyst.email, "password": PASSWORD, "csrf": token}
    )
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    assert "too many failed sign-ins" in answer.text
    assert "tb_session" not in client.cookies


def test_signing_out_ends_the_session(client: TestClient, analyst: Member) -> None:
    sign_in(client, analyst.email)
    cookie = client.cookies["tb_session"]
    answer = client.post(
        "/sign-out", data={"csrf": form_token(client.get("/").text)}, follow_redirects=False
    )
    assert answer.status_code == 303
    client.cookies.set("tb_session", cookie)  # a copy kept by an attacker is dead too
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_token_made_on_the_account_page_works_once_shown_and_dies_when_revoked(
    client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    page = client.post(
        "/account/tokens", data={"name": "SIEM", "csrf": form_token(client.get("/account").text)}
    )
    secret = re.search(r'id="token-value">([^<]+)<', page.text)
    assert secret, "the new token is not shown"
    assert page.headers["cache-control"] == "no-store"
    taxii = {"Accept": TAXII, "Authorization": f"Bearer {secret.group(1)}"}
    assert client.get(analyst.objects_url, headers=taxii).status_code == 200
    listing = client.get("/account").text
    assert secret.group(1) not in listing
    token_id = re.search(
        r'action="/account/tokens/([^/]+)/revoke"[^>]*>\s*<input[^>]*>\s*'
        r'<button[^>]*aria-label="Revoke the token SIEM"',
        listing,
    )
    assert token_id
    client.post(f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf": form_token(listing)})
    assert client.get(analyst.objects_url, headers=taxii).status_code == 401
    assert "revoked" in client.get("/account").text


def _share(client: TestClient, member: Member, *objects: Mapping[str, object]) -> None:
    envelope = {"objects": list(objects)}
    answer = client.post(member.objects_url, json=envelope, headers=member.post_headers)
    assert answer.status_code == 202
    assert answer.json()["success_count"] == len(objects), answer.text


RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
T = "2026-03-01T10:00:00.000Z"
MALWARE = {
    "type": "malware",
    "spec_version": "2.1",
    "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
    "created": T,
    "modified": T,
    "name": "LockBit hospital variant",
    "is_family": True,
    "object_marking_refs": [GREEN],
}
INDICATOR = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": T,
    "modified": T,
    "name": "C2 of the hospital ransomware",
    "pattern": "[ipv4-addr:value = '203.0.113.7']",
    "pattern_type": "stix",
    "valid_from": T,
}
RELATIONSHIP = {
    "type": "relationship",
    "spec_version": "2.1",
    "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
    "created": T,
    "modified": T,
    "relationship_type": "indicates",
    "source_ref": INDICATOR["id"],
    "target_ref": MALWARE["id"],
}


def test_the_feed_filters_by_type_tlp_and_text(client: TestClient, analyst: Member) -> None:
    _share(client, analyst, MALWARE, INDICATOR, RELATIONSHIP)
    sign_in(client, analyst.email)
    feed = f"/bubbles/{analyst.bubble_id}/objects"
    page = client.get(feed).text
    assert "LockBit hospital variant" in page
    assert "C2 of the hospital ransomware" in page
    by_type = client.get(feed, params={"type": "malware"}).text
    assert "LockBit" in by_type
    assert "C2 of the" not in by_type
    by_tlp = client.get(feed, params={"tlp": "green"}).text
    assert "LockBit" in by_tlp
    assert "C2 of the" not in by_tlp
    by_text = client.get(feed, params={"q": "203.0.113.7"}).text
    assert "C2 of the" in by_text
    assert "LockBit" not in by_text
    future = client.get(feed, params={"since": "2999-01-01"}).text
    assert "No object matches" in future
    bad = client.get(feed, params={"since": "yesterday"})
    assert bad.status_code == 400
    assert "since" in bad.text
    assert "not a date" in bad.text


def test_an_object_page_shows_properties_links_and_versions(
    client: TestClient, analyst: Member
) -> None:
    newer = {**MALWARE, "modified": "2026-03-02T10:00:00.000Z", "name": "LockBit 4 hospital"}
    _share(client, analyst, MALWARE, INDICATOR, RELATIONSHIP)
    _share(client, analyst, newer)
    sign_in(client, analyst.email)
    page = client.get(f"/bubbles/{analyst.bubble_id}/objects/{MALWARE['id']}").text
    assert "<h1>LockBit 4 hospital</h1>" in page
    assert "indicates (from)" in page
    assert "C2 of the hospital ransomware" in page  # the other end, by its name
    assert "2026-03-01T10:00:00.000Z" in page
    assert "2026-03-02T10:00:00.000Z" in page
    assert "TLP:GREEN" in page
    old = client.get(
        f"/bubbles/{analyst.bubble_id}/objects/{MALWARE['id']}",
        params={"version": "2026-03-01T10:00:00.000Z"},
    ).text
    assert "<h1>LockBit hospital variant</h1>" in old


def test_pages_of_a_bubble_of_others_are_not_found(
    db: Database, client: TestClient, analyst: Member
) -> None:
    accounts.create_org(db, "Other CERT", "cert", "DE")
    accounts.create_user(db, "other@cert.test", "Other CERT", UserRole.ANALYST, PASSWORD)
    _share(client, analyst, MALWARE)
    sign_in(client, "other@cert.test")
    base = f"/bubbles/{analyst.bubble_id}"
    for path in (base, f"{base}/objects", f"{base}/objects/{MALWARE['id']}"):
        assert client.get(path).status_code == 404, path
        assert client.get(f"/api/v1{path}").status_code == 404, path
    assert "LockBit" not in client.get("/").text


def test_red_objects_show_only_to_their_audience(
    db: Database, client: TestClient, analyst: Member
) -> None:
    accounts.create_org(db, "Partner CERT", "cert", "DE")
    accounts.create_user(db, "partner@cert.test", "Partner CERT", UserRole.ANALYST, PASSWORD)
    owner = accounts.user_by_email(db, analyst.email)
    bubbles.invite(db, owner, analyst.bubble_id, "Partner CERT", BubbleRole.MEMBER)
    admin, _ = accounts.create_user(db, "admin@partner.test", "Partner CERT", UserRole.ADMIN)
    bubbles.respond(db, admin, analyst.bubble_id, accept=True)
    secret = {**INDICATOR, "object_marking_refs": [RED], "name": "Only for us"}
    _share(client, analyst, secret)
    sign_in(client, "partner@cert.test")
    assert "Only for us" not in client.get(f"/bubbles/{analyst.bubble_id}/objects").text
    assert "Only for us" not in client.get("/").text
    assert client.get(f"/bubbles/{analyst.bubble_id}/objects/{INDICATOR['id']}").status_code == 404


def test_each_page_has_a_json_twin_with_the_same_data(client: TestClient, analyst: Member) -> None:
    _share(client, analyst, MALWARE, INDICATOR, RELATIONSHIP)
    sign_in(client, analyst.email)
    board = client.get("/api/v1/dashboard").json()
    assert [b["name"] for b in board["bubbles"]] == ["Health bubble"]
    assert {item["title"] for item in board["recent"]} >= {"LockBit hospital variant"}
    assert 'href="/api/v1/dashboard"' in client.get("/").text
    bubble = client.get(f"/api/v1/bubbles/{analyst.bubble_id}").json()
    assert bubble["members"][0]["organization"] == "National CERT"
    assert bubble["taxii_collection"] == f"/taxii2/bubbles/collections/{analyst.bubble_id}/"
    feed = client.get(f"/api/v1/bubbles/{analyst.bubble_id}/objects", params={"type": "malware"})
    assert [item["id"] for item in feed.json()["items"]] == [MALWARE["id"]]
    page = client.get(f"/api/v1/bubbles/{analyst.bubble_id}/objects/{MALWARE['id']}").json()
    assert page["object"] == MALWARE
    assert [link["other_id"] for link in page["links"]] == [INDICATOR["id"]]


def test_the_json_api_takes_tokens_and_never_writes_on_a_cookie(
    client: TestClient, analyst: Member
) -> None:
    bearer = {"Authorization": f"Bearer {analyst.token}"}
    made = client.post("/api/v1/account/tokens", json={"name": "script"}, headers=bearer)
    assert made.status_code == 201
    assert made.json()["secret"].startswith("tb_")
    sign_in(client, analyst.email)
    assert client.get("/api/v1/account").status_code == 200  # reads take the cookie
    forged = client.post("/api/v1/account/tokens", json={"name": "forged"})
    assert forged.status_code == 401
    client.cookies.clear()
    assert client.get("/api/v1/account").status_code == 401


def test_an_invited_organization_answers_on_the_bubble_page(
    db: Database, client: TestClient, analyst: Member
) -> None:
    accounts.create_org(db, "Hospital", "operator", "FR")
    accounts.create_user(db, "admin@hospital.test", "Hospital", UserRole.ADMIN, PASSWORD)
    owner = accounts.user_by_email(db, analyst.email)
    bubbles.invite(db, owner, analyst.bubble_id, "Hospital", BubbleRole.OBSERVER)
    sign_in(client, "admin@hospital.test")
    board = client.get("/").text
    assert "invites your organization as observer" in board
    page = client.get(f"/bubbles/{analyst.bubble_id}").text
    assert "invited to join as observer" in page
    answer = client.post(
        f"/bubbles/{analyst.bubble_id}/invitation",
        data={"answer": "accept", "csrf": form_token(page)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "standing: <strong>observer</strong>" in client.get(f"/bubbles/{analyst.bubble_id}").text
