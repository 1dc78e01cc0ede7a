"""A draft's numbered paragraphs, the diff between versions, and the fields of a consultation and
a comment, each refused with the field named (domain/consultations.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustbubble.domain.accounts import OrgKind
from trustbubble.domain.consultations import (
    ChangeKind,
    Paragraph,
    Phase,
    Stance,
    diff,
    paragraphs,
    phase,
    read_audience,
    read_comment,
    read_markdown,
    read_questions,
    render,
    word_diff,
)
from trustbubble.domain.errors import Invalid

STRATEGY = """# National cyber strategy for health care

## Purpose

Hospitals are critical infrastructure.
They are protected as such.

- A national CERT for health
- A 24-hour contact point

## Cooperation

> We answer requests for help within a day.

---

| partner | since |
|---|---|
| Kenya | 2024 |
"""


def test_every_block_but_headings_is_a_numbered_paragraph_in_its_section() -> None:
    found = paragraphs(STRATEGY)
    assert [(p.number, p.section) for p in found] == [
        (1, "Purpose"),
        (2, "Purpose"),
        (3, "Cooperation"),
        (4, "Cooperation"),
    ]
    assert found[0].text == "Hospitals are critical infrastructure.\nThey are protected as such."
    assert found[1].text == "- A national CERT for health\n- A 24-hour contact point"
    assert found[3].text.startswith("| partner | since |")


def test_a_line_break_word_pastes_keeps_its_paragraph_whole() -> None:
    """\u2028 and \x0b end a line for str.splitlines() only: "a\u2028b" was cut to "a", and
    every paragraph after it lost or shifted."""
    for inside in ("\u2028", "\x0b", "\x85"):
        found = paragraphs(f"Hospitals{inside}report.\n\nThe CERT answers.")
        assert [p.text for p in found] == [f"Hospitals{inside}report.", "The CERT answers."]
    assert [p.text for p in paragraphs("One\r\ntwo\r\rThree")] == ["One\ntwo", "Three"]


def test_a_paragraph_number_that_int_cannot_read_is_refused() -> None:
    for number in ("²", "1" * 5000):  # digits to str.isdigit(); a ValueError of int()
        with pytest.raises(Invalid, match=r"^paragraph: give the number"):
            read_comment({"paragraph": number, "stance": "support", "text": "Yes."}, 3)


def test_markup_from_users_is_shown_as_text() -> None:
    shown = render("Hello <script>alert(1)</script> [x](javascript:alert(1)) <b>bold</b>")
    assert "<script>" not in shown
    assert "&lt;script&gt;" in shown
    assert 'href="javascript' not in shown
    assert "<b>" not in shown


def test_the_diff_says_what_became_of_each_paragraph() -> None:
    older = paragraphs("One.\n\nTwo.\n\nThree.\n\nFour.")
    newer = paragraphs("One.\n\nTwo, amended.\n\nFour.\n\nFive.")
    found = [(c.kind, c.old, c.new) for c in diff(older, newer)]
    assert found == [
        (ChangeKind.UNCHANGED, 1, 1),
        (ChangeKind.CHANGED, 2, 2),
        (ChangeKind.REMOVED, 3, None),
        (ChangeKind.UNCHANGED, 4, 3),
        (ChangeKind.ADDED, None, 4),
    ]
    assert word_diff("Hospitals are protected.", "Hospitals and labs are protected.") == [
        ("=", "Hospitals"),
        ("+", "and labs"),
        ("=", "are protected."),
    ]


texts = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), max_size=8)


@given(texts, texts)
def test_the_diff_accounts_for_every_paragraph_once_in_order(a: list[str], b: list[str]) -> None:
    older = [Paragraph(i + 1, "", t) for i, t in enumerate(a)]
    newer = [Paragraph(i + 1, "", t) for i, t in enumerate(b)]
    changes = diff(older, newer)
    olds = [c.old for c in changes if c.old is not None]
    news = [c.new for c in changes if c.new is not None]
    assert olds == list(range(1, len(a) + 1))
    assert news == list(range(1, len(b) + 1))
    for c in changes:
        if c.kind is ChangeKind.UNCHANGED:
            assert c.old_text == c.new_text


def test_bad_drafts_audiences_comments_and_questions_are_named() -> None:
    with pytest.raises(Invalid, match="only headings"):
        read_markdown("# Title\n\n## Part")
    with pytest.raises(Invalid, match="write the draft's text"):
        read_markdown("   ")
    with pytest.raises(Invalid, match="choose who may comment"):
        read_audience({})
    with pytest.raises(Invalid, match=r"audience\.kinds\[1\]: unknown stakeholder kind 'press'"):
        read_audience({"kinds": ["civil-society", "press"]})
    audience = read_audience({"kinds": ["civil-society", "private", "private"]})
    assert audience.kinds == (OrgKind.CIVIL_SOCIETY, OrgKind.PRIVATE)
    with pytest.raises(Invalid, match="no paragraph 9: this version has 1 to 4"):
        read_comment({"paragraph": 9, "stance": "support", "text": "Yes"}, 4)
    with pytest.raises(Invalid, match="unknown stance 'maybe'"):
        read_comment({"paragraph": 1, "stance": "maybe", "text": "Hm"}, 4)
    with pytest.raises(Invalid, match="an amendment proposes wording"):
        read_comment({"paragraph": 1, "stance": "amend", "text": "Change it"}, 4)
    with pytest.raises(Invalid, match=r"'z' is not a UN GGE norm letter"):
        read_comment({"paragraph": 1, "stance": "object", "text": "No", "norms": "g z"}, 4)
    comment = read_comment(
        {
            "paragraph": "2",
            "stance": "amend",
            "text": "Add labs",
            "wording": "Labs too.",
            "norms": "(g), h",
        },
        4,
    )
    assert (comment.paragraph, comment.stance, comment.norms) == (2, Stance.AMEND, ("g", "h"))
    with pytest.raises(Invalid, match="give two choices or more, or none"):
        read_questions([{"text": "Are you a patient?", "choices": ["yes"]}])
    with pytest.raises(Invalid, match=r"questions\[0\]\.text"):
        read_questions([{"choices": []}])


def test_a_consultation_is_scheduled_open_then_closed() -> None:
    opens = datetime(2026, 12, 1, tzinfo=UTC)
    closes = opens + timedelta(days=14)
    assert phase(opens, closes, None, opens - timedelta(seconds=1)) is Phase.SCHEDULED
    assert phase(opens, closes, None, opens) is Phase.OPEN
    assert phase(opens, closes, None, closes) is Phase.CLOSED
    early = opens + timedelta(days=2)
    assert phase(opens, closes, early, opens + timedelta(days=3)) is Phase.CLOSED
