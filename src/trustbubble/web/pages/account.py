"""My account: API tokens (create with a lifetime, see last use and expiry, revoke), and the
password (changed by proving the current one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import NodeDep
from trustbubble.api.node import Node
from trustbubble.domain.errors import Invalid, TooManyAttempts
from trustbubble.domain.passwords import MIN_LENGTH
from trustbubble.services import accounts
from trustbubble.services.sessions import WebSession
from trustbubble.web.deps import CsrfChecked, SignedIn, render

router = APIRouter(include_in_schema=False)

# The lifetimes offered for a new token, in days; "never" is the empty choice.
LIFETIMES = (7, 30, 90, 180, 365)


async def _page(
    request: Request, node: Node, session: WebSession, status_code: int = 200, **context: Any
) -> HTMLResponse:
    tokens = await run_in_threadpool(accounts.tokens_of, node.db, session.user)
    page: dict[str, Any] = {"new_token": None, "password_problem": None, "password_changed": False}
    page.update(context)
    return render(
        request,
        "account.html",
        status_code=status_code,
        tokens=tokens,
        now=datetime.now(UTC),
        lifetimes=sorted({*LIFETIMES, node.settings.token_days}),
        default_days=node.settings.token_days,
        min_length=MIN_LENGTH,
        twin="/api/v1/account",
        **page,
    )


@router.get("/account", response_class=HTMLResponse)
async def account(request: Request, node: NodeDep, session: SignedIn) -> Response:
    return await _page(request, node, session)


@router.post("/account/tokens", dependencies=[CsrfChecked], response_class=HTMLResponse)
async def create_token(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    days: Annotated[str, Form()] = "",
) -> Response:
    if days.strip() and not days.strip().isdigit():
        raise Invalid("days", f"{days!r} is not a number of days")
    lifetime = int(days) if days.strip() else None  # empty: until revoked
    _token, secret = await run_in_threadpool(
        accounts.create_token, node.db, session.user, name.strip(), lifetime
    )
    # The secret is shown on this response only; it is stored as a hash.
    response = await _page(request, node, session, new_token=secret)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
async def revoke_token(node: NodeDep, session: SignedIn, token_id: str) -> Response:
    await run_in_threadpool(accounts.revoke_token, node.db, session.user, token_id)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/password", dependencies=[CsrfChecked], response_class=HTMLResponse)
async def change_password(
    request: Request,
    node: NodeDep,
    session: SignedIn,
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    repeat: Annotated[str, Form()],
) -> Response:
    address = request.client.host if request.client else None
    headers: dict[str, str] = {}
    try:
        if new != repeat:
            raise Invalid("password", "the two new passwords differ")
        await run_in_threadpool(
            accounts.change_password,
            node.db,
            node.authenticator,
            session.user,
            current,
            new,
            address,
            session.id_hash,
        )
    except Invalid as error:
        problem, status = error.message, 400
    except TooManyAttempts as error:
        problem, status = error.message, 429
        headers["Retry-After"] = str(error.retry_after)
    else:
        return await _page(request, node, session, password_changed=True)
    response = await _page(request, node, session, status, password_problem=problem)
    response.headers.update(headers)
    return response
