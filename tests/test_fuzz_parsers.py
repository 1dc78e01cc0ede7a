"""Hypothesis against every reader of what people and peers send: only our typed errors escape.

A reader given anything at all either returns a value or raises a `DomainError` (which the edges
turn into a 400 naming the field); anything else would be a 500 for a typo. The STIX checks and
the scenario reader have theirs in test_stix.py and test_exercises.py, the timestamps in
test_timestamps.py, the whole HTTP API in test_fuzz_api.py.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import scaled
from trustbubble.domain import consultations, federation, incidents, norms
from trustbubble.domain.errors import DomainError, Invalid
from trustbubble.domain.norms import CSV_HEADER, NORM_LETTERS
from trustbubble.domain.stix import check_object

SETTINGS = settings(
    max_examples=scaled(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text with what breaks readers: other digits (², ٣), line breaks Python splits on and others
# do not (\u2028, \x0b), NUL, brackets of IPv6 hosts, surrogate-free but far from ASCII.
AWKWARD = st.sampled_from(
    ["", " ", "\x00", "\u2028", "\x0b", "\r\n", "²", "٣", "1" * 5000, "http://[::1", "[", "a"]
)
TEXT = st.one_of(st.text(max_size=40), AWKWARD, st.text(alphabet="0123456789.-:TZ[]", max_size=30))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**53, max_value=2**70)
    | st.floats()
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def fields(names: list[str], values: st.SearchStrategy[Any] = JSON) -> st.SearchStrategy[Any]:
    """Objects with these keys (some of them), plus strays, with values of any kind."""
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(names, values))
    stray = st.dictionaries(TEXT, values, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, known, stray)


def mostly(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Values a reader expects three times in four, anything at all the fourth: deep enough
    into a reader to meet its later checks, wide enough to meet the first ones."""
    return st.one_of(values, values, values, JSON)


URLS = st.sampled_from(
    ["https://cert.example/a", "http://[::1", "http://[", "ftp://x", "https://", "http://a\uff0fb"]
)


def only_typed_errors(read: Any, *args: Any) -> Any:
    """What `read` returns, or None when it refused with one of our errors; else it raises."""
    try:
        return read(*args)
    except DomainError as error:
        refused = error
    assert refused.message, "an error says what is wrong"
    return None


# -- norms implementation reports: JSON, CSV and the form -----------------------------------

ENTRY_FIELDS = ["level", "measures", "challenges", "gaps", "evidence"]
LEVELS = st.sampled_from(["initial", "implemented", "leading", "Initial ", "nope"])
GUIDANCE = st.sampled_from(["g.1", "g.9", "a.1", "x"]) | TEXT
MEASURE = mostly(st.fixed_dictionaries({"text": TEXT}, optional={"guidance": st.lists(GUIDANCE)}))
EVIDENCE = mostly(st.fixed_dictionaries({"url": URLS | TEXT}, optional={"title": TEXT}) | URLS)
ENTRY_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "level": LEVELS,
    "measures": st.lists(MEASURE, max_size=3),
    "challenges": TEXT,
    "gaps": st.lists(TEXT, max_size=3),
    "evidence": st.lists(EVIDENCE, max_size=3),
}


