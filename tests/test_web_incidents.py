"""Incidents, the observatory, correlation and search, through the pages and their JSON twins."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Member
from tests.test_web import PASSWORD, form_token, sign_in
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind, BubbleRole
from trustbubble.services import accounts, bubbles
from trustbubble.store.database import Database

FORM: dict[str, Any] = {
    "title": "Ransomware at a university hospital",
    "started": "2026-03-02T08:15",
    "status": "confirmed",
    "country": "FR",
    "attack_type": "ransomware",
    "sectors": ["healthcare"],
    "patients_affected": "1200",
    "care_diverted": "on",
    "norms": ["h"],
    "tlp": "green",
    "sources": "https://cert.example/advisory/1",
}


@pytest.fixture
def analyst(db: Database, member: Member) -> Member:
    accounts.create_user(db, "web@cert.test", "National CERT", UserRole.ANALYST, PASSWORD)
    return Member(member.bubble_id, "web@cert.test", member.token)


def report(client: TestClient, bubble_id: str, **changes: Any) -> str:
    page = client.get(f"/bubbles/{bubble_id}/incidents/new")
    answer = client.post(
        f"/bubbles/{bubble_id}/incidents",
        data={**FORM, **changes, "csrf": form_token(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"].rsplit("/", 1)[1])


def test_a_reported_incident_is_listed_charted_and_served_over_taxii(
    client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    incident_id = report(client, analyst.bubble_id)
    listing = client.get("/incidents").text
    assert "Ransomware at a university hospital" in listing
    assert "1 incident you may read" in listing
    figures = client.get(f"/api/v1/bubbles/{analyst.bubble_id}/observatory").json()
    assert figures["per_month"] == [["2026-03", 1]]
    assert figures["impact"]["patients_affected"] == 1200
    assert figures["health_attack_types"] == [["ransomware", 1]]
    taxii = client.get(f"{analyst.objects_url}{incident_id}/", headers=analyst.headers).json()
    (obj,) = taxii["objects"]
    extension = next(iter(obj["extensions"].values()))
    assert extension["human_impact"]["patients_affected"] == 1200
    assert extension["human_impact"]["care_diverted"] is True


def test_a_mistake_in_the_form_is_named_and_nothing_is_stored(
    client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    page = client.get(f"/bubbles/{analyst.bubble_id}/incidents/new")
    answer = client.post(
        f"/bubbles/{analyst.bubble_id}/incidents",
        data={**FORM, "ended": "2026-03-01T00:00", "csrf": form_token(page.text)},
    )
    assert answer.status_code == 400
    assert "ended: is before the start" in answer.text
    assert 'value="Ransomware at a university hospital"' in answer.text  # nothing typed is lost
    assert client.get("/api/v1/incidents").json()["total"] == 0


def test_editing_makes_a_new_version_and_only_the_reporter_may(
    db: Database, client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    incident_id = report(client, analyst.bubble_id)
    edit = f"/bubbles/{analyst.bubble_id}/incidents/{incident_id}/edit"
    form = client.get(edit)
    assert 'value="Ransomware at a university hospital"' in form.text
    answer = client.post(
        edit,
        data={**FORM, "status": "recovered", "csrf": form_token(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    versions = client.get(
        f"{analyst.objects_url}{incident_id}/versions/", headers=analyst.headers
    ).json()["versions"]
    assert len(versions) == 2
    rows = client.get("/api/v1/incidents").json()["items"]
    assert [row["status"] for row in rows] == ["recovered"]
    # A member of another organization in the same bubble reads it but may not edit it.
    accounts.create_org(db, "Partner CERT", "cert", "DE")
    accounts.create_user(db, "partner@cert.test", "Partner CERT", UserRole.ANALYST, PASSWORD)
    admin, _ = accounts.create_user(db, "admin@partner.test", "Partner CERT", UserRole.ADMIN)
    owner = accounts.user_by_email(db, analyst.email)
    bubbles.invite(db, owner, analyst.bubble_id, "Partner CERT", BubbleRole.MEMBER)
    bubbles.respond(db, admin, analyst.bubble_id, accept=True)
    client.cookies.clear()
    sign_in(client, "partner@cert.test")
    assert client.get(edit).status_code == 403


def test_the_list_filters_sorts_and_downloads(client: TestClient, analyst: Member) -> None:
    sign_in(client, analyst.email)
    report(client, analyst.bubble_id, title="Small DDoS", attack_type="ddos", patients_affected="3")
    report(
        client,
        analyst.bubble_id,
        title="Wiper",
        attack_type="wiper",
        country="DE",
        started="2025-06-01T00:00",
        patients_affected="90",
    )
    report(client, analyst.bubble_id)
    api = "/api/v1/incidents"
    assert [r["title"] for r in client.get(api, params={"sort": "patients"}).json()["items"]] == [
        "Ransomware at a university hospital",
        "Wiper",
        "Small DDoS",
    ]
    assert client.get(api, params={"attack_type": "wiper"}).json()["total"] == 1
    assert client.get(api, params={"country": "de"}).json()["total"] == 1
    assert client.get(api, params={"since": "2026-01-01"}).json()["total"] == 2
    bad = client.get(api, params={"sort": "loudest"})
    assert bad.status_code == 400
    assert "sort" in bad.json()["description"]
    download = client.get("/incidents.csv", params={"attack_type": "ddos"})
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["title"], r["patients_affected"]) for r in rows] == [("Small DDoS", "3")]


def test_the_public_observatory_counts_clear_incidents_only(
    client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    report(client, analyst.bubble_id, tlp="clear", title="Public one")
    report(client, analyst.bubble_id, tlp="green", title="Members only")
    report(client, analyst.bubble_id, tlp="red", title="Secret")
    client.cookies.clear()
    page = client.get("/observatory")
    assert page.status_code == 200  # no sign-in needed
    figures = client.get("/api/v1/observatory").json()
    assert figures["impact"]["incidents"] == 1
    assert figures["per_month"] == [["2026-03", 1]]
    table = client.get("/observatory.csv", params={"figure": "by_attack_type"}).text
    assert table.splitlines() == ["attack_type,incidents", "ransomware,1"]


def test_a_signed_in_reader_stays_signed_in_on_the_public_observatory(
    client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    page = client.get("/observatory").text
    assert f'<span class="who">{analyst.email}</span>' in page
    client.cookies.clear()
    assert analyst.email not in client.get("/observatory").text


def test_also_seen_in_and_search_show_only_what_the_reader_may_read(
    db: Database, client: TestClient, analyst: Member
) -> None:
    def indicator(n: int, marking: str | None) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--00000000-0000-4000-8000-00000000000{n}",
            "created": "2026-03-01T10:00:00.000Z",
            "modified": "2026-03-01T10:00:00.000Z",
            "name": f"Indicator {n}",
            "pattern": "[ipv4-addr:value = '203.0.113.7']",
            "pattern_type": "stix",
            "valid_from": "2026-03-01T10:00:00.000Z",
        }
        if marking:
            obj["object_marking_refs"] = [marking]
        return obj

    red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    envelope = {"objects": [indicator(1, None), indicator(2, None), indicator(3, red)]}
    client.post(analyst.objects_url, json=envelope, headers=analyst.post_headers)
    # A partner reads the AMBER ones, not the RED one, and not even its count.
    accounts.create_org(db, "Partner CERT", "cert", "DE")
    accounts.create_user(db, "partner@cert.test", "Partner CERT", UserRole.ANALYST, PASSWORD)
    admin, _ = accounts.create_user(db, "admin@partner.test", "Partner CERT", UserRole.ADMIN)
    owner = accounts.user_by_email(db, analyst.email)
    bubbles.invite(db, owner, analyst.bubble_id, "Partner CERT", BubbleRole.MEMBER)
    bubbles.respond(db, admin, analyst.bubble_id, accept=True)
    sign_in(client, "partner@cert.test")
    page = client.get(
        f"/api/v1/bubbles/{analyst.bubble_id}/objects/{indicator(1, None)['id']}"
    ).json()
    assert page["observables"] == [["ipv4-addr", "203.0.113.7"]]
    assert [h["title"] for h in page["also_seen_in"]] == ["Indicator 2"]
    found = client.get("/api/v1/search", params={"q": " 203.0.113.7 "}).json()
    assert sorted(h["title"] for h in found["holders"]) == ["Indicator 1", "Indicator 2"]
    html = client.get("/search", params={"q": "203.0.113.7"}).text
    assert "2 objects you may read hold" in html
    assert "Indicator 3" not in html
    # The author's organization sees all three.
    client.cookies.clear()
    sign_in(client, analyst.email)
    mine = client.get("/api/v1/search", params={"q": "203.0.113.7"}).json()
    assert len(mine["holders"]) == 3


def test_incidents_over_the_json_api(db: Database, client: TestClient, analyst: Member) -> None:
    bearer = {"Authorization": f"Bearer {analyst.token}"}
    body = {**FORM, "sources": ["https://cert.example/a"], "patients_affected": 7}
    made = client.post(f"/api/v1/bubbles/{analyst.bubble_id}/incidents", json=body, headers=bearer)
    assert made.status_code == 201
    incident_id = made.json()["id"]
    changed = client.put(
        f"/api/v1/bubbles/{analyst.bubble_id}/incidents/{incident_id}",
        json={**body, "status": "contained"},
        headers=bearer,
    )
    assert changed.status_code == 204
    bad = client.post(
        f"/api/v1/bubbles/{analyst.bubble_id}/incidents",
        json={**body, "norms": ["z"]},
        headers=bearer,
    )
    assert bad.status_code == 400
    assert bad.json()["description"] == "norms: 'z' is not a UN GGE norm letter (a to k)"
    listed = client.get("/api/v1/incidents", headers=bearer).json()
    assert [(r["id"], r["status"]) for r in listed["items"]] == [(incident_id, "contained")]
    other = bubbles.create_bubble(db, "Other bubble", BubbleKind.BILATERAL, "National CERT")
    assert (
        client.get("/api/v1/incidents", params={"bubble": other.id}, headers=bearer).json()["total"]
        == 0
    )


def test_days_and_numbers_at_the_ends_of_their_types(client: TestClient, member: Member) -> None:
    """The first and last days of the calendar are periods like others; numbers the database
    cannot hold are a 400. Both were 500s (an overflow of dates, of the database driver)."""
    bearer = {"Authorization": f"Bearer {member.token}"}
    feed = f"/api/v1/bubbles/{member.bubble_id}/objects"
    whole = {"since": "0001-01-01", "until": "9999-12-31"}
    for path in ("/api/v1/observatory", f"/api/v1/bubbles/{member.bubble_id}/observatory"):
        figures = client.get(path, params=whole, headers=bearer)
        assert figures.status_code == 200, figures.text
        assert (figures.json()["since"], figures.json()["until"]) == ("0001-01-01", "9999-12-31")
    for path in ("/api/v1/incidents", feed):
        assert client.get(path, params=whole, headers=bearer).status_code == 200
    march = {"since": "2026-03-01", "until": "2026-03-31"}
    figures = client.get("/api/v1/observatory", params=march).json()
    assert (figures["since"], figures["until"]) == ("2026-03-01", "2026-03-31")
    for path, name in (("/api/v1/incidents", "offset"), (feed, "before")):
        for number in (2**63, -(2**63) - 1):
            refused = client.get(path, params={name: number}, headers=bearer)
            assert refused.status_code == 400
            assert name in refused.json()["description"]


def test_an_indicator_linked_to_an_incident_shows_on_both_pages(
    client: TestClient, analyst: Member
) -> None:
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-03-01T10:00:00.000Z",
        "modified": "2026-03-01T10:00:00.000Z",
        "name": "C2 of the hospital ransomware",
        "pattern": "[ipv4-addr:value = '203.0.113.7']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T10:00:00.000Z",
        "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
    }
    client.post(analyst.objects_url, json={"objects": [indicator]}, headers=analyst.post_headers)
    sign_in(client, analyst.email)
    incident_id = report(client, analyst.bubble_id)  # GREEN
    page = client.get(f"/bubbles/{analyst.bubble_id}/objects/{incident_id}")
    assert "indicator: C2 of the hospital ransomware" in page.text  # offered in the form
    answer = client.post(
        f"/bubbles/{analyst.bubble_id}/incidents/{incident_id}/links",
        data={"object_id": indicator["id"], "csrf": form_token(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    mine = client.get(f"/api/v1/bubbles/{analyst.bubble_id}/objects/{incident_id}").json()
    assert [(link["label"], link["other_title"]) for link in mine["links"]] == [
        ("related-to", "C2 of the hospital ransomware")
    ]
    (relationship,) = [
        o
        for o in client.get(
            analyst.objects_url, params={"match[type]": "relationship"}, headers=analyst.headers
        ).json()["objects"]
    ]
    # The link is as strict as its stricter end: the AMBER indicator, not the GREEN incident.
    assert relationship["object_marking_refs"] == indicator["object_marking_refs"]
    other = client.get(f"/api/v1/bubbles/{analyst.bubble_id}/objects/{indicator['id']}").json()
    assert [link["other_id"] for link in other["links"]] == [incident_id]
    bad = client.post(
        f"/api/v1/bubbles/{analyst.bubble_id}/incidents/{incident_id}/links",
        json={"object_id": incident_id},
        headers={"Authorization": f"Bearer {analyst.token}"},
    )
    assert bad.status_code == 400
    assert "incident objects cannot be linked" in bad.json()["description"]


def test_deleting_the_latest_version_brings_back_the_one_before(
    client: TestClient, analyst: Member
) -> None:
    sign_in(client, analyst.email)
    incident_id = report(client, analyst.bubble_id)
    edit = f"/bubbles/{analyst.bubble_id}/incidents/{incident_id}/edit"
    client.post(
        edit, data={**FORM, "status": "recovered", "csrf": form_token(client.get(edit).text)}
    )
    rows = client.get("/api/v1/incidents").json()["items"]
    assert [r["status"] for r in rows] == ["recovered"]
    versions = client.get(
        f"{analyst.objects_url}{incident_id}/versions/", headers=analyst.headers
    ).json()["versions"]
    gone = client.delete(
        f"{analyst.objects_url}{incident_id}/",
        params={"match[version]": versions[-1]},
        headers=analyst.headers,
    )
    assert gone.status_code == 200
    rows = client.get("/api/v1/incidents").json()["items"]
    assert [r["status"] for r in rows] == ["confirmed"]
    figures = client.get(f"/api/v1/bubbles/{analyst.bubble_id}/observatory").json()
    assert figures["impact"]["incidents"] == 1
