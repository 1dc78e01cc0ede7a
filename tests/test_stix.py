"""Tests of the STIX 2.1 object checks, read the way a person reading the messages would."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import scaled
from trustbubble.domain.incidents import read_report, to_stix
from trustbubble.domain.stix import (
    Problem,
    check_object,
    inspect_object,
    object_version,
    object_version_us,
    parse_timestamp,
)
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services.objects import StatusDetail, prepare, version_label


def _shared_dir() -> Path:
    override = os.environ.get("TRUSTBUBBLE_SHARED_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared"


EXAMPLES = _shared_dir() / "data" / "stix21-examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []

INDICATOR_ID = "indicator--33fe3b22-0201-47cf-85d0-97c02164528d"
IDENTITY_ID = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
MALWARE_ID = "malware--16f4f3f9-1b68-4abb-bb66-7639d49f1e30"
TLP_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
EXTENSION_ID = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
SCO_UUID = "ff26c055-6336-5bc5-b98d-13d6226742dd"


def indicator(**changes: Any) -> dict[str, Any]:
    """A valid indicator; a change to None removes that property."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": INDICATOR_ID,
        "created": "2014-05-08T09:00:00.000Z",
        "modified": "2014-05-08T09:00:00.000Z",
        "name": "IP Address for known C2 channel",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '10.0.0.0']",
        "pattern_type": "stix",
        "valid_from": "2014-05-08T09:00:00.000000Z",
    }
    obj.update(changes)
    return {key: value for key, value in obj.items() if value is not None}


def sdo(object_type: str, **props: Any) -> dict[str, Any]:
    """A valid-looking object of `object_type` with the common properties of an SDO."""
    return {
        "type": object_type,
        "spec_version": "2.1",
        "id": f"{object_type}--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z",
        "modified": "2016-04-06T20:03:48.000Z",
        **props,
    }


def messages(problems: list[Problem]) -> list[str]:
    return [problem.message() for problem in problems]


# --- the shared examples -------------------------------------------------------------------------


def _objects_of(document: Any) -> list[Any]:
    if isinstance(document, dict) and document.get("type") == "bundle":
        return list(document.get("objects", []))
    return [document]


@pytest.mark.parametrize(
    "path", EXAMPLE_FILES or [None], ids=lambda path: path.name if path else "absent"
)
def test_every_object_of_the_example_bundles_is_valid(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"no STIX 2.1 examples at {EXAMPLES} (set TRUSTBUBBLE_SHARED_DIR)")
    objects = _objects_of(json.loads(path.read_text(encoding="utf-8")))
    assert objects
    found = [m for i, obj in enumerate(objects) for m in messages(check_object(obj, i))]
    assert found == []


