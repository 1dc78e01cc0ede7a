"""Requests for assistance and points of contact over JSON: the twins of their pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import CurrentUser, NodeDep, PlatformUser
from trustbubble.domain.assistance import Action
from trustbubble.domain.contacts import Poc
from trustbubble.services import assistance, pocs

router = APIRouter(prefix="/api/v1", tags=["assistance"])

REQUEST_BODY = Body(
    description=(
        "title, details, asked (technical-analysis, mitigation, information-on-activity, "
        "law-enforcement, diplomatic), urgency (routine, high, critical), incident_id, "
        "recipients (names of member organizations; none means every other member), tlp."
    ),
    examples=[
        {
            "title": "Help to contain ransomware at Lyon-Sud",
            "asked": ["technical-analysis", "mitigation"],
            "urgency": "critical",
            "recipients": ["KE National CERT"],
            "tlp": "amber",
        }
    ],
)
POC_BODY = Body(
    description="kind (diplomatic, technical), name, role, email, phone, languages, hours, "
    "time_zone (IANA, such as Europe/Paris)."
)


class Answer(BaseModel):
    reason: str = Field(default="", description="Why, for a decline; optional otherwise.")


class Message(BaseModel):
    text: str = Field(description="The message.")
    attachments: list[str] = Field(default=[], description="STIX ids of objects of the bubble.")


@router.get("/assistance")
async def list_requests(
    node: NodeDep, user: PlatformUser, bubble: str = ""
) -> list[assistance.RequestSummary]:
    """The requests I may see, in one bubble or all of mine, newest first."""
    return await run_in_threadpool(assistance.listing, node.db, user, bubble or None)


@router.post("/bubbles/{bubble_id}/assistance", status_code=201)
async def raise_request(
    node: NodeDep, user: CurrentUser, bubble_id: str, body: Annotated[dict[str, Any], REQUEST_BODY]
) -> dict[str, str]:
    """Ask the bubble, or chosen members, for help."""
    made = await run_in_threadpool(assistance.raise_request, node.db, user, bubble_id, body)
    return {"id": made}


@router.get("/assistance/{request_id}")
async def get_request(node: NodeDep, user: PlatformUser, request_id: str) -> assistance.RequestView:
    """One request: its answers, timings, thread, and what my organization may do now."""
    return await run_in_threadpool(assistance.view, node.db, user, request_id)


@router.post("/assistance/{request_id}/messages", status_code=201)
async def post_message(node: NodeDep, user: CurrentUser, request_id: str, body: Message) -> None:
    """A message in the request's thread; attachments name objects of the bubble."""
    await run_in_threadpool(
        assistance.post_message, node.db, user, request_id, body.text, body.attachments
    )


@router.post("/assistance/{request_id}/{action}", status_code=204)
async def act(
    node: NodeDep, user: CurrentUser, request_id: str, action: Action, body: Answer | None = None
) -> None:
    """acknowledge, decline (with a reason), start, resolve or withdraw."""
    reason = body.reason if body else ""
    await run_in_threadpool(assistance.act, node.db, user, request_id, action, reason)


@router.get("/bubbles/{bubble_id}/assistance/timings")
async def timings(node: NodeDep, user: PlatformUser, bubble_id: str) -> assistance.BubbleTimings:
    """Median times to acknowledge and resolve against the charter's targets, and who is late."""
    return await run_in_threadpool(assistance.bubble_timings, node.db, user, bubble_id)


@router.get("/pocs")
async def my_pocs(node: NodeDep, user: PlatformUser) -> list[Poc]:
    """My organization's points of contact."""
    return await run_in_threadpool(pocs.of_my_org, node.db, user)


@router.post("/pocs", status_code=201)
async def add_poc(
    node: NodeDep, user: CurrentUser, body: Annotated[dict[str, Any], POC_BODY]
) -> Poc:
    return await run_in_threadpool(pocs.add, node.db, user, body)


@router.put("/pocs/{poc_id}")
async def change_poc(
    node: NodeDep, user: CurrentUser, poc_id: str, body: Annotated[dict[str, Any], POC_BODY]
) -> Poc:
    return await run_in_threadpool(pocs.change, node.db, user, poc_id, body)


@router.delete("/pocs/{poc_id}", status_code=204)
async def remove_poc(node: NodeDep, user: CurrentUser, poc_id: str) -> None:
    await run_in_threadpool(pocs.remove, node.db, user, poc_id)


@router.get("/bubbles/{bubble_id}/directory")
async def directory(node: NodeDep, user: PlatformUser, bubble_id: str) -> pocs.Directory:
    """The points of contact of the bubble's organizations, for its members and observers."""
    return await run_in_threadpool(pocs.directory, node.db, user, bubble_id)
