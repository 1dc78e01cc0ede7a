"""A node in one file: a consistent copy of its database, its key and a manifest, and the return."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import create_engine

from trustbubble import __version__
from trustbubble.domain.errors import Conflict, Invalid
from trustbubble.domain.federation import NodeKey
from trustbubble.services import audit, node, node_key
from trustbubble.settings import Settings
from trustbubble.store import migrate, snapshots
from trustbubble.store.database import Database

FORMAT = "trustbubble-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KEY = "node.key"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ACTOR = "operator"

Progress = Callable[[str], None]


def _quiet(_text: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup holds, read without unpacking the database."""

    created: datetime
    database: str  # "sqlite" or "postgresql"
    revision: str
    node: str | None  # the node id of the key in the backup; None without a key
    tables: dict[str, int]
    trustbubble: str = __version__

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "trustbubble": self.trustbubble,
            "database": self.database,
            "revision": self.revision,
            "node": self.node,
            "tables": self.tables,
        }

    @classmethod
    def read(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise Invalid("FILE", "not a trustbubble backup (its manifest is missing or foreign)")
        if not isinstance(data.get("format_version"), int) or data["format_version"] > 1:
            raise Invalid("FILE", "made by a newer trustbubble: upgrade the package to read it")
        try:
            return cls(
                datetime.strptime(data["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
                _one_of(data["database"], DATABASE_FILES),
                str(data["revision"]),
                str(data["node"]) if data.get("node") else None,
                {str(name): int(count) for name, count in data["tables"].items()},
                str(data.get("trustbubble", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise Invalid("FILE", f"the backup's manifest is damaged ({error})") from None


def _one_of(value: object, choices: dict[str, str]) -> str:
    if value not in choices:
        raise ValueError(f"unknown database {value!r}")
    return str(value)


def kind(db: Database) -> str:
    return "sqlite" if db.is_sqlite else "postgresql"


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    size: int
    manifest: Manifest


@dataclass(frozen=True, slots=True)
class Restored:
    manifest: Manifest  # of the backup
    revision: str  # the database's, after migrations
    key: str  # restored, kept (the same node), replaced, made (none in the backup)
    node: str | None
    tables: dict[str, int]
    warnings: list[str] = field(default_factory=list)

    @property
    def migrated(self) -> bool:
        return self.revision != self.manifest.revision


@contextmanager
def _workspace(near: Path | None = None) -> Iterator[Path]:
    """A private directory (0700) for the intermediate files, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix=".trustbubble-backup-", dir=near))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1_000_000:.1f} MB"


def backup(db: Database, settings: Settings, path: Path, progress: Progress = _quiet) -> Backup:
    """Copy the running node into `path`: safe while it serves and writes."""
    if path.exists():
        raise Conflict(f"{path} exists: give a new file name (a backup never replaces a file)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _workspace(path.parent) as work:
        copy = work / DATABASE_FILES[kind(db)]
        if db.is_sqlite:
            source = snapshots.sqlite_file(db)
            if not source.exists():
                raise Invalid("TRUSTBUBBLE_DATABASE_URL", f"there is no database at {source}")
            progress(f"copying the SQLite database {source} ({_size(source)})")
            snapshots.sqlite_copy(db, copy)
            revision, tables = _described(f"sqlite:///{copy}")
        else:
            progress(f"dumping the PostgreSQL database with {snapshots.pg_program('pg_dump')}")
            with snapshots.pg_snapshot(db) as (conn, snapshot):
                revision, tables = migrate.current(conn), snapshots.table_counts(conn)
                snapshots.pg_dump(db, copy, snapshot)
        if revision is None:
            raise Invalid(
                "TRUSTBUBBLE_DATABASE_URL", "the database is not set up: nothing to back up"
            )
        key_file = node_key.key_path(settings)
        key = node_key.load(settings, create=False) if key_file.exists() else None
        if key is None:
            progress(f"no node key at {key_file}: the backup holds the database only")
        else:
            progress(f"adding the node key {key_file} ({key.node_id})")
        manifest = Manifest(
            datetime.now(UTC).replace(microsecond=0),
            kind(db),
            revision,
            key.node_id if key else None,
            tables,
        )
        members: list[tuple[str, Path]] = [(copy.name, copy)]
        if key is not None:
            members.append((KEY, key_file))
        progress(f"writing {path}")
        _write(path, manifest, members)
    return Backup(path, path.stat().st_size, manifest)


def _described(url: str) -> tuple[str | None, dict[str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return migrate.current(conn), snapshots.table_counts(conn)
    finally:
        engine.dispose()


def _write(path: Path, manifest: Manifest, members: list[tuple[str, Path]]) -> None:
    """A gzipped tar, manifest first, written privately (0600) and renamed into place whole."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as archive:
                described = orjson.dumps(manifest.to_json(), option=orjson.OPT_INDENT_2)
                _add(archive, MANIFEST, described)
                for name, source in members:
                    with source.open("rb") as content:
                        _add(archive, name, content, source.stat().st_size)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _add(archive: tarfile.TarFile, name: str, content: bytes | IO[bytes], size: int = 0) -> None:
    info = tarfile.TarInfo(name)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    if isinstance(content, bytes):
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    else:
        info.size = size
        archive.addfile(info, content)


@contextmanager
def _opened(path: Path) -> Iterator[tuple[tarfile.TarFile, Manifest]]:
    try:
        archive = tarfile.open(path, "r:*")  # noqa: SIM115 (closed below; the open may fail)
    except (tarfile.TarError, OSError) as error:
        raise Invalid("FILE", f"{path} is not a trustbubble backup ({error})") from None
    with archive:
        try:
            described = orjson.loads(_member(archive, MANIFEST) or b"null")
        except orjson.JSONDecodeError:
            described = None
        yield archive, Manifest.read(described)


def _content(archive: tarfile.TarFile, name: str) -> IO[bytes] | None:
    """A member's content by name (never extracted by its own path: no path in it is trusted)."""
    try:
        member = archive.getmember(name)
    except KeyError:
        return None
    content = archive.extractfile(member) if member.isfile() else None
    if content is None:
        raise Invalid("FILE", f"the backup's {name} is not a file")
    return content


def _member(archive: tarfile.TarFile, name: str) -> bytes | None:
    content = _content(archive, name)
    return content.read() if content else None


def manifest_of(path: Path) -> Manifest:
    with _opened(path) as (_archive, manifest):
        return manifest


def restore(
    db: Database,
    settings: Settings,
    path: Path,
    *,
    force: bool = False,
    progress: Progress = _quiet,
) -> Restored:
    """Bring a backup back into the configured database and key file, then migrate it.

    Every refusal comes before the first change: a backup of the other kind of database or of a
    newer trustbubble, a database that holds data or a different node key (unless `force`).
    """
    with _opened(path) as (archive, manifest):
        progress(
            f"{path}: a {manifest.database} backup of {manifest.node or 'a node without a key'}"
            f" at revision {manifest.revision}, made {manifest.to_json()['created']}"
        )
        if manifest.database != kind(db):
            raise Invalid(
                "TRUSTBUBBLE_DATABASE_URL",
                f"the backup is of a {manifest.database} database and this one is "
                f"{kind(db)}: restore it into {manifest.database}",
            )
        migrate.refuse_newer(manifest.revision, "this backup")
        _refuse_data(db, force)
        key = _member(archive, KEY)
        key_file = node_key.key_path(settings)
        replacing = _refuse_other_key(settings, key_file, manifest, key, force)
        database_file = _content(archive, DATABASE_FILES[manifest.database])
        if database_file is None:
            raise Invalid("FILE", "the backup holds no database")
        with _workspace() as work:
            copy = work / DATABASE_FILES[manifest.database]
            with copy.open("wb") as out:
                shutil.copyfileobj(database_file, out, 1 << 20)
            _put(db, copy, progress)
    key_action = _put_key(key_file, key, replacing, progress)
    if manifest.revision != migrate.head():
        progress(f"migrating from revision {manifest.revision} to {migrate.head()}")
    node.upgrade(db)
    warnings: list[str] = []
    try:
        loaded: NodeKey | None = node_key.load(settings)
    except node_key.NodeKeyError as error:
        loaded = None
        warnings.append(f"{error}: set TRUSTBUBBLE_NODE_KEY_PASSPHRASE to the key's passphrase")
    with db.write() as conn:
        audit.record(
            conn,
            ACTOR,
            "node.restored",
            path.name,
            created=manifest.to_json()["created"],
            revision=manifest.revision,
            node=manifest.node,
        )
    with db.read() as conn:
        tables = snapshots.table_counts(conn)
        revision = migrate.current(conn) or ""
    node_id = loaded.node_id if loaded else manifest.node
    return Restored(manifest, revision, key_action, node_id, tables, warnings)


def _refuse_data(db: Database, force: bool) -> None:
    with db.read() as conn:
        if force or not snapshots.holds_data(conn, node.NODE_AUTHOR):
            return
        counts = snapshots.table_counts(conn)
    held = ", ".join(
        f"{counts[name]} {label}"
        for name, label in (
            ("organizations", "organizations"),
            ("objects", "object versions"),
            ("audit_log", "audit entries"),
        )
        if counts.get(name)
    )
    raise Conflict(
        f"the database holds data ({held or 'rows'}): restoring would replace it; "
        "--force replaces it"
    )


def _refuse_other_key(
    settings: Settings, key_file: Path, manifest: Manifest, key: bytes | None, force: bool
) -> bool:
    """Whether an existing, different key is to be replaced; refused without `force`."""
    if key is None or not key_file.exists() or key_file.read_bytes() == key:
        return False
    try:
        existing = node_key.load(settings, create=False).node_id
    except node_key.NodeKeyError:
        existing = None
    if existing is not None and existing == manifest.node:
        return False  # the same key, encrypted again
    if not force:
        raise Conflict(
            f"{key_file} is the key of {existing or 'another node'}, the backup's is "
            f"{manifest.node}: restoring would change this node's identity; --force replaces it"
        )
    return True


def _put(db: Database, copy: Path, progress: Progress) -> None:
    if db.is_sqlite:
        checked = snapshots.sqlite_check(copy)
        if checked != "ok":
            raise Invalid("FILE", f"the backup's database is damaged: {checked}")
        progress(f"restoring the database into {snapshots.sqlite_file(db)}")
        snapshots.sqlite_put(copy, db)
    else:
        progress(f"restoring the database with {snapshots.pg_program('pg_restore')}")
        snapshots.pg_restore(copy, db)


def _put_key(key_file: Path, key: bytes | None, replacing: bool, progress: Progress) -> str:
    if key is None:
        progress("the backup holds no node key")
        return "kept" if key_file.exists() else "made"
    if key_file.exists() and not replacing:
        return "kept"
    if replacing:
        aside = key_file.with_name(f"{key_file.name}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        os.replace(key_file, aside)
        progress(f"the replaced node key is kept in {aside}")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = key_file.with_name(key_file.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, key_file)
    progress(f"restored the node key to {key_file}")
    return "replaced" if replacing else "restored"
