"""National implementation reports of the UN GGE norms: write, submit, read (docs/norms.md).

Who may read a submitted revision other than its keeper is decided by the access policy, through
the STIX versions the revision was shared as: `_readable_ids()` is the one check.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from trustbubble.domain.accounts import Organization, OrgKind, User
from trustbubble.domain.bubbles import MembershipState
from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID
from trustbubble.domain.norms import (
    Entry,
    Level,
    Norm,
    ReportHeading,
    ReportState,
    Source,
    Visibility,
    catalogue,
    entries_json,
    read_letter,
    report_to_stix,
)
from trustbubble.domain.timestamps import format_timestamp, parse_timestamp, stamp
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import assistance, audit, incidents
from trustbubble.services.accounts import reader_for
from trustbubble.services.assistance import RequestSummary
from trustbubble.services.bubbles import collection_access, collections_for
from trustbubble.services.incidents import IncidentRow
from trustbubble.services.objects import publish_made, share_within
from trustbubble.store import accounts as account_store
from trustbubble.store import bubbles as bubble_store
from trustbubble.store import incidents as incident_store
from trustbubble.store import norms as store
from trustbubble.store.database import Database
from trustbubble.store.incidents import IncidentFilter
from trustbubble.store.norms import StoredReport

_FIRST_YEAR = 2015  # the year of the norms themselves


def _now() -> datetime:
    return datetime.now(UTC)


def _label(report: StoredReport) -> str:
    return f"the {report.country} report for {report.year}, revision {report.revision}"


def _keeper(conn: Connection, user: User) -> Organization:
    """The user's organization, if it may keep its state's reports."""
    if not user.role.may_write:
        raise Forbidden("writing a report needs the analyst or admin role")
    org = account_store.org_by_id(conn, user.org_id)
    assert org is not None
    if org.kind is not OrgKind.GOVERNMENT:
        raise Forbidden(
            f"{org.name} is a {org.kind.value} organization; "
            "only a government organization writes its state's implementation report"
        )
    return org


def may_keep(db: Database, user: User | None) -> bool:
    """Whether the user may write their state's reports (to offer the form at all)."""
    if user is None:
        return False
    try:
        with db.read() as conn:
            _keeper(conn, user)
    except Forbidden:
        return False
    return True


def read_year(value: Any, field: str = "year") -> int:
    try:
        year = int(str(value).strip())
    except ValueError:
        raise Invalid(field, f"{value!r} is not a year such as 2026") from None
    latest = _now().year + 1
    if not _FIRST_YEAR <= year <= latest:
        raise Invalid(field, f"{year} is outside {_FIRST_YEAR} to {latest}")
    return year


def _encode(entries: Sequence[Entry]) -> str:
    return json.dumps(entries_json(entries), ensure_ascii=False, sort_keys=True)


def start(
    db: Database, user: User, year: int, entries: Sequence[Entry] = (), copy_previous: bool = False
) -> StoredReport:
    """Start the report of the user's state for a year, as a draft of revision 1."""
    with db.write() as conn:
        org = _keeper(conn, user)
        existing = store.reports(conn, country=org.country, year=year)
        if existing:
            last = existing[-1]
            if last.org_id != org.id:
                keeper = account_store.org_by_id(conn, last.org_id)
                name = keeper.name if keeper else "another organization"
                raise Conflict(f"the {org.country} report for {year} is kept by {name}")
            raise Conflict(
                f"{org.country} already has a report for {year} ({_label(last)} is "
                f"{last.state.value}); "
                + (
                    "edit that draft"
                    if last.state is ReportState.DRAFT
                    else "start a new revision of it to change it"
                )
            )
        if copy_previous and not entries:
            earlier = [
                r for r in store.reports(conn, country=org.country, org_id=org.id) if r.year < year
            ]
            entries = earlier[-1].entries if earlier else ()
        now = _now()
        report = StoredReport(
            id=str(uuid.uuid4()),
            stix_id=f"report--{uuid.uuid4()}",
            country=org.country,
            year=year,
            revision=1,
            org_id=org.id,
            state=ReportState.DRAFT,
            visibility=Visibility.PRIVATE,
            tlp=None,
            catalogue_version=catalogue().version,
            entries=tuple(entries),
            author_email=user.email,
            created=now,
            updated=now,
            submitted=None,
        )
        store.insert_report(conn, report, _encode(report.entries))
        audit.record(conn, user.email, "norm_report.started", report.id, year=year)
    return report


