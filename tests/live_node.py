"""A real `trustbubble serve` on 127.0.0.1, set up through the real CLI, for over-the-wire tests.

Use it from any test module, without a conftest::

    @pytest.fixture(scope="module")
    def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
        with running_node(tmp_path_factory.mktemp("node")) as live:
            yield live
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import orjson

CLI = Path(sys.executable).with_name("trustbubble")
API_ROOT_PATH = "/taxii2/bubbles/"


class NodeError(RuntimeError):
    """The node or one of its CLI commands failed; the message carries what it printed."""


@dataclass(frozen=True, slots=True)
class Account:
    """A user created with the CLI, who logs in with HTTP Basic: e-mail and password."""

    email: str
    password: str
    org: str


@dataclass(frozen=True, slots=True)
class LiveNode:
    """A running node and the cast the CLI created on it.

    `analyst` (role analyst) and `viewer` (role viewer) belong to the organization that owns
    `bubble_id`; `other_analyst` belongs to another organization, which owns `other_bubble_id`
    and has no part in `bubble_id`. `token` is an API token of `analyst`, which HTTP Basic
    takes in place of the password.
    """

    base_url: str
    database_url: str
    env: Mapping[str, str]
    token: str
    analyst: Account
    viewer: Account
    other_analyst: Account
    bubble_id: str
    bubble_name: str
    other_bubble_id: str
    # The `serve` process, for tests that stop or kill the node; `running_node` reaps it.
    server: subprocess.Popen[bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/taxii2/"

    @property
    def api_root_url(self) -> str:
        return self.base_url + API_ROOT_PATH

    def collection_url(self, collection_id: str) -> str:
        return f"{self.api_root_url}collections/{collection_id}/"

    def cli(self, *args: str) -> dict[str, Any]:
        """Run `trustbubble ARGS --json` on this node's database; its JSON answer."""
        return run_cli(self.env, *args)


