"""The app factory: settings and the store are built here, at start-up, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from trustbubble import __version__
from trustbubble.api import errors
from trustbubble.api.node import Node
from trustbubble.api.taxii import collections, discovery, objects
from trustbubble.services.accounts import Authenticator
from trustbubble.settings import Settings
from trustbubble.store.database import Database


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """A node's web app. Given a database, the caller owns it; else the app opens and closes one."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = db or Database(settings.database_url)
        app.state.node = Node(settings, database, Authenticator(database))
        try:
            yield
        finally:
            if db is None:
                database.dispose()

    app = FastAPI(
        title="TrustBubble",
        version=__version__,
        summary="TAXII 2.1 server and JSON API of a TrustBubble node.",
        lifespan=lifespan,
        # The interactive docs load scripts from a CDN, and nodes may be offline: serve only
        # the OpenAPI document itself, at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    app.include_router(discovery.router)
    app.include_router(collections.router)
    app.include_router(objects.router)
    return app
