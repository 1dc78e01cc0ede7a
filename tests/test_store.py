"""Contract tests of the store, run on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from trustbubble.domain.access import ReadGrant
from trustbubble.domain.tlp import TlpLevel
from trustbubble.store import objects as store
from trustbubble.store.database import Database
from trustbubble.store.objects import NewVersion, ObjectQuery, VersionFilter
from trustbubble.store.tables import metadata

EVERYTHING = ReadGrant(frozenset(TlpLevel), frozenset(), frozenset())
COLLECTION = "2b0c8f5e-1111-4c3b-9a55-6a7c1d9e0f01"


def version(
    object_id: str, stamp: int, digest: str = "d", tlp: TlpLevel = TlpLevel.GREEN
) -> NewVersion:
    return NewVersion(
        index=0,
        id=object_id,
        type=object_id.split("--")[0],
        spec_version="2.1",
        version=stamp,
        tlp=tlp,
        recipients=frozenset(),
        digest=f"{digest}{stamp}",
        body=b'{"id":"%s","v":%d}' % (object_id.encode(), stamp),
    )


def versions_of(db: Database, object_id: str, wanted: VersionFilter) -> list[int]:
    with db.read() as conn:
        rows = store.page(
            conn, COLLECTION, EVERYTHING, ObjectQuery(ids=(object_id,), versions=wanted), None, 100
        )
    return sorted(row[2] for row in rows)


def test_the_migrations_create_exactly_the_declared_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode(db: Database) -> None:
    if not db.is_sqlite:
        return
    with db.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_first_and_last_follow_versions_in_any_order_of_arrival(db: Database) -> None:
    object_id = "indicator--5f7d1c0e-8a1b-4c2d-9e3f-0a1b2c3d4e5f"
    for stamp in (20, 10, 30):  # the middle version arrives first, the oldest second
        with db.write() as conn:
            store.insert_versions(conn, COLLECTION, "org", [version(object_id, stamp)], 1_000)
    assert versions_of(db, object_id, VersionFilter(last=True)) == [30]
    assert versions_of(db, object_id, VersionFilter(first=True, last=False)) == [10]
    assert versions_of(db, object_id, VersionFilter(all=True)) == [10, 20, 30]
    assert versions_of(db, object_id, VersionFilter(last=False, versions=(20,))) == [20]


def test_deleting_the_latest_version_makes_the_previous_one_latest(db: Database) -> None:
    object_id = "malware--0c7b5e2a-3d4f-4e6a-8b9c-1d2e3f4a5b6c"
    with db.write() as conn:
        store.insert_versions(
            conn, COLLECTION, "org", [version(object_id, 1), version(object_id, 2)], 1_000
        )
        matched, gone = store.delete_versions(
            conn,
            COLLECTION,
            EVERYTHING,
            ObjectQuery(ids=(object_id,), versions=VersionFilter(last=False, versions=(2,))),
            "org",
        )
    assert (matched, gone) == (1, [(object_id, 2)])
    assert versions_of(db, object_id, VersionFilter(last=True)) == [1]


def test_a_replay_is_a_duplicate_and_other_content_a_conflict(db: Database) -> None:
    object_id = "indicator--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    with db.write() as conn:
        first = store.insert_versions(conn, COLLECTION, "org", [version(object_id, 5)], 1_000)
        again = store.insert_versions(conn, COLLECTION, "org", [version(object_id, 5)], 1_000)
        other = store.insert_versions(
            conn, COLLECTION, "org", [version(object_id, 5, digest="x")], 1_000
        )
    assert (len(first.stored), len(again.duplicates), len(other.conflicts)) == (1, 1, 1)
    assert versions_of(db, object_id, VersionFilter(all=True)) == [5]


def test_date_added_grows_and_pages_resume_after_the_cursor(db: Database) -> None:
    batch = [version(f"indicator--00000000-0000-4000-8000-{i:012d}", 1) for i in range(25)]
    with db.write() as conn:
        store.insert_versions(conn, COLLECTION, "org", batch[:10], 5_000)
    with db.write() as conn:  # a clock that went backwards must not reorder date_added
        store.insert_versions(conn, COLLECTION, "org", batch[10:], 1_000)
    seen: list[str] = []
    after = None
    while True:
        with db.read() as conn:
            rows = store.page(conn, COLLECTION, EVERYTHING, ObjectQuery(), after, 7)
        seen.extend(row[1] for row in rows[:7])
        if len(rows) <= 7:
            break
        after = rows[6][0]
    assert seen == [v.id for v in batch]


def test_red_is_read_by_the_author_and_named_recipients_only(db: Database) -> None:
    red = NewVersion(
        0,
        "note--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "note",
        "2.1",
        1,
        TlpLevel.RED,
        frozenset({"identity--aaaaaaaa-0000-4000-8000-000000000001"}),
        "r",
        b"{}",
    )
    with db.write() as conn:
        store.insert_versions(conn, COLLECTION, "author-org", [red], 1_000)
    members = frozenset(TlpLevel) - {TlpLevel.RED}

    def sees(grant: ReadGrant) -> bool:
        with db.read() as conn:
            return bool(store.page(conn, COLLECTION, grant, ObjectQuery(), None, 10))

    assert sees(ReadGrant(members, frozenset({"author-org"}), frozenset()))
    assert sees(
        ReadGrant(
            members,
            frozenset({"other"}),
            frozenset({"identity--aaaaaaaa-0000-4000-8000-000000000001"}),
        )
    )
    assert not sees(
        ReadGrant(
            members,
            frozenset({"other"}),
            frozenset({"identity--bbbbbbbb-0000-4000-8000-000000000002"}),
        )
    )
