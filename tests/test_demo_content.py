from __future__ import annotations

import ipaddress
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
import stix2

from trustbubble.domain.stix import check_object
from trustbubble.domain.tlp import (
    MARKING_LEVELS,
    RED_RECIPIENTS_EXTENSION_ID,
    TLP2_MARKING_IDS,
    TlpLevel,
    level_of,
    red_recipients,
)
from trustbubble.services.demo_content import DemoObject, bubble_content

AUTHORS = tuple(f"identity--0000000{n}-0000-4000-8000-000000000000" for n in range(1, 5))
# Two members and one organization outside the authors may be named on RED objects.
RECIPIENTS = (AUTHORS[0], AUTHORS[2], "identity--00000009-0000-4000-8000-000000000000")
NOW = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
SEEDS = (1, 2, 3)
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@cache
def content(seed: int, bubble: str = "regional", count: int = 400) -> tuple[DemoObject, ...]:
    return tuple(bubble_content(bubble, AUTHORS, RECIPIENTS, count=count, seed=seed, now=NOW))


def stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def groups(pattern: str, text: str) -> tuple[str, ...]:
    match = re.fullmatch(pattern, text)
    assert match is not None, text
    return match.groups()


def refs_of(body: dict[str, Any]) -> list[str]:
    """Every id the object refers to, markings aside (those are predefined, not posted)."""
    found: list[str] = []
    for key, value in body.items():
        if key == "object_marking_refs":
            continue
        if key.endswith("_ref"):
            found.append(value)
        elif key.endswith("_refs"):
            found.extend(value)
    return found


def test_same_arguments_give_the_same_content() -> None:
    first = bubble_content("bilateral", AUTHORS, RECIPIENTS, count=120, seed=5, now=NOW)
    again = bubble_content("bilateral", AUTHORS, RECIPIENTS, count=120, seed=5, now=NOW)
    assert first == again


def test_another_seed_or_bubble_gives_other_content_and_ids() -> None:
    ids = {seed: {o.body["id"] for o in content(seed)} for seed in SEEDS}
    assert not ids[1] & ids[2]
    assert [o.body for o in content(1)] != [o.body for o in content(2)]
    assert not ids[1] & {o.body["id"] for o in content(1, bubble="bilateral")}


def test_naive_now_is_read_as_utc() -> None:
    naive = bubble_content("x", AUTHORS, RECIPIENTS, count=30, seed=1, now=NOW.replace(tzinfo=None))
    assert naive == list(content(1, bubble="x", count=30))


def test_count_objects_are_made() -> None:
    assert len(content(1)) == 400
    assert bubble_content("x", AUTHORS, RECIPIENTS, count=0, seed=1, now=NOW) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_the_mix_has_every_kind_and_some_versions(seed: int) -> None:
    objects = content(seed)
    kinds = Counter(o.body["type"] for o in objects)
    for kind in ("incident", "indicator", "malware", "vulnerability", "report", "sighting"):
        assert kinds[kind] > 0, kind
    assert kinds["relationship"] > 0
    assert kinds["note"] > 0
    versions = Counter(o.body["id"] for o in objects)
    assert 10 <= sum(1 for n in versions.values() if n == 2) <= 100
    assert max(versions.values()) == 2
    assert 1 <= sum(1 for o in objects if o.body.get("revoked")) <= 30


@pytest.mark.parametrize("seed", SEEDS)
def test_markings_cover_all_five_levels_in_realistic_shares(seed: int) -> None:
    objects = content(seed)
    levels: Counter[TlpLevel | None] = Counter()
    for o in objects:
        refs = o.body.get("object_marking_refs")
        if refs is None:
            levels[None] += 1
            continue
        assert len(refs) == 1
        assert refs[0] in TLP2_MARKING_IDS.values()
        levels[MARKING_LEVELS[refs[0]]] += 1
    assert set(levels) == {None, *TlpLevel}
    share = {level: n / len(objects) for level, n in levels.items()}
    assert 0.01 <= share[None] <= 0.10
    assert 0.08 <= share[TlpLevel.CLEAR] <= 0.25
    assert 0.25 <= share[TlpLevel.GREEN] <= 0.45
    assert 0.20 <= share[TlpLevel.AMBER] <= 0.40
    assert 0.04 <= share[TlpLevel.AMBER_STRICT] <= 0.16
    assert 0.04 <= share[TlpLevel.RED] <= 0.16


def test_small_content_still_carries_all_five_levels() -> None:
    objects = bubble_content("x", AUTHORS, RECIPIENTS, count=30, seed=9, now=NOW)
    levels = {level_of(o.body, default=TlpLevel.AMBER) for o in objects}
    assert levels == set(TlpLevel)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_reference_points_to_an_earlier_object_or_an_author(seed: int) -> None:
    known = set(AUTHORS)
    for index, o in enumerate(content(seed)):
        for ref in refs_of(o.body):
            assert ref in known, f"object {index} ({o.body['id']}) refers to unknown {ref}"
        known.add(o.body["id"])


