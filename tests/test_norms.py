"""Norms: the catalogue, national implementation reports, scorecards and incidents linked to
norms, through the JSON API on both stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TAXII
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.domain.norms import NORM_LETTERS, NORM_REPORT_EXTENSION_ID, catalogue
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import accounts, bubbles
from trustbubble.store.database import Database

REPORTS = "/api/v1/norm-reports"


@dataclass(frozen=True)
class Party:
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _party(db: Database, org: str, kind: str, country: str, role: UserRole) -> Party:
    accounts.create_org(db, org, kind, country)
    email = f"{org.split()[0].lower()}@{country.lower()}.test"
    user, _ = accounts.create_user(db, email, org, role)
    _token, secret = accounts.create_token(db, user)
    return Party(email, secret)


@dataclass(frozen=True)
class World:
    bubble_id: str
    ministry: Party  # KE government, owner
    partner: Party  # FR government, member
    observer: Party  # CL government, observer
    cert: Party  # KE CERT, member: not a government
    outsider: Party  # BR government, in no bubble


@pytest.fixture
def world(db: Database) -> World:
    ministry = _party(db, "Ministry of ICT", "government", "KE", UserRole.ANALYST)
    partner = _party(db, "Foreign Ministry", "government", "FR", UserRole.ANALYST)
    observer = _party(db, "Digital Agency", "government", "CL", UserRole.ANALYST)
    cert = _party(db, "KE-CERT", "cert", "KE", UserRole.ANALYST)
    outsider = _party(db, "Cyber Office", "government", "BR", UserRole.ANALYST)
    bubble = bubbles.create_bubble(
        db,
        "Health partnership",
        BubbleKind.BILATERAL,
        "Ministry of ICT",
        members=("Foreign Ministry", "KE-CERT"),
        observers=("Digital Agency",),
        default_tlp=TlpLevel.AMBER,
    )
    return World(bubble.id, ministry, partner, observer, cert, outsider)


ENTRIES: dict[str, Any] = {
    "g": {
        "level": "implemented",
        "measures": [{"text": "Hospitals designated critical infrastructure", "guidance": ["g.1"]}],
        "challenges": "Rural hospitals have no security staff",
        "gaps": ["Incident response training for hospitals"],
        "evidence": [{"title": "Decree 12/2025", "url": "https://example.gov/decree-12"}],
    },
    "h": {"level": "in-progress", "gaps": ["Incident response training for HOSPITALS "]},
}


def _start(client: TestClient, party: Party, year: int = 2026, **body: Any) -> str:
    answer = client.post(REPORTS, json={"year": year, **body}, headers=party.auth)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _submit(client: TestClient, party: Party, report_id: str, **body: Any) -> dict[str, Any]:
    answer = client.post(f"{REPORTS}/{report_id}/submit", json=body, headers=party.auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_catalogue_has_eleven_norms_with_guidance_and_sources(client: TestClient) -> None:
    body = client.get("/api/v1/norms").json()
    assert [n["letter"] for n in body["norms"]] == list(NORM_LETTERS)
    sources = {s["id"] for s in body["sources"]}
    assert {"A/70/174", "A/76/135"} <= sources
    for norm in body["norms"]:
        assert norm["source"] == f"A/70/174, para. 13({norm['letter']})"
        assert norm["guidance"], norm["letter"]
        for item in norm["guidance"]:
            assert item["id"].startswith(norm["letter"] + ".")
            assert item["source"].split(",")[0] in sources
    g = {item["id"]: item["measure"] for item in body["norms"][6]["guidance"]}
    assert "health" in g["g.1"].lower()
    assert "contact" in " ".join(i["measure"] for i in body["norms"][7]["guidance"]).lower()
    assert "disclosure" in " ".join(i["measure"] for i in body["norms"][9]["guidance"]).lower()


def test_the_catalogue_travels_as_stix_in_the_public_collection(client: TestClient) -> None:
    bundle = client.get("/api/v1/norms/stix").json()
    notes = [o for o in bundle["objects"] if o["type"] == "note"]
    assert len(notes) == 11
    public = client.get(
        "/taxii2/bubbles/collections/7c1ea500-0000-4000-8000-000000000001/objects/",
        params={"match[type]": "note"},
        headers={"Accept": TAXII},
    ).json()
    assert {o["id"] for o in public["objects"]} >= {n["id"] for n in notes}
    g = next(n for n in notes if n["abstract"].startswith("(g)"))
    assert g["external_references"][0]["source_name"] == "A/70/174, para. 13(g)"


def test_a_report_is_drafted_submitted_to_a_bubble_and_read_by_its_audience(
    client: TestClient, world: World
) -> None:
    report_id = _start(client, world.ministry, entries=ENTRIES)
    # A draft is the keeper's alone.
    for party in (world.partner, world.observer, world.outsider):
        assert client.get(f"{REPORTS}/{report_id}", headers=party.auth).status_code == 404
    assert client.get(f"{REPORTS}/{report_id}").status_code == 404
    done = _submit(
        client, world.ministry, report_id, visibility="bubbles", bubbles=[world.bubble_id]
    )
    assert done["state"] == "submitted"
    assert done["shared_in"] == [{"collection": "Health partnership", "tlp": "AMBER"}]
    seen = client.get(f"{REPORTS}/{report_id}", headers=world.partner.auth).json()
    assert seen["entries"]["g"]["level"] == "implemented"
    assert seen["shared_in"] == [{"collection": "Health partnership", "tlp": "AMBER"}]
    assert seen["keeper"] == "Ministry of ICT"
    # AMBER: the observer and the outsider read nothing; the anonymous neither.
    for party in (world.observer, world.outsider):
        assert client.get(f"{REPORTS}/{report_id}", headers=party.auth).status_code == 404
        assert client.get(REPORTS, headers=party.auth).json() == []
    assert client.get(REPORTS).json() == []
    # TAXII peers in the bubble receive it as a STIX report with our extension.
    taxii = client.get(
        f"/taxii2/bubbles/collections/{world.bubble_id}/objects/",
        params={"match[type]": "report"},
        headers={"Accept": TAXII, **world.partner.auth},
    ).json()
    (stix,) = taxii["objects"]
    extension = stix["extensions"][NORM_REPORT_EXTENSION_ID]
    assert (extension["country"], extension["year"], extension["revision"]) == ("KE", 2026, 1)
    assert extension["entries"]["g"]["measures"][0]["guidance"] == ["g.1"]


def test_comparison_and_scorecard_show_only_what_the_reader_may_read(
    client: TestClient, world: World
) -> None:
    for party, level, visibility in (
        (world.ministry, "implemented", "bubbles"),
        (world.partner, "initial", "bubbles"),
    ):
        report_id = _start(client, party, entries={"g": {"level": level}})
        _submit(client, party, report_id, visibility=visibility, bubbles=[world.bubble_id])
    compare = client.get(
        "/api/v1/norm-comparison",
        params={"country": ["KE", "fr"]},
        headers=world.partner.auth,
    ).json()
    assert [c["label"] for c in compare["columns"]] == ["KE 2026", "FR 2026"]
    g = next(r for r in compare["rows"] if r["norm"] == "g")
    assert g["levels"] == ["implemented", "initial"]
    refused = client.get(
        "/api/v1/norm-comparison", params={"country": ["KE", "FR"]}, headers=world.outsider.auth
    )
    assert refused.status_code == 404
    assert "no submitted report of KE that you may read" in refused.text
    one = client.get(
        "/api/v1/norm-comparison", params={"country": ["KE"]}, headers=world.partner.auth
    )
    assert one.status_code == 400
    assert "two to five states" in one.text
    csv_text = client.get(
        "/api/v1/norm-comparison",
        params={"country": ["KE", "FR"], "format": "csv"},
        headers=world.partner.auth,
    ).text
    assert csv_text.splitlines()[0] == "norm,name,KE 2026,FR 2026,change"
    assert "g,Protect critical infrastructure,implemented,initial," in csv_text


def test_a_state_scorecard_shows_the_change_over_the_years(
    client: TestClient, world: World
) -> None:
    for year, level in ((2025, "initial"), (2026, "implemented")):
        report_id = _start(client, world.ministry, year=year, entries={"g": {"level": level}})
        _submit(client, world.ministry, report_id, visibility="public")
    card = client.get("/api/v1/norm-scorecards/ke").json()  # public: no credentials needed
    assert [c["label"] for c in card["columns"]] == ["2025", "2026"]
    g = next(r for r in card["rows"] if r["norm"] == "g")
    assert g["levels"] == ["initial", "implemented"]
    assert g["change"] == 2
    assert client.get("/api/v1/norm-scorecards/BR").status_code == 404


def test_bad_input_is_refused_with_its_place_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    report_id = _start(client, world.ministry, entries=ENTRIES)
    before = client.get(f"{REPORTS}/{report_id}", headers=world.ministry.auth).json()
    for entries, field in (
        ({"g": {"level": "excellent"}}, "entries.g.level: unknown level 'excellent'"),
        ({"z": {"level": "initial"}}, "'z' is not a UN GGE norm letter (a to k)"),
        ({"g": {"level": "initial", "measures": [{"text": "x", "guidance": ["h.1"]}]}}, "h.1"),
        ({"g": {"level": "initial", "evidence": [{"url": "ftp://x"}]}}, "evidence[0].url"),
        ({"g": {"level": "initial", "evidence": ["http://[::1"]}}, "evidence[0].url"),  # 500
    ):
        answer = client.put(
            f"{REPORTS}/{report_id}/entries", json=entries, headers=world.ministry.auth
        )
        assert answer.status_code == 400, answer.text
        assert field in answer.json()["description"], answer.text
    # A cell past the csv module's limit was its csv.Error, a 500.
    too_long = "norm,kind,text,reference\ng,level," + "x" * 131_073 + ",\n"
    answer = client.put(
        f"{REPORTS}/{report_id}/entries",
        content=too_long,
        headers={**world.ministry.auth, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 400
    assert answer.json()["description"].startswith("line 2: cannot be read")
    after = client.get(f"{REPORTS}/{report_id}", headers=world.ministry.auth).json()
    assert after == before
    _submit(client, world.ministry, report_id, visibility="private")
    # A year already reported, and a submitted revision, need a new revision.
    again = client.post(REPORTS, json={"year": 2026}, headers=world.ministry.auth)
    assert again.status_code == 409
    assert "start a new revision" in again.json()["description"]
    edit = client.put(f"{REPORTS}/{report_id}/entries", json=ENTRIES, headers=world.ministry.auth)
    assert edit.status_code == 409
    assert "start a new revision" in edit.json()["description"]
    assert client.get(REPORTS, headers=world.ministry.auth).json()[0]["revision"] == 1
    # Only a government organization keeps its state's report.
    refused = client.post(REPORTS, json={"year": 2026}, headers=world.cert.auth)
    assert refused.status_code == 403
    assert "only a government organization" in refused.json()["description"]


def test_a_new_revision_keeps_the_history_and_readers_get_the_latest_they_may_read(
    client: TestClient, world: World
) -> None:
    first = _start(client, world.ministry, entries={"g": {"level": "initial"}})
    _submit(client, world.ministry, first, visibility="bubbles", bubbles=[world.bubble_id])
    answer = client.post(f"{REPORTS}/{first}/revisions", headers=world.ministry.auth)
    assert answer.status_code == 201
    second = answer.json()["id"]
    assert answer.json()["revision"] == 2
    client.put(
        f"{REPORTS}/{second}/entries",
        json={"g": {"level": "implemented"}},
        headers=world.ministry.auth,
    ).raise_for_status()
    _submit(client, world.ministry, second, visibility="public")
    # The observer could not read revision 1 (AMBER in the bubble) but reads the public one.
    seen = client.get(REPORTS, headers=world.observer.auth).json()
    assert [(r["revision"], r["visibility"]) for r in seen] == [(2, "public")]
    mine = client.get(f"{REPORTS}/{second}", headers=world.ministry.auth).json()
    assert [r["revision"] for r in mine["revisions"]] == [1, 2]
    card = client.get("/api/v1/norm-scorecards/KE", headers=world.partner.auth).json()
    assert next(r for r in card["rows"] if r["norm"] == "g")["levels"] == ["implemented"]


def test_csv_export_imports_back_into_a_new_draft(client: TestClient, world: World) -> None:
    report_id = _start(client, world.ministry, entries=ENTRIES)
    exported = client.get(
        f"{REPORTS}/{report_id}", params={"format": "csv"}, headers=world.ministry.auth
    ).text
    assert "g,measure,Hospitals designated critical infrastructure,g.1" in exported
    other = _start(client, world.ministry, year=2025)
    answer = client.put(
        f"{REPORTS}/{other}/entries",
        content=exported.encode(),
        headers={**world.ministry.auth, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["entries"] == ENTRIES_NORMALIZED
    broken = exported.replace("g,level,", "g,mood,")
    refused = client.put(
        f"{REPORTS}/{other}/entries",
        content=broken.encode(),
        headers={**world.ministry.auth, "Content-Type": "text/csv"},
    )
    assert refused.status_code == 400
    assert refused.json()["description"].startswith("line 2: kind 'mood'")


ENTRIES_NORMALIZED = {
    "g": {**ENTRIES["g"]},
    "h": {
        "level": "in-progress",
        "measures": [],
        "challenges": "",
        "gaps": ["Incident response training for HOSPITALS"],
        "evidence": [],
    },
}


def test_a_bubble_shows_who_implements_what_and_the_common_gaps(
    client: TestClient, world: World
) -> None:
    report_id = _start(client, world.ministry, entries=ENTRIES)
    _submit(client, world.ministry, report_id, visibility="bubbles", bubbles=[world.bubble_id])
    body = client.get(f"/api/v1/bubbles/{world.bubble_id}/norms", headers=world.partner.auth).json()
    assert body["implementing"]["g"] == ["KE"]
    assert body["implementing"]["h"] == []
    assert body["gaps"][0]["count"] == 2
    assert body["gaps"][0]["letters"] == ["g", "h"]
    assert body["without_report"] == ["CL", "FR"]
    assert (
        client.get(f"/api/v1/bubbles/{world.bubble_id}/norms", headers=world.outsider.auth)
    ).status_code == 404


def test_a_norm_lists_the_incidents_that_touch_it(client: TestClient, world: World) -> None:
    def report(title: str, **fields: Any) -> None:
        answer = client.post(
            f"/api/v1/bubbles/{world.bubble_id}/incidents",
            json={
                "title": title,
                "started": "2026-03-02T08:15",
                "country": "KE",
                "attack_type": "ransomware",
                "tlp": "amber",
                **fields,
            },
            headers=world.ministry.auth,
        )
        assert answer.status_code == 201, answer.text

    report("Ransomware at a hospital", sectors=["healthcare"])
    report("Leak at a newspaper", sectors=["education"], norms=["e"], attack_type="data-theft")
    g = client.get("/api/v1/norms/g", headers=world.partner.auth).json()
    assert [(i["title"], i["link"]) for i in g["incidents"]] == [
        ("Ransomware at a hospital", "suggested")
    ]
    assert g["per_month"] == [{"month": "2026-03", "incidents": 1}]
    e = client.get("/api/v1/norms/e", headers=world.partner.auth).json()
    assert [(i["title"], i["link"]) for i in e["incidents"]] == [
        ("Leak at a newspaper", "reported")
    ]
    # AMBER incidents are not for the observer, nor for anyone anonymous.
    assert client.get("/api/v1/norms/g", headers=world.observer.auth).json()["incidents"] == []
    assert client.get("/api/v1/norms/g").json()["incidents"] == []
    bad = client.get("/api/v1/norms/z")
    assert bad.status_code == 400
    assert "'z' is not a UN GGE norm letter (a to k)" in bad.text


def test_catalogue_guidance_ids_are_unique_and_numbered() -> None:
    book = catalogue()
    for norm in book.norms:
        assert [g.id for g in norm.guidance] == [
            f"{norm.letter}.{n}" for n in range(1, len(norm.guidance) + 1)
        ]


def test_a_reader_outside_a_bubble_never_learns_its_name(client: TestClient, world: World) -> None:
    report_id = _start(client, world.ministry, entries={"g": {"level": "initial"}})
    wrong = client.post(
        f"{REPORTS}/{report_id}/submit",
        json={"visibility": "private", "tlp": "green"},
        headers=world.ministry.auth,
    )
    assert wrong.status_code == 400
    assert "a private report has no TLP to choose" in wrong.text
    _submit(
        client,
        world.ministry,
        report_id,
        visibility="bubbles",
        bubbles=[world.bubble_id],
        tlp="clear",
    )
    for auth in (world.outsider.auth, {}):
        seen = client.get(f"{REPORTS}/{report_id}", headers=auth)
        assert seen.status_code == 200, seen.text
        assert seen.json()["shared_in"] == [{"collection": "Public", "tlp": "CLEAR"}]
    observer = client.get(f"{REPORTS}/{report_id}", headers=world.observer.auth).json()
    assert observer["shared_in"] == [{"collection": "Health partnership", "tlp": "CLEAR"}]
