"""A facilitator and three players in two teams play a shipped scenario in Debian's Chromium:
injects and decisions arrive live by server-sent events, a team's chat stays in the team, and
the after-action report shows the decisions and the scores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import ConsoleErrors, chromium, screenshot
from tests.live_node import LiveNode, running_node
from tests.test_browser_web import sign_in
from trustbubble.domain.accounts import UserRole
from trustbubble.services import accounts
from trustbubble.store.database import Database

pytestmark = pytest.mark.slow
PASSWORD = "a coach's long exercise passphrase"
SCENARIO = "Ransomware across hospitals in two partner countries"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    with running_node(tmp_path_factory.mktemp("exercise-node")) as live:
        db = Database(live.database_url)
        accounts.create_org(db, "Diplomatic Academy", "academia", "CH")
        for email, role in (
            ("trainer@academy.test", UserRole.ANALYST),
            ("health@academy.test", UserRole.VIEWER),
            ("southmfa@academy.test", UserRole.VIEWER),
        ):
            accounts.create_user(db, email, "Diplomatic Academy", role, PASSWORD)
        db.dispose()
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def _signed_in(browser: Browser, node: LiveNode, email: str) -> tuple[Page, ConsoleErrors]:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = ConsoleErrors(page)
    sign_in(page, node, email, PASSWORD)
    return page, errors


def _cast(page: Page, role: str, email: str = "", guest: str = "") -> None:
    page.get_by_label("Role", exact=True).select_option(label=role)
    page.get_by_label("A user of this node (e-mail)").fill(email)
    page.get_by_label("or a guest's name").fill(guest)
    page.get_by_role("button", name="Cast").click()
    expect(page.get_by_role("row").filter(has_text=role)).to_contain_text(email or guest)


def _open_session(page: Page, title: str) -> None:
    page.get_by_role("link", name="Exercises", exact=True).click()
    page.get_by_role("link", name=title).click()


def _decide(page: Page, option: str) -> None:
    page.get_by_role("button", name=option).click()
    expect(page.get_by_role("button", name=option)).to_have_count(0)


def test_four_people_play_a_scenario_to_its_end_and_read_the_report(
    browser: Browser, node: LiveNode
) -> None:
    facilitator, facilitator_errors = _signed_in(browser, node, "trainer@academy.test")
    facilitator.get_by_role("link", name="Exercises", exact=True).click()
    card = facilitator.get_by_role("listitem").filter(has_text=SCENARIO)
    card.get_by_label("Session title").fill("Health diplomacy course, day 2")
    card.get_by_role("button", name="Start a session of this scenario").click()
    expect(
        facilitator.get_by_role("heading", name="Health diplomacy course, day 2")
    ).to_be_visible()
    _cast(facilitator, "Northland health ministry", email="health@academy.test")
    _cast(facilitator, "Northland national CERT", guest="Ζωή from the CERT")
    link = facilitator.locator("#guest-link").inner_text()
    _cast(facilitator, "Southland foreign ministry", email="southmfa@academy.test")

    health, health_errors = _signed_in(browser, node, "health@academy.test")
    _open_session(health, "Health diplomacy course, day 2")
    south, south_errors = _signed_in(browser, node, "southmfa@academy.test")
    _open_session(south, "Health diplomacy course, day 2")
    guest = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    guest_errors = ConsoleErrors(guest)
    guest.goto(link)
    expect(guest.get_by_text("You play Northland national CERT")).to_be_visible()
    # Before play, each player answers the knowledge questions.
    guest.get_by_role("group", name="Which UN GGE norm asks states").get_by_label("(h)").check()
    guest.get_by_role("button", name="Save my answers").click()
    expect(guest.get_by_role("status")).to_have_text("Your answers are saved.")

    facilitator.get_by_role("button", name="Start", exact=True).click()
    # Every player's page follows: the first inject arrives without a reload by hand.
    expect(health.get_by_text("University hospital diverts ambulances")).to_be_visible()
    expect(guest.get_by_text("University hospital diverts ambulances")).to_be_visible()
    expect(south.get_by_text("The exercise has not started")).to_have_count(0)
    expect(south.get_by_text("University hospital diverts ambulances")).to_have_count(0)
    _decide(health, "Refuse to pay, send mobile teams and move patients to other hospitals")

    facilitator.get_by_label("Advance by").select_option("10")
    facilitator.get_by_role("button", name="Advance").click()
    expect(guest.get_by_text("The malware reaches the shared laboratory network")).to_be_visible()
    screenshot(guest, "exercise-player")
    _decide(guest, "Warn Southland and ask it formally for help under norm (h)")
    expect(south.get_by_text("Northland asks Southland for help")).to_be_visible()
    _decide(south, "Acknowledge within the hour and send a forensic team")

    guest.get_by_label("Message to your team").fill("Southland's team lands at 14:00.")
    guest.get_by_role("button", name="Send").click()
    expect(health.locator("#chat-log")).to_contain_text("Southland's team lands at 14:00.")
    expect(south.locator("#chat-log")).not_to_contain_text("lands at 14:00")
    screenshot(facilitator, "exercise-facilitator")

    facilitator.once("dialog", lambda dialog: dialog.accept())
    facilitator.get_by_role("button", name="End", exact=True).click()
    expect(guest.get_by_role("heading", name="Debrief")).to_be_visible()
    guest.get_by_role("group", name="Which UN GGE norm asks states").get_by_label("(h)").check()
    guest.get_by_role("button", name="Save my answers").click()
    guest.get_by_label("What made asking for help, and answering, faster or slower?").fill(
        "A known contact in Southland's CERT made the call short."
    )
    guest.get_by_role("button", name="Save my debrief").click()

    south.get_by_role("link", name="After-action report").click()
    timeline = south.locator("li.decided")
    expect(timeline).to_have_count(3)
    expect(timeline.nth(1)).to_contain_text(
        "Northland national CERT: “Warn Southland and ask it formally for help under norm (h)”"
    )
    expect(timeline.nth(2)).to_contain_text("Southland foreign ministry")
    ask = south.get_by_role("row").filter(has_text="Ask for and answer requests for assistance")
    expect(ask).to_contain_text("P performed without challenges")
    attribution = south.get_by_role("row").filter(has_text="Weigh the evidence")
    expect(attribution).to_contain_text("U unable to be performed")
    southland = south.get_by_role("rowheader", name="Southland", exact=True)
    expect(south.get_by_role("row").filter(has=southland)).to_contain_text("(h) +1")
    expect(
        south.get_by_text("A known contact in Southland's CERT made the call short.")
    ).to_be_visible()
    expect(south.get_by_text("Ζωή from the CERT (guest)")).to_be_visible()
    expect(south.locator("canvas[data-kind=resources]")).to_have_count(2)
    screenshot(south, "exercise-report")
    pdf = south.request.get(south.url + ".pdf")
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    for errors in (facilitator_errors, health_errors, south_errors, guest_errors):
        assert errors.messages == []
