"""My account over JSON: API tokens listed, created (the secret shown once, with an expiry) and
revoked; the password changed by proving the current one."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import CurrentUser, NodeDep, PlatformUser
from trustbubble.domain.accounts import ApiToken
from trustbubble.services import accounts

router = APIRouter(prefix="/api/v1/account", tags=["account"])


@dataclass(frozen=True, slots=True)
class Account:
    email: str
    role: str
    tokens: list[ApiToken]


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Where the token will be used.")
    expires_in_days: int | None = Field(
        default=None,
        ge=1,
        le=accounts.MAX_TOKEN_DAYS,
        description="Days until the token stops working; the node's default "
        "(TRUSTBUBBLE_TOKEN_DAYS, 90 unless set) when left out.",
    )
    never_expires: bool = Field(
        default=False, description="A token that works until it is revoked."
    )


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown in this answer only; the node keeps its hash


class NewPassword(BaseModel):
    current: str = Field(max_length=1024, description="The password in use now.")
    new: str = Field(
        max_length=1024,
        description="At least 12 characters, at most 256; any characters; not a breached "
        "password, nor one containing the e-mail's name or the node's.",
    )


@router.get("")
async def get_account(node: NodeDep, user: PlatformUser) -> Account:
    tokens = await run_in_threadpool(accounts.tokens_of, node.db, user)
    return Account(user.email, user.role.value, tokens)


# Writes take TAXII's credentials only (Basic or Bearer), never the browser's cookie, so no
# other site can make a signed-in browser create or revoke a token.
@router.post("/tokens", status_code=201)
async def create_token(
    node: NodeDep, user: CurrentUser, body: NewToken, response: Response
) -> CreatedToken:
    days = None if body.never_expires else body.expires_in_days or node.settings.token_days
    token, secret = await run_in_threadpool(accounts.create_token, node.db, user, body.name, days)
    response.headers["Cache-Control"] = "no-store"
    return CreatedToken(token, secret)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(node: NodeDep, user: CurrentUser, token_id: str) -> None:
    await run_in_threadpool(accounts.revoke_token, node.db, user, token_id)


@router.post("/password", status_code=204)
async def change_password(
    request: Request, node: NodeDep, user: CurrentUser, body: NewPassword
) -> None:
    """Every browser session of the user ends; API tokens keep working."""
    address = request.client.host if request.client else None
    await run_in_threadpool(
        accounts.change_password,
        node.db,
        node.authenticator,
        user,
        body.current,
        body.new,
        address,
    )
