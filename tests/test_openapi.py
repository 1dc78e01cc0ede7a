"""The OpenAPI document says what the node answers: what the fuzzer found it did not, pinned."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TAXII, Member

OBJECTS = "/taxii2/bubbles/collections/{collection_id}/objects/"


def _document(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def test_taxii_answers_are_documented_as_their_resources(client: TestClient) -> None:
    paths = _document(client)["paths"]
    listed = paths[OBJECTS]["get"]
    ok = listed["responses"]["200"]["content"][TAXII]["schema"]
    assert ok == {"$ref": "#/components/schemas/Envelope"}
    names = [p["name"] for p in listed["parameters"]]
    assert names[1:] == [
        *("match[id]", "match[type]", "match[version]", "match[spec_version]"),
        *("added_after", "limit", "next"),
    ]
    added = paths[OBJECTS]["post"]
    assert set(added["requestBody"]["content"]) == {TAXII}
    assert added["responses"]["202"]["content"][TAXII]["schema"]["$ref"].endswith("/Status")
    deleted = paths[OBJECTS + "{object_id}/"]["delete"]["responses"]["200"]
    assert "content" not in deleted


def test_every_operation_documents_the_error_body_and_no_422(client: TestClient) -> None:
    for path, operations in _document(client)["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, f"{method} {path}"
            error = responses["4XX"]["content"][TAXII]["schema"]
            assert error["required"] == ["title"], f"{method} {path}"


def test_a_405_lists_every_method_of_the_path(client: TestClient, member: Member) -> None:
    answer = client.put(member.objects_url, headers=member.headers)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert answer.json()["http_status"] == "405"


def test_a_405_lists_the_methods_of_the_documented_resource(
    client: TestClient, member: Member
) -> None:
    """GET .../checks/{check_id} takes "schedule" as an id, yet the schedule is its own resource."""
    schedule = f"/api/v1/bubbles/{member.bubble_id}/checks/schedule"
    answer = client.options(schedule, headers=member.headers)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "PUT"


def test_a_peer_resource_answers_a_person_in_json(client: TestClient, member: Member) -> None:
    answer = client.get("/federation/v1/organizations", headers=member.headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == TAXII
    assert answer.json()["title"] == "Authentication required"
