"""The norms catalogue, national implementation reports and scorecards over JSON (docs/norms.md).

The catalogue and public reports need no credentials; everything else reads as the caller.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import CurrentUser, NodeDep, OptionalPlatformUser, PlatformUser
from trustbubble.api.platform.media import CSV, OR_CSV, STIX, STIX_BUNDLE
from trustbubble.domain.node_objects import NORM_EXTENSION, NORM_REPORT_EXTENSION
from trustbubble.domain.norms import (
    catalogue,
    entries_csv,
    norm_note,
    read_csv,
    read_document,
    read_entries,
)
from trustbubble.services import norms

router = APIRouter(prefix="/api/v1", tags=["norms"])

_Format = Annotated[str, Query(pattern="^(json|csv)$")]

ENTRIES_BODY = Body(
    description=(
        "An object keyed by norm letter (a to k); each entry has level (not-started, initial, "
        "in-progress, implemented, leading), measures (text and the guidance ids they answer), "
        "challenges, gaps (capacity gaps) and evidence (title and url). A text/csv body in the "
        "long form of docs/norms.md is read too."
    ),
    examples=[
        {
            "g": {
                "level": "implemented",
                "measures": [
                    {"text": "Hospitals named critical infrastructure", "guidance": ["g.1"]}
                ],
                "challenges": "Few security staff in rural hospitals",
                "gaps": ["Incident response training for hospitals"],
                "evidence": [{"title": "Decree 12/2025", "url": "https://example.gov/decree-12"}],
            }
        }
    ],
)


class NewReport(BaseModel):
    year: int = Field(description="The year the report covers.")
    entries: dict[str, Any] = Field(default={}, description="As for PUT .../entries.")
    copy_previous: bool = Field(
        default=False, description="Start from the latest earlier year's report when no entries."
    )


class Submission(BaseModel):
    visibility: str = Field(description="private, bubbles or public.")
    bubbles: list[str] = Field(default=[], description="Bubble ids, for visibility bubbles.")
    tlp: str = Field(default="", description="TLP in the bubbles; the bubble's default if empty.")


@router.get("/norms")
async def list_norms() -> dict[str, Any]:
    """The catalogue: the 11 norms, their 2021 guidance and the sources they come from."""
    return norms.catalogue_json()


@router.get("/norms/stix", response_class=Response, responses=STIX_BUNDLE)
async def norms_as_stix() -> Response:
    """The catalogue as a STIX 2.1 bundle: one note per norm, with the extension definitions."""
    book = catalogue()
    bundle = {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [
            NORM_EXTENSION,
            NORM_REPORT_EXTENSION,
            *(norm_note(n, book) for n in book.norms),
        ],
    }
    return Response(orjson.dumps(bundle), media_type=STIX)


@router.get("/norms/{letter}")
async def get_norm(node: NodeDep, user: OptionalPlatformUser, letter: str) -> dict[str, Any]:
    """A norm with the incidents (reported or suggested) and requests I may see that touch it."""
    page = await run_in_threadpool(norms.norm_page, node.db, user, letter)
    return {
        **norms.norm_json(page.norm),
        "catalogue_version": page.catalogue_version,
        "incidents_total": page.incidents_total,
        "incidents": [_touching(t) for t in page.incidents],
        "per_month": [{"month": m, "incidents": n} for m, n in page.per_month],
        "requests": page.requests,
    }


def _touching(t: norms.TouchingIncident) -> dict[str, Any]:
    row = t.incident
    return {
        "id": row.id,
        "bubble_id": row.bubble_id,
        "title": row.title,
        "tlp": row.tlp,
        "started": row.started,
        "country": row.country,
        "attack_type": row.attack_type,
        "sectors": row.sectors,
        "norms": row.norms,
        "link": "reported" if t.reported else "suggested",
    }


@router.get("/norm-reports")
async def list_reports(node: NodeDep, user: OptionalPlatformUser) -> list[dict[str, Any]]:
    """Every report revision I may read: my organization's, drafts included, and those shared
    with me or made public."""
    return await run_in_threadpool(norms.listing, node.db, user)


@router.post("/norm-reports", status_code=201)
async def start_report(node: NodeDep, user: CurrentUser, body: NewReport) -> dict[str, Any]:
    """Start my state's report for a year (revision 1, a draft)."""
    entries = read_entries(body.entries)
    year = norms.read_year(body.year)
    made = await run_in_threadpool(norms.start, node.db, user, year, entries, body.copy_previous)
    return {"id": made.id, "revision": made.revision, "state": made.state.value}


