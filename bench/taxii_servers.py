"""The two servers under test, each a real process on a free 127.0.0.1 port.

TrustBubble runs as `trustbubble serve` on a fresh SQLite file, set up with the CLI's `--json`
commands. medallion 3.0.0, the OASIS reference TAXII 2.1 server, runs from its own virtual
environment with its memory backend, started the way its README says: `medallion CONFIG_PATH`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import orjson

TAXII = "application/taxii+json;version=2.1"
MEDALLION_VERSION = "3.0.0"
BENCH_DIR = Path(__file__).resolve().parent
MEDALLION_VENV = BENCH_DIR / ".venv-medallion"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running TAXII server and where the benchmark talks to it."""

    name: str
    version: str
    storage: str
    process: subprocess.Popen[bytes]
    base: str
    collection: str  # URL of the measured collection, ending in "/"
    warmup_collection: str  # URL of a second collection for the untimed warm-up
    headers: dict[str, str]
    auth: httpx2.BasicAuth | None = None
    log_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    def cpu_seconds(self) -> float:
        """User and system CPU time the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_until_up(server: Server, client: httpx2.Client, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}; see {server.log_path}"
            )
        try:
            response = client.get(
                server.collection,
                headers=server.headers,
                auth=server.auth or httpx2.USE_CLIENT_DEFAULT,
            )
            if response.status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{server.name} did not answer within {timeout:.0f} s; see {server.log_path}"
            )
        time.sleep(0.2)


# --- TrustBubble ---


def _trustbubble_command() -> list[str]:
    beside = Path(sys.executable).parent / "trustbubble"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("trustbubble")
    if found is None:
        raise RuntimeError("no `trustbubble` command; run with the project's .venv/bin/python")
    return [found]


def _cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [*_trustbubble_command(), *args, "--json"], env=env, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"trustbubble {' '.join(args)} failed: {done.stderr.decode()}")
    answer: dict[str, Any] = orjson.loads(done.stdout)
    return answer


def start_trustbubble(workdir: Path, client: httpx2.Client) -> Server:
    """A fresh node: one organization, one analyst with an API token, two bubbles."""
    database = workdir / "node.sqlite3"
    env = {**os.environ, "TRUSTBUBBLE_DATABASE_URL": f"sqlite:///{database}"}
    _cli(env, "db", "upgrade")
    _cli(env, "org", "add", "Bench CERT", "--kind", "cert", "--country", "FR")
    _cli(env, "user", "add", "bench@cert.test", "--org", "Bench CERT", "--role", "analyst")
    token = _cli(env, "token", "create", "bench@cert.test", "--name", "bench")["token"]
    measured = _cli(env, "bubble", "add", "Bench", "--owner", "Bench CERT")["id"]
    warmup = _cli(env, "bubble", "add", "Warm-up", "--owner", "Bench CERT")["id"]
    port = free_port()
    log_path = workdir / "trustbubble.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [*_trustbubble_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    root = f"{base}/taxii2/bubbles/collections/"
    from importlib.metadata import version

    server = Server(
        name="TrustBubble",
        version=version("trustbubble"),
        storage="SQLite (WAL), 1 worker",
        process=process,
        base=base,
        collection=f"{root}{measured}/",
        warmup_collection=f"{root}{warmup}/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {token}"},
        log_path=log_path,
        notes=[
            "the collection also holds its owner's STIX identity, which the node shares into it"
        ],
    )
    _wait_until_up(server, client)
    return server


# --- medallion ---


def _medallion_python() -> Path:
    return MEDALLION_VENV / "bin" / "python"


def install_medallion() -> str:
    """Create bench/.venv-medallion with medallion pinned; reuse it when it is already there."""
    probe = [
        str(_medallion_python()),
        "-c",
        "import importlib.metadata as m; print(m.version('medallion'))",
    ]
    if _medallion_python().exists():
        done = subprocess.run(probe, capture_output=True, check=False)
        if done.returncode == 0 and done.stdout.decode().strip() == MEDALLION_VERSION:
            return MEDALLION_VERSION
    log(f"installing medallion {MEDALLION_VERSION} into {MEDALLION_VENV}")
    python = shutil.which("python3.11") or sys.executable
    subprocess.run([python, "-m", "venv", "--clear", str(MEDALLION_VENV)], check=True)
    subprocess.run(
        [
            str(_medallion_python()),
            "-m",
            "pip",
            "install",
            "--quiet",
            f"medallion=={MEDALLION_VERSION}",
        ],
        check=True,
    )
    return subprocess.run(probe, capture_output=True, check=True).stdout.decode().strip()


def _api_root(title: str, collection_id: str) -> dict[str, Any]:
    return {
        "information": {
            "title": title,
            "description": "Benchmark API root.",
            "versions": [TAXII],
            "max_content_length": 20 * 1024 * 1024,
        },
        "status": [],
        "collections": [
            {
                "id": collection_id,
                "title": title,
                "can_read": True,
                "can_write": True,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": [],
                "manifest": [],
            }
        ],
    }


def start_medallion(workdir: Path, client: httpx2.Client) -> Server:
    """medallion with its memory backend: one API root and collection measured, one for warm-up.

    Its memory backend finds an API root by walking its data in key order, so the measured root
    ("bench") sorts before the warm-up root and never pays for the warm-up data.
    """
    installed = install_medallion()
    measured, warmup = (
        "6c7e3b1a-7f7e-4b55-9a3c-0d7f2f8a9b01",
        "9f1d2c3b-4a5e-4f60-8b7c-1d2e3f4a5b02",
    )
    data = {
        "/discovery": {
            "title": "medallion (benchmark)",
            "description": "OASIS reference TAXII 2.1 server, memory backend.",
            "default": "bench",
            "api_roots": ["bench", "warmup"],
        },
        "bench": _api_root("Bench", measured),
        "warmup": _api_root("Warm-up", warmup),
    }
    data_path = workdir / "medallion-data.json"
    data_path.write_text(json.dumps(data))
    password = secrets.token_urlsafe(16)
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data_path),
            # Paging state lives in server memory; keep it for the whole walk of a slow first page.
            "session_timeout": 3600,
        },
        "users": {"bench": password},
        "taxii": {"max_page_size": 1000},  # the same largest page as TrustBubble's default
    }
    config_path = workdir / "medallion-config.json"
    config_path.write_text(json.dumps(config))
    port = free_port()
    log_path = workdir / "medallion.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [
                str(MEDALLION_VENV / "bin" / "medallion"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "WARN",
                str(config_path),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    server = Server(
        name="medallion",
        version=installed,
        storage="memory backend, Flask development server (threaded)",
        process=process,
        base=base,
        collection=f"{base}/bench/collections/{measured}/",
        warmup_collection=f"{base}/warmup/collections/{warmup}/",
        headers={"Accept": TAXII},
        auth=httpx2.BasicAuth("bench", password),
        log_path=log_path,
        notes=[
            "every object of one POST gets the same date_added, so its added_after offsets fall "
            "on envelope boundaries"
        ],
    )
    _wait_until_up(server, client)
    return server
