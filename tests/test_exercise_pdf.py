"""The printable after-action report: what a facilitator reads on the handed-out pages, and user
text that stays text in any script."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from pypdf import PdfReader

from trustbubble.domain.exercises.engine import Entry, Step, replay
from trustbubble.domain.exercises.report import Response, after_action
from trustbubble.domain.exercises.scenario import shipped
from trustbubble.services.exercise_pdf import UNICODE_FONTS, report_pdf

PLAYERS = {"west-cert": "alice@west.test", "west-mfa": "bob@west.test"}
LOG = [
    Entry(Step.START),
    Entry(Step.ADVANCE, minutes=7),
    Entry(Step.DECIDE, decision="ask-east", option="protest", role="west-mfa"),
    Entry(Step.ADVANCE, minutes=18),  # at minute 8 the plant's mode is left to its default
    Entry(Step.DECIDE, decision="disclose", option="coordinated", role="west-cert"),
    Entry(Step.ADVANCE, minutes=5),
    Entry(Step.DECIDE, decision="public-line", option="facts", role="west-mfa"),
    Entry(Step.ADVANCE, minutes=30),
]
ANSWERS = [
    Response("before", 0, "alice@west.test", "Westmark national CERT", "0"),
    Response("after", 0, "alice@west.test", "Westmark national CERT", "0"),
    Response("after", 1, "alice@west.test", "Westmark national CERT", "0"),
    Response("debrief", 0, "bob@west.test", "Westmark foreign ministry", "We protested too early."),
]
HOSTILE_TITLE = '<script>alert("x")</script> “Drill” {nb} **bold**'


def _report(
    log: Sequence[Entry] = LOG,
    players: dict[str, str] = PLAYERS,
    given: Sequence[Response] = ANSWERS,
    scenario_id: str = "cross-border-water",
) -> dict[str, Any]:
    """The report's JSON as the API serves it, for a shipped scenario played by `log`."""
    scenario = next(s for s in shipped() if s.id == scenario_id)
    found = after_action(scenario, replay(scenario, log), players, given)
    report = {"id": "3b0c", "title": "Training day 1", "created": "2026-11-28T09:00:00+00:00"}
    parsed: dict[str, Any] = json.loads(json.dumps({**report, **found}))
    return parsed


def _pages(document: bytes) -> list[str]:
    """The text of each page, its whitespace collapsed as a reader would not notice it."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(document)).pages]


def _hostile_report() -> dict[str, Any]:
    answer = Response("debrief", 0, "Ζωή", "Westmark national CERT", "<b>Да</b>\n\tok")
    report = _report(players={"west-cert": "Ζωή", "west-mfa": "王芳"}, given=[answer])
    report["title"] = HOSTILE_TITLE
    return report


@pytest.fixture(scope="module")
def played() -> tuple[dict[str, Any], bytes, str]:
    """The report of LOG, its PDF, and all of the PDF's text."""
    report = _report()
    document = report_pdf(report)
    return report, document, " ".join(_pages(document))


def test_the_report_names_the_session_and_how_it_ended(
    played: tuple[dict[str, Any], bytes, str],
) -> None:
    _, document, text = played

    assert document.startswith(b"%PDF-")
    mediabox = PdfReader(io.BytesIO(document)).pages[0].mediabox
    assert [round(float(x)) for x in mediabox[2:]] == [595, 842]  # A4 in points
    assert text.startswith("AFTER-ACTION REPORT Training day 1")
    assert "Scenario Poisoned controls at a water utility on a shared river" in text
    assert "Date 28 November 2026" in text
    assert "Ended time is up at minute 60" in text


def test_each_objective_shows_its_rating_and_what_it_means(
    played: tuple[dict[str, Any], bytes, str],
) -> None:
    report, _, text = played

    ratings = {o["id"]: o["rating"] for o in report["objectives"]}
    assert ratings == {
        "safe-water": "U",
        "request-and-respond": "U",
        "careful-attribution": "M",
        "fix-the-flaw": "P",
    }
    for objective in report["objectives"]:
        row = text[text.index(objective["text"]) :][: len(objective["text"]) + 60]
        assert f"{objective['rating']} {objective['meaning']}" in row


