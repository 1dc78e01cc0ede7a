"""Exercise pages through forms: the gallery, a session cast and played to its end by a
facilitator and a guest, the questions before and after, the debrief and the report."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.test_web import PASSWORD, form_token, sign_in
from trustbubble.domain.accounts import UserRole
from trustbubble.services import accounts
from trustbubble.store.database import Database

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def trainer(db: Database) -> str:
    accounts.create_org(db, "Training Institute", "academia", "CH")
    accounts.create_user(
        db, "trainer@example.test", "Training Institute", UserRole.ANALYST, PASSWORD
    )
    return "trainer@example.test"


def _create(client: TestClient, scenario: str = "hospital-ransomware") -> str:
    page = client.get("/exercises")
    made = client.post(
        "/exercises",
        data={"scenario": scenario, "title": "Training day", "csrf": form_token(page.text)},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"])


def _step(client: TestClient, url: str, **fields: str) -> str:
    token = form_token(client.get(url).text)
    answer = client.post(
        f"{url}/steps", data={"csrf": token, **fields}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    return html.unescape(answer.text)


def test_the_gallery_shows_every_shipped_scenario(client: TestClient, trainer: str) -> None:
    sign_in(client, trainer)
    page = html.unescape(client.get("/exercises").text)
    for title in (
        "Ransomware across hospitals in two partner countries",
        "Leaked credentials at an international health organization",
        "Poisoned controls at a water utility on a shared river",
    ):
        assert title in page
    detail = html.unescape(client.get("/exercises/scenarios/hospital-ransomware").text)
    assert "Northland national CERT" in detail
    assert "Which UN GGE norm asks states to answer requests for assistance?" in detail


def test_a_bad_scenario_file_is_refused_with_its_line(client: TestClient, trainer: str) -> None:
    sign_in(client, trainer)
    page = client.get("/exercises")
    answer = client.post(
        "/exercises",
        data={"csrf": form_token(page.text)},
        files={"file": ("mine.yaml", b"id: mine\nversion: one\n", "text/yaml")},
    )
    assert answer.status_code == 400
    assert "mine.yaml:1: needs title" in html.unescape(answer.text)


def test_a_guest_plays_through_a_link_and_the_report_shows_the_session(
    client: TestClient, trainer: str
) -> None:
    sign_in(client, trainer)
    url = _create(client)
    console = client.get(url)
    cast = client.post(
        f"{url}/players",
        data={"role": "north-cert", "guest": f"Zoë {SCRIPT}", "csrf": form_token(console.text)},
    )
    assert cast.status_code == 200
    assert SCRIPT not in cast.text
    link = re.search(r'id="guest-link">([^<]+)<', cast.text)
    assert link is not None
    guest = TestClient(client.app)
    joined = guest.get(link.group(1), follow_redirects=False)
    assert joined.headers["location"] == url
    before = guest.get(url)
    assert before.status_code == 200
    assert "You play <strong>Northland national CERT</strong>" in before.text
    assert "Before we start: what do you know?" in before.text
    saved = guest.post(
        f"{url}/answers", data={"csrf": form_token(before.text), "kind": "before", "q0": "0"}
    )
    assert "Your answers are saved." in saved.text

    assert "Start" in console.text
    assert _step(client, url, step="start") == ""
    assert "not open yet" in _step(
        client, url, step="decide", decision="answer-request", role="south-foreign"
    )
    screen = guest.get(url).text
    assert "University hospital diverts ambulances" in html.unescape(screen)
    refused = guest.post(
        f"{url}/steps",
        data={"csrf": form_token(screen), "step": "end"},
        headers={"HX-Request": "true"},
    )
    assert "only the facilitator may end the exercise" in html.unescape(refused.text)
    said = guest.post(
        f"{url}/chat", data={"csrf": form_token(screen), "text": SCRIPT}, follow_redirects=False
    )
    assert said.status_code == 303
    console = client.get(url)
    assert SCRIPT not in console.text
    assert SCRIPT in html.unescape(console.text)

    assert _step(client, url, step="end") == ""
    ended = guest.get(url).text
    assert "Now that it is over: what do you know?" in ended
    guest.post(f"{url}/answers", data={"csrf": form_token(ended), "kind": "after", "q0": "1"})
    guest.post(
        f"{url}/answers",
        data={"csrf": form_token(ended), "kind": "debrief", "q1": f"We waited {SCRIPT}"},
    )
    report = guest.get(f"{url}/report")
    assert report.status_code == 200
    text = html.unescape(report.text)
    assert SCRIPT not in report.text
    assert f"We waited {SCRIPT}" in text
    assert "ended by the facilitator" in text
    assert re.search(r"before play</th><td>1</td><td>0% \(0 of 1\)", text)
    assert re.search(r"after play</th><td>1</td><td>100% \(1 of 1\)", text)
    assert 'data-kind="resources"' in report.text


def test_a_session_is_a_404_to_others_and_asks_strangers_to_sign_in(
    client: TestClient, db: Database, trainer: str
) -> None:
    sign_in(client, trainer)
    url = _create(client)
    accounts.create_user(db, "other@example.test", "Training Institute", UserRole.ANALYST, PASSWORD)
    other = TestClient(client.app)
    sign_in(other, "other@example.test")
    assert other.get(url).status_code == 404
    assert other.get(f"{url}/report").status_code == 404
    assert other.get(f"{url}/live").status_code == 404
    stranger = TestClient(client.app)
    assert stranger.get(url, follow_redirects=False).status_code == 303
    assert stranger.get("/exercises/join/not-a-token").status_code == 404
