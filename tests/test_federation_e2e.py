"""Three real nodes federated by their operators with the CLI (issue 8): what one node is given
reaches the others as TLP allows and no further; a node killed in the middle of a sync catches up
with nothing lost or doubled; an object altered on the way is refused.

Alpha and Bravo keep their data in SQLite. Charlie keeps it in PostgreSQL when
TRUSTBUBBLE_TEST_DATABASE_URL is set (in a database made for this module and dropped after it);
when it is not set, Charlie runs on SQLite too and the three nodes share no database engine.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.federation_nodes import indicator
from tests.live_node import CLI, Account, LiveNode, _start, _up, running_node, stop_node
from trustbubble.domain.tlp import TlpLevel
from trustbubble.store.database import normalize_url
from trustbubble.store.tables import audit_log, objects

TAXII = "application/taxii+json;version=2.1"
PG_URL = os.environ.get("TRUSTBUBBLE_TEST_DATABASE_URL")
BULK, ENVELOPE, REVISED = 5000, 500, 500  # versions posted, per envelope, of them new versions


pytestmark = pytest.mark.slow


# -- the nodes and what their operators set up -----------------------------------------------------


class Server:
    """Bravo's `serve`, which the tests kill and start again on its database."""

    def __init__(self, node: LiveNode, logs: Path) -> None:
        self.env: dict[str, str] = dict(node.env)
        self.logs = logs
        self.process = node.server
        self.url = node.base_url

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last commit; its peers can no longer reach it."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def start(self, **settings: str | int) -> subprocess.Popen[bytes]:
        """Start it again, on a new port, without waiting: its background sync starts at once."""
        self.kill()
        named = {"TRUSTBUBBLE_" + name.upper(): str(value) for name, value in settings.items()}
        self.env = {**self.env, **named}
        self.process, self.url = _start(self.env, self.logs)
        return self.process

    def running(self) -> str:
        """Its address once it answers; started again first if it is down."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        assert self.process is not None
        self.process, self.url = _up(self.process, self.url, self.env, self.logs, 20.0)
        return self.url

    def stop(self) -> None:
        if self.process is not None:
            stop_node(self.process)


@dataclass(frozen=True)
class Trio:
    """Alpha, Bravo and Charlie, peered both ways, and the two bubbles their operators shared.

    `shared` is homed on Alpha: Alpha's CERT owns it, Bravo's CERT is a member, Charlie's CERT
    an observer. `bravo_home` is homed on Bravo: Alpha's CERT is a member; Charlie's CERT was
    invited and declined, so Charlie hosts no one in it. `nurse` is a viewer of a hospital in
    the constituency of Bravo's CERT.
    """

    alpha: LiveNode
    bravo: LiveNode
    charlie: LiveNode
    node_ids: dict[str, str]  # by node name
    keys: dict[str, str]
    bravo_calls_alpha: str  # the credential Alpha issued Bravo
    shared: str
    bravo_home: str
    nurse: Account
    bravo_server: Server


@pytest.fixture(scope="module")
def charlie_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for Charlie, dropped after; None: Charlie runs on SQLite."""
    if not PG_URL:
        yield None
        return
    name = f"tb_e2e_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory, charlie_database: str | None) -> Iterator[Trio]:
    homes = {name: tmp_path_factory.mktemp(name) for name in ("alpha", "bravo", "charlie")}
    charlie_settings: dict[str, str | int] = {"node_name": "Charlie node"}
    if charlie_database:
        # Beside no SQLite file, the key would go to ./var of whichever process makes it.
        charlie_settings["node_key"] = str(homes["charlie"] / "node.key")
    with (
        # Small pages, so that a sync of the bulk takes many and can be cut between them.
        running_node(
            homes["alpha"], settings={"node_name": "Alpha node", "max_page_size": 250}
        ) as alpha,
        running_node(homes["bravo"], settings={"node_name": "Bravo node"}) as bravo,
        running_node(homes["charlie"], charlie_database, settings=charlie_settings) as charlie,
    ):
        bravo_server = Server(bravo, tmp_path_factory.mktemp("bravo-restarts"))
        try:
            yield _federate(alpha, bravo, charlie, bravo_server)
        finally:
            bravo_server.stop()


