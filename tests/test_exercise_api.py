"""Scenarios and exercise sessions through the JSON API: a facilitator, a user and a guest."""

from __future__ import annotations

from fastapi.testclient import TestClient

from trustbubble.domain.accounts import UserRole
from trustbubble.domain.exercises.scenario import SHIPPED
from trustbubble.services import accounts
from trustbubble.store.database import Database


def _bearer(
    db: Database, email: str, org: str, role: UserRole = UserRole.ANALYST
) -> dict[str, str]:
    user, _ = accounts.create_user(db, email, org, role)
    _token, secret = accounts.create_token(db, user)
    return {"Authorization": f"Bearer {secret}"}


def test_the_gallery_and_the_schema_need_no_sign_in(client: TestClient) -> None:
    gallery = client.get("/api/v1/scenarios").json()
    assert [s["id"] for s in gallery] == [
        "cross-border-water",
        "health-organization-intrusion",
        "hospital-ransomware",
    ]
    assert "h" in gallery[0]["norms"]
    assert (
        client.get("/api/v1/scenarios/schema").json()["title"] == "TrustBubble role-play scenario"
    )
    whole = client.get("/api/v1/scenarios/hospital-ransomware").json()
    assert len(whole["decisions"]) == 5
    assert client.get("/api/v1/scenarios/moon-landing").status_code == 404


def test_a_session_over_the_api(client: TestClient, db: Database) -> None:
    accounts.create_org(db, "Training Institute", "academia", "CH")
    trainer = _bearer(db, "trainer@example.test", "Training Institute")
    player = _bearer(db, "player@example.test", "Training Institute", UserRole.VIEWER)
    made = client.post(
        "/api/v1/exercises", json={"scenario": "cross-border-water"}, headers=trainer
    )
    assert made.status_code == 201, made.text
    url = f"/api/v1/exercises/{made.json()['id']}"
    assert client.get(url, headers=player).status_code == 404  # not cast yet
    cast = client.post(
        f"{url}/players",
        json={"role": "west-utility", "email": "player@example.test"},
        headers=trainer,
    )
    assert cast.status_code == 201
    guest = client.post(
        f"{url}/players", json={"role": "west-mfa", "guest_name": "Ana"}, headers=trainer
    ).json()["guest_token"]
    as_guest = {"X-Guest-Token": guest}
    started = client.post(f"{url}/steps", json={"step": "start"}, headers=trainer).json()
    assert started["started"]
    assert started["minute"] == 0
    mine = client.get(url, headers=player).json()
    assert [s["role"] for s in mine["screens"]] == ["west-utility"]
    assert mine["scores"] is None  # players see scores when it ends
    decided = client.post(
        f"{url}/steps",
        json={
            "step": "decide",
            "decision": "plant-mode",
            "option": "manual",
            "role": "west-utility",
        },
        headers=player,
    )
    assert decided.status_code == 200, decided.text
    refused = client.post(f"{url}/steps", json={"step": "advance", "minutes": 7}, headers=as_guest)
    assert refused.status_code == 403
    client.post(f"{url}/steps", json={"step": "advance", "minutes": 7}, headers=trainer)
    screen = client.get(url, headers=as_guest).json()["screens"][0]
    assert screen["decisions"][0]["id"] == "ask-east"
    wrong = client.post(
        f"{url}/steps",
        json={"step": "decide", "decision": "ask-east", "option": "invade", "role": "west-mfa"},
        headers=as_guest,
    )
    assert wrong.status_code == 400
    assert "'invade' is not an option of ask-east (request, protest, nothing)" in wrong.text
    bad_step = client.post(f"{url}/steps", json={"step": "rewind"}, headers=trainer)
    assert bad_step.status_code == 400
    assert "unknown step 'rewind'" in bad_step.text
    client.post(f"{url}/chat", json={"text": "We ask Eastvale."}, headers=as_guest)
    assert [m["text"] for m in client.get(f"{url}/chat", headers=player).json()] == [
        "We ask Eastvale."
    ]
    # Past SQL INTEGER, the message number was a 500 on PostgreSQL.
    beyond = client.get(f"{url}/chat", params={"after": 2**31}, headers=player)
    assert beyond.status_code == 400
    assert "after" in beyond.json()["description"]
    ended = client.post(f"{url}/steps", json={"step": "end"}, headers=trainer).json()
    assert ended["ended"]
    assert ended["end_reason"] == "ended by the facilitator"
    assert client.get(url, headers=player).json()["scores"]["objectives"]["safe-water"] == "P"
    again = client.post(f"{url}/steps", json={"step": "advance", "minutes": 1}, headers=trainer)
    assert again.status_code == 409
    assert client.get(url, headers={"X-Guest-Token": "nope"}).status_code == 404
    assert client.get(url).status_code == 401
    # After the end: the knowledge questions after play, the debrief, and the report.
    answered = client.post(
        f"{url}/answers", json={"kind": "after", "answers": {"0": "1"}}, headers=as_guest
    )
    assert answered.status_code == 204
    debrief = client.post(
        f"{url}/answers",
        json={"kind": "debrief", "answers": {"0": "We asked early."}},
        headers=player,
    )
    assert debrief.status_code == 204
    late = client.post(
        f"{url}/answers", json={"kind": "before", "answers": {"0": "1"}}, headers=player
    )
    assert late.status_code == 409
    assert "the questions before it are closed" in late.text
    assert client.get(f"{url}/answers", headers=as_guest).json() == {"after": {"0": "1"}}
    report = client.get(f"{url}/report", headers=player).json()
    assert report["end_reason"] == "ended by the facilitator"
    assert [e["option"] for e in report["timeline"] if e["kind"] == "decision"] == ["manual"]
    assert report["debrief"][0]["answers"][0]["answer"] == "We asked early."
    assert report["knowledge"]["after"]["people"] == 1
    assert client.get(f"{url}/report", headers={"X-Guest-Token": "nope"}).status_code == 404


def test_a_session_from_a_scenario_file_of_ones_own(client: TestClient, db: Database) -> None:
    accounts.create_org(db, "Training Institute", "academia", "CH")
    trainer = _bearer(db, "trainer@example.test", "Training Institute")
    source = (SHIPPED / "hospital-ransomware.yaml").read_text(encoding="utf-8")
    mine = source.replace("id: hospital-ransomware", "id: my-ransomware")
    made = client.post("/api/v1/exercises", json={"source": mine}, headers=trainer)
    assert made.status_code == 201
    session = client.get(f"/api/v1/exercises/{made.json()['id']}", headers=trainer).json()
    assert session["scenario"] == "my-ransomware"
    broken = mine.replace("channel: phone", "channel: fax")
    refused = client.post("/api/v1/exercises", json={"source": broken}, headers=trainer)
    assert refused.status_code == 400
    assert "injects[3].channel: 'fax' is not one of" in refused.text
    assert len(client.get("/api/v1/exercises", headers=trainer).json()) == 1
