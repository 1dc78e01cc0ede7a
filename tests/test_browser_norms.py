"""A ministry writes its state's implementation report in Debian's Chromium and submits it to a
bubble; a partner sees it in the comparison, a state outside the bubble does not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser import ConsoleErrors, chromium, screenshot
from tests.live_node import LiveNode, running_node
from tests.test_browser_web import sign_in
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleRole
from trustbubble.domain.norms import Visibility, read_entries
from trustbubble.services import accounts, bubbles, norms
from trustbubble.store.database import Database

pytestmark = pytest.mark.slow
PASSWORD = "a ministry's long test password"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    with running_node(tmp_path_factory.mktemp("norms-node")) as live:
        db = Database(live.database_url)
        owner = accounts.user_by_email(db, live.analyst.email)
        for org, country, email in (
            ("Ministry of ICT", "KE", "pm@ict.ke"),
            ("Foreign Ministry", "FR", "desk@mfa.fr"),
            ("Cyber Office", "BR", "office@cyber.br"),
        ):
            accounts.create_org(db, org, "government", country)
            accounts.create_user(db, email, org, UserRole.ANALYST, PASSWORD)
            if country != "BR":
                admin, _ = accounts.create_user(db, f"admin-{email}", org, UserRole.ADMIN)
                bubbles.invite(db, owner, live.bubble_id, org, BubbleRole.MEMBER)
                bubbles.respond(db, admin, live.bubble_id, accept=True)
        # The partner's own report, shared in the bubble, to compare with.
        partner = accounts.user_by_email(db, "desk@mfa.fr")
        report = norms.start(db, partner, 2026, read_entries({"g": {"level": "initial"}}))
        publication = norms.Publication(Visibility.BUBBLES, (live.bubble_id,))
        norms.submit(db, partner, report.id, publication)
        db.dispose()
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def test_a_report_published_to_a_bubble_is_compared_by_a_partner_only(
    browser: Browser, node: LiveNode
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(page)
    sign_in(page, node, "pm@ict.ke", PASSWORD)
    page.get_by_role("link", name="Norms", exact=True).click()
    page.get_by_role("link", name="National implementation reports").click()
    page.get_by_label("Start your state's report for").fill("2026")
    page.get_by_role("button", name="Start").click()
    page.get_by_label("Level").first.wait_for()
    norm_g = page.locator("#norm-g")
    norm_g.get_by_label("Level").select_option("implemented")
    norm_g.get_by_label("Measures taken").fill(
        "Hospitals designated as critical infrastructure [g.1]"
    )
    norm_g.get_by_label("Capacity gaps").fill("Incident response training for hospitals")
    page.locator("#norm-h").get_by_label("Level").select_option("in-progress")
    screenshot(page, "norm-report-form")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("heading", name="(g) Protect critical infrastructure")).to_contain_text(
        "implemented"
    )
    page.get_by_label("To chosen bubbles").check()
    page.get_by_label(node.bubble_name).check()
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator("main")).to_contain_text(f"{node.bubble_name} (TLP:AMBER)")
    screenshot(page, "norm-report")
    assert errors.messages == []
    page.close()

    partner = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(partner)
    sign_in(partner, node, "desk@mfa.fr", PASSWORD)
    partner.goto(f"{node.base_url}/norms/compare")
    partner.get_by_label("State 1").fill("KE")
    partner.get_by_label("State 2").fill("FR")
    partner.get_by_role("button", name="Compare").click()
    row = partner.get_by_role("row", name="(g) Protect critical infrastructure")
    expect(row).to_contain_text("implemented")
    expect(row).to_contain_text("initial")
    expect(partner.get_by_role("columnheader", name="KE 2026")).to_be_visible()
    screenshot(partner, "norm-comparison")
    assert errors.messages == []
    partner.close()

    outsider = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(outsider, node, "office@cyber.br", PASSWORD)
    outsider.goto(f"{node.base_url}/norms/compare?country=KE&country=FR")
    expect(outsider.locator("#problem")).to_have_text("no submitted report of KE that you may read")
    expect(outsider.get_by_role("columnheader", name="KE 2026")).to_have_count(0)
    outsider.goto(f"{node.base_url}/norms/reports")
    expect(outsider.locator("main")).to_contain_text("No report you may read yet.")
    outsider.close()
