"""A consultation's summary to take away (docs/consultations.md#summaries): JSON, the comments as
CSV, and a PDF to hand out, each built only from the reader's view of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from fpdf.enums import XPos, YPos

from trustbubble.domain.consultations import ChangeKind, Stance, word_diff
from trustbubble.services.consultations import (
    CommentView,
    ConsultationView,
    DraftView,
    VersionView,
)
from trustbubble.services.exercise_pdf import UNICODE_FONTS, FontFiles, Sheet

COMMENT_COLUMNS = (
    "id",
    "paragraph",
    "parent_id",
    "organization",
    "stakeholder_kind",
    "author",
    "stance",
    "text",
    "proposed_wording",
    "norms",
    "incident",
    "created",
    "verdict",
    "verdict_reason",
    "hidden_reason",
    "answered_in_version",
)
STANCES = tuple(s.value for s in Stance)
# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# How word_diff's kept (=), removed (-) and added (+) words print: font style and colour.
_MARKS = {"=": ("", (0, 0, 0)), "-": ("S", (190, 30, 30)), "+": ("U", (20, 120, 40))}


def _excerpt(text: str, length: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 3].rstrip() + "..."


def _stances(counts: Mapping[str, int]) -> dict[str, int]:
    return {stance: counts.get(stance, 0) for stance in STANCES}


def _share(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _kind(kind: str) -> str:
    return kind.replace("-", " ") or "unknown kind"


def _later_versions(
    consultation: ConsultationView, draft: DraftView
) -> list[tuple[VersionView, list[CommentView]]]:
    """The versions after the one consulted on, each with the comments of this consultation it
    answers, as far as the reader sees them, in the order the drafter named them."""
    if draft.id != consultation.draft_id:
        raise ValueError(f"draft {draft.id} is not the draft of consultation {consultation.id}")
    seen = {c.id: c for c in consultation.comments}
    return [
        (version, [seen[i] for i in version.answers if i in seen])
        for version in draft.versions
        if version.number > consultation.version
    ]


# -- JSON ----------------------------------------------------------------------------------------


def _comment_record(c: CommentView) -> dict[str, Any]:
    """A comment as the view gives it: a hidden one keeps its reason and stance, and its text,
    author and incident only for the drafter and the author's organization."""
    return {
        "id": c.id,
        "paragraph": c.paragraph,
        "parent_id": c.parent_id,
        "organization": c.organization,
        "stakeholder_kind": c.kind,
        "author": c.author,
        "stance": c.stance,
        "text": c.text,
        "proposed_wording": c.wording,
        "norms": list(c.norms),
        "incident": c.incident,
        "created": c.created.isoformat(),
        "verdict": c.verdict,
        "verdict_reason": c.verdict_reason,
        "hidden_reason": c.hidden,
        "answered_in_version": c.answered_in,
    }


def summary_json(consultation: ConsultationView, draft: DraftView) -> dict[str, Any]:
    """The summary as JSON-ready data; `draft` is the consultation's draft as the reader sees it."""
    later = _later_versions(consultation, draft)
    counted = {s.number: s for s in consultation.by_paragraph}
    return {
        "consultation": {
            "id": consultation.id,
            "draft_id": consultation.draft_id,
            "title": consultation.title,
            "drafter": consultation.drafter,
            "version": consultation.version,
            "opens": consultation.opens.isoformat(),
            "closes": consultation.closes.isoformat(),
            "phase": consultation.phase.value,
            "audience": consultation.audience,
        },
        "paragraphs": [
            {
                "number": p.number,
                "section": p.section,
                "text": p.text,
                "comments": counted[p.number].comments,
                "stances": _stances(counted[p.number].stances),
                "accepted_share": counted[p.number].accepted_share,
            }
            for p in consultation.paragraphs
        ],
        "stakeholder_kinds": {
            kind: {
                "comments": sum(counts.values()),
                "stances": _stances(counts),
                "accepted_share": consultation.accepted_by_kind.get(kind),
            }
            for kind, counts in consultation.by_kind.items()
        },
        "comments": [_comment_record(c) for c in consultation.comments],
        # An applicant sees no questions but is given their (empty) tallies: zip drops those.
        "questions": [
            {"text": asked.get("text", ""), "choices": list(asked.get("choices") or []), **tally}
            for asked, tally in zip(consultation.questions, consultation.answers, strict=False)
        ],
        "versions": [
            {
                "number": version.number,
                "note": version.note,
                "created": version.created.isoformat(),
                "changes": [
                    {"kind": c.kind.value, "old": c.old, "new": c.new} for c in version.changes
                ],
                "answers": [
                    {
                        "id": c.id,
                        "organization": c.organization,
                        "stance": c.stance,
                        "excerpt": _excerpt(c.text),
                        "hidden_reason": c.hidden,
                    }
                    for c in answered
                ],
            }
            for version, answered in later
        ],
    }


