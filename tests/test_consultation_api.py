"""Consultations through the JSON API: a ministry opens a draft to civil society and the private
sector, who comment; it answers, hides, publishes version 2; outsiders see nothing until they ask
to take part (docs/consultations.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from trustbubble.domain.accounts import UserRole
from trustbubble.services import accounts
from trustbubble.store.database import Database

DRAFT = """# Health-sector cyber rules

## Scope

These rules apply to every hospital and medical laboratory.

## Duties

Hospitals report ransomware to the national CERT within 24 hours.

Hospitals test their backups every quarter.
"""
REVISED = DRAFT.replace(
    "hospital and medical laboratory", "hospital, medical laboratory and blood bank"
)

Headers = dict[str, str]


@pytest.fixture
def people(db: Database) -> dict[str, Headers]:
    for org, kind in (
        ("Ministry of Health", "government"),
        ("Patients First", "civil-society"),
        ("MedTech Ltd", "private"),
        ("KE National CERT", "cert"),
    ):
        accounts.create_org(db, org, kind, "KE")
    found = {}
    for name, org, role in (
        ("ministry", "Ministry of Health", UserRole.ANALYST),
        ("ngo", "Patients First", UserRole.ANALYST),
        ("ngo-viewer", "Patients First", UserRole.VIEWER),
        ("company", "MedTech Ltd", UserRole.ANALYST),
        ("cert", "KE National CERT", UserRole.ANALYST),
    ):
        user, _ = accounts.create_user(db, f"{name}@example.test", org, role)
        _token, secret = accounts.create_token(db, user)
        found[name] = {"Authorization": f"Bearer {secret}"}
    return found


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _opening(draft_id: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "draft": draft_id,
        "version": 1,
        "opens": _iso(now - timedelta(minutes=1)),
        "closes": _iso(now + timedelta(days=14)),
        "audience": {"kinds": ["civil-society", "private"]},
        **extra,
    }


def _open(
    client: TestClient, ministry: Headers, text: str = DRAFT, **extra: Any
) -> tuple[str, str]:
    made = client.post(
        "/api/v1/drafts",
        json={"title": "Health-sector cyber rules", "kind": "guideline", "text": text},
        headers=ministry,
    )
    assert made.status_code == 201, made.text
    draft = made.json()["id"]
    opened = client.post("/api/v1/consultations", json=_opening(draft, **extra), headers=ministry)
    assert opened.status_code == 201, opened.text
    return draft, opened.json()["id"]


def _refused(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    description: str = response.json()["description"]
    return description


def test_stakeholders_comment_and_see_the_drafter_answer_in_version_2(
    client: TestClient, people: dict[str, Headers]
) -> None:
    ministry, ngo, company = people["ministry"], people["ngo"], people["company"]
    draft, cid = _open(client, ministry)
    url = f"/api/v1/consultations/{cid}"
    amend = client.post(
        f"{url}/comments",
        json={
            "paragraph": 1,
            "stance": "amend",
            "text": "Blood banks hold patient data too.",
            "wording": "These rules apply to every hospital, medical laboratory and blood bank.",
            "norms": ["g"],
        },
        headers=ngo,
    )
    assert amend.status_code == 201, amend.text
    amend_id = amend.json()["id"]
    objection = client.post(
        f"{url}/comments",
        json={"paragraph": 3, "stance": "object", "text": "Quarterly is too often, fools."},
        headers=company,
    )
    objection_id = objection.json()["id"]
    reply = client.post(
        f"{url}/comments/{objection_id}/replies",
        json={"text": "Would twice a year work for you?"},
        headers=ministry,
    )
    assert reply.status_code == 201, reply.text

    verdict = {"verdict": "accepted", "reason": "Blood banks added."}
    assert (
        client.put(f"{url}/comments/{amend_id}/verdict", json=verdict, headers=ngo).status_code
        == 403
    )
    assert (
        client.put(f"{url}/comments/{amend_id}/verdict", json=verdict, headers=ministry).status_code
        == 204
    )
    hidden = client.put(
        f"{url}/comments/{objection_id}/hidden", json={"reason": "an insult"}, headers=ministry
    )
    assert hidden.status_code == 204
    version = client.post(
        f"/api/v1/drafts/{draft}/versions",
        json={"text": REVISED, "note": "Blood banks added.", "answers": [amend_id]},
        headers=ministry,
    )
    assert version.status_code == 201, version.text
    assert version.json() == {"number": 2}

    seen = client.get(url, headers=ngo).json()
    assert (seen["phase"], seen["part"], seen["may_comment"]) == ("open", "participant", True)
    assert [p["number"] for p in seen["paragraphs"]] == [1, 2, 3]
    assert seen["paragraphs"][0]["section"] == "Scope"
    first, second, answer = seen["comments"]
    assert (first["organization"], first["verdict"], first["answered_in"]) == (
        "Patients First",
        "accepted",
        2,
    )
    assert (second["hidden"], second["text"], second["author"], second["stance"]) == (
        "an insult",
        "",
        "",
        "object",
    )
    assert answer["parent_id"] == objection_id
    assert seen["by_kind"] == {"civil-society": {"amend": 1}, "private": {"object": 1}}
    assert [(s["number"], s["comments"], s["accepted_share"]) for s in seen["by_paragraph"]] == [
        (1, 1, 1.0),
        (2, 0, None),
        (3, 1, None),
    ]
    assert seen["opens"].endswith("Z")  # ISO 8601, in UTC
    assert datetime.fromisoformat(seen["closes"]) > datetime.now(UTC) + timedelta(days=13)
    # The author's organization still reads its hidden comment; shown again, everyone does.
    assert client.get(url, headers=company).json()["comments"][1]["text"].startswith("Quarterly")
    assert (
        client.delete(f"{url}/comments/{objection_id}/hidden", headers=ministry).status_code == 204
    )
    assert client.get(url, headers=ngo).json()["comments"][1]["hidden"] is None

    as_ngo = client.get(f"/api/v1/drafts/{draft}", headers=ngo).json()
    assert (as_ngo["drafter"], as_ngo["mine"], as_ngo["consultations"]) == (
        "Ministry of Health",
        False,
        [cid],
    )
    v1, v2 = as_ngo["versions"]
    assert (v1["changes"], v2["answers"], v2["note"]) == ([], [amend_id], "Blood banks added.")
    assert [(c["kind"], c["old"], c["new"]) for c in v2["changes"]] == [
        ("changed", 1, 1),
        ("unchanged", 2, 2),
        ("unchanged", 3, 3),
    ]
    diff = client.get(f"/api/v1/drafts/{draft}/diff?from=1&to=2", headers=ngo).json()
    assert (diff["from"], diff["to"], diff["answers"]) == (1, 2, [amend_id])
    assert {"op": "+", "text": "blood bank."} in diff["changes"][0]["words"]
    assert "words" not in diff["changes"][1]
    assert client.get(f"/api/v1/drafts/{draft}/diff", headers=ngo).json() == diff
    assert [d["id"] for d in client.get("/api/v1/drafts", headers=ngo).json()] == [draft]
    mine = client.get("/api/v1/consultations", headers=ministry).json()
    assert [(c["id"], c["drafter"], c["phase"]) for c in mine] == [(cid, True, "open")]


def test_an_outsider_gets_a_404_and_anonymous_a_401(
    client: TestClient, people: dict[str, Headers]
) -> None:
    draft, cid = _open(client, people["ministry"])
    cert = people["cert"]
    for path in (
        f"/api/v1/consultations/{cid}",
        f"/api/v1/drafts/{draft}",
        f"/api/v1/drafts/{draft}/diff",
    ):
        assert client.get(path, headers=cert).status_code == 404
        assert client.get(path).status_code == 401
    assert client.get("/api/v1/drafts", headers=cert).json() == []
    assert client.get("/api/v1/consultations", headers=cert).json() == []
    comment = {"paragraph": 1, "stance": "support", "text": "Yes"}
    assert (
        client.post(f"/api/v1/consultations/{cid}/comments", json=comment, headers=cert).status_code
        == 404
    )
    assert client.post(f"/api/v1/consultations/{cid}/comments", json=comment).status_code == 401
    new_version = {"text": DRAFT, "answers": []}
    assert (
        client.post(f"/api/v1/drafts/{draft}/versions", json=new_version, headers=cert).status_code
        == 404
    )
    assert client.get("/api/v1/consultations/no-such-id", headers=people["ngo"]).status_code == 404


def test_an_outsider_asks_to_take_part_and_is_admitted_after_an_objection(
    client: TestClient, people: dict[str, Headers]
) -> None:
    ministry, ngo, cert = people["ministry"], people["ngo"], people["cert"]
    _draft, cid = _open(client, ministry)
    url = f"/api/v1/consultations/{cid}"
    asked = client.post(f"{url}/requests", json={"reason": "We run hospital IR."}, headers=cert)
    assert asked.status_code == 201, asked.text
    org_id = asked.json()["org_id"]
    waiting = client.get(url, headers=cert).json()
    assert (waiting["part"], waiting["paragraphs"], waiting["comments"]) == ("applicant", [], [])
    assert [(r["org_id"], r["state"]) for r in waiting["requests"]] == [(org_id, "pending")]
    comment = {"paragraph": 2, "stance": "support", "text": "We agree."}
    assert "asked to take part" in _refused(
        client.post(f"{url}/comments", json=comment, headers=cert), 403
    )
    objected = client.post(
        f"{url}/requests/{org_id}/objections", json={"reason": "Not a health body."}, headers=ngo
    )
    assert objected.status_code == 204, objected.text
    assert client.get(url, headers=ministry).json()["requests"][0]["objections"] == [
        {"organization": "Patients First", "reason": "Not a health body."}
    ]
    assert "decision" in _refused(
        client.put(f"{url}/requests/{org_id}", json={"decision": "maybe"}, headers=ministry), 400
    )
    assert (
        client.put(
            f"{url}/requests/{org_id}", json={"decision": "admitted"}, headers=ngo
        ).status_code
        == 403
    )
    assert (
        client.put(
            f"{url}/requests/{org_id}", json={"decision": "admitted"}, headers=ministry
        ).status_code
        == 204
    )
    assert client.get(url, headers=cert).json()["part"] == "participant"
    assert client.post(f"{url}/comments", json=comment, headers=cert).status_code == 201


def test_a_closed_consultation_answers_409_and_says_when_it_closed(
    client: TestClient, people: dict[str, Headers]
) -> None:
    ministry, ngo = people["ministry"], people["ngo"]
    questions = [{"text": "Are you a patient?", "choices": ["yes", "no"]}, {"text": "Why?"}]
    _draft, cid = _open(client, ministry, questions=questions)
    url = f"/api/v1/consultations/{cid}"
    assert (
        client.post(
            f"{url}/answers", json={"answers": {"0": "yes", "1": "Leaks"}}, headers=ngo
        ).status_code
        == 204
    )
    seen = client.get(url, headers=ministry).json()
    assert seen["questions"][0] == {
        "number": 0,
        "text": "Are you a patient?",
        "choices": ["yes", "no"],
        "answers": {"yes": 1},
        "by_kind": {"civil-society": {"yes": 1}},
        "organizations": 1,
    }
    assert client.post(f"{url}/close", headers=ngo).status_code == 403
    closed = client.post(f"{url}/close", headers=ministry)
    assert closed.status_code == 200, closed.text
    assert closed.json()["phase"] == "closed"
    comment = {"paragraph": 1, "stance": "support", "text": "Yes"}
    for refused in (
        client.post(f"{url}/comments", json=comment, headers=ngo),
        client.post(f"{url}/answers", json={"answers": {"0": "no"}}, headers=ngo),
    ):
        assert _refused(refused, 409).startswith("the consultation closed on ")
    assert "closed already" in _refused(client.post(f"{url}/close", headers=ministry), 409)
    assert client.get(url, headers=ngo).json()["phase"] == "closed"


def test_bad_input_is_a_400_that_names_the_field(
    client: TestClient, people: dict[str, Headers]
) -> None:
    ministry, ngo = people["ministry"], people["ngo"]
    draft, cid = _open(client, ministry, questions=[{"text": "Patient?", "choices": ["yes", "no"]}])
    url = f"/api/v1/consultations/{cid}"

    def comment(**fields: Any) -> str:
        body = {"paragraph": 1, "stance": "support", "text": "Fine.", **fields}
        return _refused(client.post(f"{url}/comments", json=body, headers=ngo), 400)

    assert comment(stance="shrug").startswith("stance: unknown stance 'shrug'")
    assert comment(paragraph=9) == "paragraph: no paragraph 9: this version has 1 to 3"
    assert comment(stance="amend").startswith("wording:")
    assert comment(norms=["z"]).startswith("norms[0]:")
    assert comment(text="  ") == "text: is required"

    def opening(**fields: Any) -> str:
        body = _opening(draft, **fields)
        return _refused(client.post("/api/v1/consultations", json=body, headers=ministry), 400)

    assert opening(audience={}).startswith("audience: choose who may comment")
    assert opening(audience={"kinds": ["pirates"]}).startswith("audience.kinds[0]:")
    now = datetime.now(UTC)
    assert opening(opens=_iso(now), closes=_iso(now - timedelta(days=1))).startswith("closes:")
    assert "opens" in opening(opens="2026-05-01T09:00:00")  # no time zone: ambiguous
    assert opening(version=7) == "version: the draft has no version 7"
    assert opening(questions=[{"text": "Only one?", "choices": ["yes"]}]).startswith(
        "questions[0].choices:"
    )
    made = client.post(
        "/api/v1/drafts", json={"title": "T", "kind": "manifesto", "text": DRAFT}, headers=ministry
    )
    assert _refused(made, 400).startswith("kind:")
    assert _refused(
        client.post(
            f"/api/v1/drafts/{draft}/versions", json={"text": "# Only a heading"}, headers=ministry
        ),
        400,
    ).startswith("text:")
    assert (
        _refused(client.get(f"/api/v1/drafts/{draft}/diff?from=1&to=5", headers=ministry), 400)
        == "to: the draft has no version 5"
    )
    assert (
        _refused(client.post(f"{url}/answers", json={"answers": {"0": "maybe"}}, headers=ngo), 400)
        == "answers.0: choose one of: yes, no"
    )
    assert _refused(
        client.put(f"{url}/comments/1/verdict", json={"verdict": "sure"}, headers=ministry), 400
    ).startswith("verdict:")
    assert (
        client.post(
            f"{url}/comments",
            json={"paragraph": 1, "stance": "support", "text": "Ok"},
            headers=people["ngo-viewer"],
        ).status_code
        == 403
    )


def test_markup_comes_back_as_data_unchanged(
    client: TestClient, people: dict[str, Headers]
) -> None:
    """The API returns text as written; escaping it is the job of the page that shows it."""
    ministry, ngo = people["ministry"], people["ngo"]
    hostile = 'Hospitals <script>alert("x")</script> & <img src=x onerror=alert(1)> **all**.'
    draft, cid = _open(client, ministry, text=f"# Rules\n\n{hostile}\n")
    url = f"/api/v1/consultations/{cid}"
    said = '<b>bold</b> "quoted" & </textarea><script>steal()</script>'
    made = client.post(
        f"{url}/comments",
        json={"paragraph": 1, "stance": "amend", "text": said, "wording": hostile},
        headers=ngo,
    )
    assert made.status_code == 201, made.text
    seen = client.get(url, headers=ngo)
    assert seen.headers["content-type"].startswith("application/json")
    body = seen.json()
    assert body["paragraphs"][0]["text"] == hostile
    assert (body["comments"][0]["text"], body["comments"][0]["wording"]) == (said, hostile)
    assert (
        client.get(f"/api/v1/drafts/{draft}", headers=ngo).json()["versions"][0]["paragraphs"][0][
            "text"
        ]
        == hostile
    )
