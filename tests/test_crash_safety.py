"""Crash safety: a node killed with SIGKILL while envelopes stream in loses no acknowledged object,
stores no envelope by halves, and keeps its statuses, audit chain and database file sound.

Each round starts `trustbubble serve` on the same database, has client threads post envelopes of
200 objects, and kills the node at a random moment after the first acknowledgement; the store is
checked while the node is down. Every object id belongs to one envelope, so what is stored traces
back to what was posted. The moments come from a seeded random: the seed is printed, and
TRUSTBUBBLE_CRASH_SEED=N replays them.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.conftest import BACKENDS, PG_URL
from tests.envelope_stream import Envelope, Feed, client, make_envelope, post, post_until_down
from tests.live_node import (
    CLI,
    NodeError,
    free_port,
    node_env,
    run_cli,
    stop_node,
    wait_until_up,
)
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.services import accounts, audit, bubbles, node
from trustbubble.store.database import Database, normalize_url
from trustbubble.store.tables import audit_log, objects, statuses

pytestmark = pytest.mark.slow

ROUNDS = 5
CLIENTS = 3  # client threads posting at once: the node always has a request in flight
LATEST_KILL = 1.5  # seconds after a round's first acknowledgement


@dataclass(frozen=True, slots=True)
class Cast:
    env: dict[str, str]
    token: str
    bubble_id: str
    org_identity: str
    made_by_node: frozenset[str]  # what the node put in the bubble when it was made
    directory: Path


def make_cast(database_url: str, directory: Path) -> Cast:
    """A migrated node with an analyst, their token and their organization's bubble.

    Made in-process, as `trustbubble db upgrade`, `org add` and the rest do: on two busy cores
    each CLI command costs seconds of start-up that the rounds need.
    """
    db = Database(database_url)
    try:
        node.upgrade(db)
        org = accounts.create_org(db, "CERT Crash", "cert", "FR")
        user, _password = accounts.create_user(db, "analyst@crash.test", org.name, UserRole.ANALYST)
        _token, secret = accounts.create_token(db, user, "crash")
        bubble = bubbles.create_bubble(db, "Crash bubble", BubbleKind.SECTORAL, org.name)
        with db.read() as conn:
            ids = conn.execute(select(objects.c.id).where(objects.c.collection_id == bubble.id))
            made_by_node = frozenset(ids.scalars())
    finally:
        db.dispose()
    env = node_env(database_url, {"node_key": str(directory / "node.key")})
    return Cast(env, secret, bubble.id, org.identity_id, made_by_node, directory)


def serve(
    env: Mapping[str, str], directory: Path, name: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`trustbubble serve` on a free port, once it answers; another port if that one was taken."""
    stderr = directory / f"serve-{name}.stderr.log"
    for attempt in range(3):
        port = free_port()
        with (directory / f"serve-{name}.stdout.log").open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=dict(env),
                cwd=directory,
                stdout=out,
                stderr=err,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(process, base + "/taxii2/", stderr, 60.0)
            return process, base
        except NodeError:
            stop_node(process)
            if attempt == 2 or "address already in use" not in stderr.read_text().lower():
                raise
    raise AssertionError("unreachable")


@dataclass(slots=True)
class Tally:
    posted: int = 0  # envelopes
    acknowledged: int = 0
    stored_unacknowledged: int = 0  # committed, but the node died before answering
    objects_acknowledged: int = 0
    statuses: int = 0


def wait_for_sessions_to_end(db: Database) -> None:
    """On PostgreSQL, a COMMIT the killed node sent may still be running: wait for its sessions."""
    if db.is_sqlite:
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 30
    while True:
        with db.read() as conn:
            if not conn.execute(query).scalar_one():
                return
        assert time.monotonic() < deadline, "the killed node's PostgreSQL sessions live on"
        time.sleep(0.05)


@dataclass(frozen=True, slots=True)
class Stored:
    """What the database holds for the bubble, read while the node is down."""

    versions: list[tuple[str, int]]  # (id, version) of every stored row
    statuses: dict[str, tuple[list[str], list[str]]]  # id -> (success ids, failure ids)
    audited: list[str]  # the status ids of the objects.added entries
    chain: audit.Verification


