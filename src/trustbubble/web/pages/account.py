"""My account: API tokens (create, see last use, revoke)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.services import accounts
from trustbubble.web.deps import CsrfChecked, SignedIn, render

router = APIRouter(include_in_schema=False)


@router.get("/account", response_class=HTMLResponse)
async def account(request: Request, node: NodeDep, session: SignedIn) -> Response:
    tokens = await run_in_threadpool(accounts.tokens_of, node.db, session.user)
    return render(request, "account.html", tokens=tokens, new_token=None, twin="/api/v1/account")


@router.post("/account/tokens", dependencies=[CsrfChecked], response_class=HTMLResponse)
async def create_token(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    name: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    _token, secret = await run_in_threadpool(
        accounts.create_token, node.db, session.user, name.strip()
    )
    tokens = await run_in_threadpool(accounts.tokens_of, node.db, session.user)
    # The secret is shown on this response only; it is stored as a hash.
    response = render(
        request, "account.html", tokens=tokens, new_token=secret, twin="/api/v1/account"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
async def revoke_token(node: NodeDep, session: SignedIn, token_id: str) -> Response:
    await run_in_threadpool(accounts.revoke_token, node.db, session.user, token_id)
    return RedirectResponse("/account", status_code=303)