@router.get("/norm-reports/{report_id}", responses=OR_CSV)
async def get_report(
    node: NodeDep, user: OptionalPlatformUser, report_id: str, format: _Format = "json"
) -> Any:
    """One revision; `format=csv` gives its entries in the long CSV form."""
    found = await run_in_threadpool(norms.view, node.db, user, report_id)
    if format == "csv":
        return Response(entries_csv(found.report.entries), media_type=CSV)
    return norms.document(found)


@router.put("/norm-reports/{report_id}/entries")
async def put_entries(
    node: NodeDep,
    user: CurrentUser,
    report_id: str,
    request: Request,
    body: Annotated[Any, ENTRIES_BODY] = None,
) -> dict[str, Any]:
    """Replace a draft's entries, from JSON (or a whole report document) or from CSV."""
    if request.headers.get("content-type", "").startswith("text/csv"):
        entries = read_csv((await request.body()).decode("utf-8", errors="replace"))
    else:
        entries = read_document(body)  # the entries, or a whole document as GET serves it
    await run_in_threadpool(norms.edit, node.db, user, report_id, entries)
    found = await run_in_threadpool(norms.view, node.db, user, report_id)
    return norms.document(found)


@router.post("/norm-reports/{report_id}/submit")
async def submit_report(
    node: NodeDep, user: CurrentUser, report_id: str, body: Submission
) -> dict[str, Any]:
    """Submit a draft: it is frozen and shared as its visibility says."""
    publication = norms.read_publication(body.model_dump())
    await run_in_threadpool(norms.submit, node.db, user, report_id, publication)
    found = await run_in_threadpool(norms.view, node.db, user, report_id)
    return norms.document(found)


@router.post("/norm-reports/{report_id}/revisions", status_code=201)
async def revise_report(node: NodeDep, user: CurrentUser, report_id: str) -> dict[str, Any]:
    """Start a new revision (a draft) of a submitted report."""
    made = await run_in_threadpool(norms.revise, node.db, user, report_id)
    return {"id": made.id, "revision": made.revision, "state": made.state.value}


@router.delete("/norm-reports/{report_id}", status_code=204)
async def discard_report(node: NodeDep, user: CurrentUser, report_id: str) -> None:
    """Throw a draft away; submitted revisions are kept."""
    await run_in_threadpool(norms.discard, node.db, user, report_id)


@router.get("/norm-scorecards/{country}", responses=OR_CSV)
async def state_scorecard(
    node: NodeDep, user: OptionalPlatformUser, country: str, format: _Format = "json"
) -> Any:
    """A state's level per norm, year by year, and the change from the year before."""
    grid = await run_in_threadpool(norms.scorecard, node.db, user, country)
    if format == "csv":
        return Response(grid.as_csv(), media_type=CSV)
    return norms.grid_json(grid)


@router.get("/norm-comparison", responses=OR_CSV)
async def compare_states(
    node: NodeDep,
    user: OptionalPlatformUser,
    country: Annotated[list[str], Query(description="Two to five ISO 3166 alpha-2 codes.")],
    year: int | None = None,
    format: _Format = "json",
) -> Any:
    """Two to five states side by side, norm by norm, for a year or each one's latest."""
    grid = await run_in_threadpool(norms.compare, node.db, user, country, year)
    if format == "csv":
        return Response(grid.as_csv(), media_type=CSV)
    return norms.grid_json(grid)


@router.get("/bubbles/{bubble_id}/norms", responses=OR_CSV)
async def bubble_norms(
    node: NodeDep, user: PlatformUser, bubble_id: str, format: _Format = "json"
) -> Any:
    """Which member states implement which norms, and the capacity gaps named most."""
    found = await run_in_threadpool(norms.bubble_norms, node.db, user, bubble_id)
    if format == "csv":
        return Response(found.grid.as_csv(), media_type=CSV)
    return norms.bubble_json(found)
