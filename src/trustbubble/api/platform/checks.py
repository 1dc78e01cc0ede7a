"""Communication checks over JSON: start, schedule, reports, and the answer for scripts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import CurrentUser, NodeDep, PlatformUser
from trustbubble.domain.checks import LONGEST_INTERVAL_DAYS, CheckSchedule
from trustbubble.services import checks
from trustbubble.services.accounts import reader_for

router = APIRouter(prefix="/api/v1", tags=["checks"])


class NewSchedule(BaseModel):
    every_days: int = Field(ge=0, le=LONGEST_INTERVAL_DAYS, description="0 stops the schedule.")


@router.get("/bubbles/{bubble_id}/checks")
async def get_checks(node: NodeDep, user: PlatformUser, bubble_id: str) -> checks.CheckHistory:
    """The bubble's newest checks (20) with their reports, and its schedule."""
    reader = await run_in_threadpool(reader_for, node.db, user)
    return await run_in_threadpool(checks.history, node.db, reader, bubble_id)


@router.post("/bubbles/{bubble_id}/checks", status_code=201)
async def start_check(node: NodeDep, user: CurrentUser, bubble_id: str) -> checks.CheckReport:
    """Ping every POC of the bubble's members (an owner's analyst or admin)."""
    return await run_in_threadpool(checks.start, node.db, user, bubble_id)


@router.put("/bubbles/{bubble_id}/checks/schedule")
async def set_schedule(
    node: NodeDep, user: CurrentUser, bubble_id: str, body: NewSchedule
) -> CheckSchedule | None:
    """Repeat the check every so many days; null after stopping it."""
    return await run_in_threadpool(checks.schedule, node.db, user, bubble_id, body.every_days)


@router.get("/bubbles/{bubble_id}/checks/{check_id}")
async def get_report(
    node: NodeDep, user: PlatformUser, bubble_id: str, check_id: str
) -> checks.CheckReport:
    """Who answered, how fast, and who did not."""
    reader = await run_in_threadpool(reader_for, node.db, user)
    return await run_in_threadpool(checks.report, node.db, reader, bubble_id, check_id)


@router.post("/checks/answer/{token}")
async def answer(node: NodeDep, token: str) -> checks.PingInvitation:
    """Confirm a ping with the token of its link (no credentials: the token is one); again
    changes nothing."""
    return await run_in_threadpool(checks.answer, node.db, token)
