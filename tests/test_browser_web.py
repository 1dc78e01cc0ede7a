"""The web UI in Debian's Chromium against a real `trustbubble serve`: sign in, tokens, phone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import ConsoleErrors, chromium, screenshot
from tests.live_node import LiveNode, running_node

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    with running_node(tmp_path_factory.mktemp("web-node")) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def sign_in(page: Page, node: LiveNode, email: str, password: str) -> None:
    page.goto(node.base_url + "/")
    expect(page).to_have_url(node.base_url + "/sign-in?next=%2F")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_sign_in_by_keyboard_and_see_my_bubbles(browser: Browser, node: LiveNode) -> None:
    page = browser.new_page()
    errors = ConsoleErrors(page)
    page.goto(node.base_url + "/sign-in")
    expect(page.get_by_label("E-mail")).to_be_focused()  # the form needs no mouse
    page.keyboard.type(node.analyst.email)
    page.keyboard.press("Tab")
    page.keyboard.type(node.analyst.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("link", name=node.bubble_name)).to_be_visible()
    screenshot(page, "dashboard")
    page.get_by_role("link", name=node.bubble_name).click()
    expect(page.get_by_role("heading", name=node.bubble_name)).to_be_visible()
    expect(page.locator("code.copy")).to_contain_text(f"/collections/{node.bubble_id}/")
    assert errors.messages == []
    page.close()


def test_a_wrong_password_is_said_plainly(browser: Browser, node: LiveNode) -> None:
    page = browser.new_page()
    page.goto(node.base_url + "/sign-in")
    page.get_by_label("E-mail").fill(node.viewer.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown e-mail or wrong password")
    page.close()


def test_make_and_revoke_an_api_token(browser: Browser, node: LiveNode) -> None:
    page = browser.new_page()
    errors = ConsoleErrors(page)
    sign_in(page, node, node.other_analyst.email, node.other_analyst.password)
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Name of a new token").fill("SIEM in the browser test")
    page.get_by_role("button", name="Create a token").click()
    token = page.locator("#token-value")
    expect(token).to_contain_text("tb_")
    screenshot(page, "account-new-token")
    page.goto(node.base_url + "/account")
    expect(page.locator("#token-value")).to_have_count(0)  # shown once
    page.get_by_role("button", name="Revoke the token SIEM in the browser test").click()
    expect(page.get_by_role("row", name="SIEM in the browser test")).to_contain_text("revoked")
    assert errors.messages == []
    page.close()


def test_the_pages_fit_a_phone(browser: Browser, node: LiveNode) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, node, node.analyst.email, node.analyst.password)
    for path in (
        "/",
        f"/bubbles/{node.bubble_id}",
        f"/bubbles/{node.bubble_id}/objects",
        "/account",
    ):
        page.goto(node.base_url + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
    screenshot(page, "account-phone")
    context.close()
