"""`trustbubble backup` and `restore`: a node copied while it serves comes back whole, key too."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx2
import pytest
from sqlalchemy import text

from tests.conftest import PG_URL
from tests.databases import (
    BACKENDS,
    Place,
    cli,
    fails,
    fingerprints,
    fresh_database,
    multiset,
    rows_by_table,
)
from tests.databases import places as fresh_places
from tests.live_node import CLI, free_port, stop_node, wait_until_up
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.domain.errors import Unauthenticated
from trustbubble.domain.federation import Descriptor, NodeKey
from trustbubble.domain.tlp import TLP2_MARKING_IDS, TlpLevel
from trustbubble.services import (
    accounts,
    backup,
    bubbles,
    checks,
    demo,
    exercises,
    node,
    node_key,
    peers,
    sessions,
    webhooks,
)
from trustbubble.store import migrate
from trustbubble.store.database import Database

TAXII = "application/taxii+json;version=2.1"
PEER_CREDENTIAL = "tbp_" + "k" * 43


@pytest.fixture(params=BACKENDS)
def places(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Place]]:
    with fresh_places(request.param, tmp_path) as make:
        yield make


WRITER = "analyst@fr-cert.demo.test"
DRILL = "Backup drill"


def fill(place: Place) -> str:
    """A node with every kind of content the demo makes, and more; its node id."""
    db = Database(place.url)
    try:
        node.upgrade(db)
        key = node_key.load(place.settings)
        demo.load(db)  # organizations, users, bubbles, objects of every TLP, incidents, ...
        analyst = accounts.user_by_email(db, "analyst@fr-cert.demo.test")
        accounts.create_token(db, analyst, "backup test")
        bilateral = bubbles.bubble_by_name(db, demo.BILATERAL)
        checks.start(db, analyst, bilateral.id)
        checks.schedule(db, analyst, bilateral.id, 30)
        authenticator = accounts.Authenticator(db)
        password = demo.demo_password(analyst.email)
        sessions.sign_in(db, authenticator, analyst.email, password, "192.0.2.1")
        with suppress(Unauthenticated):
            sessions.sign_in(db, authenticator, analyst.email, "not it", "192.0.2.2")
        trainer = accounts.user_by_email(db, "policy@auswaertiges.de.demo.test")
        played = exercises.sessions_of(db, trainer)[0]["id"]
        exercises.say(db, exercises.as_user(trainer), played, "Debrief at three.")
        other = NodeKey.generate()
        found = Descriptor(other.node_id, "Peer", "KE", other.public_text, "https://p.test/taxii2/")
        peers.add(
            db, key, "operator", "https://p.test", other.public_text, PEER_CREDENTIAL,
            fetch=lambda _url: found.to_json(),
        )  # fmt: skip
        admin = accounts.user_by_email(db, "admin@fr-cert.demo.test")
        webhooks.add(db, "s" * 32, admin, "https://hooks.example/trustbubble")
        bubbles.create_bubble(db, DRILL, BubbleKind.SECTORAL, "FR National CERT")
        return key.node_id
    finally:
        db.dispose()


def bubble_id(place: Place, name: str) -> str:
    db = Database(place.url)
    try:
        return bubbles.bubble_by_name(db, name).id
    finally:
        db.dispose()


def wait_for_the_outbox(url: str) -> None:
    """The server's first worker pass marks the demo's e-mails skipped (no SMTP): let it."""
    db = Database(url)
    try:
        deadline = time.monotonic() + 30
        while True:
            with db.read() as conn:
                pending = conn.execute(
                    text("SELECT count(*) FROM deliveries WHERE state = 'pending'")
                ).scalar_one()
            if not pending or time.monotonic() > deadline:
                assert not pending, "the worker left deliveries pending"
                return
            time.sleep(0.1)
    finally:
        db.dispose()


@contextmanager
def serving(place: Place, directory: Path) -> Iterator[str]:
    """A real `trustbubble serve` of the place, while the block runs; its base URL."""
    directory.mkdir()
    base = f"http://127.0.0.1:{free_port()}"
    stdout, stderr = directory / "serve.out", directory / "serve.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(CLI), "serve", "--port", base.rsplit(":", 1)[1]],
            env=place.env,
            cwd=directory,
            stdout=out,
            stderr=err,
        )
    try:
        wait_until_up(process, f"{base}/taxii2/", stderr, timeout=120)
        yield base
    finally:
        stop_node(process)


class Writer:
    """Posts envelopes of indicators to a live node until stopped; counts acknowledged objects."""

    def __init__(self, base: str, bubble_id: str) -> None:
        self.url = f"{base}/taxii2/bubbles/collections/{bubble_id}/objects/"
        self.acknowledged = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self.errors, self.errors[:3]

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.acknowledged < count:
            assert not self.errors, self.errors[:3]
            assert time.monotonic() < deadline, f"{self.acknowledged} of {count} objects stored"
            time.sleep(0.05)

    def _run(self) -> None:
        auth = (WRITER, demo.demo_password(WRITER))
        headers = {"Accept": TAXII, "Content-Type": TAXII}
        with httpx2.Client(timeout=30, auth=auth, headers=headers) as client:
            while not self._stop.is_set():
                response = client.post(
                    self.url, json={"objects": [_indicator() for _ in range(10)]}
                )
                if response.status_code != 202 or response.json()["failure_count"]:
                    self.errors.append(f"{response.status_code} {response.text[:300]}")
                    return
                self.acknowledged += response.json()["success_count"]


def _indicator() -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-03-01T10:00:00.000Z",
        "modified": "2026-03-01T10:00:00.000Z",
        "pattern": f"[domain-name:value = '{uuid.uuid4().hex[:12]}.example']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T10:00:00Z",
        "object_marking_refs": [TLP2_MARKING_IDS[TlpLevel.GREEN]],
    }


def without_the_restore(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows as restored: restore adds one audit entry of its own, the newest."""
    log = rows["audit_log"]
    newest = max(log, key=lambda row: row["seq"])
    assert newest["action"] == "node.restored"
    assert [row for row in log if row["action"] == "node.restored"] == [newest]
    return {**rows, "audit_log": [row for row in log if row is not newest]}


