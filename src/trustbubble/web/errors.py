"""Errors as pages: a person in a browser gets HTML, and a sign-in form instead of a 401."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from trustbubble.web.deps import render


def page_error(
    request: Request, status: int, title: str, description: str, headers: dict[str, str]
) -> Response:
    if status == 401 and request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
    response = render(
        request, "error.html", status_code=status, title=title, description=description
    )
    response.headers.update(headers)
    return response