def _own(conn: Connection, user: User, report_id: str) -> StoredReport:
    """A revision the user's organization keeps; NotFound for anyone else's draft."""
    found = store.reports(conn, ids=[report_id])
    if not found or found[0].org_id != user.org_id:
        raise NotFound(f"no report {report_id}")
    _keeper(conn, user)
    return found[0]


def revise(db: Database, user: User, report_id: str) -> StoredReport:
    """A new draft revision of a submitted report, starting from its latest revision."""
    with db.write() as conn:
        report = _own(conn, user, report_id)
        revisions = store.reports(conn, country=report.country, year=report.year)
        last = revisions[-1]
        if last.state is ReportState.DRAFT:
            raise Conflict(f"{_label(last)} is still a draft: edit it instead")
        now = _now()
        new = replace(
            last,
            id=str(uuid.uuid4()),
            revision=last.revision + 1,
            state=ReportState.DRAFT,
            visibility=Visibility.PRIVATE,
            tlp=None,
            catalogue_version=catalogue().version,
            author_email=user.email,
            created=now,
            updated=now,
            submitted=None,
        )
        store.insert_report(conn, new, _encode(new.entries))
        audit.record(conn, user.email, "norm_report.revised", new.id, revision=new.revision)
    return new


def edit(db: Database, user: User, report_id: str, entries: Sequence[Entry]) -> StoredReport:
    """Replace a draft's entries; a submitted revision never changes."""
    with db.write() as conn:
        report = _own(conn, user, report_id)
        if report.state is not ReportState.DRAFT:
            raise Conflict(
                f"{_label(report)} was submitted and cannot change: start a new revision"
            )
        report = replace(report, entries=tuple(entries), updated=_now())
        store.save_report(conn, report, _encode(report.entries))
        audit.record(conn, user.email, "norm_report.edited", report.id)
    return report


def discard(db: Database, user: User, report_id: str) -> None:
    """Throw a draft away."""
    with db.write() as conn:
        report = _own(conn, user, report_id)
        if report.state is not ReportState.DRAFT:
            raise Conflict(f"{_label(report)} was submitted; submitted revisions are kept")
        store.delete_draft(conn, report.id)
        audit.record(conn, user.email, "norm_report.discarded", report.id)


@dataclass(frozen=True, slots=True)
class Publication:
    """Who a revision is submitted to."""

    visibility: Visibility
    bubble_ids: tuple[str, ...] = ()
    tlp: TlpLevel | None = None  # in the bubbles; the bubble's default when None


def read_publication(data: Mapping[str, Any]) -> Publication:
    visibility = parse_choice(
        Visibility, str(data.get("visibility") or "private"), "visibility", "visibility"
    )
    raw = data.get("bubbles") or []
    bubbles = [raw] if isinstance(raw, str) else raw
    if not isinstance(bubbles, list) or not all(isinstance(b, str) for b in bubbles):
        raise Invalid("bubbles", "must be a list of bubble ids")
    bubble_ids = tuple(dict.fromkeys(b.strip() for b in bubbles if b.strip()))
    tlp_text = str(data.get("tlp") or "").strip()
    tlp = TlpLevel.parse(tlp_text) if tlp_text else None
    if tlp is not None and visibility is not Visibility.BUBBLES:
        raise Invalid("tlp", f"a {visibility.value} report has no TLP to choose")
    if visibility is Visibility.BUBBLES and not bubble_ids:
        raise Invalid("bubbles", "name at least one bubble to submit the report to")
    if visibility is not Visibility.BUBBLES and bubble_ids:
        raise Invalid("bubbles", f"a {visibility.value} report goes to no bubble")
    if tlp is TlpLevel.RED:
        raise Invalid("tlp", "a report cannot be TLP:RED; keep it private instead")
    return Publication(visibility, bubble_ids, tlp)


