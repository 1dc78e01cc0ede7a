"""The database handle: one engine, read transactions, and one serialized writer path."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

# Key of the PostgreSQL advisory lock that serializes writers, as SQLite's BEGIN IMMEDIATE does.
# One writer at a time keeps `date_added` in commit order, so a reader paging with `added_after`
# never misses a row that commits later, and keeps the audit chain linear.
_WRITE_LOCK_KEY = 7_245_001


def normalize_url(url: str) -> str:
    """Let users write postgresql:// and get psycopg 3, SQLAlchemy's default being psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Database:
    """A store on SQLite (WAL, the embedded default) or PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._checkpointer: Checkpointer | None = None
        self._checkpointer_lock = threading.Lock()
        # The file a background checkpointer keeps in shape; none for in-memory databases.
        self._sqlite_file = (
            parsed.database
            if self.is_sqlite and parsed.database not in (None, "", ":memory:")
            else None
        )
        if self.is_sqlite:
            self.engine = self._sqlite_engine(parsed.database)
        elif parsed.get_backend_name() == "postgresql":
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=10)
        else:
            raise ValueError(f"unsupported database {parsed.get_backend_name()!r}")

    def _sqlite_engine(self, path: str | None) -> Engine:
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(self.url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's begin event, below, emit BEGIN itself.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Random object ids scatter index writes: a larger page cache keeps the index pages
            # hot. Checkpoints run in a background thread (below), off the writer's path; the
            # automatic one stays as a bound should that thread fall behind.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA wal_autocheckpoint=100000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def on_begin(connection: Connection) -> None:
            mode = "IMMEDIATE" if connection.get_execution_options().get("writer") else "DEFERRED"
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that sees one consistent snapshot."""
        with self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """The writer's transaction: one at a time on the node, committed whole or not at all."""
        if self._sqlite_file and self._checkpointer is None:
            with self._checkpointer_lock:
                if self._checkpointer is None and self._sqlite_file:
                    self._checkpointer = Checkpointer(self._sqlite_file)
        with self.engine.connect() as connection:
            connection = connection.execution_options(writer=True)
            with connection.begin():
                if not self.is_sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK_KEY}
                    )
                yield connection

    def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        from trustbubble.store.migrate import upgrade

        upgrade(self)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()


class Checkpointer:
    """Copies SQLite's write-ahead log into the database file every second, beside the writer.

    In a POST, a checkpoint by the committing connection cost a fifth of the time at a million
    objects (bench/taxii_profile.py); PASSIVE checkpoints never block readers or the writer.
    """

    INTERVAL = 1.0

    def __init__(self, path: str) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, timeout=1, check_same_thread=False)
        try:
            while not self._stop.wait(self.INTERVAL):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue  # busy now; the next round or the automatic checkpoint does it
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
