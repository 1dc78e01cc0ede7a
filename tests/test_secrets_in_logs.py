"""No secret reaches a log: two real nodes go through a full session (passwords over the web form
and HTTP Basic, right and wrong, tokens made and used, passwords changed, a webhook and mail that
fail, a guest's exercise link, peer credentials and a sync), then every secret used, and its
hash, is searched for in both servers' stdout and stderr and in both audit logs."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx2
import pytest
from sqlalchemy import text

from tests.live_node import LiveNode, run_cli, run_cli_together, running_node
from trustbubble.store.database import Database

pytestmark = pytest.mark.slow

TAXII = {"Accept": "application/taxii+json;version=2.1"}


def _form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


class Secrets:
    """Every secret the session used, with the user name it went with over Basic."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}  # value -> what it is
        self.basic: list[tuple[str, str]] = []
        self.audited: set[str] = set()

    def add(self, what: str, value: str, email: str | None = None, audited: bool = False) -> str:
        """Keep a secret; `audited` ones are the audit log's to record, never a server log's."""
        assert len(value) >= 12, what
        self.values[value] = what
        if email is not None:
            self.basic.append((email, value))
        if audited:
            self.audited.add(value)
        return value

    def forms(self) -> Iterator[tuple[str, str, bool]]:
        """(what, text, audited) for each way a secret could show: as is, URL-encoded, hashed,
        and inside a Basic header."""
        for value, what in self.values.items():
            audited = value in self.audited
            yield what, value, audited
            yield f"{what}, URL-encoded", quote(value, safe=""), audited
            yield f"{what}, SHA-256", hashlib.sha256(value.encode()).hexdigest(), audited
        for email, value in self.basic:
            pair = base64.b64encode(f"{email}:{value}".encode()).decode()
            yield f"{self.values[value]} in a Basic header", pair, False


def _logs(node: LiveNode, folder: Path) -> dict[str, str]:
    found = {
        f"{folder.name} {name}": (folder / name).read_text(errors="replace")
        for name in ("serve.stdout.log", "serve.stderr.log")
    }
    db = Database(node.database_url)
    try:
        with db.read() as conn:
            rows = conn.execute(text("SELECT * FROM audit_log ORDER BY seq")).all()
    finally:
        db.dispose()
    found[f"{folder.name} audit log"] = "\n".join(repr(tuple(row)) for row in rows)
    return found


def _web_session(
    client: httpx2.Client, kept: Secrets, email: str, password: str
) -> tuple[str, str]:
    """Sign in with the form after one wrong try; the session cookie and the form token."""
    token = _form_token(client.get("/sign-in").text)
    wrong = kept.add("a wrong password typed in the form", "Tr0ub4dor&3-but-wrong")
    assert (
        client.post("/sign-in", data={"email": email, "password": wrong, "csrf": token}).status_code
        == 401
    )
    signed = client.post("/sign-in", data={"email": email, "password": password, "csrf": token})
    assert signed.status_code == 303
    cookie = kept.add("a session cookie", client.cookies["tb_session"])
    return cookie, kept.add("a form token", _form_token(client.get("/account").text))


def _accounts(node: LiveNode, kept: Secrets) -> None:
    email = node.analyst.email
    password = kept.add("a generated password", node.analyst.password, email)
    token = kept.add("an API token made with the CLI", node.token, email)
    with httpx2.Client(base_url=node.base_url, headers=TAXII, timeout=10) as api:
        collections = "/taxii2/bubbles/collections/"
        assert api.get(collections, auth=(email, password)).status_code == 200
        assert api.get(collections, auth=(email, token)).status_code == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert api.get(collections, headers=bearer).status_code == 200
        guess = kept.add("a wrong password over Basic", "correct-horse-not-quite", email)
        assert api.get(collections, auth=(email, guess)).status_code == 401
        made = api.post("/api/v1/account/tokens", json={"name": "siem"}, headers=bearer).json()
        second = kept.add("an API token made over JSON", made["secret"], email)
        assert (
            api.get(collections, headers={"Authorization": f"Bearer {second}"}).status_code == 200
        )
        changed = kept.add("a password chosen over JSON", secrets.token_urlsafe(18), email)
        body = {"current": password, "new": changed}
        assert (
            api.post("/api/v1/account/password", json=body, auth=(email, password)).status_code
            == 204
        )
        assert api.get(collections, auth=(email, changed)).status_code == 200
    with httpx2.Client(base_url=node.base_url, timeout=10) as browser:
        _cookie, form = _web_session(browser, kept, email, changed)
        page = browser.post("/account/tokens", data={"name": "web", "days": "7", "csrf": form})
        shown = re.search(r'id="token-value">([^<]+)<', page.text)
        assert shown
        kept.add("an API token made on the web page", shown.group(1), email)
        final = kept.add("a password chosen on the web page", secrets.token_urlsafe(18), email)
        data = {"current": changed, "new": final, "repeat": final, "csrf": form}
        assert browser.post("/account/password", data=data).status_code == 200


