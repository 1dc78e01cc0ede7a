"""The demo's incident reports tell the pandemic story, and each is a valid report."""

from __future__ import annotations

from collections import Counter

from trustbubble.domain.incidents import from_stix
from trustbubble.domain.stix import check_object
from trustbubble.domain.tlp import TlpLevel, level_of
from trustbubble.services.demo_incidents import incidents

AUTHORS = {
    c: f"identity--0000000{n}-0000-4000-8000-000000000000"
    for n, c in enumerate(["FR", "KE", "DE", "BR", "CH"], 1)
}


def test_every_demo_incident_is_valid_and_reads_back_as_a_report() -> None:
    made = incidents(AUTHORS, recipients=[AUTHORS["DE"]])
    assert len(made) > 200
    for index, item in enumerate(made):
        assert check_object(item.body, index) == [], item.body
        assert from_stix(item.body, TlpLevel.AMBER) is not None


def test_the_international_organization_is_attacked_five_times_more_in_spring_2020() -> None:
    made = incidents(AUTHORS, recipients=[AUTHORS["DE"]])
    spring: Counter[str] = Counter()
    for item in made:
        report = from_stix(item.body, TlpLevel.AMBER)
        assert report is not None
        month = item.body["extensions"][next(iter(item.body["extensions"]))]["started"][:7]
        if item.country == "CH" and month[5:] in ("03", "04", "05"):
            spring[month[:4]] += 1
            assert level_of(item.body, TlpLevel.AMBER) is TlpLevel.CLEAR  # public by choice
    assert spring == {"2019": 4, "2020": 20}


def test_the_same_seed_gives_the_same_reports() -> None:
    first = incidents(AUTHORS, recipients=[AUTHORS["DE"]])
    again = incidents(AUTHORS, recipients=[AUTHORS["DE"]])
    assert [i.body for i in first] == [i.body for i in again]