def one_to_three_changed(
    valid: dict[str, Any], values: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """A valid input with one to three fields changed: each change meets the checks of its
    field, where junk everywhere would stop at the first check every time."""
    names = st.dictionaries(st.sampled_from(sorted(values)), st.none(), min_size=1, max_size=3)
    changes = names.flatmap(
        lambda chosen: st.fixed_dictionaries({n: mostly(values[n]) for n in chosen})
    )
    return st.builds(lambda changed: {**valid, **changed}, changes)


ENTRY = mostly(one_to_three_changed({"level": "initial"}, ENTRY_VALUES))
LETTER = st.sampled_from([*NORM_LETTERS, "G", " k ", "l", "", "aa"]) | TEXT


@SETTINGS
@given(mostly(st.dictionaries(st.sampled_from(NORM_LETTERS) | LETTER, ENTRY, max_size=3)))
def test_report_entries_from_json(data: Any) -> None:
    only_typed_errors(norms.read_entries, data)
    only_typed_errors(norms.read_document, {"entries": data})


@SETTINGS
@given(st.text(max_size=300))
def test_report_file_that_is_not_json(content: str) -> None:
    only_typed_errors(norms.read_json, content)


CSV_CELL = st.one_of(
    TEXT,
    LEVELS,
    st.sampled_from(["level", "measure", "challenge", "gap", "evidence", "g.1 g.2"]),
    st.just("LONG"),  # replaced by a cell past the csv module's limit of 128 KiB
)


@SETTINGS
@given(
    st.lists(st.lists(CSV_CELL, min_size=0, max_size=5), max_size=6),
    st.booleans(),
    st.sampled_from([",", ";", "\t"]),
)
def test_report_csv(rows: list[list[str]], header: bool, separator: str) -> None:
    lines = [",".join(CSV_HEADER)] if header else []
    for row in rows:
        lines.append(separator.join(f'"{c}"' if '"' not in c and "," in c else c for c in row))
    only_typed_errors(norms.read_csv, "\n".join(lines).replace("LONG", "x" * 131_073))


FORM_LINES = st.sampled_from(
    ["Hospitals designated [g.1, g.9]", "Plan [x]", "Law | http://[", "https://cert.example/a"]
)
FORM_VALUES = {
    f"{kind}_{letter}": (LEVELS if kind == "level" else TEXT | FORM_LINES)
    for kind in ENTRY_FIELDS
    for letter in "agk"
}


@SETTINGS
@given(one_to_three_changed({"level_g": "initial"}, FORM_VALUES))
def test_report_form(data: dict[str, Any]) -> None:
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    only_typed_errors(norms.read_form, form)


# -- incidents --------------------------------------------------------------------------------

MOMENTS = st.sampled_from(["2026-03-02", "2026-03-02T08:15", "9999-12-31T23:59:60Z"]) | TEXT
COUNTS = st.integers(min_value=0) | st.integers(min_value=2**53 - 2, max_value=2**70) | TEXT
REPORT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(["title", "description", "technical_impact", "suspected_actor"], TEXT),
    **dict.fromkeys(["started", "ended"], MOMENTS),
    "status": st.sampled_from(["suspected", "contained", "nope"]),
    "sectors": st.lists(st.sampled_from(["healthcare", "energy", "nope"])),
    "country": TEXT,
    "attack_type": st.sampled_from(["ransomware", "ddos", "nope"]),
    **dict.fromkeys(["patients_affected", "services_disrupted", "records_exposed"], COUNTS),
    **dict.fromkeys(["care_delayed", "care_diverted"], st.booleans() | TEXT),
    "downtime_hours": st.floats() | TEXT,
    "actor_confidence": st.integers(min_value=-5, max_value=200),
    "norms": st.lists(LETTER, max_size=3),
    "sources": st.lists(URLS | TEXT, max_size=3),
    "tlp": st.sampled_from(["red", "amber", "amber+strict", "clear", "nope"]),
    "recipients": st.lists(st.just("identity--11111111-1111-4111-8111-111111111111") | TEXT),
}
VALID_REPORT = {
    "title": "Ransomware",
    "started": "2026-03-02T08:15",
    "country": "FR",
    "attack_type": "ransomware",
    "tlp": "red",
}
REPORT = one_to_three_changed(VALID_REPORT, REPORT_VALUES)


@SETTINGS
@given(REPORT)
def test_incident_report(data: dict[str, Any]) -> None:
    report = only_typed_errors(incidents.read_report, data)
    if report is not None:  # what was read can be shared as STIX, and written as JSON
        obj = incidents.to_stix(
            report,
            object_id="incident--8da24be1-eee7-408e-ade3-fc618dfe6ef9",
            created="2026-03-02T08:15:00.000Z",
            modified="2026-03-02T08:15:00.000Z",
            author="identity--5c6c1a0e-8f34-4d6b-9a52-3f1e7b0d2c11",
        )
        assert check_object(obj, 0) == []
        orjson.dumps(obj)


