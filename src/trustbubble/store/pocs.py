"""Queries on points of contact."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Row, delete, insert, select, update

from trustbubble.domain.contacts import Poc, PocFields, PocKind
from trustbubble.store.tables import pocs


def _poc(row: Row[tuple[object, ...]]) -> Poc:
    m = row._mapping
    return Poc(
        id=m["id"],
        org_id=m["org_id"],
        fields=PocFields(
            kind=PocKind(m["kind"]),
            name=m["name"],
            role=m["role"],
            email=m["email"],
            phone=m["phone"],
            languages=m["languages"],
            hours=m["hours"],
            time_zone=m["time_zone"],
        ),
        updated=m["updated"],
    )


def _values(fields: PocFields) -> dict[str, str]:
    return {
        "kind": fields.kind.value,
        "name": fields.name,
        "role": fields.role,
        "email": fields.email,
        "phone": fields.phone,
        "languages": fields.languages,
        "hours": fields.hours,
        "time_zone": fields.time_zone,
    }


def insert_poc(conn: Connection, poc: Poc) -> None:
    conn.execute(
        insert(pocs).values(
            id=poc.id, org_id=poc.org_id, updated=poc.updated, **_values(poc.fields)
        )
    )


def update_poc(conn: Connection, poc: Poc) -> None:
    conn.execute(
        update(pocs).where(pocs.c.id == poc.id).values(updated=poc.updated, **_values(poc.fields))
    )


def delete_poc(conn: Connection, poc_id: str) -> None:
    conn.execute(delete(pocs).where(pocs.c.id == poc_id))


def poc_by_id(conn: Connection, poc_id: str) -> Poc | None:
    row = conn.execute(select(pocs).where(pocs.c.id == poc_id)).first()
    return _poc(row) if row else None


def pocs_of(conn: Connection, org_ids: Sequence[str]) -> list[Poc]:
    if not org_ids:
        return []
    rows = conn.execute(
        select(pocs)
        .where(pocs.c.org_id.in_(org_ids))
        .order_by(pocs.c.org_id, pocs.c.kind, pocs.c.name)
    )
    return [_poc(row) for row in rows]
