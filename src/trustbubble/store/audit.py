"""The append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import Connection, insert, select

from trustbubble.store.tables import audit_log

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    at = entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    content = orjson.dumps([entry.seq, at, entry.actor, entry.action, entry.subject, entry.detail])
    return hashlib.sha256(prev_hash.encode() + content).hexdigest()


def append(
    conn: Connection, at: datetime, actor: str, action: str, subject: str, detail: object
) -> AuditEntry:
    """Append one entry; must run inside the writer's transaction so the chain stays linear."""
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    entry = AuditEntry(
        seq, at, actor, action, subject, orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()
    )
    conn.execute(
        insert(audit_log).values(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            detail=entry.detail,
            prev_hash=prev_hash,
            hash=entry_hash(prev_hash, entry),
        )
    )
    return entry


def chain(conn: Connection) -> Iterator[tuple[AuditEntry, str, str]]:
    """Every entry in order with its stored previous hash and hash."""
    for row in conn.execute(select(audit_log).order_by(audit_log.c.seq)):
        entry = AuditEntry(row.seq, row.at, row.actor, row.action, row.subject, row.detail)
        yield entry, row.prev_hash, row.hash
