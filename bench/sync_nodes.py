"""Two real nodes for the federation benchmark, peered and sharing bubbles as operators do.

Each node is `trustbubble serve` on a free 127.0.0.1 port with its own store and key file,
configured by environment as an operator would (docs/federation.md); the set-up is the CLI's:
`db upgrade`, `org add`, `user add`, `token create`, `node show`, `peer add` both ways,
`bubble add`, `invite`, `share`, `accept` and `sync run`. The benchmark also keeps a handle of its
own on each store, as a second process of the node would, to sync from and to read results.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from taxii_servers import free_port, log
from trustbubble.domain.federation import NodeKey
from trustbubble.services import node_key
from trustbubble.settings import Settings
from trustbubble.store import federation as federation_store
from trustbubble.store.accounts import org_by_name
from trustbubble.store.database import Database, normalize_url

CLI = Path(sys.executable).with_name("trustbubble")
# The nodes' own background sync waits this long between rounds: in the benchmark it runs only
# when a write wakes it, so the measured syncs are the benchmark's own (see `Calls`).
SYNC_SECONDS = 86_400
SETTLE_SECONDS = 2.0
HOME_ORG, PEER_ORG = "Northland CERT", "Southland CERT"
ANALYST, ADMIN = "analyst@north.test", "admin@south.test"


@dataclass
class Node:
    name: str
    env: dict[str, str]
    url: str
    storage: str
    db: Database  # the benchmark's own handle on the node's store
    key: NodeKey
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def id(self) -> str:
        return self.key.node_id

    def cli(self, *args: str) -> dict[str, Any]:
        return run_cli(self.env, *args)

    def cpu_seconds(self) -> float:
        """User and system CPU time the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def collection(self, bubble_id: str) -> str:
        return f"{self.url}/taxii2/bubbles/collections/{bubble_id}/"


def run_cli(env: Mapping[str, str], *args: str) -> dict[str, Any]:
    """`trustbubble ARGS --json` with a node's store and settings; its JSON answer."""
    done = subprocess.run([str(CLI), *args, "--json"], env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"{env['TRUSTBUBBLE_NODE_NAME']}: trustbubble {' '.join(args)} failed:\n"
            f"{done.stderr.decode()}{done.stdout.decode()}"
        )
    lines = [line for line in done.stdout.decode().splitlines() if line.strip()]
    answer: dict[str, Any] = orjson.loads(lines[-1]) if lines else {}
    return answer


def _together(*calls: tuple[Node, Sequence[str]]) -> list[dict[str, Any]]:
    """Independent CLI commands at once: each costs a second of start-up."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call[0].cli(*call[1]), calls))


@contextmanager
def database_url(postgres: str | None, work: Path, name: str) -> Iterator[str]:
    """A SQLite file in `work`, or a fresh database on the PostgreSQL server, dropped after."""
    if postgres is None:
        yield f"sqlite:///{work / f'{name.lower()}.sqlite3'}"
        return
    database = f"tb_sync_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(postgres), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(postgres).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def running_node(name: str, country: str, url: str, work: Path) -> Iterator[Node]:
    """`db upgrade`, then `serve` on a free port until the context ends."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTBUBBLE_")}
    env |= {
        "TRUSTBUBBLE_DATABASE_URL": url,
        "TRUSTBUBBLE_NODE_KEY": str(work / f"{name.lower()}.key"),
        "TRUSTBUBBLE_PUBLIC_URL": base,
        "TRUSTBUBBLE_NODE_NAME": f"{name} node",
        "TRUSTBUBBLE_NODE_COUNTRY": country,
        "TRUSTBUBBLE_SYNC_SECONDS": str(SYNC_SECONDS),
    }
    settings = Settings(database_url=url, node_key=env["TRUSTBUBBLE_NODE_KEY"])
    db = Database(url)
    storage = "SQLite (WAL)" if db.is_sqlite else "PostgreSQL"
    log_path = work / f"{name.lower()}.log"
    with ExitStack() as stack:
        stack.callback(db.dispose)
        run_cli(env, "db", "upgrade")
        key = node_key.load(settings, create=False)
        node = Node(name, env, base, storage, db, key, _serve(env, port, log_path), log_path)
        stack.callback(lambda: _stop(node.process))  # the one running at the end
        try:
            _wait_until_up(node)
            yield node
        except BaseException:
            log(f"{name}'s log ends with:\n{log_path.read_text(errors='replace')[-3000:]}")
            raise