@pytest.mark.slow
def test_a_node_backed_up_while_it_serves_comes_back_whole(
    places: Callable[[str], Place], tmp_path: Path
) -> None:
    source = places("source")
    node_id = fill(source)
    live_file, quiet_file = tmp_path / "live.tar.gz", tmp_path / "quiet.tar.gz"
    drill = bubble_id(source, DRILL)
    marks: list[int] = []
    with serving(source, tmp_path / "serve") as base:
        wait_for_the_outbox(source.url)
        with Writer(base, drill) as writer:
            writer.wait_for(10)
            db = Database(source.url)
            try:
                # The first word of progress comes before the copy starts: what the node had
                # acknowledged by then must be in the copy.
                made = backup.backup(
                    db, source.settings, live_file, lambda _t: marks.append(writer.acknowledged)
                ).manifest.to_json()
            finally:
                db.dispose()
            copied_by = writer.acknowledged
            writer.wait_for(copied_by + 10)  # and the node kept storing
    assert (made["revision"], made["node"]) == (migrate.head(), node_id)
    source_rows = rows_by_table(source.url)

    # The copy taken under writes is one moment of the node: a prefix of what it committed.
    from_live = places("from-live")
    restored = cli(from_live, "restore", str(live_file))
    assert (restored["node"], restored["key"], restored["migrated"]) == (node_id, "restored", False)
    assert cli(from_live, "audit", "verify")["ok"] is True
    rows = without_the_restore(rows_by_table(from_live.url))
    assert {name: len(found) for name, found in rows.items()} == made["tables"]
    for name, found in rows.items():
        assert not multiset(found) - multiset(source_rows[name]), f"{name}: rows not in the node"
    for name, order in (("objects", "added"), ("audit_log", "seq")):
        last = max(row[order] for row in rows[name])
        committed_by_then = [row for row in source_rows[name] if row[order] <= last]
        assert multiset(rows[name]) == multiset(committed_by_then), f"{name} has a gap"
    posted = sum(
        row["type"] == "indicator" and row["collection_id"] == drill for row in rows["objects"]
    )
    assert marks[0] <= posted <= copied_by

    # A copy of the node at rest is the node: every row of every table.
    cli(source, "backup", str(quiet_file))
    copy = places("copy")
    restored = cli(copy, "restore", str(quiet_file))
    assert (restored["node"], restored["key"]) == (node_id, "restored")
    assert cli(copy, "audit", "verify")["ok"] is True
    copied = without_the_restore(rows_by_table(copy.url))
    assert fingerprints(copied) == fingerprints(source_rows)
    kinds = {name for name, found in copied.items() if found}
    assert {
        "organizations", "users", "api_tokens", "bubbles", "memberships", "objects",
        "red_recipients", "statuses", "incident_facts", "observables", "assistance_requests",
        "pocs", "norm_reports", "exercise_sessions", "exercise_log", "exercise_chat", "drafts",
        "consultations", "consultation_comments", "comm_checks", "check_schedules", "webhooks",
        "web_sessions", "sign_in_failures", "notifications", "deliveries", "peers",
    } <= kinds  # fmt: skip
    tlps = {row["tlp"] for row in copied["objects"]}
    assert tlps == {int(level) for level in TlpLevel}

    # The key came back: the node id, and the peer's credential it sealed, read again.
    assert copy.key.read_bytes() == source.key.read_bytes()
    assert copy.key.stat().st_mode & 0o777 == 0o600
    assert cli(copy, "node", "show")["id"] == node_id
    db = Database(copy.url)
    try:
        key = node_key.load(copy.settings, create=False)
        assert [peers.unseal(key, peer) for peer in peers.all_peers(db)] == [PEER_CREDENTIAL]
    finally:
        db.dispose()


