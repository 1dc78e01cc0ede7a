"""Domain errors to HTTP answers with a TAXII error body (section 3.6.1), in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount, Route

from trustbubble.api.taxii.media import NotAcceptable, TaxiiResponse, UnsupportedMediaType
from trustbubble.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    TooManyAttempts,
    Unauthenticated,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[DomainError], int, str]] = [
    (Unauthenticated, 401, "Authentication required"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not found"),
    (NotAcceptable, 406, "Not acceptable"),
    (Conflict, 409, "Conflict"),
    (TooLarge, 413, "Request too large"),
    (TooManyAttempts, 429, "Too many attempts"),
    (UnsupportedMediaType, 415, "Unsupported media type"),
    (Invalid, 400, "Bad request"),
]

CHALLENGE = 'Basic realm="TrustBubble", charset="UTF-8", Bearer realm="TrustBubble"'


# Renders an error for a person in a browser: (request, status, title, description, headers).
PageError = Callable[[Request, int, str, str, dict[str, str]], Response]

# Paths answered in JSON; every other path is a web page and gets an HTML error when the web UI
# is installed.
MACHINE_PREFIXES = ("/taxii2", "/api/", "/federation/", "/metrics", "/openapi.json", "/static/")


def error_response(
    status: int, title: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = CHALLENGE
    body = {"title": title, "description": description, "http_status": str(status)}
    return TaxiiResponse(body, status_code=status, headers=headers or None)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed(request: Request) -> str:
    """The methods of the resource: a 405 must list them (RFC 9110 section 15.5.6), and
    Starlette's own Allow names only those of the route it tried first, one route per method
    here. A resource of the OpenAPI document has the methods listed there (.../checks/schedule
    is not the check "schedule", though GET .../checks/{check_id} would take it); a page has
    those of every route its path matches."""
    route = request.scope.get("route")
    template = route.path if isinstance(route, Route) else None
    documented = request.app.openapi()["paths"].get(template) if template else None
    if documented:
        return ", ".join(method for method in _METHODS if method.lower() in documented)
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return ", ".join(
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    )


def install(app: FastAPI, page_error: PageError | None = None) -> None:
    def answer(
        request: Request, status: int, title: str, description: str, headers: dict[str, str]
    ) -> Response:
        if page_error is not None and not request.url.path.startswith(MACHINE_PREFIXES):
            return page_error(request, status, title, description, headers)
        return error_response(status, title, description, headers)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        headers = {}
        if isinstance(error, TooManyAttempts):
            headers["Retry-After"] = str(error.retry_after)
        for kind, status, title in _STATUS:
            if isinstance(error, kind):
                return answer(request, status, title, error.message, headers)
        return answer(request, 400, "Bad request", error.message, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return answer(request, 400, "Bad request", problems, {})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        headers = dict(error.headers or {})
        if error.status_code == 405 and (allowed := _allowed(request)):
            headers["Allow"] = allowed
        return answer(request, error.status_code, str(error.detail), str(error.detail), headers)

    @app.exception_handler(Exception)
    async def crash(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return answer(request, 500, "Internal error", "the node failed; the error is logged", {})