def submit(db: Database, user: User, report_id: str, publication: Publication) -> StoredReport:
    """Submit a draft: it is frozen, and shared as STIX where its visibility says."""
    reader = reader_for(db, user)
    with db.write() as conn:
        report = _own(conn, user, report_id)
        if report.state is not ReportState.DRAFT:
            raise Conflict(f"{_label(report)} is already submitted: start a new revision")
        if not report.entries:
            raise Invalid("entries", "the report says nothing yet: add at least one norm")
        places = [collection_access(conn, reader, b) for b in publication.bubble_ids]
        org = account_store.org_by_id(conn, report.org_id)
        assert org is not None
        revisions = store.reports(conn, country=report.country, year=report.year)
        first = revisions[0]
        now = _now()
        # A later STIX version than the revision before, even within the same millisecond.
        version = parse_timestamp(stamp(now))
        for earlier in revisions:
            if earlier.submitted is not None:
                version = max(version, parse_timestamp(stamp(earlier.submitted)) + 1000)
        moment = format_timestamp(version)
        heading = ReportHeading(
            stix_id=report.stix_id,
            country=report.country,
            year=report.year,
            revision=report.revision,
            keeper_identity=org.identity_id,
            keeper_name=org.name,
            catalogue_version=report.catalogue_version,
            created=stamp(first.created),
            submitted=moment,
        )
        keys = []
        if publication.visibility is Visibility.PUBLIC:
            publish_made(
                conn, reader, user.email, report_to_stix(heading, report.entries, TlpLevel.CLEAR)
            )
            keys.append(store.stored_key(conn, PUBLIC_COLLECTION_ID, report.stix_id, version))
        for where in places:
            tlp = where.default_tlp if publication.tlp is None else publication.tlp
            share_within(
                conn, reader, user.email, where, report_to_stix(heading, report.entries, tlp)
            )
            keys.append(store.stored_key(conn, where.id, report.stix_id, version))
        store.add_shares(conn, report.id, keys)
        report = replace(
            report,
            state=ReportState.SUBMITTED,
            visibility=publication.visibility,
            tlp=TlpLevel.CLEAR if publication.visibility is Visibility.PUBLIC else publication.tlp,
            submitted=datetime.fromtimestamp(version / 1_000_000, UTC),
            updated=now,
        )
        store.save_report(conn, report, _encode(report.entries))
        audit.record(
            conn,
            user.email,
            "norm_report.submitted",
            report.id,
            visibility=publication.visibility.value,
            bubbles=list(publication.bubble_ids),
        )
    return report


# -- reading ---------------------------------------------------------------------------------


def _reading(db: Database, user: User | None) -> tuple[set[tuple[str, str, int]], set[str]]:
    """The shared STIX versions of revisions the user may read, through the access policy,
    as (revision id, collection id, TLP); and the collections the user may see."""
    with db.read() as conn:
        public = store.shared_readable(conn, None)
    if user is None:
        return public, set()
    places = collections_for(db, reader_for(db, user))
    with db.read() as conn:
        shares = public | store.shared_readable(conn, [(c.id, c.grant) for c in places])
    return shares, {c.id for c in places}


def _visible(
    db: Database, user: User | None, shares: set[tuple[str, str, int]]
) -> list[StoredReport]:
    readable = {report_id for report_id, _c, _t in shares}
    org_id = user.org_id if user is not None else None
    with db.read() as conn:
        every = store.reports(conn)
    return [r for r in every if r.org_id == org_id or r.id in readable]


def visible_reports(db: Database, user: User | None) -> list[StoredReport]:
    """Every revision the user may read: their own organization's, drafts included, and the
    submitted ones the access policy lets them read through one of their STIX versions."""
    return _visible(db, user, _reading(db, user)[0])


