"""The 11 UN GGE 2015 norms (A/70/174, paragraph 13) with the 2021 guidance, and the national
implementation reports written against them (docs/norms.md).

The catalogue is data, `norms_catalogue.json` beside this module, read once and checked on load.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import Invalid, NotFound
from trustbubble.domain.fields import http_url, text
from trustbubble.domain.tlp import TLP2_MARKING_IDS, TlpLevel

NORM_LETTERS = "abcdefghijk"
NORM_EXTENSION_ID = "extension-definition--3f8b6c2d-9a41-4e7b-8c15-6d2e0f9a7b43"
NORM_REPORT_EXTENSION_ID = "extension-definition--b72e5a90-1c3f-4d86-9e24-7a5f3c8d1e62"
_CATALOGUE_FILE = Path(__file__).with_name("norms_catalogue.json")
# The project identity authors the catalogue's STIX notes (as it does the extension definitions).
_PROJECT_IDENTITY_ID = "identity--5c6c1a0e-8f34-4d6b-9a52-3f1e7b0d2c11"


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class GuidanceItem:
    id: str  # "g.1"
    measure: str
    source: str


@dataclass(frozen=True, slots=True)
class Norm:
    letter: str
    name: str
    paraphrase: str
    source: str
    guidance: tuple[GuidanceItem, ...]

    @property
    def label(self) -> str:
        return f"({self.letter}) {self.name}"


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: str
    published: str
    sources: tuple[Source, ...]
    norms: tuple[Norm, ...]

    def norm(self, letter: str) -> Norm:
        for norm in self.norms:
            if norm.letter == letter:
                return norm
        raise NotFound(f"no norm {letter!r}: the UN GGE norms are lettered a to k")

    def source(self, reference: str) -> Source:
        """The source a reference such as 'A/76/135, para. 45' points into."""
        return next(s for s in self.sources if reference.startswith(s.id))

    def sources_of(self, norm: Norm) -> list[Source]:
        """The sources a norm and its guidance cite."""
        cited = {norm.source, *(g.source for g in norm.guidance)}
        return [s for s in self.sources if any(c.startswith(s.id) for c in cited)]

    @property
    def guidance_ids(self) -> frozenset[str]:
        return frozenset(item.id for norm in self.norms for item in norm.guidance)


def _load(raw: Mapping[str, Any]) -> Catalogue:
    sources = tuple(Source(s["id"], s["title"], s["url"]) for s in raw["sources"])
    norms = tuple(
        Norm(
            n["letter"],
            n["name"],
            n["paraphrase"],
            n["source"],
            tuple(GuidanceItem(g["id"], g["measure"], g["source"]) for g in n["guidance"]),
        )
        for n in raw["norms"]
    )
    found = Catalogue(str(raw["version"]), str(raw["published"]), sources, norms)
    if "".join(n.letter for n in norms) != NORM_LETTERS:
        raise ValueError("the catalogue must hold the norms a to k, in order")
    known = tuple(s.id for s in sources)
    for norm in norms:
        references = [norm.source, *(g.source for g in norm.guidance)]
        if not all(r.startswith(known) for r in references):
            raise ValueError(f"norm {norm.letter}: a source reference names no listed source")
        if not norm.guidance or not all(g.id.startswith(f"{norm.letter}.") for g in norm.guidance):
            raise ValueError(f"norm {norm.letter}: guidance ids must start with {norm.letter}.")
    if len(found.guidance_ids) != sum(len(n.guidance) for n in norms):
        raise ValueError("guidance ids must be unique")
    return found


@cache
def catalogue() -> Catalogue:
    """The catalogue shipped with the package, read once."""
    return _load(json.loads(_CATALOGUE_FILE.read_text(encoding="utf-8")))


def norm_names() -> dict[str, str]:
    return {norm.letter: norm.name for norm in catalogue().norms}


# An attack on these sectors touches norms (f) and (g): critical infrastructure, health first.
CRITICAL_SECTORS = frozenset(
    {
        "healthcare",
        "pharmaceuticals",
        "government-emergency-services",
        "energy",
        "utilities",
        "infrastructure",
        "infrastructure-water",
        "infrastructure-dams",
        "infrastructure-nuclear",
        "telecommunications",
        "communications",
        "transportation",
        "financial-services",
        "chemical",
    }
)


def suggested_norms(
    sectors: Sequence[str], attack_type: str | None, unanswered_request: bool
) -> frozenset[str]:
    """The norms an incident touches by what it is, beyond those its reporter named.

    `store/incidents.py` asks the same in SQL for a norm's page; a test holds the two together.
    """
    found = set()
    if CRITICAL_SECTORS.intersection(sectors):
        found |= {"f", "g"}
    if attack_type == "supply-chain":
        found.add("i")
    if unanswered_request:
        found.add("h")
    return frozenset(found)


def read_letter(value: str, field: str = "norm") -> str:
    letter = value.strip().lower()
    if len(letter) != 1 or letter not in NORM_LETTERS:
        raise Invalid(field, f"{value!r} is not a UN GGE norm letter (a to k)")
    return letter


# -- reports ---------------------------------------------------------------------------------


class Level(StrEnum):
    NOT_STARTED = "not-started"
    INITIAL = "initial"
    IN_PROGRESS = "in-progress"
    IMPLEMENTED = "implemented"
    LEADING = "leading"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def implements(self) -> bool:
        return self.rank >= Level.IMPLEMENTED.rank


class Visibility(StrEnum):
    PRIVATE = "private"
    BUBBLES = "bubbles"
    PUBLIC = "public"


class ReportState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


@dataclass(frozen=True, slots=True)
class Measure:
    text: str
    guidance: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Entry:
    """What a state reports on one norm."""

    letter: str
    level: Level
    measures: tuple[Measure, ...] = ()
    challenges: str = ""
    gaps: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


_MOST_ITEMS = 50


def _items(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(where, "must be a list")
    if len(value) > _MOST_ITEMS:
        raise Invalid(where, f"has {len(value)} items; at most {_MOST_ITEMS}")
    return value


def _measure(value: Any, letter: str, where: str) -> Measure:
    if isinstance(value, str):
        value = {"text": value}
    if not isinstance(value, Mapping):
        raise Invalid(where, "must be an object with text and guidance")
    guidance = []
    for index, item in enumerate(_items(value.get("guidance"), f"{where}.guidance")):
        spot = f"{where}.guidance[{index}]"
        if not isinstance(item, str):
            raise Invalid(spot, "must be a guidance id such as g.1")
        item = item.strip().lower()
        if item not in catalogue().guidance_ids:
            raise Invalid(spot, f"{item!r} is not a guidance item of the catalogue")
        if not item.startswith(f"{letter}."):
            raise Invalid(spot, f"{item!r} is guidance of norm {item[0]}, not of norm {letter}")
        guidance.append(item)
    return Measure(text(value, "text", 2000, required=True), tuple(dict.fromkeys(guidance)))


def _evidence(value: Any, where: str) -> Evidence:
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, Mapping):
        raise Invalid(where, "must be an object with title and url")
    url = text(value, "url", 2000, required=True)
    http_url(url, f"{where}.url")
    return Evidence(text(value, "title", 300) or url, url)


def _with_place(where: str, read: Any, *args: Any) -> Any:
    """Run a reader, putting `where` in front of the field its error names."""
    try:
        return read(*args)
    except Invalid as error:
        raise Invalid(f"{where}.{error.field}" if error.field else where, error.reason) from None


def read_entry(letter: str, data: Any) -> Entry:
    where = f"entries.{letter}"
    if not isinstance(data, Mapping):
        raise Invalid(where, "must be an object with level, measures, challenges, gaps, evidence")
    level_text = _with_place(where, text, data, "level", 20, True)
    level = _with_place(where, parse_choice, Level, level_text, "level", "level")
    gaps = []
    for index, gap in enumerate(_items(data.get("gaps"), f"{where}.gaps")):
        if not isinstance(gap, str):
            raise Invalid(f"{where}.gaps[{index}]", "must be text")
        if len(gap.strip()) > 300:
            raise Invalid(f"{where}.gaps[{index}]", "is longer than 300 characters")
        if gap.strip():
            gaps.append(gap.strip())
    return Entry(
        letter,
        level,
        tuple(
            _measure(m, letter, f"{where}.measures[{i}]")
            for i, m in enumerate(_items(data.get("measures"), f"{where}.measures"))
        ),
        _with_place(where, text, data, "challenges", 5000),
        tuple(gaps),
        tuple(
            _evidence(e, f"{where}.evidence[{i}]")
            for i, e in enumerate(_items(data.get("evidence"), f"{where}.evidence"))
        ),
    )


def read_entries(data: Any) -> tuple[Entry, ...]:
    """A report's entries from JSON: an object of norm letters, each with its entry."""
    if not isinstance(data, Mapping):
        raise Invalid("entries", "must be an object whose keys are norm letters (a to k)")
    entries = {}
    for key, value in data.items():
        letter = read_letter(str(key), f"entries.{key}")
        entries[letter] = read_entry(letter, value)
    return tuple(entries[letter] for letter in sorted(entries))


