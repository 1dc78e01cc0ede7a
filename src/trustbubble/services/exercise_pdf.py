"""The printable after-action report of an exercise: its JSON (report.after_action) on A4 pages."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from trustbubble.domain.exercises.report import RATINGS

FontFiles = tuple[Path, Path]  # regular, bold
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_LIBERATION = Path("/usr/share/fonts/truetype/liberation")
# The first pair found is used. Debian's fonts-dejavu-core comes with chromium (through
# libfontconfig1 and fontconfig-config); fonts-liberation is only recommended. With neither, the
# report is set in the core Helvetica, which draws Latin-1 only.
UNICODE_FONTS: tuple[FontFiles, ...] = (
    (_DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"),
    (_LIBERATION / "LiberationSans-Regular.ttf", _LIBERATION / "LiberationSans-Bold.ttf"),
)
_LATIN_1 = frozenset(range(32, 127)) | frozenset(range(160, 256))
# Printed instead of a character the font cannot draw; any other such character becomes "?".
_STAND_INS = {"\t": " ", "“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "•": "-"}
_CELL_CHARS = 300  # fpdf2 refuses a table row taller than a page
_TABLE: dict[str, Any] = {
    "align": "L",
    "text_align": "L",
    "v_align": "T",
    "padding": 1.2,
    "line_height": 4.4,
    "borders_layout": "HORIZONTAL_LINES",
    "headings_style": FontFace(emphasis="BOLD", fill_color=(228, 232, 238)),
}
_COLOURS = ((31, 119, 180), (230, 120, 20), (44, 150, 44), (200, 40, 40), (140, 90, 180))
_DASHES = ((0.0, 0.0), (2.5, 1.2), (0.7, 0.8), (4.0, 1.2), (1.6, 0.7))  # apart in grey print


class Sheet(FPDF):
    """A4 pages with a footer, set in the first font found, showing only what it can draw; the
    after-action report's, and any other document's (`kind` names it in the footer)."""

    def __init__(
        self, title: str, fonts: Sequence[FontFiles], kind: str = "After-action report"
    ) -> None:
        super().__init__(format="A4")
        self.face, self.drawable = "helvetica", _LATIN_1
        for regular, bold in fonts:
            if regular.is_file() and bold.is_file():
                self.add_font("body", "", regular)
                self.add_font("body", "B", bold)
                cmaps = [frozenset(f.cmap) for f in self.fonts.values() if isinstance(f, TTFFont)]
                self.face, self.drawable = "body", frozenset.intersection(*cmaps)
                break
        self.alias_nb_pages("")  # so that a "{nb}" typed by a user stays as typed
        # The footer of every page: what the document is, and of what.
        self.running_title = self.plain(f"{kind}: {title}").replace("\n", " ")[:90]
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=16)
        self.set_title(self.plain(title))
        self.set_creator("TrustBubble")

    def plain(self, text: object) -> str:
        """The text as it can be printed: a stand-in for every character the font lacks."""
        text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
        return "".join(
            c if c == "\n" or ord(c) in self.drawable else _STAND_INS.get(c, "?") for c in text
        )

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(self.face, "", 7.5)
        self.set_text_color(120)
        self.cell(self.epw - 20, 4, self.running_title)
        self.cell(20, 4, f"Page {self.page_no()}", align="R")

    def heading(self, text: str, level: int = 0) -> None:
        if self.will_page_break(28):  # not alone at the foot of a page
            self.add_page()
        self.start_section(self.plain(text), level)
        self.ln(3 if level else 5)
        self.set_font(self.face, "B", 11 if level else 14)
        self.set_text_color(20, 40, 80)
        self.multi_cell(0, 6 if level else 7, self.plain(text), align="L", new_x=XPos.LMARGIN)
        self.set_text_color(0)
        self.ln(1)

    def para(self, text: str, *, bold: bool = False, indent: float = 0, grey: bool = False) -> None:
        self.set_font(self.face, "B" if bold else "", 9.5)
        self.set_text_color(110 if grey else 0)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, 5, self.plain(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bullets(self, items: Sequence[str]) -> None:
        for item in items:
            self.set_font(self.face, "", 9.5)
            self.cell(5, 5, self.plain("•"))
            self.multi_cell(0, 5, self.plain(item), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if not items:
            self.para("None recorded.", grey=True)

    def field(self, label: str, value: str) -> None:
        self.set_font(self.face, "B", 9.5)
        self.cell(34, 5.5, self.plain(label))
        self.set_font(self.face, "", 9.5)
        self.multi_cell(0, 5.5, self.plain(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, widths: Sequence[float], rows: Sequence[Sequence[object]]) -> None:
        """A table, columns `widths` mm wide; its first row heads it on every page it runs onto."""
        self.set_font(self.face, "", 8.5)
        self.set_text_color(0)
        with self.table(col_widths=widths, width=sum(widths), **_TABLE) as table:
            for values in rows:
                row = table.row()
                for text in map(self.plain, values):
                    row.cell(text if len(text) <= _CELL_CHARS else text[:_CELL_CHARS] + "...")
        self.ln(2)

    def chart(
        self, title: str, points: Sequence[Mapping[str, int]], names: Sequence[str], end: int
    ) -> None:
        """Resources (0 to 100) by game minute to `end` or later, as steps: a value holds until
        it changes."""
        height, legend = 46.0, 5.0 * ((len(names) + 2) // 3)
        if self.will_page_break(height + legend + 20):
            self.add_page()
        self.ln(2)
        self.para(title, bold=True)
        left, top, width = self.l_margin + 9, self.get_y() + 3, self.epw - 11
        end = max(end, *(p["minute"] for p in points), 1)

        def at(minute: float, value: float) -> tuple[float, float]:
            return left + width * minute / end, top + height * (1 - max(0, min(value, 100)) / 100)

        self.set_font(self.face, "", 7)
        self.set_text_color(90)
        self.set_line_width(0.1)
        self.set_draw_color(200)
        for value in (0, 25, 50, 75, 100):
            self.line(*at(0, value), *at(end, value))
            self.text(left - 7, at(0, value)[1] + 1, str(value))
        step = next(s for s in (1, 2, 5, 10, 15, 30, 60, 120, 240, 480) if end / s <= 10)
        for minute in range(0, end + 1, step):
            x, y = at(minute, 0)
            self.line(x, y, x, y + 1)
            self.text(x - self.get_string_width(str(minute)) / 2, y + 4, str(minute))
        self.text(left + width - 16, top + height + 7.5, "game minute")
        self.set_line_width(0.55)
        for index, name in enumerate(names):
            self.set_draw_color(*_COLOURS[index % len(_COLOURS)])
            self.set_dash_pattern(*_DASHES[index % len(_DASHES)])
            steps = [at(points[0]["minute"], points[0][name])]
            for before, now in pairwise(points):
                steps += [at(now["minute"], before[name]), at(now["minute"], now[name])]
            self.polyline(steps if len(steps) > 1 else steps * 2)
            x, y = left + (index % 3) * self.epw / 3, top + height + 12 + (index // 3) * 5
            self.line(x, y, x + 9, y)
            self.set_dash_pattern()
            self.text(x + 11, y + 1, self.plain(_label(name)))
        self.set_line_width(0.2)
        self.set_draw_color(0)
        self.set_text_color(0)
        self.set_y(top + height + 10 + legend)


def _label(resource: str) -> str:
    return resource.replace("_", " ").capitalize()


def _norms(letters: Sequence[str]) -> str:
    return ", ".join(f"({n})" for n in letters) or "-"


def _alignment(by_norm: Mapping[str, int]) -> str:
    return ", ".join(f"({n}) {v:+d}" for n, v in sorted(by_norm.items())) or "none"


def _cover(sheet: Sheet, report: Mapping[str, Any]) -> None:
    scenario, day = report["scenario"], datetime.fromisoformat(report["created"])
    sheet.set_font(sheet.face, "B", 9)
    sheet.set_text_color(110)
    sheet.cell(0, 5, "AFTER-ACTION REPORT", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    sheet.set_font(sheet.face, "B", 19)
    sheet.set_text_color(20, 40, 80)
    sheet.multi_cell(0, 9, sheet.plain(report["title"]), align="L", new_x=XPos.LMARGIN)
    sheet.ln(3)
    sheet.set_text_color(0)
    sheet.field("Scenario", scenario["title"])
    sheet.field("Date", f"{day.day} {day:%B %Y}")
    sheet.field("Played", f"to minute {report['minute']} of {scenario['minutes']}")
    sheet.field("Ended", report["end_reason"] if report["ended"] else "not yet")
    sheet.field("Teams", ", ".join(team["name"] for team in report["teams"]))


def _teams(sheet: Sheet, report: Mapping[str, Any]) -> None:
    sheet.heading("Teams: resources and norm alignment")
    names = report["resources"]
    for team, over_time in zip(report["teams"], report["resources_over_time"], strict=True):
        sheet.heading(team["name"], level=1)
        first = over_time["points"][0]
        rows = [["Resource", "Start", "End", "Change"]]
        for name in names:
            start, end = first[name], team["resources"][name]
            rows.append([_label(name), start, end, f"{end - start:+d}"])
        sheet.grid((50, 20, 20, 20), rows)
        sheet.field("Norm alignment", f"{_alignment(team['alignment'])} (upheld minus strained)")
        title = f"{team['name']}: resources over the game"
        sheet.chart(title, over_time["points"], names, report["scenario"]["minutes"])


def _timeline_row(event: Mapping[str, Any], players: Mapping[str, str]) -> list[object]:
    if event["kind"] == "inject":
        to = ", ".join(event["roles"])
        return [event["minute"], f"Inject ({event['channel']}): {event['title']}", f"To {to}"]
    who = f"by {event['by']}" + (f" ({players[event['by']]})" if event["by"] in players else "")
    if event["defaulted"]:
        who = "by default: no answer before the deadline"
    said = f"“{event['choice']}”, {who}"
    if event["chance"]:
        said += "; the chance came true"
    if event["upholds"]:
        said += f"; upholds {_norms(event['upholds'])}"
    if event["strains"]:
        said += f"; strains {_norms(event['strains'])}"
    return [event["minute"], f"Decision: {event['prompt']}", said]


def _debrief_and_knowledge(sheet: Sheet, report: Mapping[str, Any]) -> None:
    sheet.heading("Debrief")
    for number, item in enumerate(report["debrief"], start=1):
        sheet.para(f"{number}. {item['question']}", bold=True)
        for answer in item["answers"]:
            role = f" ({answer['role']})" if answer["role"] else ""
            sheet.para(f"{answer['name']}{role}: {answer['answer']}", indent=5)
        if not item["answers"]:
            sheet.para("No answers.", indent=5, grey=True)
        sheet.ln(1.5)
    knowledge = report["knowledge"]
    phases = [(p, knowledge[p]) for p in ("before", "after") if knowledge[p]["answers"]]
    if phases:
        sheet.heading("Knowledge before and after")
        rows: list[list[object]] = [["Asked", "People", "Answers", "Correct", "Share correct"]]
        for phase, got in phases:
            share = f"{got['share']:.0%}" if got["share"] is not None else "-"
            rows.append([phase.capitalize(), got["people"], got["answers"], got["correct"], share])
        sheet.grid((25, 20, 20, 20, 25), rows)


def report_pdf(report: Mapping[str, Any], *, fonts: Sequence[FontFiles] = UNICODE_FONTS) -> bytes:
    """The after-action report as a PDF to hand out; `fonts` are (regular, bold) TTF files."""
    sheet = Sheet(str(report["title"]), fonts)
    sheet.add_page()
    _cover(sheet, report)
    sheet.heading("Objectives")
    scale = "; ".join(f"{rating.value}: {meaning}" for rating, meaning in RATINGS.items())
    sheet.para(f"Each objective is rated by how its norms were upheld. {scale}.", grey=True)
    rows: list[list[object]] = [["Objective", "Norms", "Rating", "Meaning"]]
    for objective in report["objectives"]:
        norms = _norms(objective["norms"])
        rows.append([objective["text"], norms, objective["rating"], objective["meaning"]])
    sheet.grid((88, 24, 16, 46), rows)
    _teams(sheet, report)
    sheet.heading("Roles")
    teams = {team["id"]: team["name"] for team in report["teams"]}
    rows = [["Role", "Team", "Played by", "Norm alignment"]]
    for role in report["roles"]:
        played = role["player"] or "nobody"
        rows.append([role["name"], teams[role["team"]], played, _alignment(role["alignment"])])
    sheet.grid((58, 28, 50, 38), rows)
    sheet.heading("Timeline")
    players = {role["name"]: role["player"] for role in report["roles"] if role["player"]}
    rows = [["Minute", "Inject or decision", "Choice"]]
    rows += [_timeline_row(event, players) for event in report["timeline"]]
    sheet.grid((16, 76, 82), rows)
    for heading, key in (("Strengths", "strengths"), ("Areas for improvement", "improvements")):
        sheet.heading(heading)
        sheet.bullets(report[key])
    _debrief_and_knowledge(sheet, report)
    return bytes(sheet.output())
