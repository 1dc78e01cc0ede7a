"""Upgrading a node that already holds content: every migration keeps and indexes what is there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tests.test_incidents import _stix
from trustbubble.store.database import Database, normalize_url
from trustbubble.store.migrate import upgrade


@pytest.fixture(params=["sqlite", *(["postgresql"] if PG_URL else [])])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables at all, on each backend."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield database
        database.dispose()
        return
    assert PG_URL
    name = f"tb_migrate_{tmp_path.name[-12:].replace('-', '_').lower()}"
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(make_url(normalize_url(PG_URL)).set(database=name).render_as_string(False))
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_node_with_members_and_incidents_upgrades_from_0001(empty: Database) -> None:
    upgrade(empty, "0001")
    incident = _stix()
    with empty.write() as conn:
        stamp = "2026-03-02 09:00:00"
        conn.execute(
            text(
                "INSERT INTO organizations (id, name, kind, country, identity_id, created) "
                "VALUES ('o1', 'CERT FR', 'cert', 'FR', 'identity--o1', :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO bubbles (id, name, kind, charter, default_tlp, created) "
                "VALUES ('b1', 'Health', 'regional', '', 2, :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO memberships (bubble_id, org_id, role, state, invited) "
                "VALUES ('b1', 'o1', 'owner', 'active', :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO objects (added, collection_id, id, type, spec_version, version, tlp, "
                "author_org_id, is_latest, is_first, digest, body) VALUES (1000, 'b1', :id, "
                "'incident', '2.1', 1, 2, 'o1', true, true, 'd', :body)"
            ),
            {"id": incident["id"], "body": orjson.dumps(incident)},
        )
    upgrade(empty)
    with empty.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM memberships")).scalar_one() == 1
        targets = conn.execute(text("SELECT ack_target_hours FROM bubbles")).scalar_one()
        assert targets == 24
        facts = conn.execute(
            text("SELECT collection_id, stix_id, tlp, is_latest, country FROM incident_facts")
        ).one()
        assert tuple(facts) == ("b1", incident["id"], 2, True, "FR")
