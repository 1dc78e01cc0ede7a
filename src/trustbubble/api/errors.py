"""Domain errors to HTTP answers with a TAXII error body (section 3.6.1), in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from trustbubble.api.taxii.media import NotAcceptable, TaxiiResponse, UnsupportedMediaType
from trustbubble.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
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
    (UnsupportedMediaType, 415, "Unsupported media type"),
    (Invalid, 400, "Bad request"),
]

CHALLENGE = 'Basic realm="TrustBubble", charset="UTF-8", Bearer realm="TrustBubble"'


def error_response(status: int, title: str, description: str) -> Response:
    headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else None
    body = {"title": title, "description": description, "http_status": str(status)}
    return TaxiiResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> Response:
        for kind, status, title in _STATUS:
            if isinstance(error, kind):
                return error_response(status, title, error.message)
        return error_response(400, "Bad request", error.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return error_response(400, "Bad request", problems)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> Response:
        return error_response(error.status_code, str(error.detail), str(error.detail))

    @app.exception_handler(Exception)
    async def crash(_request: Request, error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return error_response(500, "Internal error", "the node failed; the error is logged")
