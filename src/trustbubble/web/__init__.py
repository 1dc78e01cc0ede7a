"""The web UI: server-rendered pages (Jinja2, htmx), static files vendored in the package."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from trustbubble.web.filters import duration
from trustbubble.web.pages import (
    account,
    assistance,
    auth,
    bubbles,
    checks,
    consultations,
    dashboard,
    exercises,
    federation,
    incidents,
    norms,
    notifications,
    observatory,
    search,
)

HERE = Path(__file__).parent


def install(app: FastAPI) -> None:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["duration"] = duration
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for pages in (auth, dashboard, bubbles, incidents, observatory, search, assistance, account):
        app.include_router(pages.router)
    app.include_router(notifications.router)
    app.include_router(checks.router)
    app.include_router(norms.router)
    app.include_router(exercises.router)
    app.include_router(consultations.router)
    app.include_router(federation.router)
