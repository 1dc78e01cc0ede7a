"""The norms pages: the catalogue, a report written, submitted and compared through forms."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.test_web import PASSWORD, form_token, sign_in
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.domain.norms import catalogue
from trustbubble.services import accounts, bubbles
from trustbubble.store.database import Database


def test_every_guidance_item_is_reachable_from_its_norms_page(client: TestClient) -> None:
    listing = client.get("/norms").text
    book = catalogue()
    for norm in book.norms:
        assert f'href="/norms/{norm.letter}"' in listing
        page = client.get(f"/norms/{norm.letter}")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert norm.paraphrase in text
        assert norm.source in text
        for item in norm.guidance:
            anchor = re.search(rf'<li id="{re.escape(item.id)}">(.*?)</li>', text, re.S)
            assert anchor is not None, item.id
            assert item.measure in anchor.group(1)
            assert item.source in anchor.group(1)
    for source in book.sources:
        assert source.url in listing
    missing = client.get("/norms/z")
    assert missing.status_code == 400
    assert "is not a UN GGE norm letter (a to k)" in missing.text


@pytest.fixture
def ministry(db: Database) -> str:
    accounts.create_org(db, "Ministry of ICT", "government", "KE")
    accounts.create_org(db, "Foreign Ministry", "government", "FR")
    bubbles.create_bubble(
        db,
        "Health partnership",
        BubbleKind.BILATERAL,
        "Ministry of ICT",
        members=("Foreign Ministry",),
    )
    accounts.create_user(db, "pm@ict.ke", "Ministry of ICT", UserRole.ANALYST, PASSWORD)
    return "pm@ict.ke"


def test_a_report_is_written_in_the_form_refused_when_wrong_and_submitted(
    client: TestClient, db: Database, ministry: str
) -> None:
    sign_in(client, ministry)
    page = client.get("/norms/reports")
    assert "Start your state's report for" in html.unescape(page.text)
    started = client.post(
        "/norms/reports",
        data={"year": "2026", "csrf": form_token(page.text)},
        follow_redirects=False,
    )
    assert started.status_code == 303
    edit_url = started.headers["location"]
    form = client.get(edit_url)
    token = form_token(form.text)
    fields = {
        "csrf": token,
        "level_g": "implemented",
        "measures_g": "Hospitals designated critical infrastructure [g.1]\nA national CI law",
        "gaps_g": "Incident response training",
        "evidence_g": "Decree 12/2025 | https://example.gov/decree-12",
    }
    wrong = client.post(edit_url, data={**fields, "measures_g": "Hotline [h.1]"})
    assert wrong.status_code == 400
    assert "entries.g.measures[0].guidance[0]" in wrong.text
    assert "is guidance of norm h, not of norm g" in wrong.text
    assert "Hotline [h.1]" in wrong.text  # what was typed is kept
    saved = client.post(edit_url, data=fields, follow_redirects=False)
    assert saved.status_code == 303
    report_url = saved.headers["location"]
    view = client.get(report_url).text
    assert "Hospitals designated critical infrastructure" in view
    assert 'href="/norms/g#g.1"' in view
    bubble_id = re.search(r'name="bubbles" value="([^"]+)"', view)
    assert bubble_id is not None
    refused = client.post(f"{report_url}/submit", data={"csrf": token, "visibility": "bubbles"})
    assert refused.status_code == 400
    assert "name at least one bubble" in refused.text
    done = client.post(
        f"{report_url}/submit",
        data={
            "csrf": token,
            "visibility": "bubbles",
            "bubbles": bubble_id.group(1),
            "tlp": "green",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = client.get(report_url).text
    assert "Health partnership (TLP:GREEN)" in shown
    assert "Start a new revision" in shown
    assert client.get(edit_url, follow_redirects=False).headers["location"] == report_url
    in_bubble = client.get(f"/bubbles/{bubble_id.group(1)}/norms").text
    assert "Incident response training" in in_bubble
    assert "No report you may read from: FR." in in_bubble
    card = client.get("/norms/states/KE").text
    assert "implemented" in card
    assert client.get("/norms/states/KE.csv").text.splitlines()[0] == "norm,name,2026,change"
