"""Recording to and verifying the hash-chained audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from trustbubble.store import audit as store
from trustbubble.store.database import Database


def record(conn: Connection, actor: str, action: str, subject: str, **detail: object) -> None:
    """Append an entry inside the caller's write transaction, so it commits with the change."""
    store.append(conn, datetime.now(UTC), actor, action, subject, detail)


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    problems: list[str]
    head: str  # the last entry's hash: kept elsewhere, it also reveals entries cut from the end

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Database) -> Verification:
    """Walk the chain; a changed, inserted or removed row breaks it and is reported by number."""
    problems: list[str] = []
    expected_prev = store.GENESIS
    expected_seq = 1
    count = 0
    with db.read() as conn:
        for entry, prev_hash, stored_hash in store.chain(conn):
            count += 1
            if entry.seq > expected_seq + 1:
                problems.append(f"entries {expected_seq} to {entry.seq - 1} are missing")
            elif entry.seq != expected_seq:
                problems.append(f"entry {expected_seq} is missing")
            if prev_hash != expected_prev:
                problems.append(f"entry {entry.seq}: does not follow the entry before it")
            if store.entry_hash(prev_hash, entry) != stored_hash:
                problems.append(f"entry {entry.seq}: content changed after it was written")
            expected_prev = stored_hash
            expected_seq = entry.seq + 1
    return Verification(count, problems, expected_prev)