def read_document(body: Any) -> tuple[Entry, ...]:
    """Entries from JSON: the entries object itself, or a whole report as the API serves it."""
    if isinstance(body, Mapping) and isinstance(body.get("entries"), Mapping):
        body = body["entries"]
    return read_entries(body)


def read_json(content: str, field: str = "file") -> tuple[Entry, ...]:
    try:
        body = json.loads(content)
    except json.JSONDecodeError as error:
        raise Invalid(
            field, f"is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    return read_document(body)


def entries_json(entries: Sequence[Entry]) -> dict[str, Any]:
    """The entries as the JSON that `read_entries` reads back."""
    return {
        e.letter: {
            "level": e.level.value,
            "measures": [{"text": m.text, "guidance": list(m.guidance)} for m in e.measures],
            "challenges": e.challenges,
            "gaps": list(e.gaps),
            "evidence": [{"title": v.title, "url": v.url} for v in e.evidence],
        }
        for e in entries
    }


CSV_HEADER = ("norm", "kind", "text", "reference")
_CSV_KINDS = ("level", "measure", "challenge", "gap", "evidence")


def entries_csv(entries: Sequence[Entry]) -> str:
    """The entries in long form, one line per fact (docs/norms.md)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for e in entries:
        writer.writerow((e.letter, "level", e.level.value, ""))
        for m in e.measures:
            writer.writerow((e.letter, "measure", m.text, " ".join(m.guidance)))
        if e.challenges:
            writer.writerow((e.letter, "challenge", e.challenges, ""))
        for gap in e.gaps:
            writer.writerow((e.letter, "gap", gap, ""))
        for v in e.evidence:
            writer.writerow((e.letter, "evidence", v.title, v.url))
    return out.getvalue()


def read_csv(content: str) -> tuple[Entry, ...]:
    """Entries from the long CSV form; an error names the line."""
    reader = csv.reader(io.StringIO(content))
    try:
        rows = list(reader)
    except csv.Error as error:  # a cell past the csv module's limit of 128 KiB
        raise Invalid(f"line {reader.line_num}", f"cannot be read ({error})") from None
    if not rows or tuple(c.strip().lower() for c in rows[0]) != CSV_HEADER:
        raise Invalid("line 1", f"the header must be {','.join(CSV_HEADER)}")
    found: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            raise Invalid(f"line {number}", f"has {len(row)} cells; expected {len(CSV_HEADER)}")
        norm, kind, value, reference = (cell.strip() for cell in row)
        letter = read_letter(norm, f"line {number}")
        entry = found.setdefault(letter, {"measures": [], "gaps": [], "evidence": []})
        kind = kind.lower()
        if kind == "level":
            entry["level"] = value
        elif kind == "measure":
            entry["measures"].append({"text": value, "guidance": reference.split()})
        elif kind == "challenge":
            entry["challenges"] = "\n".join(filter(None, [entry.get("challenges", ""), value]))
        elif kind == "gap":
            entry["gaps"].append(value)
        elif kind == "evidence":
            entry["evidence"].append({"title": value, "url": reference})
        else:
            raise Invalid(f"line {number}", f"kind {kind!r} is not one of {', '.join(_CSV_KINDS)}")
    for letter, entry in found.items():
        if "level" not in entry:
            raise Invalid(f"entries.{letter}", "has no level line")
    return read_entries(found)


_TAGGED = re.compile(r"^(?P<text>.*?)\s*\[(?P<ids>[^\]]*)\]\s*$")


def read_form(data: Mapping[str, str]) -> tuple[Entry, ...]:
    """Entries from the report form: per norm `level_g`, and one item per line in `measures_g`
    (ending with the guidance ids in brackets, as in "Hospitals designated [g.1]"),
    `challenges_g`, `gaps_g` and `evidence_g` ("title | https://..." or only the address).
    A norm whose level is left empty is not reported."""
    found: dict[str, dict[str, Any]] = {}
    for letter in NORM_LETTERS:
        level = (data.get(f"level_{letter}") or "").strip()
        if not level:
            continue
        measures = []
        for line in _lines(data.get(f"measures_{letter}")):
            tagged = _TAGGED.match(line)
            if tagged:
                ids = tagged["ids"].replace(",", " ").split()
                measures.append({"text": tagged["text"], "guidance": ids})
            else:
                measures.append({"text": line, "guidance": []})
        evidence = []
        for line in _lines(data.get(f"evidence_{letter}")):
            title, _bar, url = line.rpartition("|")
            evidence.append({"title": title.strip(), "url": url.strip()})
        found[letter] = {
            "level": level,
            "measures": measures,
            "challenges": data.get(f"challenges_{letter}") or "",
            "gaps": _lines(data.get(f"gaps_{letter}")),
            "evidence": evidence,
        }
    return read_entries(found)


def _lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def form_values(entries: Sequence[Entry]) -> dict[str, str]:
    """The report form's fields for these entries: what `read_form` reads back."""
    values: dict[str, str] = {}
    for e in entries:
        values[f"level_{e.letter}"] = e.level.value
        values[f"measures_{e.letter}"] = "\n".join(
            m.text + (f" [{' '.join(m.guidance)}]" if m.guidance else "") for m in e.measures
        )
        values[f"challenges_{e.letter}"] = e.challenges
        values[f"gaps_{e.letter}"] = "\n".join(e.gaps)
        values[f"evidence_{e.letter}"] = "\n".join(f"{v.title} | {v.url}" for v in e.evidence)
    return values


# -- STIX -----------------------------------------------------------------------------------


def norm_note(norm: Norm, book: Catalogue) -> dict[str, Any]:
    """A norm of the catalogue as a CLEAR STIX note of the project, with our norm extension."""
    references = [{"source_name": norm.source, "url": book.source(norm.source).url}]
    for item in norm.guidance:
        source = book.source(item.source)
        references.append({"source_name": item.source, "url": source.url})
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": norm_note_id(norm.letter),
        "created_by_ref": _PROJECT_IDENTITY_ID,
        "created": "2026-11-27T00:00:00.000Z",
        "modified": f"{book.published}T00:00:00.000Z",
        "abstract": norm.label,
        "content": norm.paraphrase,
        "object_refs": [_PROJECT_IDENTITY_ID],
        "external_references": list({r["source_name"]: r for r in references}.values()),
        "object_marking_refs": [TLP2_MARKING_IDS[TlpLevel.CLEAR]],
        "extensions": {
            NORM_EXTENSION_ID: {
                "extension_type": "property-extension",
                "letter": norm.letter,
                "name": norm.name,
                "catalogue_version": book.version,
                "guidance": [
                    {"id": g.id, "measure": g.measure, "source": g.source} for g in norm.guidance
                ],
            }
        },
    }


