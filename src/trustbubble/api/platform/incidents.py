"""Incidents, the observatory and value search over JSON: the twins of their pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import CurrentUser, NodeDep, PlatformUser
from trustbubble.api.platform.filters import IncidentListFilter, Int64, ObservatoryFilter
from trustbubble.api.platform.media import CSV, OR_CSV
from trustbubble.services import feed, incidents, observatory
from trustbubble.services.accounts import reader_for
from trustbubble.services.observatory import Observatory

router = APIRouter(prefix="/api/v1", tags=["incidents"])

INCIDENT_BODY = Body(
    description=(
        "The fields of the incident form: title, description, started, ended, status, sectors, "
        "country, attack_type, patients_affected, services_disrupted, care_delayed, "
        "care_diverted, records_exposed, downtime_hours, technical_impact, suspected_actor, "
        "actor_confidence, norms, sources, tlp, recipients. See docs/web.md."
    ),
    examples=[
        {
            "title": "Ransomware at a university hospital",
            "started": "2026-03-02T08:15:00Z",
            "status": "confirmed",
            "country": "FR",
            "attack_type": "ransomware",
            "sectors": ["healthcare"],
            "patients_affected": 1200,
            "norms": ["f", "h"],
            "tlp": "amber",
        }
    ],
)


@router.get("/incidents", responses=OR_CSV)
async def list_incidents(
    node: NodeDep,
    user: PlatformUser,
    where: IncidentListFilter,
    bubble: str = "",
    sort: str = "started",
    offset: Int64 = 0,
    limit: Annotated[int, Query(ge=1, le=incidents.MAX_DOWNLOAD)] = incidents.PAGE_SIZE,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """The incidents I may read, in one bubble or all of mine; `format=csv` for a download."""
    found = await run_in_threadpool(
        incidents.listing, node.db, user, bubble or None, where, sort, offset, limit
    )
    if format == "csv":
        return Response(incidents.as_csv(found.items), media_type=CSV)
    return found


@router.post("/bubbles/{bubble_id}/incidents", status_code=201)
async def report_incident(
    node: NodeDep,
    user: CurrentUser,
    bubble_id: str,
    body: Annotated[dict[str, Any], INCIDENT_BODY],
) -> dict[str, str]:
    """Report an incident in a bubble; it is shared there as a STIX incident."""
    incident_id = await run_in_threadpool(incidents.report, node.db, user, bubble_id, body)
    return {"id": incident_id}


@router.put("/bubbles/{bubble_id}/incidents/{incident_id}", status_code=204)
async def edit_incident(
    node: NodeDep,
    user: CurrentUser,
    bubble_id: str,
    incident_id: str,
    body: Annotated[dict[str, Any], INCIDENT_BODY],
) -> None:
    """A new version of an incident my organization reported."""
    await run_in_threadpool(incidents.edit, node.db, user, bubble_id, incident_id, body)


class Link(BaseModel):
    object_id: str = Field(description="The STIX id of an indicator, malware or vulnerability.")


@router.post("/bubbles/{bubble_id}/incidents/{incident_id}/links", status_code=201)
async def link_object(
    node: NodeDep, user: CurrentUser, bubble_id: str, incident_id: str, body: Link
) -> dict[str, str]:
    """Relate an object of the bubble to an incident; the new relationship's id."""
    made = await run_in_threadpool(
        incidents.link, node.db, user, bubble_id, incident_id, body.object_id
    )
    return {"id": made}


@router.get("/observatory")
async def public_observatory(
    node: NodeDep,
    where: ObservatoryFilter,
) -> Observatory:
    """Figures from TLP:CLEAR incidents only; no credentials needed."""
    return await run_in_threadpool(observatory.public, node.db, where)


@router.get("/bubbles/{bubble_id}/observatory")
async def bubble_observatory(
    node: NodeDep,
    user: PlatformUser,
    bubble_id: str,
    where: ObservatoryFilter,
) -> Observatory:
    """Figures from the incidents of a bubble that I may read."""
    return await run_in_threadpool(observatory.for_bubble, node.db, user, bubble_id, where)


@router.get("/search")
async def search(node: NodeDep, user: PlatformUser, q: str) -> feed.SearchResult:
    """Every object I may read that holds a value: an IP, a domain, a URL, an e-mail, a hash."""
    reader = await run_in_threadpool(reader_for, node.db, user)
    return await run_in_threadpool(feed.search, node.db, reader, user.email, q)
