"""Consultation pages through forms: a ministry drafts and opens a consultation, an NGO and a
company comment, the ministry answers and publishes a new version, the summary says who said
what and what changed; markup from users is inert on every page that shows it."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.test_web import PASSWORD, form_token, sign_in
from trustbubble.domain.accounts import UserRole
from trustbubble.services import accounts
from trustbubble.store.database import Database

SCRIPT = "<script>alert('x')</script><b>bold</b>"
DRAFT = """# Health-sector cyber rules

These rules apply to every hospital and medical laboratory.

Hospitals report ransomware to the national CERT within 24 hours.
"""


@pytest.fixture
def cast(db: Database) -> dict[str, str]:
    people = {}
    for org, kind, email in (
        ("Ministry of Health", "government", "ministry@example.test"),
        ("Patients First", "civil-society", "ngo@example.test"),
        ("MedTech Ltd", "private", "company@example.test"),
        ("KE National CERT", "cert", "cert@example.test"),
    ):
        accounts.create_org(db, org, kind, "KE")
        accounts.create_user(db, email, org, UserRole.ANALYST, PASSWORD)
        people[kind] = email
    return people


def _as(client: TestClient, email: str) -> TestClient:
    other = TestClient(client.app)
    sign_in(other, email)
    return other


def _post(client: TestClient, page_url: str, action: str, **fields: object) -> str:
    page = client.get(page_url)
    answer = client.post(action, data={"csrf": form_token(page.text), **fields})
    assert answer.status_code in (200, 303), answer.text
    return answer.text


def test_a_draft_is_consulted_on_answered_and_revised_through_the_pages(
    client: TestClient, cast: dict[str, str]
) -> None:
    ministry = _as(client, cast["government"])
    page = ministry.get("/consultations")
    made = ministry.post(
        "/drafts",
        data={
            "csrf": form_token(page.text),
            "title": f"Rules {SCRIPT}",
            "kind": "guideline",
            "text": DRAFT,
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    draft_url = made.headers["location"]
    opened = ministry.post(
        f"{draft_url}/consultations",
        data={
            "csrf": form_token(ministry.get(draft_url).text),
            "version": "1",
            "opens": "2020-01-01T00:00",
            "closes": "2099-01-01T00:00",
            "objection_days": "7",
            "kinds": ["civil-society", "private"],
            "questions": "Are you a patient? | yes | no",
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    url = opened.headers["location"]

    ngo, company = _as(client, cast["civil-society"]), _as(client, cast["private"])
    _post(
        ngo,
        url,
        f"{url}/comments",
        paragraph="1",
        stance="amend",
        text=SCRIPT,
        wording="Every hospital, laboratory and blood bank.",
        norms="g",
    )
    _post(
        company,
        url,
        f"{url}/comments",
        paragraph="2",
        stance="object",
        text="24 hours is too short.",
    )
    _post(ngo, url, f"{url}/answers", q0="yes")
    refused = ngo.post(
        f"{url}/comments",
        data={
            "csrf": form_token(ngo.get(url).text),
            "paragraph": "7",
            "stance": "support",
            "text": "x",
        },
    )
    assert refused.status_code == 400
    assert "no paragraph 7: this version has 1 to 2" in html.unescape(refused.text)
    assert _as(client, cast["cert"]).get(url).status_code == 404

    console = ministry.get(url).text
    ids = [int(i) for i in re.findall(r'data-comment="(\d+)"', console)]
    _post(ministry, url, f"{url}/comments/{ids[0]}/verdict", verdict="accepted", reason="")
    _post(
        ministry,
        url,
        f"{url}/comments/{ids[1]}/verdict",
        verdict="not-accepted",
        reason="Patients cannot wait.",
    )
    revised = DRAFT.replace(
        "hospital and medical laboratory", "hospital, laboratory and blood bank"
    )
    _post(
        ministry,
        draft_url,
        f"{draft_url}/versions",
        text=revised,
        note="Blood banks added.",
        answers=[str(ids[0])],
    )

    summary = company.get(f"{url}/summary")
    assert summary.status_code == 200
    text = html.unescape(summary.text)
    assert "<script>" not in summary.text
    assert SCRIPT in text
    assert re.search(r"Patients First.*?amend.*?accepted", text, re.S)
    assert re.search(r"MedTech Ltd.*?object.*?not accepted: Patients cannot wait\.", text, re.S)
    assert "Version 2: Blood banks added." in text
    assert re.search(r"<ins>[^<]*blood bank\.</ins>", summary.text)
    assert re.search(r"<del>[^<]*medical[^<]*</del>", summary.text)
    assert "(Patients First)" in text
    exported = company.get(f"{url}/summary.json").json()
    assert [p["comments"] for p in exported["paragraphs"]] == [1, 1]
    assert exported["stakeholder_kinds"]["civil-society"]["accepted_share"] == 1.0
    assert exported["versions"][0]["answers"][0]["organization"] == "Patients First"
    table = company.get(f"{url}/summary.csv")
    assert table.headers["content-type"].startswith("text/csv")
    assert "24 hours is too short." in table.text
    assert company.get(f"{url}/summary.pdf").content.startswith(b"%PDF")
    assert _as(client, cast["cert"]).get(f"{url}/summary.csv").status_code == 404
    for page_url in (url, draft_url, "/consultations"):
        shown = ministry.get(page_url).text
        assert "<script>alert" not in shown
        assert "<b>bold</b>" not in shown


def test_a_closed_consultation_says_so_and_takes_no_comment(
    client: TestClient, cast: dict[str, str]
) -> None:
    ministry = _as(client, cast["government"])
    page = ministry.get("/consultations")
    draft_url = ministry.post(
        "/drafts",
        data={"csrf": form_token(page.text), "title": "Rules", "kind": "strategy", "text": DRAFT},
        follow_redirects=False,
    ).headers["location"]
    url = ministry.post(
        f"{draft_url}/consultations",
        data={
            "csrf": form_token(ministry.get(draft_url).text),
            "version": "1",
            "opens": "2020-01-01T00:00",
            "closes": "2099-01-01T00:00",
            "public": "yes",
        },
        follow_redirects=False,
    ).headers["location"]
    _post(ministry, url, f"{url}/close")
    ngo = _as(client, cast["civil-society"])
    page_text = ngo.get(url).text
    assert "The consultation is closed: it takes no more comments." in page_text
    late = ngo.post(
        f"{url}/comments",
        data={"csrf": form_token(page_text), "paragraph": "1", "stance": "support", "text": "Late"},
    )
    assert late.status_code == 400
    assert "the consultation closed on" in late.text