def _exercise(node: LiveNode, kept: Secrets) -> None:
    email = node.analyst.email
    created = node.cli("exercise", "create", "hospital-ransomware", "--as", email)
    with httpx2.Client(base_url=node.base_url, timeout=10) as client:
        scenario = client.get("/api/v1/scenarios/hospital-ransomware").json()
        role = scenario["roles"][0]["id"]
        cast = node.cli(
            "exercise", "cast", created["id"], role, "--guest", "Visiting analyst", "--as", email
        )
        guest = kept.add("a guest's exercise link", cast["guest_token"])
        assert client.get(cast["link"]).status_code == 303
        seen = client.get(f"/api/v1/exercises/{created['id']}", headers={"X-Guest-Token": guest})
        assert seen.status_code == 200
        forged = kept.add("a guessed guest link", secrets.token_urlsafe(32))
        assert client.get(f"/exercises/join/{forged}").status_code in (303, 401, 404)


def _notifications(node: LiveNode, kept: Secrets, closed_port: int) -> None:
    """A request for assistance to the other organization, whose webhook and mail server are
    down: the failures are logged, the signing key is not."""
    other = node.other_analyst
    # Receivers often take a secret of their own in the address; the audit log names the
    # address whole (who sent the organization's notifications where), no server log does.
    path_secret, query_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = f"http://127.0.0.1:{closed_port}/hooks/{path_secret}?key={query_secret}"
    kept.add("a secret in a webhook's path", path_secret, audited=True)
    kept.add("a secret in a webhook's query", query_secret, audited=True)
    admin, hook, _invited = run_cli_together(
        node.env,
        ("user", "add", f"admin-{other.email}", "--org", other.org, "--role", "admin"),
        ("webhook", "add", url, "--org", other.org),
        ("bubble", "invite", node.bubble_name, other.org, "--as", node.analyst.email),
    )
    kept.add("an admin's generated password", admin["password"], f"admin-{other.email}")
    kept.add("a webhook's signing key", hook["signing_key"])
    node.cli("bubble", "accept", node.bubble_name, "--as", f"admin-{other.email}")
    node.cli(
        "assist",
        "raise",
        node.bubble_name,
        "--title",
        "Ransomware at a hospital",
        "--asked",
        "technical-analysis",
        "--to",
        other.org,
        "--as",
        node.analyst.email,
    )


def _federate(north: LiveNode, south: LiveNode, kept: Secrets) -> None:
    with ThreadPoolExecutor(2) as pool:
        shown = pool.map(lambda n: n.cli("node", "show")["public_key"], (north, south))
        north_key, south_key = shown
    first = north.cli("peer", "add", south.base_url, "--key", south_key)
    ours = kept.add("North's credential for South", first["credential"])
    second = south.cli("peer", "add", north.base_url, "--key", north_key, "--token", ours)
    theirs = kept.add("South's credential for North", second["credential"])
    north.cli("peer", "add", south.base_url, "--key", south_key, "--token", theirs)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda n: n.cli("sync", "run"), (north, south)))


def _wait_for_failed_deliveries(folder: Path, timeout: float = 30.0) -> None:
    log = folder / "serve.stderr.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count("delivery ") >= 2:
            return
        time.sleep(0.2)
    raise AssertionError(f"no failed delivery was logged:\n{log.read_text(errors='replace')}")


def test_no_secret_of_a_full_session_reaches_a_log(tmp_path: Path) -> None:
    kept = Secrets()
    closed = 9  # discard: nothing listens on 127.0.0.1:9
    settings: dict[str, str | int] = {
        "secret_key": kept.add("TRUSTBUBBLE_SECRET_KEY", secrets.token_urlsafe(32)),
        "node_key_passphrase": kept.add("the node key's passphrase", secrets.token_urlsafe(16)),
        "smtp_host": "127.0.0.1",
        "smtp_port": closed,
        "smtp_from": "node@north.test",
        "smtp_user": "north-mailer",
        "smtp_password": kept.add("TRUSTBUBBLE_SMTP_PASSWORD", secrets.token_urlsafe(16)),
        "delivery_retry_seconds": 3600,
    }
    north_dir, south_dir = tmp_path / "north", tmp_path / "south"
    north_dir.mkdir()
    south_dir.mkdir()
    with (
        running_node(north_dir, settings=settings) as north,
        running_node(south_dir) as south,
    ):
        _accounts(north, kept)
        _exercise(north, kept)
        _notifications(north, kept, closed)
        _federate(north, south, kept)
        kept.add("South's generated password", south.analyst.password, south.analyst.email)
        kept.add("South's API token", south.token, south.analyst.email)
        assert run_cli(north.env, "audit", "verify")["ok"]
        _wait_for_failed_deliveries(north_dir)
    logs = {**_logs(north, north_dir), **_logs(south, south_dir)}
    # The search finds what it looks for: the access log and the audit log were written.
    assert "POST /api/v1/account/password" in logs["north serve.stdout.log"]
    assert (
        '"/exercises/join/…' in logs["north serve.stdout.log"]
        or "/exercises/join/…" in logs["north serve.stdout.log"]
    )
    assert "token.created" in logs["north audit log"]
    assert "peer" in logs["south audit log"]
    assert "/federation/v1/" in logs["south serve.stdout.log"]
    assert "attempt 1" in logs["north serve.stderr.log"]
    assert "/hooks/" in logs["north audit log"]
    found = [
        f"{what} in the {where}"
        for what, value, audited in kept.forms()
        for where, content in logs.items()
        if value in content and not (audited and where.endswith("audit log"))
    ]
    assert not found, found
