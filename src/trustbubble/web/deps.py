"""Dependencies of the pages: the browser session, the CSRF check, the template renderer."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from trustbubble.api.deps import SESSION_COOKIE, NodeDep
from trustbubble.domain.errors import Forbidden, Unauthenticated
from trustbubble.services import sessions
from trustbubble.services.sessions import WebSession

# Before sign-in there is no session to hold a CSRF token: the sign-in form double-submits
# this cookie's value instead.
CSRF_COOKIE = "tb_csrf"


async def web_session(request: Request, node: NodeDep) -> WebSession | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    found = await run_in_threadpool(sessions.session_for, node.db, cookie) if cookie else None
    request.state.web_session = found
    return found


MaybeSession = Annotated[WebSession | None, Depends(web_session)]


def signed_in(session: MaybeSession) -> WebSession:
    if session is None:
        raise Unauthenticated("sign in to see this page")
    return session


SignedIn = Annotated[WebSession, Depends(signed_in)]


async def csrf_checked(request: Request, session: MaybeSession) -> None:
    """Refuse a POST whose CSRF token is missing or is not this browser's."""
    form = await request.form()
    sent = form.get("csrf") or request.headers.get("x-csrf-token")
    expected = session.csrf if session else request.cookies.get(CSRF_COOKIE)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "this form's security token is missing or out of date; reload the page and try again"
        )


CsrfChecked = Depends(csrf_checked)


def templates(request: Request) -> Jinja2Templates:
    found: Jinja2Templates = request.app.state.templates
    return found


def set_cookie(
    request: Request, response: Response, name: str, value: str, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=path,
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the signed-in session (if any) and a CSRF token for its forms."""
    session: WebSession | None = getattr(request.state, "web_session", None)
    csrf = session.csrf if session else request.cookies.get(CSRF_COOKIE, "")
    fresh = session is None and not csrf
    if fresh:
        csrf = secrets.token_urlsafe(32)
    response = templates(request).TemplateResponse(
        request,
        template,
        {"session": session, "csrf": csrf, **context},
        status_code=status_code,
    )
    if fresh:
        set_cookie(request, response, CSRF_COOKIE, csrf)
    return response


async def form_fields(request: Request, lists: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A form's text fields but the CSRF token: a list for the names in `lists`, else the first
    value (absent reads as empty)."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf":
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        data[key] = values if key in lists else (values[0] if values else "")
    return data
