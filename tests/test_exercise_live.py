"""Live play over server-sent events, against a real `trustbubble serve`: each player's stream
carries what their role may see as it happens, and a team's chat stays in the team."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest

from tests.live_node import LiveNode, running_node

pytestmark = pytest.mark.slow
WAIT = 10.0


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live-exercise")


@pytest.fixture(scope="module")
def node(workdir: Path) -> Iterator[LiveNode]:
    with running_node(workdir) as live:
        yield live


class Follower:
    """One player's event stream, read on a thread into a queue of (event, data)."""

    def __init__(self, url: str, token: str) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._client = httpx2.Client(timeout=httpx2.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._read, args=(url, token), daemon=True)
        self._thread.start()

    def _read(self, url: str, token: str) -> None:
        name, data = "message", []
        try:
            with self._client.stream("GET", url, headers={"X-Guest-Token": token}) as answer:
                for line in answer.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                    elif not line and data:
                        self.events.put((name, orjson.loads("\n".join(data))))
                        name, data = "message", []
        except httpx2.TransportError:
            pass  # closed by the test

    def next(self, wanted: str) -> Any:
        """The next event of this name, skipping others; fails after WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while True:
            name, data = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            if name == wanted:
                return data

    def screen_until(self, check: Any) -> dict[str, Any]:
        while True:
            screen: dict[str, Any] = self.next("screen")
            if check(screen):
                return screen

    def close(self) -> None:
        self._client.close()


def _injects(screen: dict[str, Any]) -> set[str]:
    return {i["id"] for s in screen["screens"] for i in s["injects"]}


def test_players_follow_their_roles_and_teams_live(node: LiveNode) -> None:
    api = f"{node.base_url}/api/v1"
    facilitator = httpx2.Client(auth=(node.analyst.email, node.analyst.password), timeout=10)
    made = facilitator.post(f"{api}/exercises", json={"scenario": "hospital-ransomware"})
    url = f"{api}/exercises/{made.json()['id']}"
    tokens = {
        role: facilitator.post(f"{url}/players", json={"role": role, "guest_name": role}).json()[
            "guest_token"
        ]
        for role in ("north-health", "north-cert", "south-cert")
    }
    followers = {role: Follower(f"{url}/events", token) for role, token in tokens.items()}
    try:
        for role, follower in followers.items():
            first = follower.next("screen")
            assert [s["role"] for s in first["screens"]] == [role]
            assert follower.next("chat") == {"whole": True, "messages": []}
        facilitator.post(f"{url}/steps", json={"step": "start"}).raise_for_status()
        health = followers["north-health"].screen_until(lambda s: s["started"])
        assert _injects(health) == {"er-diverts"}
        assert health["screens"][0]["decisions"][0]["id"] == "first-hour"
        released = facilitator.post(
            f"{url}/steps", json={"step": "release", "inject": "southland-asked"}
        )
        assert released.status_code == 200
        south = followers["south-cert"].screen_until(lambda s: "southland-asked" in _injects(s))
        assert "er-diverts" not in _injects(south)
        cert = followers["north-cert"].screen_until(lambda s: s["started"])
        assert "southland-asked" not in _injects(cert)

        said = httpx2.post(
            f"{url}/chat",
            json={"text": "Hospitals on paper now."},
            headers={"X-Guest-Token": tokens["north-health"]},
        )
        assert said.status_code == 201
        heard = followers["north-cert"].next("said")
        assert [m["text"] for m in heard["messages"]] == ["Hospitals on paper now."]
        # A role cast while they follow shows on their screens at once.
        facilitator.post(
            f"{url}/players", json={"role": "south-foreign", "guest_name": "Late joiner"}
        )
        recast = followers["south-cert"].screen_until(
            lambda s: any(p["role"] == "south-foreign" for p in s["players"])
        )
        assert {"role": "south-foreign", "player": "Late joiner (guest)"} in recast["players"]
        # The other team heard nothing of the north's chat.
        while not followers["south-cert"].events.empty():
            name, _data = followers["south-cert"].events.get()
            assert name != "said"
    finally:
        for follower in followers.values():
            follower.close()
        facilitator.close()


def test_the_access_log_keeps_no_guest_link(node: LiveNode, workdir: Path) -> None:
    facilitator = httpx2.Client(auth=(node.analyst.email, node.analyst.password), timeout=10)
    api = f"{node.base_url}/api/v1"
    made = facilitator.post(f"{api}/exercises", json={"scenario": "cross-border-water"})
    url = f"{api}/exercises/{made.json()['id']}"
    token = facilitator.post(f"{url}/players", json={"role": "west-mfa", "guest_name": "A"})
    secret = token.json()["guest_token"]
    joined = httpx2.get(f"{node.base_url}/exercises/join/{secret}", follow_redirects=False)
    assert joined.status_code == 303
    facilitator.close()
    time.sleep(0.5)  # the access log line is written after the answer
    logs = "".join(p.read_text() for p in workdir.glob("serve.*.log"))
    assert "/exercises/join/…" in logs
    assert secret not in logs
