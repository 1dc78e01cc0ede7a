"""Consistent copies of a live store and their return: SQLite online backup, pg_dump, pg_restore."""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Connection, func, inspect, literal, select, table, text
from sqlalchemy.engine import make_url

from trustbubble.domain.errors import DomainError
from trustbubble.store.database import Database
from trustbubble.store.tables import metadata, objects

VERSION_TABLE = "alembic_version"


class SnapshotError(DomainError):
    """A copy or its return failed: a missing tool, an unreadable file, a refusing server."""


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows in each table the database has, by name."""
    return {
        name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
        for name in sorted(inspect(conn).get_table_names())
    }


def holds_data(conn: Connection, node_author: str) -> bool:
    """Anything beyond the schema and the node's own published objects."""
    names = set(inspect(conn).get_table_names())
    if objects.name in names:
        others = conn.execute(
            select(func.count()).where(objects.c.author_org_id != node_author)
        ).scalar_one()
        if others:
            return True
    return any(
        conn.execute(select(literal(1)).select_from(table(name)).limit(1)).first() is not None
        for name in names - {objects.name, VERSION_TABLE}
    )


# SQLite ------------------------------------------------------------------------------------------


def sqlite_file(db: Database) -> Path:
    path = make_url(db.url).database
    if not path or path == ":memory:":
        raise SnapshotError("an in-memory SQLite database has nothing to back up or restore to")
    return Path(path)


def sqlite_copy(db: Database, target: Path) -> None:
    """Copy the whole database, what is still in its WAL included, into a new file.

    One backup step: the copy reads one snapshot while the node's writer carries on. In several
    steps, every commit by another connection would restart the copy, on a busy node forever.
    """
    with (
        closing(sqlite3.connect(sqlite_file(db), timeout=30)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
        # A plain rollback-journal file: one file in the archive, no -wal or -shm beside it.
        copy.execute("PRAGMA journal_mode=DELETE")


def sqlite_check(path: Path) -> str:
    """`ok`, or what PRAGMA integrity_check found wrong."""
    try:
        with closing(sqlite3.connect(path)) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as error:
        return str(error)
    return "; ".join(str(row[0]) for row in rows[:5])


def sqlite_put(source: Path, db: Database) -> None:
    """Replace the configured database's content with the file's, through SQLite's locks."""
    db.engine.dispose()
    target = sqlite_file(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            closing(sqlite3.connect(source)) as copy,
            closing(sqlite3.connect(target, timeout=30)) as live,
        ):
            copy.backup(live)
    except sqlite3.Error as error:
        raise SnapshotError(f"{target}: cannot write the database ({error})") from None


# PostgreSQL --------------------------------------------------------------------------------------


def pg_program(name: str) -> str:
    """pg_dump or pg_restore: from PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    installed = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")

    def major(path: str) -> int:
        number = re.search(r"/postgresql/(\d+)", path)
        return int(number.group(1)) if number else 0

    if installed:
        return max(installed, key=major)
    raise SnapshotError(
        f"{name} is not on PATH nor in /usr/lib/postgresql/*/bin: install the PostgreSQL "
        "client programs (Debian and Ubuntu: postgresql-client), of the server's version or newer"
    )


def _libpq(db: Database) -> tuple[str, dict[str, str]]:
    """The URL libpq reads, and an environment carrying the password (never on a command line)."""
    url = make_url(db.url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(arguments: list[str], env: dict[str, str]) -> None:
    # The program is pg_dump or pg_restore found above; the arguments are ours and the URL's.
    result = subprocess.run(  # noqa: S603
        arguments, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        said = result.stderr.strip().splitlines()[-5:] or [f"exit code {result.returncode}"]
        raise SnapshotError(f"{Path(arguments[0]).name} failed: {' '.join(said)}")


@contextmanager
def pg_snapshot(db: Database) -> Iterator[tuple[Connection, str]]:
    """A repeatable-read transaction and its exported snapshot, which pg_dump can share."""
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            yield conn, str(snapshot)


def pg_dump(db: Database, target: Path, snapshot: str | None = None) -> None:
    """pg_dump's custom format of the whole database, as of `snapshot` when given."""
    url, env = _libpq(db)
    arguments = [pg_program("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={url}"]
    if snapshot:
        arguments.append(f"--snapshot={snapshot}")
    _run(arguments, env)


def drop_tables(db: Database) -> None:
    """Drop the node's tables, so a dump of any revision restores into a clean schema."""
    with db.engine.connect() as conn, conn.begin():
        present = set(inspect(conn).get_table_names())
        for name in [VERSION_TABLE, *(table.name for table in reversed(metadata.sorted_tables))]:
            if name in present:
                conn.execute(text(f'DROP TABLE "{name}" CASCADE'))


def pg_restore(source: Path, db: Database) -> None:
    url, env = _libpq(db)
    db.engine.dispose()  # no pooled connection holds a lock on a table being replaced
    drop_tables(db)
    _run(
        [
            pg_program("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url}",
            str(source),
        ],
        env,
    )
