"""Upgrading a node filled at the first revision: nothing is lost, and it serves what it held.

The rows are written as the code of revision 0001 wrote them, by hand, so a later change to the
code cannot make the old data look like the new; the audit chain's hash is frozen here for the
same reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from tests.databases import BACKENDS, Place, cli, fails, fingerprints, rows_by_table
from tests.databases import places as fresh_places
from trustbubble.api.app import create_app
from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID
from trustbubble.domain.timestamps import parse_timestamp
from trustbubble.domain.tlp import TLP2_MARKING_IDS, TlpLevel
from trustbubble.store import migrate
from trustbubble.store.database import Database

TAXII = "application/taxii+json;version=2.1"
TOKEN = "tb_" + "u" * 43  # an API token as 0001 issued them: stored as its SHA-256
PASSWORD = "correct horse battery staple"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# (key, organization id, name, kind, country, parent)
ORGS = [
    ("fr", "00000000-0000-4000-8000-0000000000f1", "CERT FR", "cert", "FR", None),
    ("hospital", "00000000-0000-4000-8000-0000000000f2", "Hospital Lyon", "operator", "FR", "fr"),
    ("de", "00000000-0000-4000-8000-0000000000d1", "CERT DE", "cert", "DE", None),
]
ORG_IDS = {key: org_id for key, org_id, *_ in ORGS}
IDENTITY = {key: f"identity--{org_id}" for key, org_id, *_ in ORGS}
# (e-mail, organization, role)
USERS = [
    ("analyst@cert.fr", "fr", "analyst"),
    ("viewer@hospital.fr", "hospital", "viewer"),
    ("analyst@cert.de", "de", "analyst"),
]
HEALTH, BILATERAL = "00000000-0000-4000-8000-00000000b001", "00000000-0000-4000-8000-00000000b002"
# (bubble, organization, role, state)
MEMBERSHIPS = [
    (HEALTH, "fr", "owner", "active"),
    (HEALTH, "de", "member", "active"),
    (BILATERAL, "de", "owner", "active"),
    (BILATERAL, "fr", "member", "invited"),
]


def _id(kind: str, number: int) -> str:
    return f"{kind}--00000000-0000-4000-8000-{number:012d}"


# (STIX id, type, TLP, extra properties); all shared by CERT DE in the health bubble.
MALWARE = _id("malware", 3)
ADDRESS, DOMAIN = "[ipv4-addr:value = '198.51.100.7']", "[domain-name:value = 'x.example']"
OBJECTS: list[tuple[str, str, TlpLevel, dict[str, Any]]] = [
    (_id("indicator", 1), "indicator", TlpLevel.CLEAR, {"pattern": ADDRESS}),
    (_id("indicator", 2), "indicator", TlpLevel.GREEN, {"pattern": DOMAIN}),
    (MALWARE, "malware", TlpLevel.AMBER, {"name": "LockMed", "is_family": True}),
    (_id("vulnerability", 4), "vulnerability", TlpLevel.AMBER_STRICT, {"name": "CVE-2026-0001"}),
    (_id("report", 5), "report", TlpLevel.RED, {"name": "For CERT FR", "object_refs": [MALWARE]}),
    (_id("note", 6), "note", TlpLevel.RED, {"content": "Not for FR", "object_refs": [MALWARE]}),
]  # fmt: skip
RED_RECIPIENTS = {_id("report", 5): IDENTITY["fr"], _id("note", 6): "identity--elsewhere"}


def _stix(stix_id: str, kind: str, level: TlpLevel, extra: dict[str, Any], at: str) -> bytes:
    body: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": stix_id,
        "created": "2026-01-05T09:00:00.000Z",
        "modified": at,
        "created_by_ref": IDENTITY["de"],
        "object_marking_refs": [TLP2_MARKING_IDS[level]],
        **extra,
    }
    if kind == "indicator":
        body |= {"pattern_type": "stix", "valid_from": "2026-01-05T09:00:00Z"}
    if kind == "report":
        body |= {"published": "2026-01-05T09:00:00Z"}
    return orjson.dumps(body)


def audit_hash(prev_hash: str, seq: int, at: datetime, *fields: str) -> str:
    """The audit chain's hash as revision 0001 defined it."""
    moment = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return hashlib.sha256(prev_hash.encode() + orjson.dumps([seq, moment, *fields])).hexdigest()


