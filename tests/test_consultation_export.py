"""A consultation's summary taken away as JSON, CSV and PDF: a ministry's draft commented on by an
NGO, a company and a Greek patients' union, answered, moderated and revised (docs/consultations.md
#summaries)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.consultations import Question, read_audience
from trustbubble.services import accounts, consultations
from trustbubble.services.consultation_export import (
    COMMENT_COLUMNS,
    comments_csv,
    summary_json,
    summary_pdf,
)
from trustbubble.services.exercise_pdf import UNICODE_FONTS
from trustbubble.store.database import Database

DRAFT = """# Health-sector cyber rules

## Scope

These rules apply to every hospital and medical laboratory.

## Duties

Hospitals report ransomware to the national CERT within 24 hours.

Hospitals test their backups every quarter.
"""
REVISED = """# Health-sector cyber rules

## Scope

These rules apply to every hospital, medical laboratory and blood bank.

## Duties

Hospitals report ransomware to the national CERT within 24 hours.

Hospitals test their backups every quarter.

Patients are told when their records were exposed.
"""
GREEK = "Ένωση Ασθενών"
FORMULA = '=HYPERLINK("https://evil.test","Read me")'
MARKUP = "Would twice a year work for you? <b>**{nb}**</b>"


@dataclass(frozen=True)
class Scenario:
    users: dict[str, User]
    draft: str
    consultation: str
    comments: dict[str, int]


@pytest.fixture
def scenario(db: Database) -> Scenario:
    users = {}
    for org, kind in (
        ("Ministry of Health", "government"),
        ("Patients First", "civil-society"),
        ("MedTech Ltd", "private"),
        (GREEK, "civil-society"),
    ):
        accounts.create_org(db, org, kind, "KE")
    for name, org in (
        ("ministry", "Ministry of Health"),
        ("ngo", "Patients First"),
        ("company", "MedTech Ltd"),
        ("union", GREEK),
    ):
        users[name], _ = accounts.create_user(db, f"{name}@example.test", org, UserRole.ANALYST)
    ministry, ngo, company = users["ministry"], users["ngo"], users["company"]
    draft = consultations.new_draft(db, ministry, "Health-sector cyber rules", "guideline", DRAFT)
    now = datetime.now(UTC)
    cid = consultations.open_consultation(
        db,
        ministry,
        draft,
        1,
        now - timedelta(minutes=1),
        now + timedelta(days=14),
        read_audience({"kinds": ["civil-society", "private"]}),
        questions=(Question("Are you a patient?", ("yes", "no")),),
    )

    def say(user: User, paragraph: int, stance: str, text: str, **more: object) -> int:
        made = {"paragraph": paragraph, "stance": stance, "text": text, **more}
        return consultations.comment(db, user, cid, made)

    found = {
        "amend": say(
            ngo,
            1,
            "amend",
            "Blood banks hold patient data too.",
            wording="These rules apply to every hospital, medical laboratory and blood bank.",
            norms=["g"],
        ),
        "greek": say(users["union"], 2, "support", "Συμφωνούμε με την παράγραφο."),
        "rude": say(company, 2, "object", "Patients First lies."),
        "objection": say(company, 3, "object", "Quarterly is too often."),
        "formula": say(ngo, 3, "object", FORMULA),
    }
    found["reply"] = consultations.reply(db, ministry, cid, found["objection"], MARKUP)
    consultations.hide(db, ministry, cid, found["rude"], "a personal attack")
    consultations.respond(db, ministry, cid, found["amend"], "accepted", "")
    consultations.respond(
        db, ministry, cid, found["objection"], "not-accepted", "Backups fail silently."
    )
    consultations.respond(db, ministry, cid, found["formula"], "partly-accepted", "Twice a year.")
    consultations.answer_questions(db, ngo, cid, {0: "yes"})
    consultations.add_version(db, ministry, draft, REVISED, "Blood banks added.", [found["amend"]])
    return Scenario(users, draft, cid, found)


def _views(
    db: Database, s: Scenario, who: str
) -> tuple[consultations.ConsultationView, consultations.DraftView]:
    user = s.users[who]
    return consultations.view(db, user, s.consultation), consultations.draft_view(db, user, s.draft)


def _pdf_text(document: bytes) -> str:
    pages = PdfReader(io.BytesIO(document)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_json_counts_each_paragraph_and_says_what_version_2_answered(
    db: Database, scenario: Scenario
) -> None:
    summary = summary_json(*_views(db, scenario, "ngo"))

    assert json.loads(json.dumps(summary)) == summary
    assert summary["consultation"]["title"] == "Health-sector cyber rules"
    assert summary["consultation"]["drafter"] == "Ministry of Health"
    assert (summary["consultation"]["version"], summary["consultation"]["phase"]) == (1, "open")
    assert [
        (p["number"], p["section"], p["comments"], p["stances"], p["accepted_share"])
        for p in summary["paragraphs"]
    ] == [
        (1, "Scope", 1, {"support": 0, "object": 0, "amend": 1}, 1.0),
        (2, "Duties", 2, {"support": 1, "object": 1, "amend": 0}, None),
        (3, "Duties", 2, {"support": 0, "object": 2, "amend": 0}, 0.25),
    ]
    assert summary["stakeholder_kinds"] == {
        "civil-society": {
            "comments": 3,
            "stances": {"support": 1, "object": 1, "amend": 1},
            "accepted_share": 0.75,  # accepted, partly accepted; one not answered
        },
        "private": {
            "comments": 2,
            "stances": {"support": 0, "object": 2, "amend": 0},
            "accepted_share": 0.0,
        },
    }
    assert summary["questions"] == [
        {
            "text": "Are you a patient?",
            "choices": ["yes", "no"],
            "answers": {"yes": 1},
            "by_kind": {"civil-society": {"yes": 1}},
            "organizations": 1,
        }
    ]
    (version,) = summary["versions"]
    assert (version["number"], version["note"]) == (2, "Blood banks added.")
    assert [(c["kind"], c["old"], c["new"]) for c in version["changes"]] == [
        ("changed", 1, 1),
        ("unchanged", 2, 2),
        ("unchanged", 3, 3),
        ("added", None, 4),
    ]
    assert version["answers"] == [
        {
            "id": scenario.comments["amend"],
            "organization": "Patients First",
            "stance": "amend",
            "excerpt": "Blood banks hold patient data too.",
            "hidden_reason": None,
        }
    ]


def test_json_gives_a_hidden_comment_its_reason_but_not_its_text(
    db: Database, scenario: Scenario
) -> None:
    as_ngo = summary_json(*_views(db, scenario, "ngo"))["comments"]
    as_author = summary_json(*_views(db, scenario, "company"))["comments"]

    rude = next(c for c in as_ngo if c["id"] == scenario.comments["rude"])
    assert (rude["hidden_reason"], rude["stance"], rude["text"], rude["author"]) == (
        "a personal attack",
        "object",
        "",
        "",
    )
    assert len(as_ngo) == len(as_author) == 6
    mine = next(c for c in as_author if c["id"] == scenario.comments["rude"])
    assert mine["text"] == "Patients First lies."


def test_a_draft_other_than_the_consultations_is_refused(db: Database, scenario: Scenario) -> None:
    consultation, _ = _views(db, scenario, "ministry")
    other = consultations.new_draft(db, scenario.users["ministry"], "Other", "strategy", "Text.")
    elsewhere = consultations.draft_view(db, scenario.users["ministry"], other)

    with pytest.raises(ValueError, match="is not the draft of consultation"):
        summary_json(consultation, elsewhere)


def test_csv_has_a_row_per_comment_and_a_formula_stays_text(
    db: Database, scenario: Scenario
) -> None:
    consultation, _ = _views(db, scenario, "ngo")
    rows = list(csv.DictReader(io.StringIO(comments_csv(consultation), newline="")))

    assert tuple(rows[0]) == COMMENT_COLUMNS
    assert [int(r["id"]) for r in rows] == [c.id for c in consultation.comments]
    by_id = {int(r["id"]): r for r in rows}
    amend = by_id[scenario.comments["amend"]]
    assert (amend["organization"], amend["stakeholder_kind"], amend["stance"]) == (
        "Patients First",
        "civil-society",
        "amend",
    )
    assert (amend["norms"], amend["verdict"], amend["answered_in_version"]) == (
        "g",
        "accepted",
        "2",
    )
    assert amend["proposed_wording"].endswith("and blood bank.")
    assert by_id[scenario.comments["formula"]]["text"] == "'" + FORMULA
    assert by_id[scenario.comments["formula"]]["verdict_reason"] == "Twice a year."
    reply = by_id[scenario.comments["reply"]]
    assert (reply["parent_id"], reply["stance"], reply["text"]) == (
        str(scenario.comments["objection"]),
        "",
        MARKUP,
    )
    rude = by_id[scenario.comments["rude"]]
    assert (rude["text"], rude["hidden_reason"]) == ("", "a personal attack")
    assert by_id[scenario.comments["greek"]]["organization"] == GREEK


def test_pdf_shows_the_tables_the_changes_and_each_comment_with_its_verdict(
    db: Database, scenario: Scenario
) -> None:
    document = summary_pdf(*_views(db, scenario, "ngo"))
    text = _pdf_text(document)

    mediabox = PdfReader(io.BytesIO(document)).pages[0].mediabox
    assert [round(float(x)) for x in mediabox[2:]] == [595, 842]  # A4 in points
    assert text.startswith("CONSULTATION SUMMARY Health-sector cyber rules Drafter Ministry of")
    assert "Comments 5 on paragraphs, 1 reply" in text
    assert "1 These rules apply to every hospital and medical laboratory. 1 0 0 1 100%" in text
    assert "3 Hospitals test their backups every quarter. 2 0 2 0 25%" in text
    assert "civil society 3 1 1 1" in text
    assert "Paragraph 1 changed" in text
    assert "Paragraph 4 added Patients are told when their records were exposed." in text
    assert (
        f"In answer to • #{scenario.comments['amend']} Patients First (amend): "
        "Blood banks hold patient data too."
    ) in text
    objection = scenario.comments["objection"]
    assert f"#{objection} object, MedTech Ltd (private), company@example.test" in text
    assert "Quarterly is too often. Verdict: not accepted. Reason: Backups fail silently." in text
    assert f"#{scenario.comments['reply']} reply, Ministry of Health (government)" in text
    assert "Verdict: accepted. Answered in version 2." in text
    assert "Hidden by the drafter: a personal attack" in text
    assert "Patients First lies." not in text


def test_pdf_prints_markup_as_written_and_a_greek_name_in_a_unicode_font(
    db: Database, scenario: Scenario
) -> None:
    if not any(regular.is_file() and bold.is_file() for regular, bold in UNICODE_FONTS):
        pytest.skip("no DejaVu Sans or Liberation Sans here (Debian: fonts-dejavu-core)")
    text = _pdf_text(summary_pdf(*_views(db, scenario, "ngo")))

    assert f"support, {GREEK} (civil society), union@example.test" in text
    assert "Συμφωνούμε με την παράγραφο." in text
    assert MARKUP in text


def test_pdf_in_the_core_font_prints_stand_ins_for_what_it_cannot_draw(
    db: Database, scenario: Scenario
) -> None:
    text = _pdf_text(summary_pdf(*_views(db, scenario, "ngo"), fonts=()))

    assert "support, ????? ??????? (civil society)" in text
    assert MARKUP in text
