"""Sharing STIX objects in a collection: add an envelope, read pages, versions, delete, export."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection

from trustbubble.domain.access import Reader
from trustbubble.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trustbubble.domain.incidents import facts_of
from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID
from trustbubble.domain.observables import OBSERVABLE_HOLDERS, observables_of
from trustbubble.domain.stix import (
    Problem,
    format_timestamp,
    inspect_object,
    object_version,
    object_version_us,
    parse_timestamp,
)
from trustbubble.domain.tlp import (
    RED_RECIPIENTS_EXTENSION_ID,
    TlpLevel,
    level_of,
    red_recipients,
)
from trustbubble.services import audit
from trustbubble.services.bubbles import CollectionAccess
from trustbubble.store import objects as store
from trustbubble.store.database import Database
from trustbubble.store.federation import add_deletions
from trustbubble.store.objects import NewVersion, ObjectQuery, VersionFilter
from trustbubble.store.statuses import NewStatus, insert_status, status_by_id

__all__ = ["ObjectQuery", "VersionFilter"]

IDENTITY_ID = re.compile(
    r"^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@dataclass(frozen=True, slots=True)
class StatusDetail:
    id: str
    version: str
    message: str | None = None
    # Refused for now by a peer node whose mirror has not caught up (docs/federation.md): the
    # sender sends it again. Written as our own `x_trustbubble_retry` in the TAXII status.
    retry: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "version": self.version}
        if self.message:
            out["message"] = self.message
        if self.retry:
            out["x_trustbubble_retry"] = True
        return out


@dataclass(slots=True)
class Status:
    """The TAXII status resource of one POST: what was stored and what was refused, and why.

    The successes are kept only as the JSON list stored in the status row: with a thousand
    objects, building detail objects and encoding them twice cost more than a tenth of ingest.
    """

    id: str
    collection_id: str
    user_id: str
    created: datetime
    success_count: int = 0
    successes_json: bytes = b"[]"
    failures: list[StatusDetail] = field(default_factory=list)
    failures_json: bytes = b"[]"
    duplicate_count: int = 0  # successes that were already stored

    @property
    def total_count(self) -> int:
        return self.success_count + len(self.failures)

    def encode(self) -> bytes:
        """The resource, byte for byte as orjson writes `status_resource`, around the lists."""
        head = (
            f'{{"id":"{self.id}","status":"complete",'
            f'"request_timestamp":"{_request_timestamp(self.created)}",'
            f'"total_count":{self.total_count},"success_count":{self.success_count},'
            f'"successes":'
        )
        middle = f',"failure_count":{len(self.failures)},"failures":'
        return b"".join(
            (
                head.encode(),
                self.successes_json,
                middle.encode(),
                self.failures_json,
                b',"pending_count":0,"pendings":[]}',
            )
        )


def status_resource(
    status_id: str,
    created: datetime,
    successes: list[dict[str, str]],
    failures: list[dict[str, str]],
) -> dict[str, Any]:
    """A TAXII 2.1 status resource (section 4.3.1); every request completes synchronously."""
    return {
        "id": status_id,
        "status": "complete",
        "request_timestamp": _request_timestamp(created),
        "total_count": len(successes) + len(failures),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }


def _request_timestamp(created: datetime) -> str:
    return created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _version_text(obj: dict[str, Any]) -> str:
    """The version as manifests show it, so a client can match the two."""
    version = object_version(obj)
    try:
        return version_label(parse_timestamp(version)) if version else ""
    except ValueError:
        return version or ""


def prepare(obj: Any, index: int, default_tlp: TlpLevel) -> NewVersion | StatusDetail:
    """A valid object ready to store, or the failure naming what is wrong with it."""
    problems, times = inspect_object(obj, index)
    if not problems:
        problems = _recipient_problems(obj, index)
    if problems:
        object_id = problems[0].object_id or f"(object {index} without an id)"
        version = _version_text(obj) if isinstance(obj, dict) else ""
        return StatusDetail(object_id, version, _explain(problems))
    try:
        version_us = object_version_us(obj, times)  # the checks parsed it already, if they knew it
    except ValueError as error:
        # A `modified` or `created` its type does not define (an SCO's) is still its version.
        name = "modified" if isinstance(obj.get("modified"), str) else "created"
        refused = Problem(index, obj["id"], name, str(error))
        return StatusDetail(obj["id"], _version_text(obj), _explain([refused]))
    level = level_of(obj, default_tlp)
    kind = obj["type"]
    body = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    return NewVersion(
        index,
        obj["id"],
        kind,
        obj.get("spec_version", "2.1"),
        version_us,
        level,
        red_recipients(obj) if level is TlpLevel.RED else frozenset(),
        hashlib.sha256(body).hexdigest(),
        body,
        facts_of(obj, default_tlp) if kind == "incident" else None,
        observables_of(obj) if kind in OBSERVABLE_HOLDERS else frozenset(),
    )


def _explain(problems: list[Problem]) -> str:
    """One message for all the problems of one object, naming the object once."""
    first = problems[0]
    where = f"object {first.index}" + (f" ({first.object_id})" if first.object_id else "")
    details = "; ".join(f"{p.path}: {p.reason}" if p.path else p.reason for p in problems)
    return f"{where}: {details}"


def _label(new: NewVersion) -> str:
    return version_label(new.version) if new.version else ""


def _success_json(new: NewVersion, obj: dict[str, Any]) -> str:
    """A success detail as orjson writes {"id": ..., "version": ...}.

    Written by hand, as no character needs escaping: the id passed the STIX id check (ASCII
    letters, digits, hyphens) and the version is a timestamp. The object's own version text is
    its label whenever it has exactly milliseconds (and is no leap second), as almost every
    producer writes it: formatting the parsed version again cost 2 µs per object.
    """
    text = object_version(obj)
    if not new.version:
        label = ""
    elif text is not None and len(text) == 24 and text[17:19] != "60":
        label = text
    else:
        label = version_label(new.version)
    return f'{{"id":"{new.id}","version":"{label}"}}'


def version_label(us: int) -> str:
    """A version as TAXII shows it: millisecond precision, as STIX producers write, when exact."""
    text = format_timestamp(us)
    return text[:-4] + "Z" if us % 1000 == 0 else text


def _recipient_problems(obj: dict[str, Any], index: int) -> list[Problem]:
    """Our RED recipients extension must name identities; a typo would narrow the audience."""
    extension = obj.get("extensions", {}).get(RED_RECIPIENTS_EXTENSION_ID)
    if extension is None:
        return []
    path = f"extensions.{RED_RECIPIENTS_EXTENSION_ID}.recipients"
    recipients = extension.get("recipients") if isinstance(extension, dict) else None
    if not isinstance(recipients, list) or not recipients:
        return [Problem(index, obj["id"], path, "must be a non-empty list of identity ids")]
    return [
        Problem(index, obj["id"], f"{path}[{n}]", f"{value!r} is not an identity id")
        for n, value in enumerate(recipients)
        if not (isinstance(value, str) and IDENTITY_ID.match(value))
    ]


def now_us() -> int:
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
    # Each success detail is written before the writer's transaction, which only puts them in
    # the order of the outcome; by envelope index, as an envelope may repeat an object.
    successes: dict[int, str] = {}
    for index, obj in enumerate(objects):
        prepared = prepare(obj, index, where.default_tlp)
        if isinstance(prepared, StatusDetail):
            status.failures.append(prepared)
        else:
            ready.append(prepared)
            successes[index] = _success_json(prepared, obj)
    with db.write() as conn:
        outcome = store.insert_versions(conn, where.id, reader.org_id, ready, now_us())
        succeeded = outcome.stored + outcome.duplicates
        status.success_count = len(succeeded)
        details = ",".join([successes[new.index] for new in succeeded])
        status.successes_json = f"[{details}]".encode()
        status.duplicate_count = len(outcome.duplicates)
        for new in outcome.conflicts:
            status.failures.append(
                StatusDetail(
                    new.id,
                    _label(new),
                    f"object {new.index} ({new.id}): this version is already stored with "
                    "other content; a change needs a later 'modified'",
                )
            )
        save_status(conn, status)
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


def share_within(
    conn: Connection, reader: Reader, actor: str, where: CollectionAccess, obj: dict[str, Any]
) -> None:
    """Store one object the node made for a user (a request's note), in the caller's write
    transaction, so it lands with the rest of the change or not at all."""
    if not where.can_write:
        raise Forbidden(
            "writing needs the analyst or admin role and owner or member standing in the bubble"
        )
    _store_made(conn, reader, actor, where.id, where.default_tlp, obj)


def publish_made(conn: Connection, reader: Reader, actor: str, obj: dict[str, Any]) -> None:
    """Store one CLEAR object the node made for a user in the public collection (a report its
    author made public), in the caller's write transaction."""
    _store_made(conn, reader, actor, PUBLIC_COLLECTION_ID, TlpLevel.CLEAR, obj)


def _store_made(
    conn: Connection,
    reader: Reader,
    actor: str,
    collection_id: str,
    default_tlp: TlpLevel,
    obj: dict[str, Any],
) -> None:
    assert reader.org_id is not None
    prepared = prepare(obj, 0, default_tlp)
    if isinstance(prepared, StatusDetail):
        raise Invalid("object", prepared.message or "the node refused the object")
    outcome = store.insert_versions(conn, collection_id, reader.org_id, [prepared], now_us())
    if outcome.conflicts:
        raise Conflict(f"{prepared.id}: this version is already stored with other content")
    audit.record(conn, actor, "objects.added", collection_id, ids=[prepared.id])


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
    store.insert_versions(conn, collection_id, author_org_id, ready, now_us())


def save_status(conn: Connection, status: Status) -> None:
    """The status row, in the objects' transaction: a crash leaves both or neither."""
    status.failures_json = orjson.dumps([d.to_json() for d in status.failures])
    insert_status(
        conn,
        NewStatus(
            status.id,
            status.collection_id,
            status.user_id,
            status.created,
            status.success_count,
            len(status.failures),
            status.successes_json,
            status.failures_json,
        ),
    )


def get_status(db: Database, reader: Reader, status_id: str) -> dict[str, Any]:
    """A status resource; only its poster sees it."""
    with db.read() as conn:
        found = status_by_id(conn, status_id)
    if found is None or found.user_id != reader.user_id:
        raise NotFound(f"no status {status_id}")
    return status_resource(found.id, found.created, found.successes, found.failures)


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
        return version_label(self.version if self.version else self.added)


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
    if reader.peer is not None:
        raise Forbidden("a peer node's deletions travel as signed deletion records")
    if not where.can_write:
        raise Forbidden("deleting needs the analyst or admin role and member standing")
    with db.write() as conn:
        matched, gone = store.delete_versions(conn, where.id, where.grant, query, reader.org_id)
        if not matched:
            raise NotFound("no such object in this collection")
        if len(gone) < matched:
            raise Forbidden("only the organization that shared an object may delete it")
        # Kept for peer nodes, which apply the deletion to their copies (docs/federation.md).
        now = datetime.now(UTC)
        add_deletions(
            conn,
            [
                {
                    "collection_id": where.id,
                    "object_id": object_id,
                    "version": version,
                    "origin_node": None,
                    "signature": None,
                    "deleted": now,
                }
                for object_id, version in gone
            ],
        )
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