def latest_submitted(reports: Sequence[StoredReport]) -> dict[tuple[str, int], StoredReport]:
    """For each country and year, the latest submitted revision among these."""
    found: dict[tuple[str, int], StoredReport] = {}
    for r in reports:
        if r.state is ReportState.SUBMITTED:
            key = (r.country, r.year)
            if key not in found or found[key].revision < r.revision:
                found[key] = r
    return found


@dataclass(frozen=True, slots=True)
class ReportView:
    report: StoredReport
    keeper: str
    mine: bool  # the reader's organization keeps it: it may edit, revise, submit
    # (bubble name or "Public", TLP label): every place for the keeper, for others those
    # where they may read it
    shared_in: list[tuple[str, str]]
    revisions: list[StoredReport]  # every revision of this country and year the reader may see


def view(db: Database, user: User | None, report_id: str) -> ReportView:
    """One revision, if the user may read it; NotFound as if it did not exist otherwise."""
    readable, known = _reading(db, user)
    visible = _visible(db, user, readable)
    found = [r for r in visible if r.id == report_id]
    if not found:
        raise NotFound(f"no report {report_id}")
    report = found[0]
    mine = user is not None and report.org_id == user.org_id
    with db.read() as conn:
        keeper = account_store.org_by_id(conn, report.org_id)
        names = _collection_names(conn)
        if mine:
            shares = store.shared_in(conn, [report.id]).get(report.id, [])
    if not mine:
        # Only where the reader may read it, and only bubbles the reader may know of by name:
        # a CLEAR version in a bubble of others reads as public.
        places = {
            (c if c in known else PUBLIC_COLLECTION_ID, t) for r, c, t in readable if r == report.id
        }
        shares = sorted(places)
    return ReportView(
        report,
        keeper.name if keeper else "",
        mine,
        [(names.get(cid, cid), TlpLevel(tlp).label) for cid, tlp in shares],
        [r for r in visible if (r.country, r.year) == (report.country, report.year)],
    )


def _collection_names(conn: Connection) -> dict[str, str]:
    names = {b.id: b.name for b in bubble_store.all_bubbles(conn)}
    names[PUBLIC_COLLECTION_ID] = "Public"
    return names


# -- scorecards ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GridRow:
    letter: str
    name: str
    levels: list[Level | None]  # one per column; None where the report says nothing
    change: int | None = None  # ranks gained from the second-last column to the last


@dataclass(frozen=True, slots=True)
class Grid:
    """Norms down, reports across: a state over the years, or several states side by side."""

    title: str
    columns: list[str]
    rows: list[GridRow]
    reports: list[StoredReport]  # the report behind each column

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["norm", "name", *self.columns, "change"])
        for row in self.rows:
            cells = [level.value if level else "" for level in row.levels]
            change = "" if row.change is None else f"{row.change:+d}"
            writer.writerow([row.letter, row.name, *cells, change])
        return out.getvalue()


def _grid(title: str, columns: list[str], reports: list[StoredReport], trend: bool) -> Grid:
    rows = []
    for norm in catalogue().norms:
        levels = [
            next((e.level for e in r.entries if e.letter == norm.letter), None) for r in reports
        ]
        change = None
        if trend and len(levels) >= 2 and levels[-1] is not None and levels[-2] is not None:
            change = levels[-1].rank - levels[-2].rank
        rows.append(GridRow(norm.letter, norm.name, levels, change))
    return Grid(title, columns, rows, reports)


def read_country(value: str, field: str = "country") -> str:
    country = value.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise Invalid(field, f"{value!r} is not an ISO 3166 alpha-2 code such as KE")
    return country


def scorecard(db: Database, user: User | None, country: str) -> Grid:
    """A state's levels per norm, year by year, from the revisions the user may read."""
    country = read_country(country)
    latest = latest_submitted(visible_reports(db, user))
    reports = [latest[key] for key in sorted(latest) if key[0] == country]
    if not reports:
        raise NotFound(f"no submitted report of {country} that you may read")
    return _grid(country, [str(r.year) for r in reports], reports, trend=True)


