"""A hospital's CERT asks a partner for help in Debian's Chromium, against a real node: the partner
acknowledges and resolves, and the page shows the times at which it happened."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, expect

from tests.browser import ConsoleErrors, chromium, screenshot
from tests.live_node import LiveNode, running_node
from tests.test_browser_web import sign_in
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleRole
from trustbubble.services import accounts, bubbles
from trustbubble.store.database import Database
from trustbubble.web.filters import duration

pytestmark = pytest.mark.slow
PARTNER_PASSWORD = "partner's long test password"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    with running_node(tmp_path_factory.mktemp("assist-node")) as live:
        db = Database(live.database_url)
        accounts.create_org(db, "Partner CERT", "cert", "KE")
        accounts.create_user(
            db, "duty@partner.test", "Partner CERT", UserRole.ANALYST, PARTNER_PASSWORD
        )
        admin, _ = accounts.create_user(db, "admin@partner.test", "Partner CERT", UserRole.ADMIN)
        owner = accounts.user_by_email(db, live.analyst.email)
        bubbles.invite(db, owner, live.bubble_id, "Partner CERT", BubbleRole.MEMBER)
        bubbles.respond(db, admin, live.bubble_id, accept=True)
        db.dispose()
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def _minute(text: str) -> datetime:
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def test_ask_acknowledge_resolve_and_see_the_real_timings(browser: Browser, node: LiveNode) -> None:
    asker = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(asker)
    sign_in(asker, node, node.analyst.email, node.analyst.password)
    asker.goto(f"{node.base_url}/bubbles/{node.bubble_id}")
    asker.get_by_role("link", name="Ask for help").click()
    asker.get_by_label("Title").fill("Ransomware at the regional hospital: help to contain it")
    asker.get_by_label("Details").fill("Hypervisors encrypted at 03:00; we need mitigation advice.")
    asker.get_by_label("Urgency").select_option("critical")
    asker.get_by_label("mitigation").check()
    asker.get_by_label("technical analysis").check()
    asker.get_by_label("Partner CERT (KE)").check()
    screenshot(asker, "assistance-form")
    asked_at = datetime.now(UTC)
    asker.get_by_role("button", name="Send the request").click()
    expect(asker.locator("#state")).to_have_text("open")
    request_url = asker.url

    partner = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(partner, node, "duty@partner.test", PARTNER_PASSWORD)
    partner.get_by_role("link", name="Assistance").click()
    row = partner.get_by_role("row", name=re.compile("Ransomware at the regional hospital"))
    expect(row).to_contain_text("waiting for your answer")
    row.get_by_role("link").click()
    partner.get_by_role("button", name="Acknowledge").click()
    acknowledged_at = datetime.now(UTC)
    expect(partner.locator("#state")).to_have_text("acknowledged")
    partner.get_by_role("button", name="Resolve").click()
    resolved_at = datetime.now(UTC)
    expect(partner.locator("#state")).to_have_text("resolved")

    asker.goto(request_url)
    expect(asker.locator("#state")).to_have_text("resolved")
    answered = asker.get_by_role("row", name=re.compile("Partner CERT")).get_by_role("cell").nth(2)
    shown = _minute(answered.inner_text())
    assert asked_at.replace(second=0, microsecond=0) <= shown <= acknowledged_at
    api = asker.request.get(
        f"{node.base_url}/api/v1{request_url.removeprefix(node.base_url)}"
    ).json()
    created = datetime.fromisoformat(api["created"])
    resolved = datetime.fromisoformat(api["resolved"])
    assert asked_at <= created <= acknowledged_at <= resolved_at
    assert created <= resolved <= resolved_at
    expect(asker.locator("#first-ack")).to_have_text(
        duration(api["seconds_to_first_acknowledgement"])
    )
    expect(asker.locator("#resolution")).to_have_text(duration(api["seconds_to_resolution"]))
    assert api["seconds_to_resolution"] == pytest.approx((resolved - created).total_seconds())
    screenshot(asker, "assistance-resolved")
    assert errors.messages == []

    asker.goto(f"{node.base_url}/bubbles/{node.bubble_id}")
    expect(asker.get_by_role("row", name=re.compile("Partner CERT 1 1"))).to_be_visible()
    asker.close()
    partner.close()