def _together(*calls: tuple[LiveNode, Sequence[str]]) -> list[dict[str, Any]]:
    """CLI commands on several nodes at once; their answers in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call[0].cli(*call[1]), calls))


def _federate(alpha: LiveNode, bravo: LiveNode, charlie: LiveNode, server: Server) -> Trio:
    """What the three operators do, in docs/federation.md's order."""
    nodes = {"alpha": alpha, "bravo": bravo, "charlie": charlie}
    shown = dict(
        zip(nodes, _together(*[(n, ("node", "show")) for n in nodes.values()]), strict=True)
    )
    keys = {name: str(d["public_key"]) for name, d in shown.items()}
    ids = {name: str(d["id"]) for name, d in shown.items()}

    # Each pair peers in three steps: the first adds the second and hands over the credential it
    # issued; the second adds the first with it and hands back its own; the first adds it too.
    pairs = [("alpha", "bravo"), ("bravo", "charlie"), ("charlie", "alpha")]

    def add(one: str, other: str, token: str | None) -> tuple[LiveNode, Sequence[str]]:
        extra = ("--token", token) if token else ()
        return nodes[one], ("peer", "add", nodes[other].base_url, "--key", keys[other], *extra)

    first = _together(*[add(x, y, None) for x, y in pairs])
    second = _together(
        *[add(y, x, str(f["credential"])) for (x, y), f in zip(pairs, first, strict=True)]
    )
    third = _together(
        *[add(x, y, str(s["credential"])) for (x, y), s in zip(pairs, second, strict=True)]
    )
    assert all(answer["can_call"] for answer in second + third)

    # Alpha and Bravo learn whom the others host, to invite them.
    _together((alpha, ("sync", "run")), (bravo, ("sync", "run")))
    hospital = f"Bravo Hospital {uuid.uuid4().hex[:6]}"
    under_bravo = ("--kind", "operator", "--country", "DE", "--parent", bravo.analyst.org)
    _together(
        (alpha, _invite(alpha, bravo.analyst.org, "member")),
        (alpha, _invite(alpha, charlie.analyst.org, "observer")),
        (bravo, _invite(bravo, alpha.analyst.org, "member")),
        (bravo, _invite(bravo, charlie.analyst.org, "member")),
        *[(node, _admin(name, node)) for name, node in nodes.items()],
        (bravo, ("org", "add", hospital, *under_bravo)),
    )
    *_, nurse = _together(
        (alpha, ("bubble", "share", alpha.bubble_name, "--peer", ids["bravo"])),
        (alpha, ("bubble", "share", alpha.bubble_name, "--peer", ids["charlie"])),
        (bravo, ("bubble", "share", bravo.bubble_name, "--peer", ids["alpha"])),
        (bravo, ("bubble", "share", bravo.bubble_name, "--peer", ids["charlie"])),
        (bravo, ("user", "add", "nurse@bravo.test", "--org", hospital, "--role", "viewer")),
    )
    # Each node mirrors the bubbles shared with it, and the invitations; the admins answer.
    _together(*[(n, ("sync", "run")) for n in nodes.values()])
    _together(
        (bravo, ("bubble", "accept", alpha.bubble_name, "--as", "admin@bravo.test")),
        (charlie, ("bubble", "accept", alpha.bubble_name, "--as", "admin@charlie.test")),
        (alpha, ("bubble", "accept", bravo.bubble_name, "--as", "admin@alpha.test")),
        (charlie, ("bubble", "decline", bravo.bubble_name, "--as", "admin@charlie.test")),
    )
    # The answers go home, where they make the memberships active.
    _together(*[(n, ("sync", "run")) for n in nodes.values()])
    return Trio(
        alpha,
        bravo,
        charlie,
        ids,
        keys,
        str(first[0]["credential"]),
        alpha.bubble_id,
        bravo.bubble_id,
        Account("nurse@bravo.test", str(nurse["password"]), hospital),
        server,
    )


def _admin(name: str, node: LiveNode) -> tuple[str, ...]:
    """An admin of the node's CERT, who answers invitations: admin@bravo.test on Bravo."""
    return ("user", "add", f"admin@{name}.test", "--org", node.analyst.org, "--role", "admin")


def _invite(owner: LiveNode, org: str, role: str) -> tuple[str, ...]:
    return ("bubble", "invite", owner.bubble_name, org, "--as", owner.analyst.email, "--role", role)


# -- reading a node: through TAXII as its users, and its database ----------------------------------


