"""Bad input gets a clear error naming what is wrong and where, and leaves the store unchanged."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.conftest import TAXII, Member
from trustbubble.api.taxii.filters import encode_next
from trustbubble.store import objects as object_store
from trustbubble.store.database import Database

INDICATOR: dict[str, Any] = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2",
    "created": "2020-04-06T20:03:48.000Z",
    "modified": "2020-04-06T20:03:48.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.7']",
    "pattern_type": "stix",
    "valid_from": "2020-04-06T20:03:48Z",
}


def changed(**fields: Any) -> dict[str, Any]:
    out = {**INDICATOR, **fields}
    return {k: v for k, v in out.items() if v is not None}


def stored(db: Database, member: Member) -> int:
    with db.read() as conn:
        return object_store.count(conn, member.bubble_id)


# (case, object, where the error points, what it says)
BAD_OBJECTS = [
    ("missing id", changed(id=None), "id", "missing"),
    (
        "id of the wrong type",
        changed(id="malware--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"),
        "id",
        "does not match type",
    ),
    ("bad timestamp", changed(created="yesterday"), "created", "timestamp"),
    (
        "modified before created",
        changed(modified="2019-01-01T00:00:00.000Z"),
        "modified",
        "before created",
    ),
    ("wrong spec_version", changed(spec_version="2.0"), "spec_version", '"2.1"'),
    (
        # A version its type does not define, yet its TAXII version: was a ValueError, a 500.
        "an SCO's modified that is no timestamp",
        {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
            "value": "198.51.100.7",
            "modified": "9999-12-31T23:59:60Z",
        },
        "modified",
        "after the year 9999",
    ),
    (
        "unknown type without required properties",
        {"type": "x-health-alert", "id": "x-health-alert--0f8b2c56-7e6a-4a8e-9d1e-3c2b1a0f9e8d"},
        "created",
        "missing",
    ),
]


@pytest.mark.parametrize(
    ("case", "obj", "path", "reason"), BAD_OBJECTS, ids=[c[0] for c in BAD_OBJECTS]
)
def test_an_invalid_object_is_refused_with_its_place_and_reason(
    client: TestClient,
    db: Database,
    member: Member,
    case: str,
    obj: dict[str, Any],
    path: str,
    reason: str,
) -> None:
    before = stored(db, member)
    good = changed(id="indicator--6b0e7a52-98a4-4ad0-8b0b-1f5cc1e6a1a1")
    response = client.post(
        member.objects_url,
        headers=member.post_headers,
        content=orjson.dumps({"objects": [good, obj]}),
    )
    assert response.status_code == 202, response.text
    status = response.json()
    assert (status["success_count"], status["failure_count"]) == (1, 1), case
    message = status["failures"][0]["message"]
    assert "object 1" in message
    assert f"{path}:" in message
    assert reason in message
    # The valid object of the envelope is stored; nothing of the invalid one is.
    assert stored(db, member) == before + 1
    ids = {
        o["id"] for o in client.get(member.objects_url, headers=member.headers).json()["objects"]
    }
    assert good["id"] in ids
    assert obj.get("id") not in ids


def test_a_duplicate_version_with_other_content_is_refused(
    client: TestClient, db: Database, member: Member
) -> None:
    first = client.post(
        member.objects_url,
        headers=member.post_headers,
        content=orjson.dumps({"objects": [INDICATOR]}),
    )
    assert first.json()["success_count"] == 1
    before = stored(db, member)
    same_version = changed(pattern="[ipv4-addr:value = '203.0.113.9']")
    response = client.post(
        member.objects_url,
        headers=member.post_headers,
        content=orjson.dumps({"objects": [same_version]}),
    )
    status = response.json()
    assert status["failure_count"] == 1
    assert "already stored with other content" in status["failures"][0]["message"]
    assert stored(db, member) == before
    served = client.get(member.objects_url, headers=member.headers).json()["objects"]
    assert [o["pattern"] for o in served if o["id"] == INDICATOR["id"]] == [INDICATOR["pattern"]]


def test_the_exact_same_version_again_changes_nothing(
    client: TestClient, db: Database, member: Member
) -> None:
    body = orjson.dumps({"objects": [INDICATOR]})
    client.post(member.objects_url, headers=member.post_headers, content=body)
    before = stored(db, member)
    again = client.post(member.objects_url, headers=member.post_headers, content=body).json()
    assert (again["success_count"], again["failure_count"]) == (1, 0)
    assert stored(db, member) == before


# (case, body, headers to change, HTTP status, words of the TAXII error's description)
BAD_REQUESTS = [
    ("not JSON", b"{objects: [", {}, 400, "not valid JSON"),
    ("not an envelope", b"[1, 2]", {}, 400, "'objects' list"),
    (
        "wrong media type",
        orjson.dumps({"objects": []}),
        {"Content-Type": "application/json"},
        415,
        TAXII,
    ),
    ("over max_content_length", b" " * (1024 * 1024 + 1), {}, 413, "at most"),
    ("unacceptable Accept", orjson.dumps({"objects": []}), {"Accept": "text/html"}, 406, TAXII),
]


@pytest.mark.parametrize(
    ("case", "body", "headers", "http_status", "words"),
    BAD_REQUESTS,
    ids=[c[0] for c in BAD_REQUESTS],
)
def test_a_bad_request_gets_a_taxii_error_and_stores_nothing(
    client: TestClient,
    db: Database,
    member: Member,
    case: str,
    body: bytes,
    headers: dict[str, str],
    http_status: int,
    words: str,
) -> None:
    before = stored(db, member)
    response = client.post(
        member.objects_url, headers={**member.post_headers, **headers}, content=body
    )
    assert response.status_code == http_status, case
    assert response.headers["content-type"].startswith("application/taxii+json")
    error = response.json()
    assert error["http_status"] == str(http_status)
    assert error["title"]
    assert words in error["description"]
    assert stored(db, member) == before


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("next=bm90LWEtY3Vyc29y", "next"),
        (f"next={encode_next(2**64)}", "next"),  # past what the database holds: was a 500
        (f"next={encode_next(-(10**30))}", "next"),
        ("added_after=last-tuesday", "added_after"),
        ("match[version]=newest", "match[version]"),
        ("match[colour]=red", "match[colour]"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_parameter(
    client: TestClient, member: Member, query: str, words: str
) -> None:
    response = client.get(f"{member.objects_url}?{query}", headers=member.headers)
    assert response.status_code == 400
    assert words in response.json()["description"]


def test_basic_credentials_beyond_ascii_are_a_401(client: TestClient, member: Member) -> None:
    """Header values are latin-1: "Basic é" was a ValueError of base64, a 500."""
    for value in (b"Basic \xe9t\xe9", b"Basic " + base64.b64encode("é:é".encode("latin-1"))):
        answer = client.get(member.objects_url, headers=[(b"authorization", value)])
        assert answer.status_code == 401
        assert "Basic" in answer.json()["description"]