def compare(
    db: Database, user: User | None, countries: Sequence[str], year: int | None = None
) -> Grid:
    """Two to five states side by side, norm by norm, for a year or each one's latest."""
    chosen = list(dict.fromkeys(read_country(c, "countries") for c in countries))
    if not 2 <= len(chosen) <= 5:
        raise Invalid("countries", f"compare two to five states; {len(chosen)} given")
    latest = latest_submitted(visible_reports(db, user))
    reports = []
    for country in chosen:
        years = [y for (c, y) in latest if c == country and (year is None or y == year)]
        if not years:
            when = f" for {year}" if year is not None else ""
            raise NotFound(f"no submitted report of {country}{when} that you may read")
        reports.append(latest[(country, max(years))])
    columns = [f"{r.country} {r.year}" for r in reports]
    return _grid("Comparison", columns, reports, trend=False)


@dataclass(frozen=True, slots=True)
class Gap:
    text: str
    count: int
    letters: list[str]
    countries: list[str]


@dataclass(frozen=True, slots=True)
class BubbleNorms:
    bubble_id: str
    bubble_name: str
    grid: Grid
    implementing: dict[str, list[str]]  # norm letter -> countries at implemented or leading
    gaps: list[Gap]
    without_report: list[str]  # member countries with no report the user may read


def bubble_norms(db: Database, user: User, bubble_id: str) -> BubbleNorms:
    """Which member states implement which norms, and the capacity gaps they name most."""
    reader = reader_for(db, user)
    with db.read() as conn:
        where = collection_access(conn, reader, bubble_id)
        assert where.bubble is not None
        orgs = {o.id: o for o in account_store.all_orgs(conn)}
        countries = sorted(
            {
                orgs[m.org_id].country
                for m in bubble_store.memberships_of(conn, bubble_id)
                if m.state is MembershipState.ACTIVE
            }
        )
    latest = latest_submitted(visible_reports(db, user))
    reports = []
    missing = []
    for country in countries:
        years = [y for (c, y) in latest if c == country]
        if years:
            reports.append(latest[(country, max(years))])
        else:
            missing.append(country)
    grid = _grid(where.bubble.name, [f"{r.country} {r.year}" for r in reports], reports, False)
    implementing = {
        row.letter: [
            r.country
            for r, level in zip(reports, row.levels, strict=True)
            if level and level.implements
        ]
        for row in grid.rows
    }
    return BubbleNorms(
        where.id, where.bubble.name, grid, implementing, common_gaps(reports), missing
    )


def common_gaps(reports: Sequence[StoredReport], most: int = 15) -> list[Gap]:
    """Capacity gaps named in these reports, the most frequent first (same text, any case)."""
    found: dict[str, tuple[str, set[str], set[str], int]] = {}
    for r in reports:
        for entry in r.entries:
            for gap in entry.gaps:
                key = " ".join(gap.lower().split())
                text_, letters, countries, count = found.get(key, (gap, set(), set(), 0))
                letters.add(entry.letter)
                countries.add(r.country)
                found[key] = (text_, letters, countries, count + 1)
    ranked = sorted(found.values(), key=lambda g: (-g[3], g[0].lower()))
    return [Gap(t, n, sorted(ls), sorted(cs)) for t, ls, cs, n in ranked[:most]]


# -- JSON shapes, shared by the API and the CLI ---------------------------------------------


def norm_json(norm: Norm) -> dict[str, Any]:
    return {
        "letter": norm.letter,
        "name": norm.name,
        "paraphrase": norm.paraphrase,
        "source": norm.source,
        "guidance": [{"id": g.id, "measure": g.measure, "source": g.source} for g in norm.guidance],
        "page": f"/norms/{norm.letter}",
    }


def catalogue_json() -> dict[str, Any]:
    book = catalogue()
    return {
        "version": book.version,
        "published": book.published,
        "sources": [{"id": s.id, "title": s.title, "url": s.url} for s in book.sources],
        "norms": [norm_json(n) for n in book.norms],
    }


