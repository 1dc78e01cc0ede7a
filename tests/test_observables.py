"""Observable values from STIX patterns and SCOs, and their index kept in step with the store."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Member
from trustbubble.domain.observables import from_pattern, observables_of
from trustbubble.store.database import Database


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '203.0.113.7']", {("ipv4-addr", "203.0.113.7")}),
        ("[domain-name:value = 'Evil.EXAMPLE']", {("domain-name", "evil.example")}),
        (
            "[file:hashes.'SHA-256' = 'AB12'] OR [file:hashes.MD5 = 'CD34']",
            {("file-hash", "ab12"), ("file-hash", "cd34")},
        ),
        ("[url:value = 'https://x.test/it\\'s']", {("url", "https://x.test/it's")}),
        ("[email-addr:value = 'Boss@Example.org']", {("email-addr", "boss@example.org")}),
        # Sets, not single values: nothing to correlate on.
        ("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", set()),
        ("[domain-name:value LIKE '%.example']", set()),
        ("[process:name = 'evil.exe']", set()),
    ],
)
def test_values_come_from_equality_comparisons(
    pattern: str, expected: set[tuple[str, str]]
) -> None:
    assert from_pattern(pattern) == expected


def test_scos_and_non_stix_patterns() -> None:
    assert observables_of({"type": "ipv4-addr", "value": "198.51.100.1"}) == {
        ("ipv4-addr", "198.51.100.1")
    }
    assert observables_of({"type": "file", "hashes": {"SHA-256": "EF"}}) == {("file-hash", "ef")}
    snort = {"type": "indicator", "pattern_type": "snort", "pattern": "alert ip any any"}
    assert observables_of(snort) == frozenset()


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM observables").scalar_one())


def test_the_index_follows_stored_versions(
    db: Database, client: TestClient, member: Member
) -> None:
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-03-01T10:00:00.000Z",
        "modified": "2026-03-01T10:00:00.000Z",
        "pattern": "[ipv4-addr:value = '203.0.113.7'] OR [domain-name:value = 'c2.example']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T10:00:00.000Z",
    }
    broken = {**indicator, "id": "indicator--00000000-0000-4000-8000-000000000000"}
    del broken["valid_from"]
    answer = client.post(
        member.objects_url, json={"objects": [indicator, broken]}, headers=member.post_headers
    )
    assert answer.json()["failure_count"] == 1
    assert _count(db) == 2  # the refused object indexed nothing
    client.post(member.objects_url, json={"objects": [indicator]}, headers=member.post_headers)
    assert _count(db) == 2  # a replay changes nothing
    gone = client.delete(f"{member.objects_url}{indicator['id']}/", headers=member.headers)
    assert gone.status_code == 200
    assert _count(db) == 0


def test_a_value_holding_nul_is_stored_as_it_came_but_not_indexed(
    db: Database, client: TestClient, member: Member
) -> None:
    """PostgreSQL cannot hold NUL in text: such an SCO was a 500 on it, the whole envelope lost."""
    sco = {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": "domain-name--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "value": "c2\u0000.example",
    }
    answer = client.post(member.objects_url, json={"objects": [sco]}, headers=member.post_headers)
    assert answer.json()["success_count"] == 1
    assert _count(db) == 0
    stored = client.get(f"{member.objects_url}{sco['id']}/", headers=member.headers).json()
    assert stored["objects"] == [sco]
