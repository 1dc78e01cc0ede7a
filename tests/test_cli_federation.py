"""Two real nodes federated by their operators with the CLI, as docs/federation.md tells them:
node show, peer add both ways, bubble invite and share, accept on the other side, sync run, the
background sync of `serve`, sync status; and the errors an operator can make."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.live_node import LiveNode, NodeError, run_cli, running_node
from trustbubble.domain.federation import node_id_of, read_key

TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveNode, LiveNode]]:
    # South syncs in the background every second; North only when its operator says so.
    with (
        running_node(tmp_path_factory.mktemp("north")) as north,
        running_node(tmp_path_factory.mktemp("south"), settings={"sync_seconds": 1}) as south,
    ):
        yield north, south


def _indicator(name: str, marking: str) -> dict[str, object]:
    import uuid

    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-28T08:00:00.000Z",
        "modified": "2026-11-28T08:00:00.000Z",
        "name": name,
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-11-28T08:00:00Z",
        "object_marking_refs": [marking],
    }


GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def _ids_seen(node: LiveNode, bubble_id: str) -> set[str]:
    response = httpx2.get(
        node.collection_url(bubble_id) + "objects/",
        auth=(node.analyst.email, node.token),
        headers={"Accept": TAXII},
    )
    if response.status_code == 404:
        return set()
    response.raise_for_status()
    return {obj["id"] for obj in response.json().get("objects", [])}


def test_two_operators_federate_their_nodes(pair: tuple[LiveNode, LiveNode]) -> None:
    north, south = pair
    north_node, south_node = north.cli("node", "show"), south.cli("node", "show")
    assert node_id_of(read_key(south_node["public_key"])) == south_node["id"]

    first = north.cli("peer", "add", south.base_url, "--key", south_node["public_key"])
    assert first["new"]
    assert first["credential"].startswith("tbp_")
    assert not first["can_call"]
    second = south.cli(
        "peer",
        "add",
        north.base_url,
        "--key",
        north_node["public_key"],
        "--token",
        first["credential"],
    )
    assert second["can_call"]
    assert second["credential"].startswith("tbp_")
    again = north.cli(
        "peer",
        "add",
        south.base_url,
        "--key",
        south_node["public_key"],
        "--token",
        second["credential"],
    )
    assert again["can_call"]
    assert again["credential"] is None

    north.cli("sync", "run")  # North learns what South hosts
    listed = north.cli("peer", "list")["peers"]
    assert south.analyst.org in listed[0]["hosts"]

    north.cli("bubble", "invite", north.bubble_name, south.analyst.org, "--as", north.analyst.email)
    shared = north.cli("bubble", "share", north.bubble_name, "--peer", south_node["id"])
    assert shared == {"bubble": north.bubble_id, "peer": south_node["id"]}

    # South's admin accepts; the answer goes home with South's background sync.
    south.cli("user", "add", "admin@south.test", "--org", south.analyst.org, "--role", "admin")
    _wait(lambda: _mirrored(south, north.bubble_name), "the bubble to reach South")
    south.cli("bubble", "accept", north.bubble_name, "--as", "admin@south.test")

    green = _indicator("Beacon seen in both countries", GREEN)
    posted = httpx2.post(
        north.collection_url(north.bubble_id) + "objects/",
        json={"objects": [green]},
        auth=(north.analyst.email, north.token),
        headers={"Accept": TAXII, "Content-Type": TAXII},
    )
    assert posted.status_code == 202, posted.text
    _wait(lambda: green["id"] in _ids_seen(south, north.bubble_id), "the indicator on South")

    links = south.cli("sync", "status")["links"]
    assert links[0]["bubble_id"] == north.bubble_id
    assert links[0]["received"] >= 1
    assert links[0]["last_success"] is not None
    assert links[0]["last_error"] is None


def test_operator_mistakes_get_clear_errors(
    pair: tuple[LiveNode, LiveNode], tmp_path: Path
) -> None:
    north, south = pair
    other_key = north.cli("node", "show")["public_key"]
    with pytest.raises(NodeError, match="not the one given"):
        run_cli(north.env, "peer", "add", south.base_url, "--key", other_key)
    with pytest.raises(NodeError, match="starts with 'ed25519:'"):
        run_cli(north.env, "peer", "add", south.base_url, "--key", "AAAA")
    with pytest.raises(NodeError, match="cannot read"):
        run_cli(north.env, "peer", "add", "http://127.0.0.1:9", "--key", other_key)
    with pytest.raises(NodeError, match="no peer"):
        run_cli(north.env, "bubble", "share", north.bubble_name, "--peer", "Atlantis")


def _mirrored(node: LiveNode, bubble_name: str) -> bool:
    try:
        return any(b["name"] == bubble_name for b in node.cli("bubble", "list")["bubbles"])
    except NodeError:
        return False


def _wait(done: object, what: str, timeout: float = 30.0) -> None:
    assert callable(done)
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.5)
