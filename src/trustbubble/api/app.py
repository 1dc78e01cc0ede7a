"""The app factory: settings and the store are built here, at start-up, never at import."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from trustbubble import __version__
from trustbubble.api import errors, federation, metrics, redact
from trustbubble.api.background import Background, WakeAfterWrites
from trustbubble.api.deps import RefuseNul
from trustbubble.api.live import Hub
from trustbubble.api.node import Node
from trustbubble.api.platform import (
    account,
    assistance,
    checks,
    consultations,
    exercises,
    incidents,
    norms,
    notifications,
    pages,
)
from trustbubble.api.taxii import collections, discovery, objects
from trustbubble.api.taxii.resources import ERRORS
from trustbubble.services import node_key
from trustbubble.services.accounts import Authenticator
from trustbubble.services.throttle import SignInLimits
from trustbubble.settings import Settings
from trustbubble.store.database import Database
from trustbubble.web import install as install_web
from trustbubble.web.errors import page_error
from trustbubble.web.headers import SecurityHeaders


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """A node's web app. Given a database, the caller owns it; else the app opens and closes one."""
    settings = settings or Settings()
    redact.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = db or Database(settings.database_url)
        key = node_key.load(settings)
        app.state.node = Node(
            settings,
            database,
            Authenticator(database, SignInLimits.from_settings(settings)),
            Hub(database),
            key,
        )
        app.state.background = Background(settings, database, key)
        app.state.background.start()
        # What start-up built lives as long as the process: move it out of the collector's
        # sight, so that a full collection walks only what requests made (it walked some 150,000
        # objects for 170 ms, a stall every live exercise follower felt; docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            app.state.background.stop()
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
        dependencies=[RefuseNul],
    )
    errors.install(app, page_error)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(WakeAfterWrites)
    routers = [
        *(discovery.router, collections.router, objects.router),
        *(pages.router, incidents.router, assistance.router, account.router),
        *(notifications.router, checks.router, norms.router, exercises.router),
        *(consultations.router, federation.router, federation.status_router),
        *([metrics.router] if settings.metrics else []),
    ]
    for router in routers:
        # One error body everywhere (errors.py), so the OpenAPI document says so once.
        app.include_router(router, responses=ERRORS)
    install_web(app)
    return app
