"""My notifications and my organization's webhooks over JSON."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trustbubble.api.background import secret_key
from trustbubble.api.deps import CurrentUser, NodeDep, PlatformUser
from trustbubble.domain.notifications import Notification, Webhook
from trustbubble.services import notifications, webhooks

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/notifications")
async def get_notifications(node: NodeDep, user: PlatformUser) -> notifications.Inbox:
    """My newest notifications (100), newest first, and how many of mine are unread."""
    return await run_in_threadpool(notifications.inbox, node.db, user)


# Writes take TAXII's credentials only, never the browser's cookie (as in account.py).
@router.post("/notifications/{notification_id}/read")
async def read_notification(node: NodeDep, user: CurrentUser, notification_id: str) -> Notification:
    """Mark one of my notifications read; again changes nothing."""
    return await run_in_threadpool(notifications.mark_read, node.db, user, notification_id)


class NewWebhook(BaseModel):
    url: str = Field(min_length=1, max_length=500, description="http or https address to POST to.")


@dataclass(frozen=True, slots=True)
class WebhookList:
    webhooks: list[Webhook]


@dataclass(frozen=True, slots=True)
class AddedWebhook:
    webhook: Webhook
    signing_key: str  # hex; the receiver checks X-TrustBubble-Signature with it


@router.get("/webhooks")
async def get_webhooks(node: NodeDep, user: PlatformUser) -> WebhookList:
    """My organization's webhooks (admins only)."""
    return WebhookList(await run_in_threadpool(webhooks.webhooks_of, node.db, user))


@router.post("/webhooks", status_code=201)
async def add_webhook(
    node: NodeDep, user: CurrentUser, body: NewWebhook, response: Response
) -> AddedWebhook:
    """Add a webhook to my organization (admins only): every notification to one of its users is
    POSTed to it as JSON, signed in X-TrustBubble-Signature."""
    webhook, key = await run_in_threadpool(
        webhooks.add, node.db, secret_key(node.settings), user, body.url
    )
    response.headers["Cache-Control"] = "no-store"
    return AddedWebhook(webhook, key)


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def revoke_webhook(node: NodeDep, user: CurrentUser, webhook_id: str) -> None:
    await run_in_threadpool(webhooks.revoke, node.db, user, webhook_id)
