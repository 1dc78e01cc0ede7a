"""Request dependencies as typed aliases: the node, the caller, content negotiation."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Depends, Request
from fastapi.routing import APIRoute

from trustbubble.api.node import Node
from trustbubble.api.taxii.media import check_accept
from trustbubble.domain.access import PeerScope, Reader
from trustbubble.domain.accounts import User
from trustbubble.domain.errors import Invalid, Unauthenticated
from trustbubble.services import accounts, federation, sessions

# The browser session's cookie, set by the web UI's sign-in.
SESSION_COOKIE = "tb_session"


async def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]


def authenticate(request: Request, node: Node) -> User | None:
    """The caller from HTTP Basic (e-mail and password or token) or a Bearer token, if any."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("bearer", "token") and value:
        return node.authenticator.bearer(value)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8 below it
            raise Unauthenticated(
                "the Basic credentials are not valid base64 of email:password"
            ) from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise Unauthenticated("the Basic credentials must be email:password")
        address = request.client.host if request.client else None
        return node.authenticator.basic(username, password, address)
    raise Unauthenticated("use HTTP Basic (e-mail and password or API token) or a Bearer token")


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def peer_caller(request: Request, node: NodeDep) -> PeerScope:
    """A peer node, by the credential this node issued it; 401 for anyone else."""
    credential = _bearer(request)
    if credential is None or not federation.looks_like_peer_credential(credential):
        raise Unauthenticated("this resource is for peer nodes: use the credential issued to yours")
    reader, _actor = federation.peer_reader(node.db, credential)
    assert reader.peer is not None
    return reader.peer


PeerCaller = Annotated[PeerScope, Depends(peer_caller)]


def optional_user(request: Request, node: NodeDep) -> User | None:
    return authenticate(request, node)


OptionalUser = Annotated[User | None, Depends(optional_user)]


def required_user(user: OptionalUser) -> User:
    if user is None:
        raise Unauthenticated("this resource needs credentials")
    return user


CurrentUser = Annotated[User, Depends(required_user)]


def optional_reader(request: Request, node: NodeDep) -> tuple[Reader, str]:
    """The reader for the access policy and the name the audit log records (one thread hop).

    A peer node's credential makes the reader that node (docs/federation.md)."""
    credential = _bearer(request)
    if credential is not None and federation.looks_like_peer_credential(credential):
        return federation.peer_reader(node.db, credential)
    user = authenticate(request, node)
    if user is None:
        return Reader.anonymous(), "anonymous"
    return accounts.reader_for(node.db, user), user.email


def optional_platform_user(request: Request, node: NodeDep) -> User | None:
    """TAXII's credentials, or for reads a signed-in browser's session cookie; None if neither."""
    user = authenticate(request, node)
    if user is None and request.method in ("GET", "HEAD"):
        cookie = request.cookies.get(SESSION_COOKIE)
        session = sessions.session_for(node.db, cookie) if cookie else None
        user = session.user if session else None
    return user


OptionalPlatformUser = Annotated[User | None, Depends(optional_platform_user)]


def platform_user(user: OptionalPlatformUser) -> User:
    if user is None:
        raise Unauthenticated("this resource needs credentials")
    return user


PlatformUser = Annotated[User, Depends(platform_user)]

Caller = Annotated[tuple[Reader, str], Depends(optional_reader)]

TaxiiAccept = Depends(check_accept)


def _nul_in(value: object, where: str) -> str | None:
    """Where in a parsed JSON body a text holds NUL, if anywhere."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = dict(enumerate(value)).items()
    else:
        return None
    for key, item in items:
        if "\x00" in str(key):
            return where
        found = _nul_in(item, f"{where}.{key}")
        if found:
            return found
    return None


async def refuse_nul(request: Request) -> None:
    """NUL (U+0000) is in nothing a person types, and PostgreSQL can neither store nor compare
    text holding it: a 400 naming where, on every route and every store alike. Bodies are looked
    at once the route has read them (JSON, forms); TAXII's envelope is streamed and not here."""
    if "\x00" in request.url.path:
        raise Invalid("path", NUL)
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise Invalid(f"query.{name}", NUL)
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    media = request.headers.get("content-type", "")
    if media.startswith("application/json"):
        where = _nul_in(await request.json(), "body")
        if where:
            raise Invalid(where, NUL)
    elif media.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        for field, given in (await request.form()).multi_items():
            if isinstance(given, str) and ("\x00" in field or "\x00" in given):
                raise Invalid(field, NUL)


NUL = "holds a NUL character (U+0000)"
RefuseNul = Depends(refuse_nul)
