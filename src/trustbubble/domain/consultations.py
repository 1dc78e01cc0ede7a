"""Drafts open to comment (docs/consultations.md): a version's numbered paragraphs, the diff
between versions, audiences, periods, and the fields of a comment, each read with an error that
names what is wrong. Pure: no clock but the one given, no database.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from markdown_it import MarkdownIt

from trustbubble.domain.accounts import OrgKind
from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import Invalid
from trustbubble.domain.fields import text
from trustbubble.domain.norms import NORM_LETTERS

MAX_DRAFT_CHARACTERS = 200_000
MAX_QUESTIONS = 20


class DraftKind(StrEnum):
    STRATEGY = "strategy"
    POSITION = "position"
    CHARTER = "charter"
    GUIDELINE = "guideline"


class Stance(StrEnum):
    SUPPORT = "support"
    OBJECT = "object"
    AMEND = "amend"  # with proposed wording


class Verdict(StrEnum):
    """The drafter's answer to a comment."""

    ACCEPTED = "accepted"
    PARTLY_ACCEPTED = "partly-accepted"
    NOT_ACCEPTED = "not-accepted"

    @property
    def weight(self) -> float:
        return {"accepted": 1.0, "partly-accepted": 0.5, "not-accepted": 0.0}[self.value]


class Phase(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


# -- paragraphs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paragraph:
    number: int
    section: str  # the heading above it, "" before the first
    text: str  # its Markdown, as written


@cache
def _markdown() -> MarkdownIt:
    # No raw HTML: a draft's markup is Markdown only, and anything else shows as text.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render(markdown: str) -> str:
    """Markdown as HTML, with any HTML in it escaped and unsafe links dropped."""
    html: str = _markdown().render(markdown)
    return html


_NEWLINE = re.compile(r"\r\n?|\n")


def paragraphs(markdown: str) -> list[Paragraph]:
    """Every top-level Markdown block but headings, numbered from 1 through the whole text."""
    # The lines markdown-it numbers: \r\n, \r and \n end a line, not the \u2028 or \x0b
    # that str.splitlines() also splits on, which Word puts in pasted text.
    lines = _NEWLINE.split(markdown)
    found: list[Paragraph] = []
    section = ""
    for token in _markdown().parse(markdown):
        if token.level != 0 or token.nesting == -1 or token.map is None:
            continue
        start, end = token.map
        block = "\n".join(lines[start:end]).strip()
        if token.type == "heading_open":
            section = block.lstrip("#").strip()
        elif token.type != "hr" and block:
            found.append(Paragraph(len(found) + 1, section, block))
    return found


def read_markdown(value: object, field: str = "text") -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field, "write the draft's text (Markdown)")
    if len(value) > MAX_DRAFT_CHARACTERS:
        raise Invalid(field, f"is longer than {MAX_DRAFT_CHARACTERS:,} characters")
    if not paragraphs(value):
        raise Invalid(field, "has no paragraph to comment on, only headings")
    return value.replace("\r\n", "\n")


# -- the diff between versions ---------------------------------------------------------------


