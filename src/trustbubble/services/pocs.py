"""Points of contact: each organization keeps its own; a bubble's directory shows its members'."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from trustbubble.domain.accounts import User
from trustbubble.domain.contacts import Poc, read_poc
from trustbubble.domain.errors import Forbidden, NotFound
from trustbubble.services import audit
from trustbubble.services.accounts import reader_for
from trustbubble.services.bubbles import collection_access
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import pocs as store
from trustbubble.store.database import Database


def _may_edit(user: User) -> None:
    if not user.role.may_write:
        raise Forbidden("viewers read the directory; analysts and admins keep their POCs")


def add(db: Database, user: User, data: Mapping[str, Any]) -> Poc:
    """A new point of contact of the user's own organization."""
    _may_edit(user)
    poc = Poc(str(uuid.uuid4()), user.org_id, read_poc(data), datetime.now(UTC))
    with db.write() as conn:
        store.insert_poc(conn, poc)
        audit.record(conn, user.email, "poc.added", poc.id, org=user.org_id, name=poc.fields.name)
    return poc


def _own(conn: Connection, user: User, poc_id: str) -> Poc:
    poc = store.poc_by_id(conn, poc_id)
    if poc is None or poc.org_id != user.org_id:
        raise NotFound(f"no point of contact {poc_id} in your organization")
    return poc


def change(db: Database, user: User, poc_id: str, data: Mapping[str, Any]) -> Poc:
    _may_edit(user)
    fields = read_poc(data)
    with db.write() as conn:
        poc = Poc(_own(conn, user, poc_id).id, user.org_id, fields, datetime.now(UTC))
        store.update_poc(conn, poc)
        audit.record(conn, user.email, "poc.changed", poc.id, org=user.org_id, name=fields.name)
    return poc


def remove(db: Database, user: User, poc_id: str) -> None:
    _may_edit(user)
    with db.write() as conn:
        poc = _own(conn, user, poc_id)
        store.delete_poc(conn, poc.id)
        audit.record(conn, user.email, "poc.removed", poc.id, org=user.org_id)


def of_my_org(db: Database, user: User) -> list[Poc]:
    with db.read() as conn:
        return store.pocs_of(conn, [user.org_id])


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    organization: str
    country: str
    role_in_bubble: str
    kind: str
    name: str
    role: str
    email: str
    phone: str
    languages: str
    hours: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class Directory:
    bubble_id: str
    bubble_name: str
    entries: list[DirectoryEntry]


def directory(db: Database, user: User, bubble_id: str) -> Directory:
    """The POCs of a bubble's active organizations, for its members and observers only."""
    reader = reader_for(db, user)
    with db.read() as conn:
        where = collection_access(conn, reader, bubble_id)
        roles = bubble_store.active_roles(conn, where.id)
        if where.bubble is None or user.org_id not in roles:
            # Constituents read some content, but the directory is the members' own. An
            # observer whose parent is a member has member-constituent standing, and is listed.
            raise NotFound(f"no directory for {bubble_id}")
        orgs = {o.id: o for o in account_store.all_orgs(conn) if o.id in roles}
        found = store.pocs_of(conn, sorted(orgs))
    return Directory(
        where.id,
        where.title,
        [
            DirectoryEntry(
                orgs[p.org_id].name,
                orgs[p.org_id].country,
                roles[p.org_id].value,
                p.fields.kind.value,
                p.fields.name,
                p.fields.role,
                p.fields.email,
                p.fields.phone,
                p.fields.languages,
                p.fields.hours,
                p.fields.time_zone,
            )
            for p in sorted(
                found, key=lambda p: (orgs[p.org_id].name, p.fields.kind, p.fields.name)
            )
        ],
    )