def run_cli(env: Mapping[str, str], *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [str(CLI), *args, "--json"],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise NodeError(
            f"`trustbubble {' '.join(args)}` exited with {result.returncode}:\n"
            f"{result.stderr}{result.stdout}"
        )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if not lines:
        raise NodeError(f"`trustbubble {' '.join(args)}` printed nothing:\n{result.stderr}")
    answer = orjson.loads(lines[-1])
    if not isinstance(answer, dict):
        raise NodeError(f"`trustbubble {' '.join(args)}` printed {lines[-1]!r}, not an object")
    return answer


def node_env(database_url: str, settings: Mapping[str, str | int] | None = None) -> dict[str, str]:
    """The environment of the CLI and server: this database and settings, none of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTBUBBLE_")}
    env["TRUSTBUBBLE_DATABASE_URL"] = database_url
    for name, value in (settings or {}).items():
        env["TRUSTBUBBLE_" + name.upper()] = str(value)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_cli_together(env: Mapping[str, str], *commands: Sequence[str]) -> list[dict[str, Any]]:
    """Run independent CLI commands at once (each costs a second of start-up); their answers."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: run_cli(env, *args), commands))


@dataclass(frozen=True, slots=True)
class Cast:
    token: str
    analyst: Account
    viewer: Account
    other_analyst: Account
    bubble_id: str
    bubble_name: str
    other_bubble_id: str


def _populate(env: Mapping[str, str]) -> Cast:
    # A suffix keeps names unique when several nodes share one PostgreSQL database.
    tag = uuid.uuid4().hex[:6]
    alpha, beta = f"CERT Alpha {tag}", f"CERT Beta {tag}"
    people = [
        (f"analyst-{tag}@alpha.test", alpha, "analyst"),
        (f"viewer-{tag}@alpha.test", alpha, "viewer"),
        (f"analyst-{tag}@beta.test", beta, "analyst"),
    ]
    name = f"Health sector {tag}"
    run_cli_together(
        env,
        ("org", "add", alpha, "--kind", "cert", "--country", "FR"),
        ("org", "add", beta, "--kind", "cert", "--country", "DE"),
    )
    *users, bubble, other = run_cli_together(
        env,
        *[("user", "add", email, "--org", org, "--role", role) for email, org, role in people],
        ("bubble", "add", name, "--owner", alpha, "--kind", "sectoral"),
        ("bubble", "add", f"Beta only {tag}", "--owner", beta),
    )
    analyst, viewer, other_analyst = (
        Account(email, str(user["password"]), org)
        for (email, org, _), user in zip(people, users, strict=True)
    )
    token = run_cli(env, "token", "create", analyst.email, "--name", "tests")
    return Cast(
        str(token["token"]),
        analyst,
        viewer,
        other_analyst,
        str(bubble["id"]),
        name,
        str(other["id"]),
    )


def _tail(path: Path, limit: int = 4000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:] or "(nothing)"


def wait_until_up(process: subprocess.Popen[bytes], url: str, stderr: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx2.Client(timeout=2.0) as client:
        while True:
            code = process.poll()
            if code is not None:
                raise NodeError(f"`trustbubble serve` exited with {code}; stderr:\n{_tail(stderr)}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise NodeError(
                    f"`trustbubble serve` did not answer {url} within {timeout:.0f} s; "
                    f"stderr:\n{_tail(stderr)}"
                )
            time.sleep(0.05)


def stop_node(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def _start(env: Mapping[str, str], tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = tmp_path / "serve.stdout.log"
    with log.open("wb") as out, (tmp_path / "serve.stderr.log").open("wb") as err:
        # Files, not pipes: a long run's access log would fill a pipe and stall the node.
        process = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=dict(env),
            cwd=tmp_path,
            stdout=out,
            stderr=err,
        )
    return process, f"http://127.0.0.1:{port}"


def _up(
    process: subprocess.Popen[bytes],
    base: str,
    env: Mapping[str, str],
    tmp_path: Path,
    timeout: float,
    attempts: int = 3,
) -> tuple[subprocess.Popen[bytes], str]:
    """The started server once discovery answers; on another port if the first was taken."""
    stderr = tmp_path / "serve.stderr.log"
    for attempt in range(1, attempts + 1):
        try:
            wait_until_up(process, base + "/taxii2/", stderr, timeout)
            return process, base
        except NodeError:
            stop_node(process)
            # Another process may take the port between the probe and the bind.
            if attempt == attempts or "address already in use" not in _tail(stderr).lower():
                raise
        process, base = _start(env, tmp_path)
    raise AssertionError("unreachable")


@contextmanager
def running_node(
    tmp_path: Path,
    database_url: str | None = None,
    *,
    settings: Mapping[str, str | int] | None = None,
    startup_timeout: float = 20.0,
) -> Iterator[LiveNode]:
    """Migrate, serve on a free port, create the cast with the CLI; stop and reap on exit.

    Without `database_url` the node gets a fresh SQLite file in `tmp_path`. `settings` are
    node settings by name (`{"page_size": 10}` sets TRUSTBUBBLE_PAGE_SIZE).
    """
    url = database_url or f"sqlite:///{tmp_path / 'live-node.sqlite3'}"
    env = node_env(url, settings)
    run_cli(env, "db", "upgrade")
    process, base = _start(env, tmp_path)
    try:
        # The server boots while the CLI creates the cast: each takes seconds of imports.
        cast = _populate(env)
        process, base = _up(process, base, env, tmp_path, startup_timeout)
        yield LiveNode(
            base_url=base,
            database_url=url,
            env=env,
            token=cast.token,
            analyst=cast.analyst,
            viewer=cast.viewer,
            other_analyst=cast.other_analyst,
            bubble_id=cast.bubble_id,
            bubble_name=cast.bubble_name,
            other_bubble_id=cast.other_bubble_id,
            server=process,
        )
    finally:
        stop_node(process)