# -- CSV -----------------------------------------------------------------------------------------


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value  # shown as text, not run
    return value


def comments_csv(consultation: ConsultationView) -> str:
    """One row per comment the reader may see, replies included, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COMMENT_COLUMNS)
    for c in consultation.comments:
        record = _comment_record(c)
        writer.writerow([_cell(record[name]) for name in COMMENT_COLUMNS])
    return out.getvalue()


# -- PDF -----------------------------------------------------------------------------------------


class _Summary(Sheet):
    """The shared A4 sheet, with a way to show a change word by word."""

    def __init__(self, title: str, fonts: Sequence[FontFiles]) -> None:
        super().__init__(title, fonts, "Consultation summary")

    def words(self, parts: Sequence[tuple[str, str]]) -> None:
        """A paragraph's change word by word: removed words struck through in red, added ones
        underlined in green, so that grey print tells them apart too."""
        self.set_x(self.l_margin)
        for op, said in parts:
            style, colour = _MARKS[op]
            self.set_font(self.face, style, 9.5)
            self.set_text_color(*colour)
            self.write(5, self.plain(said))
            self.set_font(self.face, "", 9.5)
            self.write(5, " ")
        self.set_text_color(0)
        self.ln(6.5)


def _cover(sheet: _Summary, c: ConsultationView) -> None:
    sheet.set_font(sheet.face, "B", 9)
    sheet.set_text_color(110)
    sheet.cell(0, 5, "CONSULTATION SUMMARY", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    sheet.set_font(sheet.face, "B", 19)
    sheet.set_text_color(20, 40, 80)
    sheet.multi_cell(0, 9, sheet.plain(c.title), align="L", new_x=XPos.LMARGIN)
    sheet.ln(3)
    sheet.set_text_color(0)
    on = sum(1 for comment in c.comments if comment.parent_id is None)
    sheet.field("Drafter", c.drafter)
    sheet.field("Version", f"{c.version} of the draft")
    sheet.field("Period", f"{c.opens:%Y-%m-%d %H:%M} to {c.closes:%Y-%m-%d %H:%M} UTC")
    sheet.field("Phase", c.phase.value)
    sheet.field("Audience", c.audience)
    replies = len(c.comments) - on
    sheet.field(
        "Comments", f"{on} on paragraphs, {replies} {'reply' if replies == 1 else 'replies'}"
    )


def _tables(sheet: _Summary, c: ConsultationView) -> None:
    sheet.heading("Paragraphs")
    sheet.para(
        f"Comments on each paragraph of version {c.version}, by stance. The share accepted is "
        "of the comments answered: accepted counts 1, partly accepted 0.5.",
        grey=True,
    )
    text = {p.number: p.text for p in c.paragraphs}
    rows: list[list[object]] = [
        ["No.", "Paragraph", "Comments", "Support", "Object", "Amend", "Accepted"]
    ]
    for s in c.by_paragraph:
        stances = _stances(s.stances)
        rows.append(
            [
                s.number,
                _excerpt(text[s.number]),
                s.comments,
                *stances.values(),
                _share(s.accepted_share),
            ]
        )
    sheet.grid((10, 70, 23, 18, 16, 16, 21), rows)
    sheet.heading("Stakeholder kinds")
    rows = [["Stakeholder kind", "Comments", "Support", "Object", "Amend"]]
    for kind, counts in c.by_kind.items():
        rows.append([_kind(kind), sum(counts.values()), *_stances(counts).values()])
    if c.by_kind:
        sheet.grid((60, 25, 25, 25, 25), rows)
    else:
        sheet.para("No comments yet.", grey=True)


def _questions(sheet: _Summary, c: ConsultationView) -> None:
    if not c.questions:
        return
    sheet.heading("Questions to the people affected")
    for number, (asked, tally) in enumerate(zip(c.questions, c.answers, strict=False), start=1):
        sheet.para(f"{number}. {asked.get('text', '')}", bold=True)
        rows: list[list[object]] = [["Answer", "Organizations", "By stakeholder kind"]]
        for answer, count in tally["answers"].items():
            kinds = ", ".join(
                f"{_kind(kind)} {given[answer]}"
                for kind, given in tally["by_kind"].items()
                if answer in given
            )
            rows.append([answer, count, kinds])
        if len(rows) > 1:
            sheet.grid((80, 30, 64), rows)
        else:
            sheet.para("No answers yet.", grey=True)


def _versions(sheet: _Summary, later: list[tuple[VersionView, list[CommentView]]]) -> None:
    sheet.heading("What changed in later versions")
    if not later:
        sheet.para("No later version yet.", grey=True)
        return
    sheet.para("Struck out: words removed; underlined: words added.", grey=True)
    for version, answered in later:
        before = version.number - 1
        sheet.heading(f"Version {version.number}", level=1)
        sheet.field("Published", f"{version.created:%Y-%m-%d %H:%M} UTC")
        if version.note:
            sheet.field("Note", version.note)
        for change in version.changes:
            if change.kind is ChangeKind.CHANGED:
                moved = f" (paragraph {change.old} of version {before})"
                sheet.para(
                    f"Paragraph {change.new} changed{moved if change.old != change.new else ''}",
                    bold=True,
                )
                sheet.words(word_diff(change.old_text, change.new_text))
            elif change.kind is ChangeKind.ADDED:
                sheet.para(f"Paragraph {change.new} added", bold=True)
                sheet.words([("+", " ".join(change.new_text.split()))])
            elif change.kind is ChangeKind.REMOVED:
                sheet.para(f"Paragraph {change.old} of version {before} removed", bold=True)
                sheet.words([("-", " ".join(change.old_text.split()))])
        same = sum(1 for change in version.changes if change.kind is ChangeKind.UNCHANGED)
        sheet.para(f"Paragraphs unchanged: {same}.", grey=True)
        sheet.ln(1)
        sheet.para("In answer to", bold=True)
        sheet.bullets(
            [
                f"#{c.id} {c.organization} ({c.stance or 'reply'}): "
                + (
                    f"hidden by the drafter: {c.hidden}"
                    if c.hidden and not c.text
                    else _excerpt(c.text)
                )
                for c in answered
            ]
        )


def _comment(sheet: _Summary, c: CommentView, depth: int) -> None:
    indent = min(depth, 3) * 6.0
    said = f"{c.stance}, " if c.stance else "reply, "
    by = f", {c.author}" if c.author else ""
    sheet.ln(1.5)
    sheet.para(
        f"#{c.id} {said}{c.organization} ({_kind(c.kind)}){by}, {c.created:%Y-%m-%d}",
        bold=True,
        indent=indent,
    )
    if c.hidden is not None:
        sheet.para(f"Hidden by the drafter: {c.hidden}", indent=indent, grey=True)
    if c.text:
        sheet.para(c.text, indent=indent)
    if c.wording:
        sheet.para(f"Proposed wording: {c.wording}", indent=indent)
    if c.norms:
        sheet.para("Norms: " + ", ".join(f"({n})" for n in c.norms), indent=indent)
    if c.incident:
        sheet.para(f"Incident: {c.incident}", indent=indent)
    if c.parent_id is None and c.verdict is None:
        sheet.para("Not answered yet.", indent=indent, grey=True)
    elif c.verdict is not None:
        reason = f" Reason: {c.verdict_reason}" if c.verdict_reason else ""
        sheet.para(f"Verdict: {c.verdict.replace('-', ' ')}.{reason}", indent=indent)
    if c.answered_in is not None:
        sheet.para(f"Answered in version {c.answered_in}.", indent=indent)


def _comments(sheet: _Summary, c: ConsultationView) -> None:
    sheet.heading("Comments")
    if not c.comments:
        sheet.para("No comments yet.", grey=True)
    shown = {comment.id for comment in c.comments}
    replies: dict[int, list[CommentView]] = {}
    for comment in c.comments:
        if comment.parent_id is not None and comment.parent_id in shown:
            replies.setdefault(comment.parent_id, []).append(comment)

    def thread(comment: CommentView, depth: int) -> None:
        _comment(sheet, comment, depth)
        for answer in replies.get(comment.id, []):
            thread(answer, depth + 1)

    for paragraph in c.paragraphs:
        roots = [
            comment
            for comment in c.comments
            if comment.paragraph == paragraph.number and comment.parent_id not in shown
        ]
        if not roots:
            continue
        section = f": {paragraph.section}" if paragraph.section else ""
        sheet.heading(f"Paragraph {paragraph.number}{section}", level=1)
        sheet.para(_excerpt(paragraph.text, 600), grey=True)
        for root in roots:
            thread(root, 0)


def summary_pdf(
    consultation: ConsultationView,
    draft: DraftView,
    *,
    fonts: Sequence[FontFiles] = UNICODE_FONTS,
) -> bytes:
    """The summary as an A4 PDF; `fonts` are (regular, bold) TTF files, the first found used."""
    later = _later_versions(consultation, draft)
    sheet = _Summary(consultation.title, fonts)
    sheet.add_page()
    _cover(sheet, consultation)
    _tables(sheet, consultation)
    _questions(sheet, consultation)
    _versions(sheet, later)
    _comments(sheet, consultation)
    return bytes(sheet.output())