def fill_at_0001(db: Database) -> None:
    """Organizations, users, a token, bubbles, memberships, objects of every TLP (one in two
    versions), a status and an audit chain, in 0001's schema."""

    def when(minutes: int) -> object:
        at = START + timedelta(minutes=minutes)
        # 0001's UtcDateTime: naive UTC text on SQLite, timestamptz on PostgreSQL.
        return at.strftime("%Y-%m-%d %H:%M:%S.%f") if db.is_sqlite else at

    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with db.write() as conn:

        def insert(table: str, **values: object) -> None:
            names = ", ".join(values)
            conn.execute(
                text(
                    f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in values)})"
                ),
                values,
            )

        for key, org_id, name, kind, country, parent in ORGS:
            insert(
                "organizations", id=org_id, name=name, kind=kind, country=country,
                parent_id=ORG_IDS[parent] if parent else None, identity_id=IDENTITY[key],
                created=when(0),
            )  # fmt: skip
        for number, (email, org, role) in enumerate(USERS, start=1):
            insert(
                "users", id=f"00000000-0000-4000-8000-00000000a00{number}", email=email,
                org_id=ORG_IDS[org], role=role, password_hash=hasher.hash(PASSWORD),
                identity_id=f"identity--00000000-0000-4000-8000-00000000a00{number}",
                created=when(1),
            )  # fmt: skip
        insert(
            "api_tokens", id="00000000-0000-4000-8000-0000000000e1",
            user_id="00000000-0000-4000-8000-00000000a001", name="feed",
            token_hash=hashlib.sha256(TOKEN.encode()).hexdigest(), prefix=TOKEN[:8],
            created=when(2), last_used=None, revoked=None,
        )  # fmt: skip
        for bubble_id, name, tlp in ((HEALTH, "Health", 2), (BILATERAL, "FR-DE", 1)):
            insert(
                "bubbles", id=bubble_id, name=name, kind="regional", charter="",
                default_tlp=tlp, created=when(3),
            )  # fmt: skip
        for bubble_id, org, role, state in MEMBERSHIPS:
            insert(
                "memberships", bubble_id=bubble_id, org_id=ORG_IDS[org], role=role, state=state,
                invited=when(4), responded=when(5) if state == "active" else None,
            )  # fmt: skip
        added = parse_timestamp("2026-01-05T10:00:00Z")
        versions = [(*item, "2026-01-05T10:00:00.000Z") for item in OBJECTS]
        versions.insert(1, (*OBJECTS[0], "2026-01-06T10:00:00.000Z"))  # a second version
        for number, (stix_id, kind, level, extra, modified) in enumerate(versions):
            body = _stix(stix_id, kind, level, extra, modified)
            later = any(other[0] == stix_id and other[4] > modified for other in versions)
            earlier = any(other[0] == stix_id and other[4] < modified for other in versions)
            insert(
                "objects", added=added + number, collection_id=HEALTH, id=stix_id, type=kind,
                spec_version="2.1", version=parse_timestamp(modified), tlp=int(level),
                author_org_id=ORG_IDS["de"], is_latest=not later, is_first=not earlier,
                digest=hashlib.sha256(body).hexdigest(), body=body,
            )  # fmt: skip
            if stix_id in RED_RECIPIENTS:
                insert(
                    "red_recipients", object_added=added + number,
                    identity_id=RED_RECIPIENTS[stix_id],
                )  # fmt: skip
        insert(
            "statuses", id="00000000-0000-4000-8000-0000000000c1", collection_id=HEALTH,
            user_id="00000000-0000-4000-8000-00000000a003", created=when(6),
            total_count=len(versions), success_count=len(versions), failure_count=0,
            successes=orjson.dumps([{"id": v[0], "version": v[4]} for v in versions]),
            failures=b"[]",
        )  # fmt: skip
        prev_hash = "0" * 64
        for seq, (actor, action, subject) in enumerate(
            [
                ("operator", "org.created", ORG_IDS["fr"]),
                ("operator", "bubble.created", HEALTH),
                ("analyst@cert.fr", "token.created", "00000000-0000-4000-8000-0000000000e1"),
                ("analyst@cert.de", "objects.added", HEALTH),
            ],
            start=1,
        ):
            at = START + timedelta(minutes=seq, microseconds=seq)
            detail = orjson.dumps({"count": seq}, option=orjson.OPT_SORT_KEYS).decode()
            digest = audit_hash(prev_hash, seq, at, actor, action, subject, detail)
            insert(
                "audit_log", seq=seq,
                at=at.strftime("%Y-%m-%d %H:%M:%S.%f") if db.is_sqlite else at, actor=actor,
                action=action, subject=subject, detail=detail, prev_hash=prev_hash, hash=digest,
            )  # fmt: skip
            prev_hash = digest


