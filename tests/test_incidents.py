"""Incident reports: the checks of what a person types, and the STIX incident they become."""

from __future__ import annotations

from typing import Any

import pytest

from trustbubble.domain.errors import Invalid
from trustbubble.domain.incidents import (
    INCIDENT_EXTENSION_ID,
    AttackType,
    IncidentStatus,
    facts_of,
    from_stix,
    read_report,
    to_stix,
)
from trustbubble.domain.stix import check_object
from trustbubble.domain.tlp import TlpLevel, red_recipients

FORM: dict[str, Any] = {
    "title": "Ransomware at a university hospital",
    "description": "Emergency admissions diverted for two days.",
    "started": "2026-03-02T08:15",
    "ended": "2026-03-05",
    "status": "contained",
    "sectors": ["healthcare", "pharmaceuticals"],
    "country": "fr",
    "attack_type": "ransomware",
    "patients_affected": "1200",
    "services_disrupted": "4",
    "care_diverted": "on",
    "records_exposed": "35000",
    "downtime_hours": "52.5",
    "technical_impact": "Domain controllers and the PACS encrypted.",
    "suspected_actor": "LockBit affiliate",
    "actor_confidence": "60",
    "norms": ["h", "f"],
    "sources": "https://cert.example/advisory/1\nhttps://news.example/a",
    "tlp": "amber",
}
AUTHOR = "identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"


def _stix(**changes: Any) -> dict[str, Any]:
    report = read_report({**FORM, **changes})
    return to_stix(
        report,
        object_id="incident--44298a74-ba52-4f0c-87a3-1824e67d7fad",
        created="2026-03-02T09:00:00.000Z",
        modified="2026-03-02T09:00:00.000Z",
        author=AUTHOR,
    )


def test_a_form_becomes_a_valid_stix_incident_and_back() -> None:
    obj = _stix()
    assert check_object(obj, 0) == []
    assert obj["name"] == FORM["title"]
    extension = obj["extensions"][INCIDENT_EXTENSION_ID]
    assert extension["human_impact"]["patients_affected"] == 1200
    assert extension["human_impact"]["care_diverted"] is True
    assert extension["norms"] == ["f", "h"]
    assert extension["started"] == "2026-03-02T08:15:00.000000Z"
    assert [ref["url"] for ref in obj["external_references"]] == FORM["sources"].split("\n")
    report = from_stix(obj, TlpLevel.GREEN)
    assert report == read_report(FORM)
    assert report is not None
    assert report.status is IncidentStatus.CONTAINED
    assert report.attack_type is AttackType.RANSOMWARE


def test_red_names_its_recipients_in_our_extension() -> None:
    obj = _stix(tlp="red", recipients=[AUTHOR])
    assert red_recipients(obj) == {AUTHOR}
    assert _stix(tlp="green", recipients=[AUTHOR])["extensions"].keys() == {INCIDENT_EXTENSION_ID}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"title": "  "}, "title", "required"),
        ({"started": "last tuesday"}, "started", "not a date"),
        ({"ended": "2026-03-01"}, "ended", "before the start"),
        ({"status": "over"}, "status", "use one of suspected"),
        ({"country": "France"}, "country", "alpha-2 code such as FR"),
        ({"country": "F1"}, "country", "alpha-2"),
        ({"attack_type": "hack"}, "attack_type", "ransomware"),
        ({"sectors": ["hospitals"]}, "sectors", "industry sector"),
        ({"norms": ["z"]}, "norms", "a to k"),
        ({"patients_affected": "many"}, "patients_affected", "whole number"),
        ({"patients_affected": -3}, "patients_affected", "0 or more"),
        ({"downtime_hours": "two days"}, "downtime_hours", "hours"),
        ({"actor_confidence": "101"}, "actor_confidence", "0 to 100"),
        ({"sources": "ftp://files.example/x"}, "sources", "http or https"),
        ({"sources": "http://[::1/advisory"}, "sources", "http or https"),  # was a ValueError
        ({"records_exposed": 2**64}, "records_exposed", "at most"),  # was a 500 as STIX
        ({"tlp": "purple"}, "tlp", "unknown TLP level"),
        ({"tlp": "red", "recipients": ["the ministry"]}, "recipients", "identity id"),
    ],
)
def test_each_mistake_names_its_field(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(Invalid) as caught:
        read_report({**FORM, **change})
    assert caught.value.field == field
    assert words in caught.value.reason


def test_facts_of_plain_stix_incidents_count_from_their_creation() -> None:
    plain = {
        "type": "incident",
        "spec_version": "2.1",
        "id": "incident--44298a74-ba52-4f0c-87a3-1824e67d7fad",
        "created": "2025-04-30T23:59:00.000Z",
        "modified": "2025-04-30T23:59:00.000Z",
        "name": "Plain",
    }
    facts = facts_of(plain, TlpLevel.AMBER)
    assert facts is not None
    assert facts.month == "2025-04"
    assert facts.country is None
    rich = facts_of(_stix(), TlpLevel.AMBER)
    assert rich is not None
    assert (rich.month, rich.country, rich.sectors) == (
        "2026-03",
        "FR",
        ("healthcare", "pharmaceuticals"),
    )