def read_store(database_url: str, cast: Cast) -> Stored:
    db = Database(database_url)
    try:
        wait_for_sessions_to_end(db)
        with db.read() as conn:
            in_bubble = objects.c.collection_id == cast.bubble_id
            rows = conn.execute(select(objects.c.id, objects.c.version).where(in_bubble))
            versions = [(object_id, version) for object_id, version in rows]
            found = conn.execute(
                select(statuses.c.id, statuses.c.successes, statuses.c.failures).where(
                    statuses.c.collection_id == cast.bubble_id
                )
            )
            listed = {
                status_id: (
                    sorted(detail["id"] for detail in orjson.loads(successes)),
                    sorted(detail["id"] for detail in orjson.loads(failures)),
                )
                for status_id, successes, failures in found
            }
            details = conn.execute(
                select(audit_log.c.detail).where(
                    audit_log.c.action == "objects.added", audit_log.c.subject == cast.bubble_id
                )
            ).scalars()
            audited = sorted(orjson.loads(detail)["status"] for detail in details)
        return Stored(versions, listed, audited, audit.verify(db))
    finally:
        db.dispose()


def check_store(database_url: str, cast: Cast, ledger: list[Envelope], seed: str) -> Tally:
    """What the node stored agrees with what it acknowledged, envelope by envelope."""
    stored = read_store(database_url, cast)
    replay = f"(replay with TRUSTBUBBLE_CRASH_SEED={seed})"
    owner = {object_id: e for e in ledger for object_id in (*e.valid_ids, *e.invalid_ids)}
    held: dict[int, Counter[tuple[str, int]]] = {}
    for object_id, version in stored.versions:
        if object_id not in cast.made_by_node:
            assert object_id in owner, f"{object_id} is stored but was never posted {replay}"
            held.setdefault(owner[object_id].number, Counter())[(object_id, version)] += 1

    tally = Tally(posted=len(ledger), statuses=len(stored.statuses))
    whole: set[int] = set()  # envelopes stored, every valid object of them
    for envelope in ledger:
        got = held.get(envelope.number, Counter())
        assert all(n == 1 for n in got.values()), f"envelope {envelope.number}: a version twice"
        assert set(got) in (set(), envelope.valid), (
            f"envelope {envelope.number} is half stored: {len(got)} of its "
            f"{len(envelope.valid)} valid versions {replay}"
        )
        if got:
            whole.add(envelope.number)
        if envelope.acks:
            assert got, f"envelope {envelope.number} was acknowledged, not stored {replay}"
            tally.acknowledged += 1
            tally.objects_acknowledged += len(envelope.valid_ids)
        elif got:
            tally.stored_unacknowledged += 1
        for ack in envelope.acks:
            assert (ack.successes, ack.failures) == (envelope.valid_ids, envelope.invalid_ids)

    with_status: set[int] = set()
    for status_id, (successes, failures) in stored.statuses.items():
        envelope = owner[(successes or failures)[0]]
        assert (tuple(successes), tuple(failures)) == (envelope.valid_ids, envelope.invalid_ids)
        assert envelope.number in whole, (
            f"status {status_id} lists envelope {envelope.number}, which is not stored {replay}"
        )
        with_status.add(envelope.number)
    assert not whole - with_status, f"envelopes stored without a status: {whole - with_status}"
    acknowledged = {ack.status_id for envelope in ledger for ack in envelope.acks}
    assert not acknowledged - set(stored.statuses), f"acknowledged statuses lost {replay}"
    assert stored.audited == sorted(stored.statuses), f"statuses and audit disagree {replay}"
    assert stored.chain.ok, f"audit chain broken: {stored.chain.problems} {replay}"
    path = make_url(database_url).database
    if make_url(database_url).get_backend_name() == "sqlite" and path:
        with closing(sqlite3.connect(path)) as file:
            assert file.execute("PRAGMA integrity_check").fetchall() == [("ok",)], replay
            assert file.execute("PRAGMA foreign_key_check").fetchall() == [], replay
    return tally


