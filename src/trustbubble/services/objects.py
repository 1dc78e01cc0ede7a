"""Sharing STIX objects in a collection: add an envelope, read pages, versions, delete, export."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from trustbubble.domain.access import Reader
from trustbubble.domain.errors import Forbidden, NotFound
from trustbubble.domain.stix import check_object, format_timestamp, object_version, parse_timestamp
from trustbubble.domain.tlp import TlpLevel, level_of, red_recipients
from trustbubble.services import audit
from trustbubble.services.bubbles import CollectionAccess
from trustbubble.store import objects as store
from trustbubble.store.database import Database
from trustbubble.store.objects import NewVersion, ObjectQuery, VersionFilter
from trustbubble.store.tables import statuses

__all__ = ["ObjectQuery", "VersionFilter"]


@dataclass(frozen=True, slots=True)
class StatusDetail:
    id: str
    version: str
    message: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"id": self.id, "version": self.version}
        if self.message:
            out["message"] = self.message
        return out


@dataclass(slots=True)
class Status:
    """The TAXII status resource of one POST: what was stored and what was refused, and why."""

    id: str
    collection_id: str
    user_id: str
    created: datetime
    successes: list[StatusDetail] = field(default_factory=list)
    failures: list[StatusDetail] = field(default_factory=list)
    duplicate_count: int = 0  # successes that were already stored

    @property
    def total_count(self) -> int:
        return len(self.successes) + len(self.failures)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": "complete",
            "request_timestamp": self.created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "total_count": self.total_count,
            "success_count": len(self.successes),
            "successes": [d.to_json() for d in self.successes],
            "failure_count": len(self.failures),
            "failures": [d.to_json() for d in self.failures],
            "pending_count": 0,
            "pendings": [],
        }


def _version_text(obj: dict[str, Any]) -> str:
    version = object_version(obj)
    return version if version is not None else ""


def prepare(obj: Any, index: int, default_tlp: TlpLevel) -> NewVersion | StatusDetail:
    """A valid object ready to store, or the failure naming what is wrong with it."""
    problems = check_object(obj, index)
    if problems:
        object_id = problems[0].object_id or f"(object {index} without an id)"
        version = _version_text(obj) if isinstance(obj, dict) else ""
        return StatusDetail(object_id, version, "; ".join(p.message() for p in problems))
    stamp = object_version(obj)
    level = level_of(obj, default_tlp)
    body = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    return NewVersion(
        index=index,
        id=obj["id"],
        type=obj["type"],
        spec_version=obj.get("spec_version", "2.1"),
        version=parse_timestamp(stamp) if stamp else 0,
        tlp=level,
        recipients=red_recipients(obj) if level is TlpLevel.RED else frozenset(),
        digest=hashlib.sha256(body).hexdigest(),
        body=body,
    )


def _now_us() -> int:
    return time.time_ns() // 1000


def add_envelope(
    db: Database, reader: Reader, actor: str, where: CollectionAccess, objects: Sequence[Any]
) -> Status:
    """Store every valid object of an envelope in one transaction; list every invalid one."""
    if not where.can_write:
        raise Forbidden(
            "writing needs the analyst or admin role and owner or member standing in the bubble"
        )
    assert reader.user_id is not None
    assert reader.org_id is not None
    status = Status(str(uuid.uuid4()), where.id, reader.user_id, datetime.now(UTC))
    ready: list[NewVersion] = []
    originals: dict[int, dict[str, Any]] = {}
    for index, obj in enumerate(objects):
        prepared = prepare(obj, index, where.default_tlp)
        if isinstance(prepared, StatusDetail):
            status.failures.append(prepared)
        else:
            ready.append(prepared)
            originals[index] = obj
    with db.write() as conn:
        outcome = store.insert_versions(conn, where.id, reader.org_id, ready, _now_us())
        for new in outcome.stored + outcome.duplicates:
            status.successes.append(StatusDetail(new.id, _version_text(originals[new.index])))
        status.duplicate_count = len(outcome.duplicates)
        for new in outcome.conflicts:
            status.failures.append(
                StatusDetail(
                    new.id,
                    _version_text(originals[new.index]),
                    f"object {new.index} ({new.id}): this version is already stored with "
                    "other content; a change needs a later 'modified'",
                )
            )
        _save_status(conn, status)
        audit.record(
            conn,
            actor,
            "objects.added",
            where.id,
            status=status.id,
            stored=len(outcome.stored),
            duplicates=len(outcome.duplicates),
            refused=len(status.failures),
        )
    return status


def store_node_objects(
    conn: Connection, collection_id: str, author_org_id: str, objects: Sequence[Any]
) -> None:
    """Objects the node itself publishes (identities, extension definitions); must be valid."""
    ready = []
    for index, obj in enumerate(objects):
        prepared = prepare(obj, index, TlpLevel.GREEN)
        if isinstance(prepared, StatusDetail):
            raise ValueError(prepared.message)
        ready.append(prepared)
    store.insert_versions(conn, collection_id, author_org_id, ready, _now_us())


def _save_status(conn: Connection, status: Status) -> None:
    conn.execute(
        insert(statuses).values(
            id=status.id,
            collection_id=status.collection_id,
            user_id=status.user_id,
            created=status.created,
            total_count=status.total_count,
            success_count=len(status.successes),
            failure_count=len(status.failures),
            successes=orjson.dumps([d.to_json() for d in status.successes]),
            failures=orjson.dumps([d.to_json() for d in status.failures]),
        )
    )


def get_status(db: Database, reader: Reader, status_id: str) -> dict[str, Any]:
    """A status resource; only its poster sees it."""
    with db.read() as conn:
        row = conn.execute(select(statuses).where(statuses.c.id == status_id)).first()
    if row is None or row.user_id != reader.user_id:
        raise NotFound(f"no status {status_id}")
    successes = orjson.loads(row.successes)
    failures = orjson.loads(row.failures)
    created: datetime = row.created
    return {
        "id": row.id,
        "status": "complete",
        "request_timestamp": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "total_count": row.total_count,
        "success_count": row.success_count,
        "successes": successes,
        "failure_count": row.failure_count,
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }


@dataclass(frozen=True, slots=True)
class StoredVersion:
    added: int
    id: str
    version: int
    body: bytes | None

    @property
    def date_added(self) -> str:
        return format_timestamp(self.added)

    @property
    def version_text(self) -> str:
        """The version as TAXII reports it; unversioned objects use their date_added."""
        return format_timestamp(self.version if self.version else self.added)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[StoredVersion]
    more: bool

    @property
    def last_added(self) -> int | None:
        return self.items[-1].added if self.items else None


def read(
    db: Database,
    actor: str,
    where: CollectionAccess,
    query: ObjectQuery,
    after: int | None,
    limit: int,
    *,
    with_body: bool = True,
) -> Page:
    """One page of what the reader may read; reads of RED and AMBER+STRICT are audited."""
    collection = None if where.bubble is None else where.id
    with db.read() as conn:
        rows = store.page(conn, collection, where.grant, query, after, limit, with_body=with_body)
    more = len(rows) > limit
    rows = rows[:limit]
    sensitive = [row[1] for row in rows if row[3] >= TlpLevel.AMBER_STRICT]
    if sensitive:
        with db.write() as conn:
            audit.record(conn, actor, "objects.read", where.id, ids=sorted(set(sensitive)))
    items = [StoredVersion(row[0], row[1], row[2], row[4]) for row in rows]
    return Page(items, more)


def delete(
    db: Database, reader: Reader, actor: str, where: CollectionAccess, query: ObjectQuery
) -> int:
    """Delete versions of an object; only the organization that shared them may."""
    if not where.can_write:
        raise Forbidden("deleting needs the analyst or admin role and member standing")
    with db.write() as conn:
        matched, gone = store.delete_versions(conn, where.id, where.grant, query, reader.org_id)
        if not matched:
            raise NotFound("no such object in this collection")
        if len(gone) < matched:
            raise Forbidden("only the organization that shared an object may delete it")
        audit.record(conn, actor, "objects.deleted", where.id, ids=sorted({i for i, _ in gone}))
    return len(gone)


def walk(
    db: Database, actor: str, where: CollectionAccess, query: ObjectQuery, page_size: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every object the reader may read, page by page (exports)."""
    after: int | None = None
    while True:
        page = read(db, actor, where, query, after, page_size)
        for item in page.items:
            assert item.body is not None
            yield orjson.loads(item.body)
        if not page.more:
            return
        after = page.last_added