def grid_json(grid: Grid) -> dict[str, Any]:
    return {
        "title": grid.title,
        "columns": [
            {"label": label, "report_id": r.id, "country": r.country, "year": r.year}
            for label, r in zip(grid.columns, grid.reports, strict=True)
        ],
        "rows": [
            {
                "norm": row.letter,
                "name": row.name,
                "levels": [level.value if level else None for level in row.levels],
                "change": row.change,
            }
            for row in grid.rows
        ],
    }


def bubble_json(found: BubbleNorms) -> dict[str, Any]:
    return {
        **grid_json(found.grid),
        "bubble_id": found.bubble_id,
        "implementing": found.implementing,
        "gaps": [
            {"text": g.text, "count": g.count, "letters": g.letters, "countries": g.countries}
            for g in found.gaps
        ],
        "without_report": found.without_report,
    }


# -- documents -------------------------------------------------------------------------------


def document(found: ReportView) -> dict[str, Any]:
    """A revision as the JSON the API serves and `import` reads back."""
    r = found.report
    return {
        "id": r.id,
        "country": r.country,
        "year": r.year,
        "revision": r.revision,
        "state": r.state.value,
        "visibility": r.visibility.value,
        "tlp": r.tlp.label if r.tlp is not None else None,
        "keeper": found.keeper,
        "catalogue_version": r.catalogue_version,
        "created": stamp(r.created),
        "submitted": stamp(r.submitted) if r.submitted else None,
        "stix_id": r.stix_id,
        "entries": entries_json(r.entries),
        "shared_in": [{"collection": name, "tlp": tlp} for name, tlp in found.shared_in],
        "revisions": [
            {"id": x.id, "revision": x.revision, "state": x.state.value} for x in found.revisions
        ],
    }


def summary(report: StoredReport, keepers: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": report.id,
        "country": report.country,
        "year": report.year,
        "revision": report.revision,
        "state": report.state.value,
        "visibility": report.visibility.value,
        "keeper": keepers.get(report.org_id, ""),
        "submitted": stamp(report.submitted) if report.submitted else None,
        "norms": len(report.entries),
    }


def listing(db: Database, user: User | None) -> list[dict[str, Any]]:
    """Every revision the user may read, newest year first."""
    with db.read() as conn:
        keepers = {o.id: o.name for o in account_store.all_orgs(conn)}
    found = visible_reports(db, user)
    found.sort(key=lambda r: (-r.year, r.country, -r.revision))
    return [summary(r, keepers) for r in found]


# -- a norm and where it is tested -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TouchingIncident:
    incident: IncidentRow
    reported: bool  # named by its reporter; else suggested from what it is


@dataclass(frozen=True, slots=True)
class NormPage:
    norm: Norm
    catalogue_version: str
    sources: list[Source]
    incidents_total: int
    incidents: list[TouchingIncident]  # the newest first, at most PAGE
    per_month: list[tuple[str, int]]  # incidents by month they started
    requests: list[RequestSummary]  # requests for assistance, for norm (h)


PAGE = 50


def norm_page(db: Database, user: User | None, letter: str) -> NormPage:
    """A norm, with the incidents and requests the user may see that touch it."""
    book = catalogue()
    norm = book.norm(read_letter(letter))
    where = IncidentFilter(norm=norm.letter)
    found = incidents.listing(db, user, None, where, "started", 0, PAGE)
    scope = None if user is None else incidents.scope_of(db, reader_for(db, user), None)[0]
    with db.read() as conn:
        months = incident_store.count_by(conn, scope, where, "month")
    requests = assistance.listing(db, user) if user is not None and norm.letter == "h" else []
    return NormPage(
        norm,
        book.version,
        book.sources_of(norm),
        found.total,
        [TouchingIncident(row, norm.letter in row.norms) for row in found.items],
        sorted((month or "", count) for month, count in months),
        requests,
    )