class ChangeKind(StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    old: int | None  # its number in the older version
    new: int | None  # its number in the newer version
    old_text: str
    new_text: str


def diff(older: Sequence[Paragraph], newer: Sequence[Paragraph]) -> list[Change]:
    """What became of each paragraph: unchanged, changed, added or removed, in reading order."""
    matcher = difflib.SequenceMatcher(
        a=[p.text for p in older], b=[p.text for p in newer], autojunk=False
    )
    changes: list[Change] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            changes += [
                Change(ChangeKind.UNCHANGED, o.number, n.number, o.text, n.text)
                for o, n in zip(older[a1:a2], newer[b1:b2], strict=True)
            ]
            continue
        olds, news = list(older[a1:a2]), list(newer[b1:b2])
        paired = min(len(olds), len(news)) if op == "replace" else 0
        changes += [
            Change(ChangeKind.CHANGED, o.number, n.number, o.text, n.text)
            for o, n in zip(olds[:paired], news[:paired], strict=True)
        ]
        changes += [Change(ChangeKind.REMOVED, o.number, None, o.text, "") for o in olds[paired:]]
        changes += [Change(ChangeKind.ADDED, None, n.number, "", n.text) for n in news[paired:]]
    return changes


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The words of a changed paragraph as (`=`, `-` or `+`, words), for showing the change."""
    a, b = old.split(), new.split()
    found: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            found.append(("=", " ".join(a[a1:a2])))
            continue
        if a2 > a1:
            found.append(("-", " ".join(a[a1:a2])))
        if b2 > b1:
            found.append(("+", " ".join(b[b1:b2])))
    return found


# -- audiences and periods -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audience:
    bubbles: tuple[str, ...] = ()
    kinds: tuple[OrgKind, ...] = ()
    public: bool = False  # anyone signed in

    def describe(self) -> str:
        if self.public:
            return "everyone signed in to this node"
        parts = [k.value.replace("-", " ") for k in self.kinds]
        if self.bubbles:
            parts.append(f"{len(self.bubbles)} bubble(s)")
        return ", ".join(parts)


def read_audience(data: Mapping[str, Any]) -> Audience:
    bubbles = data.get("bubbles") or []
    kinds = data.get("kinds") or []
    public = data.get("public", False)
    if not isinstance(public, bool):
        raise Invalid("audience.public", "is true or false")
    if not isinstance(bubbles, list) or not all(isinstance(b, str) for b in bubbles):
        raise Invalid("audience.bubbles", "is a list of bubble ids")
    if not isinstance(kinds, list):
        raise Invalid("audience.kinds", "is a list of stakeholder kinds")
    chosen = tuple(
        parse_choice(OrgKind, str(k), f"audience.kinds[{i}]", "stakeholder kind")
        for i, k in enumerate(kinds)
    )
    if not (public or bubbles or chosen):
        raise Invalid(
            "audience", "choose who may comment: bubbles, stakeholder kinds, or the public"
        )
    return Audience(tuple(dict.fromkeys(bubbles)), tuple(dict.fromkeys(chosen)), public)


def phase(opens: datetime, closes: datetime, closed_early: datetime | None, now: datetime) -> Phase:
    if closed_early is not None and closed_early <= now:
        return Phase.CLOSED
    if now < opens:
        return Phase.SCHEDULED
    return Phase.OPEN if now < closes else Phase.CLOSED


def check_period(opens: datetime, closes: datetime) -> None:
    if closes <= opens:
        raise Invalid("closes", "must be after the consultation opens")


# -- comments ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommentInput:
    paragraph: int
    stance: Stance
    text: str
    wording: str  # the proposed wording, for `amend`
    norms: tuple[str, ...]
    incident: str  # a STIX id, or ""


def read_norms(values: Iterable[object], field: str = "norms") -> tuple[str, ...]:
    letters = []
    for i, value in enumerate(values):
        letter = str(value).strip().strip("()").lower()
        if letter not in NORM_LETTERS:
            raise Invalid(f"{field}[{i}]", f"{value!r} is not a UN GGE norm letter (a to k)")
        letters.append(letter)
    return tuple(sorted(set(letters)))


def read_comment(data: Mapping[str, Any], paragraph_count: int) -> CommentInput:
    """A comment's fields, each checked against the version it is on."""
    number = data.get("paragraph")
    if isinstance(number, str) and number.strip().isdigit():
        # "²" is a digit to isdigit() but not to int(), nor are 5,000 digits: refused below.
        with suppress(ValueError):
            number = int(number)
    if not isinstance(number, int) or isinstance(number, bool):
        raise Invalid("paragraph", "give the number of the paragraph you comment on")
    if not 1 <= number <= paragraph_count:
        raise Invalid(
            "paragraph", f"no paragraph {number}: this version has 1 to {paragraph_count}"
        )
    stance = parse_choice(Stance, str(data.get("stance") or ""), "stance", "stance")
    body = text(data, "text", 10_000, required=True)
    wording = text(data, "wording", 10_000)
    if stance is Stance.AMEND and not wording:
        raise Invalid(
            "wording", "an amendment proposes wording: write the paragraph as you want it"
        )
    norms = data.get("norms") or []
    if isinstance(norms, str):
        norms = [n for n in norms.replace(",", " ").split() if n]
    if not isinstance(norms, list):
        raise Invalid("norms", "is a list of norm letters (a to k)")
    incident = str(data.get("incident") or "").strip()
    if incident and not incident.startswith("incident--"):
        raise Invalid("incident", f"{incident!r} is not the STIX id of an incident")
    return CommentInput(number, stance, body, wording, read_norms(norms), incident)


# -- questions for the people affected ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    choices: tuple[str, ...]  # empty for a free-text answer


def read_questions(value: object) -> tuple[Question, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list):
        raise Invalid("questions", "is a list of questions")
    if len(value) > MAX_QUESTIONS:
        raise Invalid("questions", f"ask at most {MAX_QUESTIONS} questions")
    found = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise Invalid(f"questions[{i}]", "is a question with its text and choices")
        try:
            asked = text(item, "text", 500, required=True)
        except Invalid as problem:
            raise Invalid(f"questions[{i}].text", problem.reason) from None
        choices = item.get("choices") or []
        if not isinstance(choices, list) or not all(
            isinstance(c, str) and c.strip() for c in choices
        ):
            raise Invalid(f"questions[{i}].choices", "is a list of non-empty choices")
        if len(choices) == 1:
            raise Invalid(f"questions[{i}].choices", "give two choices or more, or none")
        found.append(Question(asked, tuple(c.strip()[:200] for c in choices)))
    return tuple(found)


# -- accreditation -------------------------------------------------------------------------------


class Accreditation(StrEnum):
    PENDING = "pending"
    ADMITTED = "admitted"
    REFUSED = "refused"


def accreditation_state(
    decision: str | None, asked: datetime, objected: bool, days: int, now: datetime
) -> Accreditation:
    """As in the OEWG: admitted when the objection period ends without an objection; after an
    objection, the drafter decides."""
    if decision is not None:
        return Accreditation(decision)
    if not objected and now >= asked + timedelta(days=days):
        return Accreditation.ADMITTED
    return Accreditation.PENDING
