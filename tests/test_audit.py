"""The audit log is hash-chained: a changed or removed entry is found."""

from __future__ import annotations

from sqlalchemy import delete, update

from trustbubble.domain.accounts import UserRole
from trustbubble.services import accounts, audit
from trustbubble.store.database import Database
from trustbubble.store.tables import audit_log


def fill(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    accounts.create_org(db, "CERT KE", "cert", "KE")
    accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST)


def test_an_untouched_log_verifies(db: Database) -> None:
    fill(db)
    result = audit.verify(db)
    assert result.ok
    assert result.entries == 3


def test_a_changed_entry_is_found(db: Database) -> None:
    fill(db)
    with db.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="someone else"))
    assert audit.verify(db).problems == ["entry 2: content changed after it was written"]


def test_a_removed_entry_is_found(db: Database) -> None:
    fill(db)
    with db.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
    problems = audit.verify(db).problems
    assert "entry 2 is missing" in problems
    assert "entry 3: does not follow the entry before it" in problems
