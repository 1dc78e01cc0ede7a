"""Signing in and out of the web UI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trustbubble.api.deps import SESSION_COOKIE, NodeDep
from trustbubble.domain.errors import TooManyAttempts, Unauthenticated
from trustbubble.services import sessions
from trustbubble.web.deps import CsrfChecked, MaybeSession, SignedIn, render, set_cookie

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this node, so the form cannot send anyone elsewhere after sign-in."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, session: MaybeSession, next: str = "/") -> Response:
    if session is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "sign_in.html", next=_safe_next(next), email="", problem=None)


@router.post("/sign-in", dependencies=[CsrfChecked], response_class=HTMLResponse)
async def sign_in(
    request: Request,
    node: NodeDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    address = request.client.host if request.client else "unknown"
    try:
        cookie, _session = await run_in_threadpool(
            sessions.sign_in, node.db, node.authenticator, email, password, address
        )
    except (Unauthenticated, TooManyAttempts) as error:
        page = render(
            request,
            "sign_in.html",
            status_code=429 if isinstance(error, TooManyAttempts) else 401,
            next=_safe_next(next),
            email=email,
            problem=error.message,
        )
        if isinstance(error, TooManyAttempts):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, cookie)
    return response


@router.post("/sign-out", dependencies=[CsrfChecked])
async def sign_out(node: NodeDep, session: SignedIn) -> Response:
    await run_in_threadpool(sessions.sign_out, node.db, session)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