def test_the_timeline_says_who_chose_what_and_what_the_deadline_chose(
    played: tuple[dict[str, Any], bytes, str],
) -> None:
    _, _, text = played

    assert (
        "“Report it to the vendor and warn utilities in both countries with a workaround”, "
        "by Westmark national CERT (alice@west.test); upholds (j), (i)"
    ) in text
    assert (
        "“Keep it and watch the set points closely”, by default: no answer before the deadline; "
        "the chance came true; strains (g)"
    ) in text
    assert "Westmark national CERT Westmark alice@west.test (i) +1, (j) +1" in text  # the roles
    assert "Eastvale national CERT Eastvale nobody none" in text


def test_lessons_debrief_answers_and_knowledge_shares_are_printed(
    played: tuple[dict[str, Any], bytes, str],
) -> None:
    report, _, text = played

    assert report["strengths"][0] in text
    assert report["improvements"][0] in text
    assert "bob@west.test (Westmark foreign ministry): We protested too early." in text
    assert (
        "What made the request for assistance credible, and the answer timely? No answers." in text
    )
    assert "Before 1 1 1 100%" in text
    assert "After 1 2 1 50%" in text


def test_each_team_has_a_resource_chart_drawn_as_lines_not_images(
    played: tuple[dict[str, Any], bytes, str],
) -> None:
    _, document, text = played

    assert "Westmark: resources over the game" in text
    assert "Eastvale: resources over the game" in text
    assert text.count("game minute") == 2
    assert text.count("Diplomatic confidence") == 4  # each team's table and chart legend
    assert not [image for page in PdfReader(io.BytesIO(document)).pages for image in page.images]


def test_a_session_not_yet_started_prints_without_a_timeline_or_knowledge() -> None:
    text = " ".join(_pages(report_pdf(_report(log=[], players={}, given=[]))))

    assert "Played to minute 0 of 60 Ended not yet" in text
    assert "Minute Inject or decision Choice Strengths None recorded." in text
    assert "Knowledge before and after" not in text


@pytest.mark.parametrize("scenario_id", [s.id for s in shipped()])
def test_every_shipped_scenario_left_to_its_deadlines_prints(scenario_id: str) -> None:
    report = _report([Entry(Step.START), Entry(Step.ADVANCE, minutes=480)], {}, [], scenario_id)
    text = " ".join(_pages(report_pdf(report)))

    defaulted = [e for e in report["timeline"] if e["kind"] == "decision" and e["defaulted"]]
    assert defaulted
    assert text.count("by default: no answer before the deadline") == len(defaulted)


def test_long_texts_wrap_and_long_tables_run_on_with_their_headings() -> None:
    report = _report()
    report["timeline"] = report["timeline"] * 15
    long_answer = "Nobody owned the call. " * 150 + "x" * 400  # the 4,000 characters allowed
    report["debrief"][1]["answers"] = [{"name": "carol", "role": "", "answer": long_answer}]
    pages = _pages(report_pdf(report))

    timeline_pages = [p for p in pages if "Decision: The maintenance software has" in p]
    assert len(timeline_pages) > 1
    assert all("Minute Inject or decision Choice" in page for page in timeline_pages)
    # Read across pages as a person does, past each page's footer.
    body = "".join(re.sub(r"After-action report: .*? Page \d+$", "", page) for page in pages)
    assert "".join(long_answer.split()) in "".join(body.split())


def test_markup_and_any_script_print_as_plain_text_in_the_core_font() -> None:
    text = " ".join(_pages(report_pdf(_hostile_report(), fonts=())))

    assert '<script>alert("x")</script> "Drill" {nb} **bold**' in text
    assert "??? (Westmark national CERT): <b>??</b> ok" in text


def test_markup_and_any_script_print_as_written_in_a_unicode_font() -> None:
    if not any(regular.is_file() and bold.is_file() for regular, bold in UNICODE_FONTS):
        pytest.skip("no DejaVu Sans or Liberation Sans here (Debian: fonts-dejavu-core)")
    text = " ".join(_pages(report_pdf(_hostile_report())))

    assert HOSTILE_TITLE in text
    assert "Ζωή (Westmark national CERT): <b>Да</b> ok" in text
    assert "Westmark foreign ministry Westmark ?? none" in text  # no CJK in DejaVu: stand-ins
