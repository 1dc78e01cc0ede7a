"""Requests for assistance and points of contact through the JSON API, on both stores."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TAXII, Member
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind, BubbleRole
from trustbubble.services import accounts, bubbles
from trustbubble.store.database import Database


@dataclass(frozen=True)
class Party:
    org: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class World:
    bubble_id: str
    asker: Party
    partner: Party
    third: Party
    outsider: Party


def _party(db: Database, org: str, email: str, country: str, new_org: bool = True) -> Party:
    if new_org:
        accounts.create_org(db, org, "cert", country)
    user, _ = accounts.create_user(db, email, org, UserRole.ANALYST)
    _token, secret = accounts.create_token(db, user)
    return Party(org, email, secret)


@pytest.fixture
def world(db: Database, member: Member) -> World:
    asker = Party("National CERT", member.email, member.token)
    partner = _party(db, "Partner CERT", "partner@cert.test", "KE")
    third = _party(db, "Third CERT", "third@cert.test", "DE")
    outsider = _party(db, "Outside CERT", "out@cert.test", "BR")
    owner = accounts.user_by_email(db, member.email)
    for org in ("Partner CERT", "Third CERT"):
        bubbles.invite(db, owner, member.bubble_id, org, BubbleRole.MEMBER)
        admin, _ = accounts.create_user(
            db, f"admin@{org.split()[0].lower()}.test", org, UserRole.ADMIN
        )
        bubbles.respond(db, admin, member.bubble_id, accept=True)
    return World(member.bubble_id, asker, partner, third, outsider)


def _raise(client: TestClient, world: World, **body: object) -> str:
    answer = client.post(
        f"/api/v1/bubbles/{world.bubble_id}/assistance",
        json={"title": "Help with ransomware", "asked": ["mitigation"], **body},
        headers=world.asker.auth,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_ask_acknowledge_start_resolve_with_timings(client: TestClient, world: World) -> None:
    request_id = _raise(client, world, recipients=["Partner CERT"], urgency="critical")
    seen = client.get(f"/api/v1/assistance/{request_id}", headers=world.partner.auth).json()
    assert seen["state"] == "open"
    assert seen["my_actions"] == ["acknowledge", "decline"]
    for action in ("acknowledge", "start", "resolve"):
        answer = client.post(
            f"/api/v1/assistance/{request_id}/{action}", headers=world.partner.auth
        )
        assert answer.status_code == 204, answer.text
    done = client.get(f"/api/v1/assistance/{request_id}", headers=world.asker.auth).json()
    assert done["state"] == "resolved"
    assert [e["action"] for e in done["events"]] == ["raised", "acknowledge", "start", "resolve"]
    assert done["seconds_to_first_acknowledgement"] >= 0
    assert done["seconds_to_resolution"] >= done["seconds_to_first_acknowledgement"]
    (recipient,) = done["recipients"]
    assert (recipient["organization"], recipient["answer"]) == ("Partner CERT", "acknowledged")
    timings = client.get(
        f"/api/v1/bubbles/{world.bubble_id}/assistance/timings", headers=world.asker.auth
    ).json()
    assert timings["requests"] == 1
    assert timings["acknowledge_target_hours"] == 24
    assert [o["organization"] for o in timings["by_organization"]] == ["Partner CERT"]


def test_the_request_travels_as_a_stix_note_that_follows_its_state(
    client: TestClient, world: World, member: Member
) -> None:
    request_id = _raise(client, world)
    client.post(f"/api/v1/assistance/{request_id}/acknowledge", headers=world.third.auth)
    note_id = client.get(f"/api/v1/assistance/{request_id}", headers=world.asker.auth).json()[
        "note_id"
    ]
    versions = client.get(f"{member.objects_url}{note_id}/versions/", headers=member.headers).json()
    assert len(versions["versions"]) == 2
    (note,) = client.get(f"{member.objects_url}{note_id}/", headers=member.headers).json()[
        "objects"
    ]
    extension = next(v for v in note["extensions"].values() if "state" in v)
    assert extension["state"] == "acknowledged"
    assert {r["answer"] for r in extension["recipients"]} == {"acknowledged", "pending"}


def test_a_forbidden_transition_is_named_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    request_id = _raise(client, world)
    assert (
        client.post(
            f"/api/v1/assistance/{request_id}/withdraw", headers=world.asker.auth
        ).status_code
        == 204
    )
    before = client.get(f"/api/v1/assistance/{request_id}", headers=world.asker.auth).json()
    answer = client.post(f"/api/v1/assistance/{request_id}/resolve", headers=world.asker.auth)
    assert answer.status_code == 409
    assert "withdrawn" in answer.json()["description"]
    assert client.get(f"/api/v1/assistance/{request_id}", headers=world.asker.auth).json() == before


def test_bad_input_is_refused_and_nothing_is_stored(client: TestClient, world: World) -> None:
    for body, words in (
        ({"recipients": ["Nobody CERT"]}, "'Nobody CERT' is not an active member"),
        ({"asked": ["prayers"]}, "unknown kind of help"),
        ({"title": ""}, "title: is required"),
        ({"urgency": "whenever"}, "unknown urgency"),
        ({"incident_id": "incident--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, "no incident"),
    ):
        answer = client.post(
            f"/api/v1/bubbles/{world.bubble_id}/assistance",
            json={"title": "Help", "asked": ["mitigation"], **body},
            headers=world.asker.auth,
        )
        assert answer.status_code == 400, body
        assert words in answer.json()["description"]
    assert client.get("/api/v1/assistance", headers=world.asker.auth).json() == []
    decline = client.post(
        f"/api/v1/assistance/{_raise(client, world)}/decline",
        json={"reason": " "},
        headers=world.partner.auth,
    )
    assert decline.status_code == 400


def test_a_red_request_is_seen_by_its_recipients_only(
    client: TestClient, world: World, member: Member
) -> None:
    request_id = _raise(client, world, recipients=["Partner CERT"], tlp="red")
    assert (
        client.get(f"/api/v1/assistance/{request_id}", headers=world.partner.auth).status_code
        == 200
    )
    for party in (world.third, world.outsider):
        assert client.get(f"/api/v1/assistance/{request_id}", headers=party.auth).status_code == 404
        assert client.get("/api/v1/assistance", headers=party.auth).json() == []
        assert (
            client.post(
                f"/api/v1/assistance/{request_id}/acknowledge", headers=party.auth
            ).status_code
            == 404
        )
    third_taxii = {"Accept": TAXII, **world.third.auth}
    notes = client.get(member.objects_url, params={"match[type]": "note"}, headers=third_taxii)
    assert notes.json().get("objects", []) == []
    # After the partner writes the next version, the requester still reads it.
    client.post(f"/api/v1/assistance/{request_id}/acknowledge", headers=world.partner.auth)
    assert (
        client.get(f"/api/v1/assistance/{request_id}", headers=world.asker.auth).json()["state"]
        == "acknowledged"
    )


def test_the_thread_names_objects_the_writer_may_read(client: TestClient, world: World) -> None:
    request_id = _raise(client, world)
    ok = client.post(
        f"/api/v1/assistance/{request_id}/messages",
        json={"text": "We see the same C2 here."},
        headers=world.partner.auth,
    )
    assert ok.status_code == 201
    bad = client.post(
        f"/api/v1/assistance/{request_id}/messages",
        json={
            "text": "See this",
            "attachments": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
        },
        headers=world.partner.auth,
    )
    assert bad.status_code == 400
    events = client.get(f"/api/v1/assistance/{request_id}", headers=world.asker.auth).json()[
        "events"
    ]
    assert [(e["action"], e["text"]) for e in events][-1] == ("message", "We see the same C2 here.")


def test_points_of_contact_and_the_bubble_directory(
    client: TestClient, world: World, db: Database
) -> None:
    poc = {
        "kind": "technical",
        "name": "Duty officer",
        "email": "duty@partner.test",
        "phone": "+254 20 123 4567",
        "time_zone": "Africa/Nairobi",
        "languages": "en, sw",
    }
    made = client.post("/api/v1/pocs", json=poc, headers=world.partner.auth)
    assert made.status_code == 201
    bad = client.post(
        "/api/v1/pocs", json={**poc, "time_zone": "Mars/Olympus"}, headers=world.partner.auth
    )
    assert bad.status_code == 400
    assert "time_zone" in bad.json()["description"]
    directory = client.get(
        f"/api/v1/bubbles/{world.bubble_id}/directory", headers=world.asker.auth
    ).json()
    assert [(e["organization"], e["name"]) for e in directory["entries"]] == [
        ("Partner CERT", "Duty officer")
    ]
    assert (
        client.get(
            f"/api/v1/bubbles/{world.bubble_id}/directory", headers=world.outsider.auth
        ).status_code
        == 404
    )
    other = bubbles.create_bubble(db, "Elsewhere", BubbleKind.BILATERAL, "Outside CERT")
    assert (
        client.get(f"/api/v1/bubbles/{other.id}/directory", headers=world.partner.auth).status_code
        == 404
    )
    poc_id = made.json()["id"]
    assert client.delete(f"/api/v1/pocs/{poc_id}", headers=world.third.auth).status_code == 404
    assert client.delete(f"/api/v1/pocs/{poc_id}", headers=world.partner.auth).status_code == 204
    assert client.get("/api/v1/pocs", headers=world.partner.auth).json() == []


def test_answers_in_quick_succession_all_count(client: TestClient, world: World) -> None:
    request_id = _raise(client, world)
    for party in (world.partner, world.third):
        answer = client.post(f"/api/v1/assistance/{request_id}/acknowledge", headers=party.auth)
        assert answer.status_code == 204, answer.text
    seen = client.get(f"/api/v1/assistance/{request_id}", headers=world.asker.auth).json()
    assert sorted(r["answer"] for r in seen["recipients"]) == ["acknowledged", "acknowledged"]


def test_recipients_and_the_requester_are_told_and_red_titles_stay_on_the_node(
    client: TestClient, world: World
) -> None:
    request_id = _raise(client, world, recipients=["Partner CERT"], title="Lyon-Sud is down")
    inbox = client.get("/api/v1/notifications", headers=world.partner.auth).json()
    (notice,) = inbox["notifications"]
    assert "Lyon-Sud is down" in notice["subject"]
    assert notice["link"] == f"/assistance/{request_id}"
    assert (
        client.get("/api/v1/notifications", headers=world.third.auth).json()["notifications"] == []
    )
    client.post(f"/api/v1/assistance/{request_id}/acknowledge", headers=world.partner.auth)
    told = client.get("/api/v1/notifications", headers=world.asker.auth).json()["notifications"]
    assert [n["subject"] for n in told] == [
        "Partner CERT: acknowledged your request: Lyon-Sud is down"
    ]
    secret = _raise(
        client, world, recipients=["Third CERT"], title="Minister's phone hacked", tlp="red"
    )
    (red,) = client.get("/api/v1/notifications", headers=world.third.auth).json()["notifications"]
    assert "Minister" not in red["subject"] + red["body"]
    assert red["link"] == f"/assistance/{secret}"