def _serve(env: Mapping[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as output:
        # A file, not a pipe: the access log of a long run would fill a pipe and stall it.
        return subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def restart(node: Node, **settings: str | None) -> None:
    """Stop the node's server and start it again, on the same port, with these settings changed
    (None: back to the default)."""
    for name, value in settings.items():
        variable = "TRUSTBUBBLE_" + name.upper()
        if value is None:
            node.env.pop(variable, None)
        else:
            node.env[variable] = value
    _stop(node.process)
    port = int(node.url.rsplit(":", 1)[1])
    node.process = _serve(node.env, port, node.log_path)
    _wait_until_up(node)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def _wait_until_up(node: Node, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx2.Client(timeout=2.0) as client:
        while True:
            if node.process.poll() is not None:
                raise SystemExit(f"{node.name} exited with {node.process.returncode}")
            try:
                if client.get(node.url + "/federation/v1/node").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{node.name} did not answer within {timeout:.0f} s")
            time.sleep(0.1)


@dataclass(frozen=True, slots=True)
class World:
    """Home node A and peer node B, sharing bubbles homed on A."""

    home: Node
    peer: Node
    token: str  # an API token of an analyst of the home organization, to post with
    bubbles: dict[str, str]  # name -> id
    author: str  # STIX identity of the home organization
    recipient: str  # STIX identity of the peer's organization, as the home node mirrors it


def federate(home: Node, peer: Node, bubble_names: Sequence[str]) -> World:
    """Peer the nodes both ways and share the bubbles, with B's organization an active member."""
    _together(
        (home, ("org", "add", HOME_ORG, "--kind", "cert", "--country", "NL")),
        (peer, ("org", "add", PEER_ORG, "--kind", "cert", "--country", "ZA")),
    )
    _together(
        (home, ("user", "add", ANALYST, "--org", HOME_ORG, "--role", "analyst")),
        (peer, ("user", "add", ADMIN, "--org", PEER_ORG, "--role", "admin")),
    )
    token = str(home.cli("token", "create", ANALYST, "--name", "bench")["token"])
    first = home.cli("peer", "add", peer.url, "--key", peer.key.public_text)
    second = peer.cli(
        "peer", "add", home.url, "--key", home.key.public_text, "--token", first["credential"]
    )
    home.cli(
        "peer", "add", peer.url, "--key", peer.key.public_text, "--token", second["credential"]
    )
    home.cli("sync", "run")  # A learns the organizations B hosts
    bubbles: dict[str, str] = {}
    for name in bubble_names:
        bubbles[name] = str(home.cli("bubble", "add", name, "--owner", HOME_ORG)["id"])
        home.cli("bubble", "invite", name, PEER_ORG, "--as", ANALYST)
        home.cli("bubble", "share", name, "--peer", peer.id)
    peer.cli("sync", "run")  # B mirrors the bubbles and the invitations
    for name in bubble_names:
        peer.cli("bubble", "accept", name, "--as", ADMIN)
    for node in (peer, home, peer):  # the answers go home; the memberships settle on both
        node.cli("sync", "run")
    with home.db.read() as conn:
        author = org_by_name(conn, HOME_ORG)
        recipient = org_by_name(conn, PEER_ORG)
    if author is None or recipient is None:
        raise SystemExit(f"{PEER_ORG} was not mirrored to {home.name}")
    for node in (home, peer):
        listed = {b["id"]: b for b in node.cli("bubble", "list")["bubbles"]}
        for name, bubble_id in bubbles.items():
            states = {m["org"]: m["state"] for m in listed[bubble_id]["members"]}
            if states.get(PEER_ORG) != "active":
                raise SystemExit(f"{PEER_ORG} is not active in {name} on {node.name}: {states}")
    return World(home, peer, token, bubbles, author.identity_id, recipient.identity_id)


class Calls:
    """Which node may call the other: a node without the other's credential skips it.

    Both nodes' `serve` sync in the background right after each write they take (a POST to A
    would wake A's sync, which pushes to B). The benchmark measures one direction at a time, so
    it takes the credential of the other direction away meanwhile (and gives it back).
    """

    def __init__(self, world: World) -> None:
        self._sealed = {
            world.home.id: self._credential(world.home, world.peer.id),
            world.peer.id: self._credential(world.peer, world.home.id),
        }
        self._nodes = {
            world.home.id: (world.home, world.peer.id),
            world.peer.id: (world.peer, world.home.id),
        }

    @staticmethod
    def _credential(node: Node, other: str) -> bytes:
        with node.db.read() as conn:
            found = federation_store.peer_by_id(conn, other)
        if found is None or found.outbound_token is None:
            raise SystemExit(f"{node.name} holds no credential for its peer")
        return found.outbound_token

    def only(self, *callers: Node) -> None:
        """Let these nodes call their peer, and no other."""
        allowed = {node.id for node in callers}
        for node_id, (node, other) in self._nodes.items():
            token = self._sealed[node_id] if node_id in allowed else None
            with node.db.write() as conn:
                federation_store.update_peer(conn, other, outbound_token=token)
        time.sleep(SETTLE_SECONDS)  # a background round already under way ends meanwhile


def describe(world: World) -> Mapping[str, str]:
    return {
        "home": f"{world.home.name} ({world.home.storage})",
        "peer": f"{world.peer.name} ({world.peer.storage})",
    }