VALID_OBJECTS: list[Any] = [
    sdo("malware", name="Poison Ivy", is_family=True, first_seen="2016-04-06T20:03:48Z"),
    sdo("malware", is_family=False),
    sdo("location", region="northern-europe"),
    sdo("location", latitude=48.8566, longitude=2.3522, precision=1000.0),
    sdo("report", name="r", published="2016-04-06T20:03:48Z", object_refs=[INDICATOR_ID]),
    sdo("opinion", opinion="agree", object_refs=[INDICATOR_ID]),
    sdo(
        "observed-data",
        first_observed="2016-04-06T19:58:16Z",
        last_observed="2016-04-06T19:58:16Z",
        number_observed=50,
        object_refs=["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8"],
    ),
    sdo(
        "sighting",
        sighting_of_ref=INDICATOR_ID,
        count=0,
        where_sighted_refs=[IDENTITY_ID],
        first_seen="2016-04-06T19:58:16Z",
        last_seen="2016-04-06T19:58:16Z",
    ),
    sdo("relationship", relationship_type="uses", source_ref=MALWARE_ID, target_ref=INDICATOR_ID),
    {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_RED,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": "TLP:RED",
        "definition": {"tlp": "red"},
    },
    {  # TLP 2.0 carried by an extension instead of definition_type / definition
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:CLEAR",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "clear",
            }
        },
    },
    sdo(
        "extension-definition",
        created_by_ref=IDENTITY_ID,
        name="x",
        schema="https://example.org/schema.json",
        version="1.0.0",
        extension_types=["new-sco"],
    ),
    sdo(
        "language-content",
        object_ref=INDICATOR_ID,
        object_modified="2014-05-08T09:00:00.000Z",
        contents={"de": {"name": "Bekannter C2-Kanal"}},
    ),
    {
        "type": "ipv4-addr",
        "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
        "value": "10.0.0.0/8",
    },
    {
        "type": "ipv6-addr",
        "id": "ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1",
        "value": "2001:db8::1",
    },
    {
        "type": "mac-addr",
        "id": "mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00",
        "value": "00:00:5e:00:53:af",
    },
    {
        "type": "file",
        "spec_version": "2.1",
        "id": "file--c7d1e135-8b34-549a-bb47-302f5cf998ed",
        "hashes": {"SHA-256": "fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"},
        "extensions": {"archive-ext": {"contains_refs": [f"file--{SCO_UUID}"]}},
    },
    {
        "type": "network-traffic",
        "id": "network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d",
        "src_ref": "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53",
        "protocols": ["tcp"],
        "src_port": 443,
        "is_active": True,
    },
    {"type": "process", "id": "process--f52a906a-0dfc-40bd-92f1-e7778ead38a9", "pid": 1221},
    {  # a custom SCO, declared as one by its extension definition
        "type": "x-acme-sensor",
        "id": "x-acme-sensor--ff26c055-6336-5bc5-b98d-13d6226742dd",
        "extensions": {EXTENSION_ID: {"extension_type": "new-sco"}},
        "x_reading": 3,
    },
    sdo("x-acme-campaign-plan", x_steps=["a", "b"]),
]


@pytest.mark.parametrize("obj", VALID_OBJECTS, ids=lambda obj: str(obj["type"]))
def test_valid_objects_of_many_types_have_no_problems(obj: Any) -> None:
    assert messages(check_object(obj, 0)) == []


# --- one rule broken at a time -------------------------------------------------------------------

