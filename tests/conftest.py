"""Shared fixtures: a migrated store on SQLite, and on PostgreSQL when CI gives its URL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from trustbubble.api.app import create_app
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.services import accounts, bubbles, node
from trustbubble.services import secrets as secrets_module
from trustbubble.settings import Settings
from trustbubble.store.database import Database, normalize_url
from trustbubble.store.tables import metadata

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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store, made once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "node.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_migrated(pg_server_url: str) -> str:
    database = Database(pg_server_url)
    database.upgrade()
    database.dispose()
    return pg_server_url


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty node store, on every backend under test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "node.sqlite3")
        database = Database(f"sqlite:///{tmp_path / 'node.sqlite3'}")
    else:
        database = Database(request.getfixturevalue("pg_migrated"))
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with database.write() as conn:
            conn.execute(text(f"TRUNCATE {names}"))
    node.publish(database)
    yield database
    database.dispose()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 with its lightest parameters: the same code path, without 0.3 s per user."""
    saved = secrets_module._hasher
    secrets_module._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    secrets_module._hasher = saved


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    """The node's ASGI app in-process, on the `db` store."""
    settings = Settings(database_url=db.url, max_content_length=1024 * 1024)
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


TAXII = "application/taxii+json;version=2.1"


@dataclass(frozen=True)
class Member:
    """An analyst of an organization that owns a bubble, with a Bearer token."""

    bubble_id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Accept": TAXII, "Authorization": f"Bearer {self.token}"}

    @property
    def post_headers(self) -> dict[str, str]:
        return {**self.headers, "Content-Type": TAXII}

    @property
    def objects_url(self) -> str:
        return f"/taxii2/bubbles/collections/{self.bubble_id}/objects/"


@pytest.fixture
def member(db: Database) -> Member:
    accounts.create_org(db, "National CERT", "cert", "FR")
    user, _password = accounts.create_user(
        db, "analyst@cert.test", "National CERT", UserRole.ANALYST
    )
    _token, secret = accounts.create_token(db, user)
    bubble = bubbles.create_bubble(db, "Health bubble", BubbleKind.REGIONAL, "National CERT")
    return Member(bubble.id, user.email, secret)
