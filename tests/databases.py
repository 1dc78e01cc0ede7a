"""Places for whole nodes in tests: fresh databases and key files, the CLI on them, their rows."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.conftest import PG_URL
from tests.live_node import node_env
from trustbubble.cli import app
from trustbubble.settings import Settings
from trustbubble.store.database import normalize_url

BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a node lives: its database and its key file."""

    url: str
    key: Path

    @property
    def env(self) -> dict[str, str]:
        return node_env(self.url, {"node_key": str(self.key)})

    @property
    def settings(self) -> Settings:
        return Settings(database_url=self.url, node_key=str(self.key))


def cli(place: Place, *args: str) -> dict[str, Any]:
    """Run `trustbubble ARGS --json` on a place, in this process; its JSON answer."""
    result = CliRunner().invoke(app, [*args, "--json"], env=place.env)
    assert result.exit_code == 0, result.output + result.stderr
    answer: dict[str, Any] = orjson.loads(result.stdout)
    return answer


def fails(place: Place, *args: str) -> str:
    """Run a command that must be refused (exit 1); what it said on stderr, on one line."""
    result = CliRunner().invoke(app, list(args), env=place.env)
    assert result.exit_code == 1, result.output + result.stderr
    return " ".join(result.stderr.split())


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in `directory`, or a PostgreSQL database
    made on TRUSTBUBBLE_TEST_DATABASE_URL's server and dropped afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'node.sqlite3'}"
        return
    assert PG_URL, "PostgreSQL tests need TRUSTBUBBLE_TEST_DATABASE_URL"
    name = f"tb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalize_url(PG_URL)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def places(kind: str, directory: Path) -> Iterator[Callable[[str], Place]]:
    """Makes fresh, empty places of one kind of database, by name, and drops them afterwards."""
    with ExitStack() as stack:

        def make(name: str) -> Place:
            url = stack.enter_context(fresh_database(kind, directory / name))
            return Place(url, directory / name / "node.key")

        yield make


def rows_by_table(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in a stable order."""
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            out = {}
            for name in sorted(inspect(conn).get_table_names()):
                rows = [dict(row._mapping) for row in conn.execute(text(f'SELECT * FROM "{name}"'))]
                out[name] = sorted(rows, key=repr)
            return out
    finally:
        engine.dispose()


def digest(row: dict[str, Any]) -> str:
    return hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()


def fingerprints(rows: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[int, str]]:
    """Per table, its row count and a hash of its content (independent of row order)."""
    out = {}
    for name, found in rows.items():
        digests = sorted(digest(row) for row in found)
        out[name] = (len(found), hashlib.sha256("".join(digests).encode()).hexdigest())
    return out


def multiset(found: list[dict[str, Any]]) -> Counter[str]:
    return Counter(digest(row) for row in found)
