"""Bundles in and out: import a STIX bundle into a bubble, export what a reader may read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from trustbubble.domain.errors import Invalid
from trustbubble.services import accounts, bubbles, objects
from trustbubble.store.database import Database

ENVELOPE = 1000  # objects per transaction on import, as a TAXII client would post them


@dataclass(slots=True)
class ImportSummary:
    total: int = 0
    stored: int = 0
    duplicates: int = 0
    failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "refused": len(self.failures),
            "failures": self.failures,
        }


def read_bundle(data: bytes, source: str = "bundle") -> list[Any]:
    """The objects of a STIX bundle, a list of objects, or one object; a clear error otherwise."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise Invalid(source, f"not valid JSON ({error})") from None
    if isinstance(parsed, list):
        return parsed
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
        raise Invalid(source, "not STIX: expected a bundle, a list of objects or one object")
    if parsed["type"] != "bundle":
        return [parsed]
    found = parsed.get("objects", [])
    if not isinstance(found, list):
        raise Invalid(source, "the bundle's 'objects' must be a list")
    return found


def import_objects(
    db: Database,
    bubble_name: str,
    email: str,
    items: Sequence[Any],
    advance: Callable[[int], None] = lambda _n: None,
    *,
    actor: str | None = None,
) -> ImportSummary:
    """Share objects into a bubble as the user would over TAXII, in envelopes of 1,000."""
    user = accounts.user_by_email(db, email)
    reader = accounts.reader_for(db, user)
    bubble = bubbles.bubble_by_name(db, bubble_name)
    with db.read() as conn:
        where = bubbles.collection_access(conn, reader, bubble.id)
    summary = ImportSummary(total=len(items))
    for start in range(0, len(items), ENVELOPE):
        chunk = items[start : start + ENVELOPE]
        status = objects.add_envelope(db, reader, actor or user.email, where, chunk)
        summary.stored += status.success_count - status.duplicate_count
        summary.duplicates += status.duplicate_count
        summary.failures.extend(f"{d.message}" if d.message else f"{d.id}" for d in status.failures)
        advance(len(chunk))
    return summary


def export_bundle(db: Database, bubble_name: str, email: str, *, actor: str | None = None) -> bytes:
    """A bundle of every version in the bubble that the user may read."""
    import uuid

    user = accounts.user_by_email(db, email)
    reader = accounts.reader_for(db, user)
    bubble = bubbles.bubble_by_name(db, bubble_name)
    with db.read() as conn:
        where = bubbles.collection_access(conn, reader, bubble.id)
    query = objects.ObjectQuery(versions=objects.VersionFilter(all=True, last=False))
    items = list(objects.walk(db, actor or user.email, where, query))
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": items})
