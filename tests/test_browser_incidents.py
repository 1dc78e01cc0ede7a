"""Incidents in Debian's Chromium against a real `trustbubble serve`: report one with its human
impact, find it in the list, the chart and a TAXII read; outsiders and the public see only what
TLP allows; a post without the form's token changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import ConsoleErrors, chromium, screenshot
from tests.live_node import LiveNode, running_node
from tests.test_browser_web import sign_in

pytestmark = pytest.mark.slow

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    with running_node(tmp_path_factory.mktemp("incident-node")) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def report(page: Page, node: LiveNode, title: str, country: str, tlp: str) -> str:
    """Fill in and send the incident form of the node's bubble; the new incident's STIX id."""
    page.goto(f"{node.base_url}/bubbles/{node.bubble_id}")
    page.get_by_role("link", name="Report an incident").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Emergency admissions diverted for two days.")
    page.get_by_label("Started (UTC)").fill("2026-03-02T08:15")
    page.get_by_label("Status").select_option("confirmed")
    page.get_by_label("Attack type").select_option("ransomware")
    page.get_by_label("Country (ISO code)").fill(country)
    page.get_by_label("Patients affected").fill("1200")
    page.get_by_label("Downtime (hours)").fill("52")
    page.get_by_label("Patients diverted to other facilities").check()
    page.get_by_label("(h) Answer requests for assistance").check()
    page.get_by_label("Sources (one address per line)").fill("https://cert.example/advisory/7")
    page.get_by_label("TLP", exact=True).select_option(tlp)
    return_url = page.url
    assert return_url.endswith("/incidents/new")
    page.get_by_role("button", name="Report the incident").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url.rsplit("/", 1)[1]


def test_report_an_incident_and_find_it_everywhere(browser: Browser, node: LiveNode) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(page)
    sign_in(page, node, node.analyst.email, node.analyst.password)
    page.goto(f"{node.base_url}/bubbles/{node.bubble_id}/incidents/new")
    page.get_by_label("Title").fill("Ransomware at Serraval University Hospital")
    screenshot(page, "incident-form")
    incident_id = report(page, node, "Ransomware at Serraval University Hospital", "PT", "green")
    expect(page.locator("dd").filter(has_text="1200").first).to_be_visible()

    page.get_by_role("link", name="Incidents").first.click()
    row = page.get_by_role("row", name="Ransomware at Serraval University Hospital")
    expect(row).to_contain_text("ransomware")
    expect(row).to_contain_text("1200")

    page.goto(f"{node.base_url}/bubbles/{node.bubble_id}/observatory")
    expect(page.locator("canvas#per_month")).to_be_visible()
    page.locator("section.figure", has=page.locator("#per_month")).get_by_text(
        "The numbers"
    ).click()
    expect(page.get_by_role("row", name="2026-03 1")).to_be_visible()
    screenshot(page, "bubble-observatory")

    answer = httpx2.get(
        f"{node.collection_url(node.bubble_id)}objects/{incident_id}/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {node.token}"},
    )
    (obj,) = answer.json()["objects"]
    impact = next(iter(obj["extensions"].values()))["human_impact"]
    assert impact["patients_affected"] == 1200
    assert impact["care_diverted"] is True
    assert errors.messages == []
    page.close()


def test_another_bubble_and_the_public_see_only_what_tlp_allows(
    browser: Browser, node: LiveNode
) -> None:
    page = browser.new_page()
    sign_in(page, node, node.analyst.email, node.analyst.password)
    report(page, node, "Public DDoS report", "CL", "clear")
    report(page, node, "Members-only ransomware report", "CO", "amber")
    page.close()

    outsider = browser.new_page()
    sign_in(outsider, node, node.other_analyst.email, node.other_analyst.password)
    outsider.goto(f"{node.base_url}/incidents")
    expect(outsider.get_by_text("Members-only ransomware report")).to_have_count(0)
    answer = outsider.goto(f"{node.base_url}/bubbles/{node.bubble_id}")
    assert answer is not None
    assert answer.status == 404
    outsider.close()

    public = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = ConsoleErrors(public)
    public.goto(f"{node.base_url}/observatory")
    expect(public.get_by_role("heading", name="Public observatory")).to_be_visible()
    countries = public.locator("section.figure", has=public.locator("#by_country"))
    countries.get_by_text("The numbers").click()
    expect(countries.get_by_role("row", name="CL 1")).to_be_visible()
    expect(countries.get_by_role("cell", name="CO", exact=True)).to_have_count(0)
    screenshot(public, "observatory")
    assert errors.messages == []
    public.close()


def test_a_post_without_the_form_token_is_refused(browser: Browser, node: LiveNode) -> None:
    page = browser.new_page()
    sign_in(page, node, node.viewer.email, node.viewer.password)
    before = page.request.get(f"{node.base_url}/api/v1/incidents").json()["total"]
    forged = page.request.post(
        f"{node.base_url}/bubbles/{node.bubble_id}/incidents",
        form={
            "title": "Forged",
            "started": "2026-03-02T08:15",
            "country": "FR",
            "attack_type": "other",
        },
    )
    assert forged.status == 403
    assert "security token" in forged.text()
    token = page.request.post(f"{node.base_url}/account/tokens", form={"name": "forged"})
    assert token.status == 403
    assert page.request.get(f"{node.base_url}/api/v1/incidents").json()["total"] == before
    page.close()