def norm_note_id(letter: str) -> str:
    return f"note--6e0a7c55-3b2f-4d1e-9a8c-{NORM_LETTERS.index(letter) + 1:012d}"


@dataclass(frozen=True, slots=True)
class ReportHeading:
    """What names a revision: whose, which year, which revision, when."""

    stix_id: str
    country: str
    year: int
    revision: int
    keeper_identity: str
    keeper_name: str
    catalogue_version: str
    created: str  # STIX timestamps
    submitted: str


def report_to_stix(
    heading: ReportHeading, entries: Sequence[Entry], tlp: TlpLevel
) -> dict[str, Any]:
    """A submitted revision as a version of the state's STIX report for the year."""
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": heading.stix_id,
        "created_by_ref": heading.keeper_identity,
        "created": heading.created,
        "modified": heading.submitted,
        "published": heading.submitted,
        "name": (
            f"National implementation of the UN GGE norms: {heading.country} {heading.year}"
            f" (revision {heading.revision})"
        ),
        "description": f"Submitted by {heading.keeper_name}.",
        "report_types": ["norms-implementation"],
        "object_refs": [heading.keeper_identity, *(norm_note_id(e.letter) for e in entries)],
        "object_marking_refs": [TLP2_MARKING_IDS[tlp]],
        "extensions": {
            NORM_REPORT_EXTENSION_ID: {
                "extension_type": "property-extension",
                "country": heading.country,
                "year": heading.year,
                "revision": heading.revision,
                "catalogue_version": heading.catalogue_version,
                "entries": entries_json(entries),
            }
        },
    }