@pytest.fixture(params=BACKENDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    with fresh_places(request.param, tmp_path) as make:
        yield make("node")


def columns_of(url: str) -> dict[str, list[str]]:
    db = Database(url)
    try:
        with db.read() as conn:
            inspector = inspect(conn)
            return {
                t: [c["name"] for c in inspector.get_columns(t)]
                for t in inspector.get_table_names()
            }
    finally:
        db.dispose()


def defaults_of(url: str, table: str) -> dict[str, Any]:
    """Each column's server default, evaluated by the database; None when it has none."""
    db = Database(url)
    try:
        with db.read() as conn:
            out = {}
            for column in inspect(conn).get_columns(table):
                default = column["default"]
                value = conn.execute(text(f"SELECT {default}")).scalar() if default else None
                out[column["name"]] = value
            return out
    finally:
        db.dispose()


def test_a_node_filled_at_0001_upgrades_to_head_with_nothing_lost(place: Place) -> None:
    db = Database(place.url)
    try:
        migrate.upgrade(db, "0001")
        fill_at_0001(db)
    finally:
        db.dispose()
    old_columns = {t: c for t, c in columns_of(place.url).items() if t != "alembic_version"}
    before = rows_by_table(place.url)

    upgraded = cli(place, "db", "upgrade")
    assert upgraded["status"] == "up to date"
    after = rows_by_table(place.url)
    assert after["alembic_version"] == [{"version_num": migrate.head()}]

    for table, columns in old_columns.items():
        # Every row from before, the node's own published objects aside.
        old_rows = [r for r in after[table] if table != "objects" or r["author_org_id"] != "node"]
        kept = [{c: row[c] for c in columns} for row in old_rows]
        assert kept == before[table], f"{table}: rows lost or changed"
        defaults = defaults_of(place.url, table)
        for column in set(columns_of(place.url)[table]) - set(columns):
            assert {row[column] for row in old_rows} <= {defaults[column]}, (
                f"{table}.{column} is not its default in rows from before it existed"
            )
    assert {row["ack_target_hours"] for row in after["bubbles"]} == {24}
    assert {row["resolve_target_hours"] for row in after["bubbles"]} == {336}
    assert {row["home_node"] for row in after["bubbles"]} == {None}
    # Later migrations indexed what 0001 stored: the indicators' values, for correlation.
    assert {row["value"] for row in after["observables"]} >= {"198.51.100.7", "x.example"}

    verified = cli(place, "audit", "verify")
    assert verified["ok"] is True
    assert verified["entries"] >= 4

    with TestClient(create_app(place.settings)) as client:
        bearer = {"Accept": TAXII, "Authorization": f"Bearer {TOKEN}"}
        listed = client.get("/taxii2/bubbles/collections/", headers=bearer)
        assert {c["id"] for c in listed.json()["collections"]} == {HEALTH, PUBLIC_COLLECTION_ID}
        objects = f"/taxii2/bubbles/collections/{HEALTH}/objects/"
        served = client.get(objects, headers=bearer).json()["objects"]
        by_id = {o["id"]: o for o in served}
        assert set(by_id) == {stix_id for stix_id, *_ in OBJECTS} - {_id("note", 6)}
        assert by_id[_id("indicator", 1)]["modified"] == "2026-01-06T10:00:00.000Z"
        versions = client.get(f"{objects}{_id('indicator', 1)}/versions/", headers=bearer)
        assert versions.json()["versions"] == [
            "2026-01-05T10:00:00.000Z",
            "2026-01-06T10:00:00.000Z",
        ]
        # A viewer of a member's constituency, with the password hashed at 0001.
        constituent = client.get(
            objects, headers={"Accept": TAXII}, auth=("viewer@hospital.fr", PASSWORD)
        ).json()["objects"]
        assert {o["id"] for o in constituent} == {
            _id("indicator", 1),
            _id("indicator", 2),
            _id("malware", 3),
        }


def test_upgrade_refuses_a_database_newer_than_the_code(place: Place) -> None:
    cli(place, "db", "upgrade")
    db = Database(place.url)
    try:
        with db.write() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    finally:
        db.dispose()
    held = fingerprints(rows_by_table(place.url))

    said = fails(place, "db", "upgrade")
    assert said == (
        f"error: this database is at revision 0999, newer than this trustbubble "
        f"({migrate.head()}): upgrade the package"
    )
    assert fingerprints(rows_by_table(place.url)) == held
