"""The HTTP edge's dependencies: what every route refuses before it does anything."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Member


@pytest.mark.parametrize(
    ("method", "path", "send", "where"),
    [
        ("GET", "/api/v1/bubbles/%00", {}, "path"),
        ("GET", "/api/v1/search", {"params": {"q": "c2\x00.example"}}, "query.q"),
        ("GET", "/taxii2/bubbles/collections/", {"params": {"x\x00": "1"}}, "query.x\x00"),
        ("POST", "/api/v1/drafts", {"json": {"title": "Rules\x00"}}, "body.title"),
        ("POST", "/api/v1/pocs", {"json": {"name": "a", "tags": ["\x00"]}}, "body.tags.0"),
    ],
)
def test_nul_anywhere_is_a_400_naming_where(
    client: TestClient, member: Member, method: str, path: str, send: dict[str, object], where: str
) -> None:
    """PostgreSQL cannot store or compare text with NUL (U+0000): these were 500s on it."""
    answer = client.request(method, path, headers=member.headers, **send)  # type: ignore[arg-type]
    assert answer.status_code == 400
    assert answer.json()["description"] == f"{where}: holds a NUL character (U+0000)"


def test_nul_in_a_form_is_refused_with_the_page(client: TestClient) -> None:
    answer = client.post("/sign-in", data={"email": "a\x00@cert.test", "password": "x"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "NUL" in answer.text