def test_restore_refuses_to_replace_data_or_another_key(
    places: Callable[[str], Place], tmp_path: Path
) -> None:
    first, second, third = places("first"), places("second"), places("third")
    cli(first, "db", "upgrade")
    cli(first, "org", "add", "CERT First", "--kind", "cert", "--country", "FR")
    backup = tmp_path / "first.tar.gz"
    made = cli(first, "backup", str(backup))
    assert "give a new file name" in fails(first, "backup", str(backup))

    cli(second, "db", "upgrade")
    cli(second, "org", "add", "CERT Second", "--kind", "cert", "--country", "DE")
    held, key = fingerprints(rows_by_table(second.url)), second.key.read_bytes()
    said = fails(second, "restore", str(backup))
    assert "the database holds data (1 organizations" in said
    assert "--force replaces it" in said
    assert fingerprints(rows_by_table(second.url)) == held
    assert second.key.read_bytes() == key

    # An empty database, but a key of its own: restoring would change who the node is.
    cli(third, "db", "upgrade")
    empty, own = fingerprints(rows_by_table(third.url)), third.key.read_bytes()
    said = fails(third, "restore", str(backup))
    assert f"the backup's is {made['node']}: restoring would change this node's identity" in said
    assert fingerprints(rows_by_table(third.url)) == empty
    assert third.key.read_bytes() == own

    forced = cli(second, "restore", str(backup), "--force")
    assert (forced["node"], forced["key"]) == (made["node"], "replaced")
    names = [row["name"] for row in rows_by_table(second.url)["organizations"]]
    assert names == ["CERT First"]
    assert second.key.read_bytes() == first.key.read_bytes()
    [aside] = second.key.parent.glob("node.key.replaced-*")
    assert aside.read_bytes() == key
    assert cli(second, "audit", "verify")["ok"] is True

    assert "not a trustbubble backup" in fails(third, "restore", str(first.key))


@pytest.mark.skipif(not PG_URL, reason="needs TRUSTBUBBLE_TEST_DATABASE_URL")
def test_a_backup_goes_back_into_the_same_kind_of_database(tmp_path: Path) -> None:
    with (
        fresh_database("postgresql", tmp_path / "pg") as pg_url,
        fresh_database("sqlite", tmp_path / "lite") as sqlite_url,
    ):
        pg = Place(pg_url, tmp_path / "pg" / "node.key")
        lite = Place(sqlite_url, tmp_path / "lite" / "node.key")
        cli(pg, "db", "upgrade")
        cli(pg, "backup", str(tmp_path / "pg.tar.gz"))
        said = fails(lite, "restore", str(tmp_path / "pg.tar.gz"))
        assert "the backup is of a postgresql database and this one is sqlite" in said
        assert not lite.key.exists()


def test_an_older_backup_is_migrated_and_a_newer_one_refused(
    places: Callable[[str], Place], tmp_path: Path
) -> None:
    old = places("old")
    db = Database(old.url)
    try:
        migrate.upgrade(db, "0009")  # before federation: a node without a key
        with db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO organizations (id, name, kind, country, identity_id, created) "
                    "VALUES ('o1', 'CERT Old', 'cert', 'FR', 'identity--o1', :t)"
                ),
                {"t": "2026-01-05 10:00:00"},
            )
    finally:
        db.dispose()
    made = cli(old, "backup", str(tmp_path / "old.tar.gz"))
    assert (made["revision"], made["node"], made["tables"]["organizations"]) == ("0009", None, 1)

    fresh = places("fresh")
    restored = cli(fresh, "restore", str(tmp_path / "old.tar.gz"))
    assert (restored["revision"], restored["migrated"], restored["key"]) == (
        migrate.head(),
        True,
        "made",
    )
    assert restored["tables"]["organizations"] == 1
    assert restored["node"] == cli(fresh, "node", "show")["id"]
    organization = rows_by_table(fresh.url)["organizations"][0]
    assert (organization["name"], organization["node_id"]) == ("CERT Old", None)

    db = Database(old.url)
    try:
        with db.write() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    finally:
        db.dispose()
    cli(old, "backup", str(tmp_path / "newer.tar.gz"))
    said = fails(places("other"), "restore", str(tmp_path / "newer.tar.gz"))
    assert f"this backup is at revision 0999, newer than this trustbubble ({migrate.head()})" in (
        said
    )