def check_over_taxii(base_url: str, cast: Cast, ledger: list[Envelope]) -> None:
    """Each acknowledged status is served as it was answered, and its objects by id."""
    url = f"/taxii2/bubbles/collections/{cast.bubble_id}/objects/"
    with client(base_url, cast.token) as http:
        for envelope in ledger:
            for ack in envelope.acks:
                response = http.get(f"/taxii2/bubbles/status/{ack.status_id}/")
                assert response.status_code == 200, response.text
                status = response.json()
                assert status["status"] == "complete"
                assert tuple(sorted(d["id"] for d in status["successes"])) == ack.successes
                assert tuple(sorted(d["id"] for d in status["failures"])) == ack.failures
            if not envelope.acks:
                continue
            ids = sorted(set(envelope.valid_ids))
            served: list[str] = []
            for start in range(0, len(ids), 100):
                batch = ",".join(ids[start : start + 100])
                params = {"match[id]": batch, "match[version]": "all", "limit": "1000"}
                response = http.get(url, params=params)
                assert response.status_code == 200, response.text
                assert not response.json().get("more")
                served += [obj["id"] for obj in response.json()["objects"]]
            assert sorted(served) == list(envelope.valid_ids), f"envelope {envelope.number}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database: a SQLite file, or a PostgreSQL database made for this test and dropped."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'node.sqlite3'}"
        return
    assert PG_URL is not None
    name = f"tb_crash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(normalize_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def crash_round(cast: Cast, ledger: list[Envelope], name: str, delay: float) -> float:
    """Serve, stream, SIGKILL the node `delay` seconds after the first 202; its start-up time."""
    started = time.monotonic()
    process, base = serve(cast.env, cast.directory, name)
    up = time.monotonic() - started
    feed = Feed(ledger, cast.org_identity)
    posters = [
        threading.Thread(target=post_until_down, args=(base, cast.token, cast.bubble_id, feed))
        for _ in range(CLIENTS)
    ]
    try:
        for poster in posters:
            poster.start()
        assert feed.acknowledged.wait(60), f"no envelope acknowledged: {feed.problems}"
        time.sleep(delay)
    finally:
        process.kill()
        process.wait()
        for poster in posters:
            poster.join(60)
    assert not feed.problems, feed.problems
    return up


def test_sigkill_mid_stream_loses_nothing_acknowledged(database_url: str, tmp_path: Path) -> None:
    began = time.monotonic()
    seed = os.environ.get("TRUSTBUBBLE_CRASH_SEED") or str(random.SystemRandom().randrange(10**6))
    print(f"\ncrash seed {seed}: replay with TRUSTBUBBLE_CRASH_SEED={seed}")
    moments = random.Random(seed)
    cast = make_cast(database_url, tmp_path)
    ledger: list[Envelope] = []
    in_doubt = 0  # envelopes stored whose 202 never came: killed between commit and answer
    for round_ in range(1, ROUNDS + 1):
        delay = moments.uniform(0, LATEST_KILL)
        up = crash_round(cast, ledger, f"round-{round_}", delay)
        tally = check_store(database_url, cast, ledger, seed)
        in_doubt += tally.stored_unacknowledged
        print(
            f"round {round_}: up in {up:.1f} s, killed {delay:.2f} s after the first 202; {tally}"
        )

    # A last start: the node takes writes again, and serves every acknowledged status and object.
    process, base = serve(cast.env, tmp_path, "last")
    try:
        # What the last kill left unanswered, posted again as a client would, and one more.
        unanswered = [envelope for envelope in ledger if not envelope.acks]
        ledger.append(make_envelope(len(ledger), cast.org_identity))
        with client(base, cast.token) as http:
            for envelope in [*unanswered, ledger[-1]]:
                response = post(http, cast.bubble_id, envelope)
                assert response.status_code == 202, response.text
        check_over_taxii(base, cast, ledger)
    finally:
        stop_node(process)
    tally = check_store(database_url, cast, ledger, seed)
    assert run_cli(cast.env, "audit", "verify")["ok"] is True
    assert tally.acknowledged == len(ledger)
    print(
        f"{ROUNDS} kills in {time.monotonic() - began:.0f} s: {tally}; "
        f"{in_doubt} stored without their 202"
    )
