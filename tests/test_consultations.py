"""Consultations on both stores: a ministry opens a draft to civil society and the private
sector, who comment paragraph by paragraph; the ministry answers, hides, publishes a new version;
outsiders ask to take part; a closed consultation refuses comments (docs/consultations.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trustbubble.domain.access import Part
from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.domain.consultations import ChangeKind, Phase, Question, read_audience
from trustbubble.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trustbubble.services import accounts, bubbles, consultations
from trustbubble.services.audit import verify
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


@pytest.fixture
def people(db: Database) -> dict[str, User]:
    found = {}
    for org, kind, country in (
        ("Ministry of Health", "government", "KE"),
        ("Patients First", "civil-society", "KE"),
        ("MedTech Ltd", "private", "KE"),
        ("KE National CERT", "cert", "KE"),
    ):
        accounts.create_org(db, org, kind, country)
    for name, org, role in (
        ("ministry", "Ministry of Health", UserRole.ANALYST),
        ("ngo", "Patients First", UserRole.ANALYST),
        ("ngo-viewer", "Patients First", UserRole.VIEWER),
        ("company", "MedTech Ltd", UserRole.ANALYST),
        ("cert", "KE National CERT", UserRole.ANALYST),
    ):
        found[name], _ = accounts.create_user(db, f"{name}@example.test", org, role)
    return found


def _open(db: Database, ministry: User, **extra: object) -> tuple[str, str]:
    draft = consultations.new_draft(db, ministry, "Health-sector cyber rules", "guideline", DRAFT)
    now = datetime.now(UTC)
    opened = consultations.open_consultation(
        db,
        ministry,
        draft,
        1,
        now - timedelta(minutes=1),
        now + timedelta(days=14),
        read_audience({"kinds": ["civil-society", "private"]}),
        **extra,  # type: ignore[arg-type]
    )
    return draft, opened


def test_stakeholders_comment_the_drafter_answers_and_a_new_version_says_what_changed(
    db: Database, people: dict[str, User]
) -> None:
    ministry, ngo, company = people["ministry"], people["ngo"], people["company"]
    draft, cid = _open(db, ministry)
    amend = consultations.comment(
        db,
        ngo,
        cid,
        {
            "paragraph": 1,
            "stance": "amend",
            "text": "Blood banks hold patient data too.",
            "wording": "These rules apply to every hospital, medical laboratory and blood bank.",
            "norms": ["g"],
        },
    )
    objection = consultations.comment(
        db, company, cid, {"paragraph": 3, "stance": "object", "text": "Quarterly is too often."}
    )
    consultations.reply(db, ministry, cid, objection, "Would twice a year work for you?")
    with pytest.raises(Forbidden, match="commenting needs the analyst or admin role"):
        consultations.comment(
            db, people["ngo-viewer"], cid, {"paragraph": 1, "stance": "support", "text": "Yes"}
        )
    with pytest.raises(NotFound):
        consultations.view(db, people["cert"], cid)
    with pytest.raises(Invalid, match="no paragraph 4: this version has 1 to 3"):
        consultations.comment(db, ngo, cid, {"paragraph": 4, "stance": "support", "text": "Hi"})

    consultations.respond(db, ministry, cid, amend, "accepted", "")
    consultations.respond(db, ministry, cid, objection, "not-accepted", "Backups fail silently.")
    with pytest.raises(Forbidden, match="only the drafting organization answers"):
        consultations.respond(db, ngo, cid, objection, "accepted", "")
    assert (
        consultations.add_version(db, ministry, draft, REVISED, "Blood banks added.", [amend]) == 2
    )
    with pytest.raises(Invalid, match=r"answers\[0\]: no comment 999 on this draft"):
        consultations.add_version(db, ministry, draft, REVISED, "", [999])
    with pytest.raises(Forbidden, match="only the drafting organization may change its draft"):
        consultations.add_version(db, ngo, draft, REVISED, "", [])

    seen = consultations.view(db, company, cid)
    assert seen.part is Part.PARTICIPANT
    assert seen.phase is Phase.OPEN
    assert [(c.organization, c.kind, c.stance) for c in seen.comments] == [
        ("Patients First", "civil-society", "amend"),
        ("MedTech Ltd", "private", "object"),
        ("Ministry of Health", "government", ""),
    ]
    assert seen.comments[0].answered_in == 2
    assert [(p.number, p.comments, p.accepted_share) for p in seen.by_paragraph] == [
        (1, 1, 1.0),
        (2, 0, None),
        (3, 1, 0.0),
    ]
    assert seen.by_kind == {"civil-society": {"amend": 1}, "private": {"object": 1}}
    assert seen.accepted_by_kind == {"civil-society": 1.0, "private": 0.0}
    changes = consultations.draft_view(db, ngo, draft).versions[1].changes
    assert [(c.kind, c.old, c.new) for c in changes] == [
        (ChangeKind.CHANGED, 1, 1),
        (ChangeKind.UNCHANGED, 2, 2),
        (ChangeKind.UNCHANGED, 3, 3),
        (ChangeKind.ADDED, None, 4),
    ]
    with pytest.raises(NotFound):
        consultations.draft_view(db, people["cert"], draft)
    assert [d.id for d in consultations.drafts_for(db, people["cert"])] == []


def test_a_hidden_comment_keeps_its_reason_for_all_and_its_text_for_its_author(
    db: Database, people: dict[str, User]
) -> None:
    ministry, ngo, company = people["ministry"], people["ngo"], people["company"]
    _draft, cid = _open(db, ministry)
    rude = consultations.comment(
        db, company, cid, {"paragraph": 2, "stance": "object", "text": "Patients First lies."}
    )
    consultations.hide(db, ministry, cid, rude, "a personal attack")
    as_ngo = consultations.view(db, ngo, cid).comments[0]
    assert (as_ngo.hidden, as_ngo.text, as_ngo.author) == ("a personal attack", "", "")
    as_author = consultations.view(db, company, cid).comments[0]
    assert as_author.text == "Patients First lies."
    assert consultations.view(db, ministry, cid).comments[0].text == "Patients First lies."
    consultations.hide(db, ministry, cid, rude, None)
    assert consultations.view(db, ngo, cid).comments[0].text == "Patients First lies."
    with pytest.raises(Forbidden):
        consultations.hide(db, company, cid, rude, "mine")
    assert verify(db).ok


def test_a_closed_consultation_refuses_new_comments_and_answers(
    db: Database, people: dict[str, User]
) -> None:
    ministry, ngo = people["ministry"], people["ngo"]
    questions = (Question("Are you a patient?", ("yes", "no")), Question("What worries you?", ()))
    _draft, cid = _open(db, ministry, questions=questions)
    consultations.answer_questions(db, ngo, cid, {0: "yes", 1: "Leaked records"})
    with pytest.raises(Invalid, match=r"answers\.0: choose one of: yes, no"):
        consultations.answer_questions(db, people["company"], cid, {0: "maybe"})
    tally = consultations.view(db, ministry, cid).answers
    assert tally[0] == {
        "answers": {"yes": 1},
        "by_kind": {"civil-society": {"yes": 1}},
        "organizations": 1,
    }
    consultations.close(db, ministry, cid)
    with pytest.raises(Conflict, match="the consultation closed on"):
        consultations.comment(db, ngo, cid, {"paragraph": 1, "stance": "support", "text": "Yes"})
    with pytest.raises(Conflict, match="the consultation closed on"):
        consultations.answer_questions(db, ngo, cid, {0: "no"})
    assert consultations.view(db, ngo, cid).phase is Phase.CLOSED


def test_an_outsider_asks_to_take_part_and_is_admitted_unless_someone_objects(
    db: Database, people: dict[str, User]
) -> None:
    ministry, ngo, cert = people["ministry"], people["ngo"], people["cert"]
    _draft, cid = _open(db, ministry)
    viewer, _ = accounts.create_user(db, "viewer@cert.test", "KE National CERT", UserRole.VIEWER)
    with pytest.raises(Forbidden, match="asking to take part needs the analyst or admin role"):
        consultations.ask_to_take_part(db, viewer, cid, "We want in.")
    consultations.ask_to_take_part(db, cert, cid, "We run the hospitals' incident response.")
    waiting = consultations.view(db, cert, cid)
    assert waiting.part is Part.APPLICANT
    assert waiting.paragraphs == []
    assert [r["state"] for r in waiting.requests] == ["pending"]
    with pytest.raises(Forbidden, match="asked to take part"):
        consultations.comment(db, cert, cid, {"paragraph": 1, "stance": "support", "text": "Yes"})
    with pytest.raises(Conflict, match="has asked to"):
        consultations.ask_to_take_part(db, cert, cid, "Again")
    consultations.object_to(db, ngo, cid, cert.org_id, "Not a health-sector body.")
    with pytest.raises(Conflict, match="objected to this request already"):
        consultations.object_to(db, ngo, cid, cert.org_id, "Still not.")
    with pytest.raises(Forbidden, match="decides on requests; it does not object"):
        consultations.object_to(db, ministry, cid, cert.org_id, "No.")
    assert consultations.view(db, ministry, cid).requests[0]["objections"] == [
        {"organization": "Patients First", "reason": "Not a health-sector body."}
    ]
    consultations.decide(db, ministry, cid, cert.org_id, admit=True)
    assert consultations.view(db, cert, cid).part is Part.PARTICIPANT
    consultations.comment(db, cert, cid, {"paragraph": 2, "stance": "support", "text": "Yes."})

    # Without an objection, the end of the period admits: here a period of no days.
    _draft, quick = _open(db, ministry, objection_days=0)
    consultations.ask_to_take_part(db, cert, quick, "Same reason.")
    assert consultations.view(db, cert, quick).part is Part.PARTICIPANT


def test_a_drafter_addresses_only_bubbles_it_stands_in(
    db: Database, people: dict[str, User]
) -> None:
    ministry = people["ministry"]
    theirs = bubbles.create_bubble(db, "CERTs only", BubbleKind.SECTORAL, "KE National CERT")
    ours = bubbles.create_bubble(
        db, "Health partners", BubbleKind.SECTORAL, "Ministry of Health", members=("MedTech Ltd",)
    )
    draft = consultations.new_draft(db, ministry, "Rules", "guideline", DRAFT)
    now = datetime.now(UTC)
    with pytest.raises(Invalid, match=r"audience\.bubbles\[0\]: no bubble"):
        consultations.open_consultation(
            db,
            ministry,
            draft,
            1,
            now,
            now + timedelta(days=1),
            read_audience({"bubbles": [theirs.id]}),
        )
    cid = consultations.open_consultation(
        db, ministry, draft, 1, now, now + timedelta(days=1), read_audience({"bubbles": [ours.id]})
    )
    assert consultations.view(db, people["company"], cid).part is Part.PARTICIPANT
    with pytest.raises(NotFound):
        consultations.view(db, people["ngo"], cid)