# -- consultations ----------------------------------------------------------------------------

MARKDOWN = st.lists(
    st.one_of(
        st.sampled_from(["# Title", "## Part", "- item", "1. first", "> quote", "---", "```", ""]),
        TEXT,
    ),
    max_size=8,
).map("\n".join)


@SETTINGS
@given(MARKDOWN)
def test_draft_paragraphs(markdown: str) -> None:
    found = consultations.paragraphs(markdown)
    assert [p.number for p in found] == list(range(1, len(found) + 1))
    lines = "\n".join(re.split(r"\r\n?|\n", markdown))
    assert all(p.text and p.text in lines for p in found)
    only_typed_errors(consultations.read_markdown, markdown)


WORDS = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)
# Characters that end a line for str.splitlines() but not for Markdown: Word's line breaks.
INSIDE = st.sampled_from([" ", "\u2028", "\x0b", "\x0c", "\x1c", "\x85"])


@SETTINGS
@given(st.lists(st.lists(WORDS, min_size=1, max_size=4), min_size=1, max_size=4), INSIDE)
def test_every_paragraph_of_plain_text_is_found_whole(texts: list[list[str]], inside: str) -> None:
    written = [inside.join(words) for words in texts]
    found = consultations.paragraphs("\n\n".join(written))
    assert [p.text for p in found] == written


@SETTINGS
@given(
    fields(["paragraph", "stance", "text", "wording", "norms", "incident"]),
    st.integers(min_value=0, max_value=5),
)
def test_comment(data: dict[str, Any], paragraph_count: int) -> None:
    only_typed_errors(consultations.read_comment, data, paragraph_count)


@SETTINGS
@given(fields(["bubbles", "kinds", "public"]), JSON)
def test_audience_and_questions(audience: dict[str, Any], questions: Any) -> None:
    only_typed_errors(consultations.read_audience, audience)
    only_typed_errors(consultations.read_questions, questions)


# -- federation: what a peer node sends --------------------------------------------------------

KEY_TEXT = st.one_of(
    TEXT,
    st.builds(lambda b: "ed25519:" + base64.b64encode(b).decode(), st.binary(max_size=40)),
    st.builds(lambda t: "ed25519:" + t, TEXT),
)


@SETTINGS
@given(KEY_TEXT)
def test_node_key_text(value: str) -> None:
    only_typed_errors(federation.read_key, value)


@SETTINGS
@given(st.one_of(JSON, fields(["id", "name", "country", "public_key", "taxii"], KEY_TEXT | JSON)))
def test_peer_descriptor(data: Any) -> None:
    only_typed_errors(federation.Descriptor.read, data)


@SETTINGS
@given(fields(["origin_node", "author", "signature"], TEXT | JSON), JSON)
def test_provenance(provenance: dict[str, Any], other: Any) -> None:
    extension = federation.PROVENANCE_EXTENSION_ID
    for obj in ({"extensions": {extension: provenance}}, {"extensions": {extension: other}}):
        only_typed_errors(federation.provenance_of, obj)


def test_a_key_or_signature_beyond_ascii_is_refused_as_such() -> None:
    """Base64 of text beyond ASCII raised ValueError, not binascii.Error: it escaped."""
    signed = {
        "origin_node": f"{federation.NODE_PREFIX}x",
        "author": "identity--5c6c1a0e-8f34-4d6b-9a52-3f1e7b0d2c11",
        "signature": "é",
    }
    with pytest.raises(Invalid, match="base64"):
        federation.read_key("ed25519:é")
    with pytest.raises(Invalid, match="base64"):
        federation.provenance_of({"extensions": {federation.PROVENANCE_EXTENSION_ID: signed}})
