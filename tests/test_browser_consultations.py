"""A ministry opens a draft to civil society and the private sector in Debian's Chromium; an NGO
and a company comment on different paragraphs; the ministry answers and publishes a new version;
the summary shows who said what and what changed."""

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
PASSWORD = "a consultation's long test password"
TITLE = "National rules for cybersecurity in health care"
DRAFT = """# National rules for cybersecurity in health care

## Scope

These rules apply to every public hospital.

## Duties

Hospitals report ransomware to the national CERT within 24 hours.

Hospitals test the restoring of their backups once a year.
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    with running_node(tmp_path_factory.mktemp("consultation-node")) as live:
        db = Database(live.database_url)
        for org, kind, email in (
            ("Ministry of Health", "government", "desk@health.gov.test"),
            ("Patients First", "civil-society", "policy@patients.test"),
            ("MedTech Ltd", "private", "security@medtech.test"),
        ):
            accounts.create_org(db, org, kind, "KE")
            accounts.create_user(db, email, org, UserRole.ANALYST, PASSWORD)
        db.dispose()
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def _person(browser: Browser, node: LiveNode, email: str) -> tuple[Page, ConsoleErrors]:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = ConsoleErrors(page)
    sign_in(page, node, email, PASSWORD)
    _nav(page, "Consultations")
    return page, errors


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def _comment(page: Page, paragraph: str, stance: str, text: str, wording: str = "") -> None:
    page.get_by_role("link", name=TITLE).first.click()
    page.get_by_label("Paragraph", exact=True).select_option(label=paragraph)
    page.get_by_label("Stance").select_option(stance)
    page.get_by_label("Your comment").fill(text)
    if wording:
        page.get_by_label("Proposed wording (for an amendment)").fill(wording)
    page.get_by_role("button", name="Send the comment").click()
    expect(page.locator("article.comment").filter(has_text=text)).to_be_visible()


def test_a_ministry_consults_answers_and_revises_and_the_summary_shows_it(
    browser: Browser, node: LiveNode
) -> None:
    ministry, ministry_errors = _person(browser, node, "desk@health.gov.test")
    ministry.get_by_label("Title").fill(TITLE)
    ministry.get_by_label("Kind").select_option("guideline")
    ministry.get_by_label("Text (Markdown").fill(DRAFT)
    ministry.get_by_role("button", name="Save the draft").click()
    expect(ministry.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    ministry.get_by_label("civil society").check()
    ministry.get_by_label("private").check()
    ministry.get_by_role("button", name="Open the consultation").click()
    expect(ministry.get_by_text("Open to private, civil society")).to_be_visible()

    ngo, ngo_errors = _person(browser, node, "policy@patients.test")
    _comment(
        ngo,
        "1. These rules apply to every public hospital.",
        "amend",
        "Private clinics treat patients too.",
        "These rules apply to every hospital and clinic, public or private.",
    )
    company, company_errors = _person(browser, node, "security@medtech.test")
    _comment(
        company,
        "3. Hospitals test the restoring of their backups once a year.",
        "support",
        "Yearly restore tests match what we see work.",
    )
    screenshot(company, "consultation-comments")

    ministry.reload()
    amendment = ministry.locator("article.comment").filter(has_text="Private clinics")
    amendment.get_by_text("Answer or moderate").click()
    amendment.get_by_label("Answer").select_option("accepted")
    amendment.get_by_label("Reason").fill("Clinics are now in scope.")
    amendment.get_by_role("button", name="Save the answer").click()
    expect(ministry.locator("article.comment").filter(has_text="Private clinics")).to_contain_text(
        "Accepted: Clinics are now in scope."
    )
    ministry.get_by_role("link", name="the draft and its versions").click()
    ministry.get_by_label("Text (Markdown)").fill(
        DRAFT.replace("every public hospital", "every hospital and clinic, public or private")
    )
    ministry.get_by_label("What changed, in a sentence").fill("Private clinics are in scope.")
    ministry.get_by_label("Private clinics treat patients too.", exact=False).check()
    ministry.get_by_role("button", name="Publish version 2").click()
    expect(ministry.get_by_role("heading", name="Version 2")).to_be_visible()

    _nav(company, "Consultations")
    company.get_by_role("link", name=TITLE).first.click()
    company.get_by_role("link", name="Summary: who said what, and what changed").click()
    who = company.locator("table.who-said-what")
    expect(who.get_by_role("row").filter(has_text="Patients First")).to_contain_text("amend")
    expect(who.get_by_role("row").filter(has_text="Patients First")).to_contain_text(
        "accepted: Clinics are now in scope. (version 2)"
    )
    expect(who.get_by_role("row").filter(has_text="MedTech Ltd")).to_contain_text("support")
    expect(
        company.get_by_role("heading", name="Version 2: Private clinics are in scope.")
    ).to_be_visible()
    change = company.locator("ol.diff li").first
    expect(change).to_contain_text("changed, was ¶1, now ¶1")
    expect(change.locator("ins").first).to_contain_text("clinic")
    expect(company.get_by_text("In answer to #1 (Patients First)")).to_be_visible()
    screenshot(company, "consultation-summary")
    for errors in (ministry_errors, ngo_errors, company_errors):
        assert errors.messages == []
