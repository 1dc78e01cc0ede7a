"""Shared fixtures: a migrated store on SQLite, and on PostgreSQL when CI gives its URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from trustbubble.api.app import create_app
from trustbubble.services import node
from trustbubble.settings import Settings
from trustbubble.store.database import Database, normalize_url

PG_URL = os.environ.get("TRUSTBUBBLE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


def shared_dir() -> Path | None:
    """`../shared` beside the checkout (or TRUSTBUBBLE_SHARED_DIR); absent in a user's clone."""
    configured = os.environ.get("TRUSTBUBBLE_SHARED_DIR")
    base = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared"
    return base if base.is_dir() else None


def examples_dir() -> Path:
    base = shared_dir()
    if base is None or not (base / "data" / "stix21-examples").is_dir():
        pytest.skip("the OASIS STIX 2.1 examples (../shared/data/stix21-examples) are absent")
    return base / "data" / "stix21-examples"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if not PG_URL:
        pytest.skip("TRUSTBUBBLE_TEST_DATABASE_URL is not set")
    name = f"tb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(PG_URL)).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'node.sqlite3'}"
    server: str = request.getfixturevalue("pg_server_url")
    # One schema-less database per session; each test starts from empty tables.
    db = Database(server)
    db.upgrade()
    from trustbubble.store.tables import metadata

    with db.write() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names}"))
    db.dispose()
    return server


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty node store, on every backend under test."""
    database = Database(fresh_database_url(request.param, tmp_path, request))
    node.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    """The node's ASGI app in-process, on the `db` store."""
    settings = Settings(database_url=db.url, max_content_length=1024 * 1024)
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client
