"""In-process nodes for federation tests: each its own store, key and ASGI app, reached by the
others through a TestClient that stands for its address (docs/federation.md)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from trustbubble.api.app import create_app
from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.bubbles import BubbleKind, BubbleRole
from trustbubble.domain.federation import NodeKey
from trustbubble.domain.tlp import TLP2_MARKING_IDS, TlpLevel
from trustbubble.services import accounts, bubbles, node_key, peers, sync
from trustbubble.settings import Settings
from trustbubble.store.database import Database

TAXII = "application/taxii+json;version=2.1"


@dataclass
class Node:
    name: str
    db: Database
    key: NodeKey
    client: TestClient
    url: str
    users: dict[str, tuple[User, str]] = field(default_factory=dict)  # email -> user, token
    passwords: dict[str, str] = field(default_factory=dict)  # email -> password

    def add_org(
        self, name: str, kind: str = "cert", country: str = "NL", parent: str | None = None
    ) -> None:
        accounts.create_org(self.db, name, kind, country, parent)

    def add_user(self, email: str, org: str, role: UserRole = UserRole.ANALYST) -> User:
        user, password = accounts.create_user(self.db, email, org, role)
        _token, secret = accounts.create_token(self.db, user)
        self.users[email] = (user, secret)
        self.passwords[email] = password
        return user

    def headers(self, email: str) -> dict[str, str]:
        return {"Accept": TAXII, "Authorization": f"Bearer {self.users[email][1]}"}

    def post(self, email: str, bubble_id: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.client.post(
            f"/taxii2/bubbles/collections/{bubble_id}/objects/",
            json={"objects": objects},
            headers={**self.headers(email), "Content-Type": TAXII},
        )
        assert response.status_code == 202, response.text
        status: dict[str, Any] = response.json()
        return status

    def read(self, email: str, bubble_id: str) -> dict[str, dict[str, Any]]:
        """What this user reads of the bubble here: the latest version of each object, by id."""
        response = self.client.get(
            f"/taxii2/bubbles/collections/{bubble_id}/objects/", headers=self.headers(email)
        )
        if response.status_code == 404:
            return {}
        assert response.status_code == 200, response.text
        return {obj["id"]: obj for obj in response.json().get("objects", [])}


class Federation:
    """Several nodes on one machine; `connect` reaches each by its address."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.nodes: dict[str, Node] = {}
        self._stack = contextlib.ExitStack()

    def add(self, name: str, db: Database | None = None) -> Node:
        if db is None:
            database = Database(f"sqlite:///{self.tmp_path / name}.sqlite3")
            database.upgrade()
            self._stack.callback(database.dispose)
        else:
            database = db
        url = f"http://{name.lower()}.test"
        settings = Settings(
            database_url=database.url,
            node_name=f"{name} node",
            node_key=str(self.tmp_path / f"{name}.key"),
            public_url=url,
        )
        client = self._stack.enter_context(TestClient(create_app(settings, database), base_url=url))
        node = Node(name, database, node_key.load(settings), client, url)
        self.nodes[url] = node
        return node

    def close(self) -> None:
        self._stack.close()

    def _client(self, url: str) -> TestClient:
        return self.nodes[f"http://{urlsplit(url).netloc}"].client

    def fetch(self, url: str) -> Any:
        return self._client(url).get(url).json()

    def connect(self, url: str) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext(self._client(url))

    def peer(self, one: Node, other: Node) -> None:
        """Peer two nodes as their operators would: each adds the other with its credential."""
        first = peers.add(
            one.db, one.key, "operator", other.url, other.key.public_text, None, self.fetch
        )
        assert first.credential is not None
        second = peers.add(
            other.db,
            other.key,
            "operator",
            one.url,
            one.key.public_text,
            first.credential,
            self.fetch,
        )
        assert second.credential is not None
        peers.add(
            one.db,
            one.key,
            "operator",
            other.url,
            other.key.public_text,
            second.credential,
            self.fetch,
        )

    def sync(self, node: Node) -> list[sync.Outcome]:
        outcomes = sync.run(node.db, node.key, self.connect, force=True)
        errors = [o.error for o in outcomes if o.error]
        assert not errors, errors
        return outcomes

    def settle(self, rounds: int = 3) -> None:
        """Sync every node a few times: enough for answers and objects to cross both ways."""
        for _ in range(rounds):
            for node in list(self.nodes.values()):
                self.sync(node)


@contextlib.contextmanager
def federation(tmp_path: Path) -> Iterator[Federation]:
    world = Federation(tmp_path)
    try:
        yield world
    finally:
        world.close()


def indicator(
    name: str, tlp: TlpLevel, recipients: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID

    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-28T08:00:00.000Z",
        "modified": "2026-11-28T08:00:00.000Z",
        "name": name,
        "pattern": f"[domain-name:value = '{name.lower().replace(' ', '-')}.example']",
        "pattern_type": "stix",
        "valid_from": "2026-11-28T08:00:00Z",
        "object_marking_refs": [TLP2_MARKING_IDS[tlp]],
        **extra,
    }
    if recipients:
        obj["extensions"] = {
            RED_RECIPIENTS_EXTENSION_ID: {
                "extension_type": "property-extension",
                "recipients": recipients,
            }
        }
    return obj


def invite(
    node: Node, owner_email: str, bubble_id: str, org: str, role: BubbleRole = BubbleRole.MEMBER
) -> None:
    bubbles.invite(node.db, node.users[owner_email][0], bubble_id, org, role)


def new_bubble(node: Node, name: str, owner: str, members: tuple[str, ...] = ()) -> str:
    return bubbles.create_bubble(node.db, name, BubbleKind.BILATERAL, owner, members=members).id
