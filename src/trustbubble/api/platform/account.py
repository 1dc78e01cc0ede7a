"""My account over JSON: API tokens listed, created (the secret shown once) and revoked."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Response
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


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown in this answer only; the node keeps its hash


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
    token, secret = await run_in_threadpool(accounts.create_token, node.db, user, body.name)
    response.headers["Cache-Control"] = "no-store"
    return CreatedToken(token, secret)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(node: NodeDep, user: CurrentUser, token_id: str) -> None:
    await run_in_threadpool(accounts.revoke_token, node.db, user, token_id)
