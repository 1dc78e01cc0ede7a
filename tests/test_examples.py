"""Every OASIS STIX 2.1 example bundle imports, and reads back as the same objects."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Member, examples_dir
from trustbubble.services import exchange
from trustbubble.store.database import Database


def bundles() -> list[Path]:
    try:
        return sorted(examples_dir().glob("*.json"))
    except pytest.skip.Exception:
        return []


def key(obj: dict[str, object]) -> tuple[str, str]:
    return str(obj["id"]), str(obj.get("modified", obj.get("created", "")))


@pytest.mark.parametrize("path", bundles(), ids=lambda p: p.name)
def test_an_example_bundle_imports_and_reads_back_unchanged(
    client: TestClient, db: Database, member: Member, path: Path
) -> None:
    items = exchange.read_bundle(path.read_bytes(), path.name)
    summary = exchange.import_objects(db, "Health bubble", member.email, items)
    assert summary.failures == []
    assert summary.stored + summary.duplicates == len(items)

    served: list[dict[str, object]] = []
    url = f"{member.objects_url}?match[version]=all&limit=50"
    while True:
        page = client.get(url, headers=member.headers).json()
        served.extend(page.get("objects", []))
        if not page["more"]:
            break
        url = f"{member.objects_url}?match[version]=all&limit=50&next={page['next']}"
    by_key = {key(obj): obj for obj in served}
    for obj in items:
        assert by_key[key(obj)] == obj

    exported = orjson.loads(exchange.export_bundle(db, "Health bubble", member.email))
    assert {key(o) for o in items} <= {key(o) for o in exported["objects"]}


def test_the_examples_are_present_or_skipped_with_a_reason() -> None:
    assert bundles() or pytest.skip("no OASIS examples beside the checkout")