def _reads(base_url: str, who: tuple[str, str], collection_id: str, **params: str) -> set[str]:
    """The ids a user of the node at `base_url` reads in a collection (none if it is hidden)."""
    response = httpx2.get(
        f"{base_url}/taxii2/bubbles/collections/{collection_id}/objects/",
        params={"limit": "1000", **params},
        auth=who,
        headers={"Accept": TAXII},
        timeout=30.0,
    )
    if response.status_code == 404:
        return set()
    response.raise_for_status()
    return {obj["id"] for obj in response.json().get("objects", [])}


def _as(node: LiveNode, account: Account | None = None) -> tuple[str, str]:
    account = account or node.analyst
    return (account.email, node.token if account == node.analyst else account.password)


def _query(node: LiveNode, statement: Any) -> list[Any]:
    engine = create_engine(normalize_url(node.database_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(statement).all())
    finally:
        engine.dispose()


def _held(node: LiveNode, collection_id: str) -> list[tuple[str, int]]:
    """Every version the node's database holds in a collection, as (id, version)."""
    rows = _query(
        node,
        select(objects.c.id, objects.c.version).where(objects.c.collection_id == collection_id),
    )
    return [(row.id, row.version) for row in rows]


def _count(node: LiveNode, collection_id: str) -> int:
    statement = select(func.count()).where(objects.c.collection_id == collection_id)
    return int(_query(node, statement)[0][0])


def _post(node: LiveNode, collection_id: str, batch: list[dict[str, Any]]) -> None:
    response = httpx2.post(
        f"{node.base_url}/taxii2/bubbles/collections/{collection_id}/objects/",
        json={"objects": batch},
        auth=_as(node),
        headers={"Accept": TAXII, "Content-Type": TAXII},
        timeout=60.0,
    )
    assert response.status_code == 202, response.text
    status = response.json()
    assert status["success_count"] == len(batch), status


def _identities(base_url: str, who: tuple[str, str], collection_id: str) -> dict[str, str]:
    """The organizations' STIX identities a user finds in the bubble, by name."""
    response = httpx2.get(
        f"{base_url}/taxii2/bubbles/collections/{collection_id}/objects/",
        params={"match[type]": "identity"},
        auth=who,
        headers={"Accept": TAXII},
    )
    response.raise_for_status()
    return {o["name"]: o["id"] for o in response.json().get("objects", [])}


def _refusals(node: LiveNode) -> list[str]:
    statement = select(audit_log.c.detail).where(audit_log.c.action == "federation.refused")
    return [row.detail for row in _query(node, statement)]


# -- 1. TLP decides which node holds what ----------------------------------------------------------


def test_objects_reach_the_nodes_their_tlp_allows_and_no_others(trio: Trio) -> None:
    alpha, bravo, charlie = trio.alpha, trio.bravo, trio.charlie
    bravo_url = trio.bravo_server.running()
    # Joining put each organization's identity in the bubble, the observer's too: what RED names.
    identities = _identities(alpha.base_url, _as(alpha), trio.shared)
    orgs = {alpha.analyst.org, bravo.analyst.org, charlie.analyst.org}
    assert orgs <= identities.keys()
    bravo_cert, alpha_cert = identities[bravo.analyst.org], identities[alpha.analyst.org]
    from_alpha = {
        "green": indicator("Alpha green", TlpLevel.GREEN),
        "amber": indicator("Alpha amber", TlpLevel.AMBER),
        "strict": indicator("Alpha amber strict", TlpLevel.AMBER_STRICT),
        "red for bravo": indicator("Alpha red for Bravo", TlpLevel.RED, [bravo_cert]),
        "red kept home": indicator("Alpha red kept home", TlpLevel.RED, [alpha_cert]),
    }
    from_bravo = {
        "green": indicator("Bravo green", TlpLevel.GREEN),
        "amber": indicator("Bravo amber", TlpLevel.AMBER),
    }
    at_bravo_home = {
        "green": indicator("Bravo home green", TlpLevel.GREEN),
        "amber": indicator("Bravo home amber", TlpLevel.AMBER),
    }
    _post(alpha, trio.shared, list(from_alpha.values()))
    _post(bravo, trio.shared, list(from_bravo.values()))
    _post(bravo, trio.bravo_home, list(at_bravo_home.values()))
    # Bravo pushes to Alpha and pulls; then Charlie pulls from Alpha, which passes on Bravo's
    # GREEN under Bravo's signature. (The nodes' background syncs may do some of it first.)
    bravo.cli("sync", "run")
    charlie.cli("sync", "run")

    a = {key: obj["id"] for key, obj in from_alpha.items()}
    b = {key: obj["id"] for key, obj in from_bravo.items()}
    home = {key: obj["id"] for key, obj in at_bravo_home.items()}
    posted = set(a.values()) | set(b.values())

    def held(node: LiveNode, collection_id: str) -> set[str]:
        return {object_id for object_id, _ in _held(node, collection_id)}

    # Bravo, a full member, holds all of Alpha's but the RED that names only Alpha.
    on_bravo = {a["green"], a["amber"], a["strict"], a["red for bravo"], *b.values()}
    assert held(bravo, trio.shared) & posted == on_bravo
    assert _reads(bravo_url, _as(bravo), trio.shared) & posted == on_bravo
    # Its hospital, in the CERT's constituency: AMBER, not AMBER+STRICT nor RED for the CERT.
    nurse = {a["green"], a["amber"], *b.values()}
    assert _reads(bravo_url, _as(bravo, trio.nurse), trio.shared) & posted == nurse

    # Charlie, an observer, holds the GREEN only: Alpha's, and Bravo's passed on by Alpha.
    on_charlie = {a["green"], b["green"]}
    assert held(charlie, trio.shared) & posted == on_charlie
    assert _reads(charlie.base_url, _as(charlie), trio.shared) & posted == on_charlie
    assert not _reads(charlie.base_url, _as(charlie, charlie.other_analyst), trio.shared)

    # Alpha, the home, holds everything written there and what Bravo sent it.
    assert _reads(alpha.base_url, _as(alpha), trio.shared) & posted == posted
    assert held(alpha, trio.shared) & posted == posted

    # Alpha passed on Charlie's identity to Bravo; honest traffic had nothing refused anywhere.
    assert orgs <= _identities(bravo_url, _as(bravo), trio.shared).keys()
    assert [_refusals(node) for node in (alpha, bravo, charlie)] == [[], [], []]

    # Bravo's own bubble reaches Alpha, a member; Charlie, which declined, holds nothing of it.
    assert held(alpha, trio.bravo_home) >= set(home.values())
    assert _reads(alpha.base_url, _as(alpha), trio.bravo_home) >= set(home.values())
    assert _held(charlie, trio.bravo_home) == []
    assert not _reads(charlie.base_url, _as(charlie), trio.bravo_home)


# -- 2. A node killed in the middle of a sync catches up -------------------------------------------


def _bulk() -> list[dict[str, Any]]:
    """BULK versions: new AMBER indicators, then new versions of the first REVISED of them."""
    originals = [indicator(f"Bulk {n}", TlpLevel.AMBER) for n in range(BULK - REVISED)]
    revised = [
        {**obj, "modified": "2026-11-29T08:00:00.000Z", "description": "seen again"}
        for obj in originals[:REVISED]
    ]
    return originals + revised


def _wait_for(
    done: Callable[[], bool], process: subprocess.Popen[bytes], what: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if process.poll() is not None:
            raise AssertionError(f"the process ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.02)


def test_a_node_killed_during_sync_catches_up_with_nothing_lost_or_doubled(
    trio: Trio, tmp_path: Path
) -> None:
    alpha, bravo = trio.alpha, trio.bravo
    trio.bravo_server.kill()  # Bravo goes down; Alpha's users go on writing
    bulk = _bulk()
    for start in range(0, BULK, ENVELOPE):
        _post(alpha, trio.shared, bulk[start : start + ENVELOPE])
    ids = {obj["id"] for obj in bulk}
    sent = {row for row in _held(alpha, trio.shared) if row[0] in ids}
    assert len(sent) == BULK
    before = _count(bravo, trio.shared)

    def arrived() -> int:
        return _count(bravo, trio.shared) - before

    # Bravo's operator syncs by hand; the machine dies when some pages have arrived.
    with (tmp_path / "sync.log").open("wb") as log:
        by_hand = subprocess.Popen(
            [str(CLI), "sync", "run", "--json"], env=dict(bravo.env), stdout=log, stderr=log
        )
    _wait_for(lambda: arrived() >= 1000, by_hand, "1,000 versions reached Bravo")
    by_hand.send_signal(signal.SIGKILL)
    by_hand.wait()
    cut_by_hand = arrived()
    assert 1000 <= cut_by_hand < BULK

    # Its server comes back, syncs in the background, and dies too with some pages stored.
    server = trio.bravo_server.start(sync_seconds=1)
    _wait_for(
        lambda: arrived() >= cut_by_hand + 1000, server, "the server stored 1,000 versions more"
    )
    trio.bravo_server.kill()
    cut_in_background = arrived()
    assert cut_by_hand + 1000 <= cut_in_background < BULK

    # Once more by hand, to the end.
    answer = bravo.cli("sync", "run", "--peer", trio.node_ids["alpha"])
    assert not [link["error"] for link in answer["links"] if link["error"]]
    held = [row for row in _held(bravo, trio.shared) if row[0] in ids]
    assert len(held) == BULK  # not one version twice
    assert set(held) == sent  # and exactly those Alpha sent
    assert arrived() == BULK

    assert bravo.cli("audit", "verify")["ok"] is True
    path = make_url(bravo.database_url).database
    assert path is not None
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    status = [s for s in bravo.cli("sync", "status")["links"] if s["bubble_id"] == trio.shared]
    assert status[0]["last_error"] is None


# -- 3. An object altered on the way is refused ----------------------------------------------------


@contextmanager
def tampering_proxy(upstream: str, name: str) -> Iterator[tuple[str, list[str]]]:
    """An HTTP proxy on 127.0.0.1 in front of `upstream` that, in every page of objects it passes
    on, changes the name of the object named `name`; its address, and the ids it altered."""
    client = httpx2.Client(base_url=upstream, timeout=60.0)
    altered: list[str] = []
    dropped = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._forward()

        def do_POST(self) -> None:
            self._forward()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
            answer = client.request(self.command, self.path, content=body, headers=headers)
            content = answer.content
            if self.command == "GET" and urlsplit(self.path).path.endswith("/objects/"):
                content = self._alter(content)
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in dropped | {"content-encoding"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def _alter(self, content: bytes) -> bytes:
            envelope = json.loads(content)
            for obj in envelope.get("objects", []):
                if obj.get("name") == name:
                    obj["name"] = name + ", altered on the way"
                    altered.append(obj["id"])
            return json.dumps(envelope).encode()

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}", altered
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()
        client.close()


def test_an_object_altered_on_the_way_is_refused(trio: Trio) -> None:
    alpha, bravo = trio.alpha, trio.bravo
    # Bravo is down, so Alpha cannot push these past the proxy; Bravo will pull them through it.
    trio.bravo_server.kill()
    plain = [indicator("Plain one", TlpLevel.AMBER), indicator("Plain two", TlpLevel.AMBER)]
    target = indicator("Tamper with me", TlpLevel.AMBER)
    _post(alpha, trio.shared, [plain[0], target, plain[1]])

    alpha_key, token = trio.keys["alpha"], trio.bravo_calls_alpha
    with tampering_proxy(alpha.base_url, "Tamper with me") as (proxy_url, altered):
        moved = bravo.cli("peer", "add", proxy_url, "--key", alpha_key, "--token", token)
        assert moved["url"] == proxy_url
        try:
            answer = bravo.cli("sync", "run", "--peer", trio.node_ids["alpha"])
        finally:
            bravo.cli("peer", "add", alpha.base_url, "--key", alpha_key, "--token", token)
    assert set(altered) == {target["id"]}

    link = next(link for link in answer["links"] if link["bubble"] == trio.shared)
    assert link["error"] is None
    assert link["refused"] == 1
    assert link["received"] >= 2
    (note,) = [n for n in link["notes"] if target["id"] in n]
    assert f"the signature of {trio.node_ids['alpha']} does not verify" in note

    held = {object_id for object_id, _ in _held(bravo, trio.shared)}
    assert {plain[0]["id"], plain[1]["id"]} <= held
    assert target["id"] not in held
    assert bravo.cli("audit", "verify")["ok"]
    refusals = _query(
        bravo,
        select(audit_log.c.detail).where(
            audit_log.c.action == "federation.refused", audit_log.c.subject == trio.shared
        ),
    )
    assert any(target["id"] in row.detail and "signature" in row.detail for row in refusals)

    # And Bravo's users read the two that came unaltered, not the other.
    bravo_url = trio.bravo_server.running()
    wanted = ",".join(obj["id"] for obj in [*plain, target])
    seen = _reads(bravo_url, _as(bravo), trio.shared, **{"match[id]": wanted})
    assert seen == {plain[0]["id"], plain[1]["id"]}
