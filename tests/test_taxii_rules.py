"""What a TAXII client notices: who is told what, unversioned objects, RED recipient checks."""

from __future__ import annotations

import base64

import orjson
from fastapi.testclient import TestClient

from tests.conftest import TAXII, Member
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID, TLP2_MARKING_IDS, TlpLevel
from trustbubble.services import accounts
from trustbubble.store.database import Database


def basic(email: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{email}:{secret}".encode()).decode()
    return {"Accept": TAXII, "Authorization": f"Basic {pair}", "Content-Type": TAXII}


def test_an_outsider_posting_junk_learns_only_that_the_collection_is_not_theirs(
    client: TestClient, db: Database, member: Member
) -> None:
    accounts.create_org(db, "Outsider", "private", "DE")
    outsider, _ = accounts.create_user(db, "x@out.test", "Outsider", UserRole.ANALYST)
    _token, secret = accounts.create_token(db, outsider)
    headers = {"Accept": TAXII, "Authorization": f"Bearer {secret}", "Content-Type": "text/plain"}
    response = client.post(member.objects_url, headers=headers, content=b"not json at all")
    assert response.status_code == 404
    anonymous = client.post(member.objects_url, headers={"Accept": TAXII}, content=b"junk")
    assert anonymous.status_code == 401
    assert "Basic" in anonymous.headers["WWW-Authenticate"]


def test_a_token_in_basic_credentials_must_belong_to_the_named_user(
    client: TestClient, member: Member
) -> None:
    url = "/taxii2/bubbles/collections/"
    assert client.get(url, headers=basic(member.email, member.token)).status_code == 200
    refused = client.get(url, headers=basic("someone@else.test", member.token))
    assert refused.status_code == 401
    token_scheme = {"Accept": TAXII, "Authorization": f"Token {member.token}"}
    assert client.get(url, headers=token_scheme).status_code == 200


def test_an_unversioned_object_is_found_by_the_version_its_manifest_shows(
    client: TestClient, member: Member
) -> None:
    address = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
        "value": "198.51.100.3",
    }
    client.post(
        member.objects_url,
        headers=member.post_headers,
        content=orjson.dumps({"objects": [address]}),
    )
    manifest = client.get(
        member.objects_url.replace("objects/", "manifest/"),
        headers=member.headers,
        params={"match[type]": "ipv4-addr"},
    ).json()
    [record] = manifest["objects"]
    found = client.get(
        member.objects_url, headers=member.headers, params={"match[version]": record["version"]}
    ).json()
    assert [o["id"] for o in found["objects"]] == [address["id"]]


def test_red_recipients_that_are_not_identities_are_refused(
    client: TestClient, member: Member
) -> None:
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": "note--5e0c6a2b-3f1d-4b8e-9a7c-2d4f6b8a0c1e",
        "created": "2022-01-01T00:00:00.000Z",
        "modified": "2022-01-01T00:00:00.000Z",
        "content": "Only for the Kenyan CERT",
        "object_refs": ["identity--5c6c1a0e-8f34-4d6b-9a52-3f1e7b0d2c11"],
        "object_marking_refs": [TLP2_MARKING_IDS[TlpLevel.RED]],
        "extensions": {
            RED_RECIPIENTS_EXTENSION_ID: {
                "extension_type": "property-extension",
                "recipients": ["identiy--5c6c1a0e-8f34-4d6b-9a52-3f1e7b0d2c11"],
            }
        },
    }
    status = client.post(
        member.objects_url, headers=member.post_headers, content=orjson.dumps({"objects": [note]})
    ).json()
    assert status["failure_count"] == 1
    assert "recipients[0]" in status["failures"][0]["message"]
    assert "is not an identity id" in status["failures"][0]["message"]


def test_the_status_lists_each_version_as_manifests_show_it_and_reads_back_the_same(
    client: TestClient, member: Member
) -> None:
    def indicator(number: int, stamp: str, **more: str) -> dict[str, str]:
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5{number:02d}",
            "created": stamp,
            "modified": stamp,
            "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "pattern_type": "stix",
            "valid_from": stamp,
            **more,
        }

    address = {"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"}
    stamps = {  # version text -> the version TAXII shows
        "2020-04-06T20:03:48.000Z": "2020-04-06T20:03:48.000Z",
        "2020-04-06T20:03:48.123456Z": "2020-04-06T20:03:48.123456Z",
        "2020-04-06T20:03:48.120000Z": "2020-04-06T20:03:48.120Z",
        "2020-04-06T20:03:48.123456789Z": "2020-04-06T20:03:48.123456Z",
        "2016-12-31T23:59:60.500Z": "2017-01-01T00:00:00.500Z",
    }
    versioned = [indicator(n, stamp) for n, stamp in enumerate(stamps)]
    objects = [
        *versioned,
        {**address, "value": "198.51.100.3"},  # unversioned
        # An SCO does not define `created`: unchecked, but it still versions the object.
        {
            **address,
            "id": address["id"][:-2] + "ee",
            "value": "198.51.100.4",
            "created": "2020-01-01T00:00:00Z",
        },
        versioned[0],  # a duplicate
        indicator(0, "2020-04-06T20:03:48.000Z", name="other content"),  # a conflict
        {"type": "indicator", "id": 'indicator--"é'},
    ]
    response = client.post(
        member.objects_url, headers=member.post_headers, content=orjson.dumps({"objects": objects})
    )
    assert response.status_code == 202
    status = response.json()
    shown = [*stamps.values(), "", "2020-01-01T00:00:00.000Z", next(iter(stamps.values()))]
    assert [s["version"] for s in status["successes"]] == shown
    assert [s["id"] for s in status["successes"]] == [o["id"] for o in objects[:8]]
    assert [f["id"] for f in status["failures"]] == ['indicator--"é', versioned[0]["id"]]
    # Byte for byte what orjson writes of the resource, and what the status endpoint serves.
    assert response.content == orjson.dumps(status)
    again = client.get(f"/taxii2/bubbles/status/{status['id']}/", headers=member.headers)
    assert again.content == response.content
