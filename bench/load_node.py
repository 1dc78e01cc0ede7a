"""The node under load: a fresh store filled by `trustbubble demo`, and `trustbubble serve` on it.

SQLite is a file in a temporary directory, served by one process; PostgreSQL is a database made
on the given server and dropped afterwards, served by `--workers` processes. Every step is the
operator's CLI: `demo --no-serve` loads the demo node (13 organizations, 12 users, two bubbles,
about 1,000 objects), `token create` gives each demo user an API token.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from taxii_servers import free_port, log
from trustbubble.services.demo import USERS, demo_password
from trustbubble.store.database import normalize_url

CLI = Path(sys.executable).with_name("trustbubble")


@dataclass(frozen=True)
class Account:
    """A demo user as the clients know them: e-mail, password (to sign in) and an API token."""

    email: str
    password: str
    token: str


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    base: str
    database_url: str
    log_path: Path
    accounts: list[Account]

    def cpu_seconds(self) -> float:
        """User and system CPU of the server and its worker processes so far (Linux /proc)."""
        return sum(_cpu(pid) for pid in _tree(self.process.pid))

    def log_problems(self) -> list[str]:
        """Lines of the server log that report a fault: errors, tracebacks, a worker that died
        (uvicorn's supervisor kills one that misses its health check and starts another)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [
            line.strip()[:300]
            for line in lines
            if line.startswith(("ERROR", "CRITICAL", "Traceback"))
            or " 500 " in line
            or "died" in line
        ]


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0  # a worker that has exited
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    """The process and its descendants (uvicorn's workers are its children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([str(CLI), *args, "--json"], env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"trustbubble {' '.join(args)} failed:\n{done.stderr.decode()}")
    answer: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return answer


@contextmanager
def database(backend: str, pg_url: str, work: Path) -> Iterator[str]:
    """A store nobody else uses: a new SQLite file, or a PostgreSQL database made and dropped."""
    if backend == "sqlite":
        yield f"sqlite:///{work / 'node.sqlite3'}"
        return
    name = f"tb_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _environment(database_url: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTBUBBLE_")}
    env["TRUSTBUBBLE_DATABASE_URL"] = database_url
    env["TRUSTBUBBLE_NODE_KEY"] = str(work / "node.key")  # not ./var/node.key of the checkout
    return env


def fill(database_url: str, work: Path) -> list[Account]:
    """Load the demo node with the CLI and give each of its users an API token."""
    env = _environment(database_url, work)
    done = subprocess.run(
        [str(CLI), "demo", "--no-serve"], env=env, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"trustbubble demo --no-serve failed:\n{done.stderr.decode()}")
    accounts = []
    for email, _org, _role, _about in USERS:
        token = _cli(env, "token", "create", email, "--name", "load bench")["token"]
        accounts.append(Account(email, demo_password(email), str(token)))
    return accounts


@contextmanager
def serving(database_url: str, work: Path, workers: int, accounts: list[Account]) -> Iterator[Node]:
    """`trustbubble serve` on a free port until the block ends."""
    env = _environment(database_url, work)
    port = free_port()
    log_path = work / "serve.log"
    command = [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log_path.open("wb") as output:
        # A file, not a pipe: a pipe nobody reads would fill and stall the node.
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    node = Node(process, f"http://127.0.0.1:{port}", database_url, log_path, accounts)
    try:
        _wait_until_up(node)
        yield node
    except BaseException:
        log(f"the node's log ends with:\n{log_path.read_text(errors='replace')[-4000:]}")
        raise
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()


def _wait_until_up(node: Node, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx2.Client(timeout=2.0) as client:
        while True:
            if node.process.poll() is not None:
                raise SystemExit(f"the node exited with {node.process.returncode}")
            try:
                if client.get(node.base + "/taxii2/").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the node did not answer within {timeout:.0f} s")
            time.sleep(0.2)