BAD_OBJECTS: list[tuple[str, Any, str, str]] = [
    ("missing id", indicator(id=None), "id", "missing required property 'id'"),
    (
        "id of another type",
        indicator(id=MALWARE_ID),
        "id",
        f"{MALWARE_ID} does not match type 'indicator'",
    ),
    (
        "id without a UUID",
        indicator(id="indicator--1234"),
        "id",
        '"indicator--1234" does not end in a UUID',
    ),
    (
        "id with a UUID of the wrong variant",
        indicator(id="indicator--33fe3b22-0201-47cf-c5d0-97c02164528d"),
        "id",
        "is not RFC 4122",
    ),
    ("id not a string", indicator(id=7), "id", "must be a STIX id like indicator--<UUID>"),
    ("missing type", indicator(type=None), "type", "missing required property 'type'"),
    ("type with capitals", indicator(type="Indicator"), "type", '"Indicator" is not a type name'),
    (
        "timestamp without Z",
        indicator(created="2014-05-08T09:00:00.000"),
        "created",
        '"2014-05-08T09:00:00.000" is not a STIX timestamp like 2016-04-06T20:03:48.000Z',
    ),
    (
        "timestamp on a day that does not exist",
        indicator(valid_from="2014-02-30T09:00:00Z"),
        "valid_from",
        '"2014-02-30T09:00:00Z" is not a real date and time',
    ),
    (
        "created in whole seconds",
        indicator(created="2014-05-08T09:00:00Z"),
        "created",
        "must give at least milliseconds",
    ),
    (
        "modified before created",
        indicator(modified="2014-05-08T08:59:59.999Z"),
        "modified",
        "is before created (2014-05-08T09:00:00.000Z)",
    ),
    (
        "valid_until not after valid_from",
        indicator(valid_until="2014-05-08T09:00:00Z"),
        "valid_until",
        "must be later than valid_from (2014-05-08T09:00:00.000000Z)",
    ),
    (
        "spec_version 2.0",
        indicator(spec_version="2.0"),
        "spec_version",
        'must be "2.1" (got "2.0")',
    ),
    (
        "spec_version missing",
        indicator(spec_version=None),
        "spec_version",
        "missing required property 'spec_version'",
    ),
    (
        "custom type without versioning",
        {"type": "x-acme-thing", "id": "x-acme-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"},
        "created",
        "missing required property 'created'",
    ),
    ("indicator without pattern", indicator(pattern=None), "pattern", "missing required property"),
    (
        "relationship without source_ref",
        sdo("relationship", relationship_type="uses", target_ref=MALWARE_ID),
        "source_ref",
        "missing required property 'source_ref'",
    ),
    (
        "relationship to a relationship",
        sdo(
            "relationship",
            relationship_type="related-to",
            source_ref=MALWARE_ID,
            target_ref="relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        ),
        "target_ref",
        "cannot refer to a relationship",
    ),
    ("bad ref", indicator(x_seen_by_ref="identity-f431f809"), "x_seen_by_ref", "is not a STIX id"),
    (
        "bad id in a ref list",
        indicator(object_marking_refs=[TLP_RED, "marking-definition--nope"]),
        "object_marking_refs[1]",
        "does not end in a UUID",
    ),
    (
        "created_by_ref to a malware",
        indicator(created_by_ref=MALWARE_ID),
        "created_by_ref",
        'must be an id of type identity (got "malware--16f4f3f9-1b68-4abb-bb66-7639d49f1e30")',
    ),
    (
        "confidence 101",
        indicator(confidence=101),
        "confidence",
        "must be between 0 and 100 (got 101)",
    ),
    ("confidence as text", indicator(confidence="high"), "confidence", "must be a whole number"),
    ("revoked as text", indicator(revoked="no"), "revoked", "must be true or false, not a string"),
    ("labels empty", indicator(labels=[]), "labels", "must not be an empty list"),
    (
        "external reference without source_name",
        indicator(external_references=[{"source_name": "a", "url": "u"}, {"url": "u"}]),
        "external_references[1].source_name",
        "missing required property 'source_name'",
    ),
    (
        "granular marking without selectors",
        indicator(granular_markings=[{"marking_ref": TLP_RED}]),
        "granular_markings[0].selectors",
        "missing required property 'selectors'",
    ),
    (
        "unknown extension type",
        indicator(extensions={EXTENSION_ID: {"extension_type": "new-thing"}}),
        f"extensions.{EXTENSION_ID}.extension_type",
        "must be one of new-sdo, new-sco, new-sro, property-extension,"
        ' toplevel-property-extension (got "new-thing")',
    ),
    (
        "extension of another type",
        indicator(extensions={"archive-ext": {"contains_refs": [INDICATOR_ID]}}),
        "extensions.archive-ext",
        "is an extension of file objects, not indicator",
    ),
    (
        "malware family without name",
        sdo("malware", is_family=True),
        "name",
        "required when is_family is true",
    ),
    (
        "opinion outside its vocabulary",
        sdo("opinion", opinion="meh", object_refs=[INDICATOR_ID]),
        "opinion",
        'must be one of strongly-disagree, disagree, neutral, agree, strongly-agree (got "meh")',
    ),
    (
        "observed-data seen a billion times",
        sdo(
            "observed-data",
            first_observed="2016-04-06T19:58:16Z",
            last_observed="2016-04-06T19:58:16Z",
            number_observed=1_000_000_000,
            object_refs=["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8"],
        ),
        "number_observed",
        "must be between 1 and 999999999",
    ),
    ("location without a place", sdo("location", latitude=1.5), "", "needs region, country"),
    (
        "ipv4-addr out of range",
        {
            "type": "ipv4-addr",
            "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
            "value": "10.0.0.256",
        },
        "value",
        'must be an IPv4 address or CIDR block (got "10.0.0.256")',
    ),
    (
        "SCO with spec_version 2.0",
        {
            "type": "url",
            "spec_version": "2.0",
            "id": "url--c1477287-23ac-5971-a010-5c287877fa60",
            "value": "u",
        },
        "spec_version",
        'must be "2.1" (got "2.0")',
    ),
    (
        "file without hashes or name",
        {"type": "file", "id": "file--c7d1e135-8b34-549a-bb47-302f5cf998ed", "size": 3},
        "",
        "needs hashes or name",
    ),
    ("a list instead of an object", ["indicator"], "", "must be a JSON object, not a list"),
    ("null instead of an object", None, "", "must be a JSON object, not null"),
]


@pytest.mark.parametrize(
    ("obj", "path", "reason"),
    [case[1:] for case in BAD_OBJECTS],
    ids=[case[0] for case in BAD_OBJECTS],
)
def test_each_broken_rule_is_reported_with_its_path_and_reason(
    obj: Any, path: str, reason: str
) -> None:
    problems = check_object(obj, 3)
    matching = [p for p in problems if p.path == path and reason in p.reason]
    assert matching, messages(problems)
    message = matching[0].message()
    assert message.startswith("object 3")
    assert reason in (message.split(f": {path}: ", 1)[1] if path else message)


def test_message_names_the_object_by_index_and_id() -> None:
    (problem,) = check_object(indicator(modified="2014-05-07T09:00:00.000Z"), 3)
    assert problem == Problem(
        3, INDICATOR_ID, "modified", "is before created (2014-05-08T09:00:00.000Z)"
    )
    assert problem.message() == (
        f"object 3 ({INDICATOR_ID}): modified: is before created (2014-05-08T09:00:00.000Z)"
    )


def test_message_without_a_usable_id_or_path() -> None:
    (problem,) = check_object("indicator", 0)
    assert problem.message() == "object 0: must be a JSON object, not a string"


def test_every_problem_of_an_object_is_reported() -> None:
    obj = indicator(
        id=MALWARE_ID,
        spec_version="2.0",
        modified="2014-05-07T09:00:00.000Z",
        pattern=None,
        confidence=101,
    )
    assert messages(check_object(obj, 1)) == [
        f"object 1 ({MALWARE_ID}): id: {MALWARE_ID} does not match type 'indicator'",
        f"object 1 ({MALWARE_ID}): pattern: missing required property 'pattern'",
        f'object 1 ({MALWARE_ID}): spec_version: must be "2.1" (got "2.0")',
        f"object 1 ({MALWARE_ID}): confidence: must be between 0 and 100 (got 101)",
        f"object 1 ({MALWARE_ID}): modified: is before created (2014-05-08T09:00:00.000Z)",
    ]


def test_custom_type_names_each_missing_versioning_property() -> None:
    obj = {"type": "x-acme-thing", "id": "x-acme-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}
    assert [(p.path, p.reason) for p in check_object(obj, 0)] == [
        ("spec_version", "missing required property 'spec_version'"),
        ("created", "missing required property 'created'"),
        ("modified", "missing required property 'modified'"),
    ]


def test_custom_properties_are_allowed() -> None:
    assert check_object(indicator(x_acme_score=7, x_acme_tags={"a": 1}), 0) == []


def test_a_huge_id_is_not_repeated_in_every_message() -> None:
    obj = indicator(id="indicator--" + "a" * 1000)
    assert all(problem.object_id is None for problem in check_object(obj, 0))


# --- versions and robustness ---------------------------------------------------------------------


def test_object_version_is_modified_then_created_then_none() -> None:
    assert object_version(indicator(modified="2015-01-01T00:00:00.000Z")) == (
        "2015-01-01T00:00:00.000Z"
    )
    assert object_version({"created": "2017-01-20T00:00:00.000Z"}) == "2017-01-20T00:00:00.000Z"
    assert object_version({"type": "ipv4-addr", "value": "10.0.0.1"}) is None


def test_inspect_object_hands_back_the_timestamps_it_parsed() -> None:
    obj = indicator(modified="2015-01-01T00:00:00.123456Z")
    problems, times = inspect_object(obj, 0)
    assert problems == []
    assert times["modified"] == parse_timestamp("2015-01-01T00:00:00.123456Z")
    assert times["valid_from"] == parse_timestamp(obj["valid_from"])
    assert object_version_us(obj, times) == times["modified"]
    assert inspect_object("indicator", 0)[0] == check_object("indicator", 0)


def test_object_version_us_parses_what_the_checks_did_not() -> None:
    # An SCO does not define `created`: the checks leave it alone, the version still reads it.
    sco = {"type": "ipv4-addr", "id": f"ipv4-addr--{SCO_UUID}", "value": "10.0.0.1"}
    assert object_version_us(sco, {}) == 0
    sco["created"] = "2017-01-20T00:00:00.000Z"
    assert object_version_us(sco, inspect_object(sco, 0)[1]) == parse_timestamp(sco["created"])
    assert object_version_us({"modified": "", "created": "2017-01-20T00:00:00.000Z"}, {}) == 0


STIX_KEYS = st.sampled_from(
    [
        "type",
        "id",
        "created",
        "modified",
        "spec_version",
        "extensions",
        "granular_markings",
        "external_references",
        "object_refs",
        "source_ref",
        "value",
        "is_multipart",
        "latitude",
        "x_custom",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(STIX_KEYS | st.text(), inner),
    max_leaves=20,
)
TYPES = st.sampled_from(["indicator", "file", "marking-definition", "x-custom", "network-traffic"])


@given(JSON_VALUES, TYPES, st.dictionaries(STIX_KEYS, JSON_VALUES, max_size=6))
def test_check_object_never_raises(anything: Any, object_type: str, props: dict[str, Any]) -> None:
    for obj in (anything, {"type": object_type, **props}):
        for problem in check_object(obj, 5):
            assert problem.index == 5
            assert problem.message().startswith("object 5")


# --- what an envelope's objects become: services/objects.prepare -------------------------------

INCIDENT = to_stix(
    read_report(
        {
            "title": "Ransomware",
            "started": "2026-03-02T08:15",
            "country": "FR",
            "attack_type": "ransomware",
            "patients_affected": 12,
            "tlp": "red",
            "recipients": [IDENTITY_ID],
        }
    ),
    object_id="incident--8da24be1-eee7-408e-ade3-fc618dfe6ef9",
    created="2026-03-02T08:15:00.000Z",
    modified="2026-03-02T08:15:00.000Z",
    author=IDENTITY_ID,
)
VALID = [
    indicator(),
    INCIDENT,
    sdo("malware", name="LockBit", is_family=True),
    sdo("relationship", relationship_type="uses", source_ref=INDICATOR_ID, target_ref=MALWARE_ID),
    {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": f"ipv4-addr--{SCO_UUID}",
        "value": "10.0.0.1",
    },
    {
        "type": "file",
        "spec_version": "2.1",
        "id": f"file--{SCO_UUID}",
        "hashes": {"SHA-256": "a" * 64},
        "name": "payload.exe",
    },
]
# Values with a history of breaking readers: the edges of timestamps and integers (past 64 bits
# orjson reads a float, as the node does), refs and markings of every shape.
EDGES = st.sampled_from(
    [
        "9999-12-31T23:59:60Z",
        "0001-01-01T00:00:00Z",
        "2016-02-30T00:00:00Z",
        2**63,
        2**64 + 1,
        -(2**63) - 1,
        TLP_RED,
        [TLP_RED, TLP_RED],
        {"marking_ref": TLP_RED, "selectors": ["name"]},
        "[ipv4-addr:value = '10.0.0.1'] AND [file:hashes.'SHA-256' = 'x']",
    ]
)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | EDGES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(STIX_KEYS | st.text(), inner),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid object with one to three values changed, maybe deep inside it."""
    obj = json.loads(json.dumps(draw(st.sampled_from(VALID))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        place = obj
        while True:
            key = draw(st.sampled_from(sorted(place)) | STIX_KEYS | st.text(max_size=8))
            inner = place.get(key)
            if isinstance(inner, dict) and inner and draw(st.booleans()):
                place = inner
                continue
            if draw(st.integers(min_value=0, max_value=5)) == 0:
                place.pop(key, None)
            else:
                place[key] = draw(VALUES)
            break
    return orjson.loads(json.dumps(obj))  # as the node reads a body


@settings(max_examples=scaled(500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(list(TlpLevel)))
def test_prepare_stores_or_refuses_any_object_and_never_raises(
    obj: Any, default_tlp: TlpLevel
) -> None:
    """What POST .../objects/ does with each object: stored as it came, or a failure naming it."""
    prepared = prepare(obj, 3, default_tlp)
    if isinstance(prepared, StatusDetail):
        assert (prepared.message or "").startswith("object 3")
    else:
        assert orjson.loads(prepared.body) == orjson.loads(orjson.dumps(obj))
        assert version_label(prepared.version or 0)