@pytest.mark.parametrize("seed", SEEDS)
def test_no_reference_reaches_beyond_the_audience_of_the_referrer(seed: int) -> None:
    # Whoever may read a report, note, sighting or relationship may read what it points to.
    level: dict[str, TlpLevel] = {}
    for o in content(seed):
        mine = level_of(o.body, default=TlpLevel.AMBER)
        for ref in refs_of(o.body):
            if not ref.startswith("identity--"):
                assert level[ref] <= mine, (o.body["id"], ref)
        level[o.body["id"]] = mine


@pytest.mark.parametrize("seed", SEEDS)
def test_authors_and_timestamps(seed: int) -> None:
    previous = NOW - timedelta(days=31 * 30)
    for o in content(seed):
        body = o.body
        assert o.author == body["created_by_ref"]
        assert o.author in AUTHORS
        assert body["spec_version"] == "2.1"
        for key in ("created", "modified", "valid_from", "published", "first_seen", "last_seen"):
            if key in body:
                assert STAMP.fullmatch(body[key]), (key, body[key])
        assert stamp(body["created"]) <= stamp(body["modified"])
        # Listed in the order things happened, within the 30 months before now.
        assert previous < stamp(body["modified"]) <= NOW
        previous = stamp(body["modified"])


@pytest.mark.parametrize("seed", SEEDS)
def test_a_later_version_keeps_identity_author_and_marking(seed: int) -> None:
    first: dict[str, dict[str, Any]] = {}
    for o in content(seed):
        body = o.body
        earlier = first.setdefault(body["id"], body)
        if earlier is body:
            assert "revoked" not in body
            continue
        assert body["modified"] > earlier["modified"]
        for key in ("created", "created_by_ref", "object_marking_refs", "extensions"):
            assert body.get(key) == earlier.get(key), key


@pytest.mark.parametrize("seed", SEEDS)
def test_red_objects_name_one_or_two_recipients_from_the_list(seed: int) -> None:
    red = 0
    for o in content(seed):
        if level_of(o.body, default=TlpLevel.AMBER) is TlpLevel.RED:
            red += 1
            extension = o.body["extensions"][RED_RECIPIENTS_EXTENSION_ID]
            assert extension["extension_type"] == "property-extension"
            named = red_recipients(o.body)
            assert 1 <= len(named) <= 2
            assert len(extension["recipients"]) == len(named)
            assert named <= set(RECIPIENTS)
        else:
            assert "extensions" not in o.body
    assert red > 0


def test_without_recipients_red_objects_carry_no_extension() -> None:
    objects = bubble_content("x", AUTHORS, (), count=100, seed=4, now=NOW)
    assert any(level_of(o.body, TlpLevel.AMBER) is TlpLevel.RED for o in objects)
    assert not any("extensions" in o.body for o in objects)


@pytest.mark.parametrize("seed", SEEDS)
def test_relationships_use_the_types_stix_defines(seed: int) -> None:
    type_of: dict[str, str] = {}
    for o in content(seed):
        body = o.body
        type_of[body["id"]] = body["type"]
        if body["type"] == "relationship":
            link = (type_of[body["source_ref"]], body["relationship_type"])
            assert (*link, type_of[body["target_ref"]]) in {
                ("indicator", "indicates", "malware"),
                ("malware", "exploits", "vulnerability"),
                ("incident", "related-to", "malware"),
            }


@pytest.mark.parametrize("seed", SEEDS)
def test_indicators_only_use_reserved_addresses_and_names(seed: int) -> None:
    documentation = [
        ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    ]
    shapes = set()
    for o in content(seed):
        if o.body["type"] != "indicator":
            continue
        assert o.body["pattern_type"] == "stix"
        assert o.body["indicator_types"]
        shape, value = groups(r"\[([a-z0-9-]+):.* = '(.*)'\]", o.body["pattern"])
        shapes.add(shape)
        if shape == "ipv4-addr":
            assert any(ipaddress.ip_address(value) in net for net in documentation)
        elif shape in ("domain-name", "url", "email-addr"):
            host = re.split(r"[@/]", value.removeprefix("https://"))[-1 if "@" in value else 0]
            assert host.endswith((".example", ".test")), value
    assert shapes == {"ipv4-addr", "domain-name", "url", "file", "email-addr"}


@pytest.mark.parametrize("seed", SEEDS)
def test_every_object_passes_the_node_validator(seed: int) -> None:
    problems = [p.message() for i, o in enumerate(content(seed)) for p in check_object(o.body, i)]
    assert problems == []


@pytest.mark.parametrize("seed", SEEDS)
def test_every_object_parses_with_the_oasis_library(seed: int) -> None:
    for o in content(seed):
        stix2.parse(o.body, allow_custom=False)


def test_incidents_read_like_attacks_on_health_services() -> None:
    incidents = [o.body for o in content(1) if o.body["type"] == "incident"]
    countries = {groups(r"[^(]+\(([^)]+)\) reported .*", i["description"])[0] for i in incidents}
    assert len(countries) >= 5
    assert any("patients were diverted" in i["description"] for i in incidents)
    assert any(i["name"].startswith("Ransomware disrupts radiology at ") for i in incidents)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        bubble_content("x", AUTHORS, RECIPIENTS, count=-1, seed=1, now=NOW)
    with pytest.raises(ValueError, match="author"):
        bubble_content("x", (), RECIPIENTS, count=5, seed=1, now=NOW)
