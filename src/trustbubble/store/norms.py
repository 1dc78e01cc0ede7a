"""National implementation reports: their revisions and where each submitted one was shared."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from trustbubble.domain.norms import Entry, ReportState, Visibility, read_entries
from trustbubble.domain.tlp import TlpLevel
from trustbubble.store.feed import Scope, in_scope
from trustbubble.store.tables import norm_report_shares, norm_reports, objects


@dataclass(frozen=True, slots=True)
class StoredReport:
    id: str
    stix_id: str
    country: str
    year: int
    revision: int
    org_id: str
    state: ReportState
    visibility: Visibility
    tlp: TlpLevel | None
    catalogue_version: str
    entries: tuple[Entry, ...]
    author_email: str
    created: datetime
    updated: datetime
    submitted: datetime | None


def _report(r: Row[Any]) -> StoredReport:
    return StoredReport(
        id=r.id,
        stix_id=r.stix_id,
        country=r.country,
        year=r.year,
        revision=r.revision,
        org_id=r.org_id,
        state=ReportState(r.state),
        visibility=Visibility(r.visibility),
        tlp=None if r.tlp is None else TlpLevel(r.tlp),
        catalogue_version=r.catalogue_version,
        entries=read_entries(json.loads(r.entries)),
        author_email=r.author_email,
        created=r.created,
        updated=r.updated,
        submitted=r.submitted,
    )


def _values(report: StoredReport, entries_json: str) -> dict[str, object]:
    return {
        "id": report.id,
        "stix_id": report.stix_id,
        "country": report.country,
        "year": report.year,
        "revision": report.revision,
        "org_id": report.org_id,
        "state": report.state.value,
        "visibility": report.visibility.value,
        "tlp": None if report.tlp is None else int(report.tlp),
        "catalogue_version": report.catalogue_version,
        "entries": entries_json,
        "author_email": report.author_email,
        "created": report.created,
        "updated": report.updated,
        "submitted": report.submitted,
    }


def insert_report(conn: Connection, report: StoredReport, entries_json: str) -> None:
    conn.execute(insert(norm_reports).values(**_values(report, entries_json)))


def save_report(conn: Connection, report: StoredReport, entries_json: str) -> None:
    values = _values(report, entries_json)
    conn.execute(update(norm_reports).where(norm_reports.c.id == report.id).values(**values))


def reports(
    conn: Connection,
    *,
    ids: Sequence[str] = (),
    country: str | None = None,
    year: int | None = None,
    org_id: str | None = None,
    state: ReportState | None = None,
) -> list[StoredReport]:
    """Revisions matching every given condition, by country, year and revision."""
    statement = select(norm_reports).order_by(
        norm_reports.c.country, norm_reports.c.year, norm_reports.c.revision
    )
    if ids:
        statement = statement.where(norm_reports.c.id.in_(ids))
    if country is not None:
        statement = statement.where(norm_reports.c.country == country)
    if year is not None:
        statement = statement.where(norm_reports.c.year == year)
    if org_id is not None:
        statement = statement.where(norm_reports.c.org_id == org_id)
    if state is not None:
        statement = statement.where(norm_reports.c.state == state.value)
    return [_report(row) for row in conn.execute(statement)]


def last_revision(conn: Connection, country: str, year: int) -> int:
    found = conn.execute(
        select(func.max(norm_reports.c.revision)).where(
            norm_reports.c.country == country, norm_reports.c.year == year
        )
    ).scalar_one()
    return int(found or 0)


def add_shares(conn: Connection, report_id: str, added: Sequence[int]) -> None:
    if added:
        conn.execute(
            insert(norm_report_shares),
            [{"report_id": report_id, "object_added": key} for key in added],
        )


def stored_key(conn: Connection, collection_id: str, stix_id: str, version: int) -> int:
    """The `added` key of one stored version."""
    return int(
        conn.execute(
            select(objects.c.added).where(
                objects.c.collection_id == collection_id,
                objects.c.id == stix_id,
                objects.c.version == version,
            )
        ).scalar_one()
    )


def shared_readable(conn: Connection, scope: Scope) -> set[tuple[str, str, int]]:
    """The shared STIX versions of revisions the scope may read: (revision id, collection id,
    TLP) each."""
    statement = select(norm_report_shares.c.report_id, objects.c.collection_id, objects.c.tlp).join(
        objects, objects.c.added == norm_report_shares.c.object_added
    )
    return {(r[0], r[1], r[2]) for r in conn.execute(statement.where(in_scope(scope)))}


def shared_in(conn: Connection, report_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
    """Where each revision was shared: (collection id, TLP) pairs."""
    statement = (
        select(norm_report_shares.c.report_id, objects.c.collection_id, objects.c.tlp)
        .join(objects, objects.c.added == norm_report_shares.c.object_added)
        .where(norm_report_shares.c.report_id.in_(report_ids))
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for report_id, collection_id, tlp in conn.execute(statement):
        found.setdefault(report_id, []).append((collection_id, tlp))
    return found


def delete_draft(conn: Connection, report_id: str) -> None:
    conn.execute(delete(norm_reports).where(norm_reports.c.id == report_id))
