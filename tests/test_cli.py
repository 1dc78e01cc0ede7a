"""The `trustbubble` command as an operator uses it: JSON for scripts, clear errors, exit codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from trustbubble.cli import app
from trustbubble.domain.errors import Unauthenticated
from trustbubble.services.accounts import Authenticator
from trustbubble.store.database import Database


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TRUSTBUBBLE_DATABASE_URL", f"sqlite:///{tmp_path / 'node.sqlite3'}")
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output + result.stderr
        return result

    invoke("db", "upgrade")
    return invoke


def as_json(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(result.stdout)
    return data


def test_an_operator_sets_up_a_bubble_and_shares_a_bundle(run: Any, tmp_path: Path) -> None:
    org = as_json(run("org", "add", "CERT FR", "--kind", "cert", "--country", "fr", "--json"))
    assert org["name"] == "CERT FR"
    assert org["identity"].startswith("identity--")
    run(
        "org",
        "add",
        "Lyon Hospital",
        "--kind",
        "operator",
        "--country",
        "FR",
        "--parent",
        "CERT FR",
    )
    user = as_json(run("user", "add", "a@cert.test", "--org", "CERT FR", "--json"))
    assert len(user["password"]) >= 12
    token = as_json(run("token", "create", "a@cert.test", "--json"))
    assert token["token"].startswith("tb_")
    bubble = as_json(
        run("bubble", "add", "Health", "--owner", "CERT FR", "--default-tlp", "green", "--json")
    )
    assert len(bubble["id"]) == 36

    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--1c6a4f2d-9b3e-4e8a-a1f0-6d2c7b5e9a31",
        "created": "2021-03-01T10:00:00.000Z",
        "modified": "2021-03-01T10:00:00.000Z",
        "pattern": "[domain-name:value = 'ransom.example']",
        "pattern_type": "stix",
        "valid_from": "2021-03-01T10:00:00Z",
    }
    broken = {**indicator, "id": "indicator--2d7b5a3e-0c4f-4f9b-b2a1-7e3d8c6f0b42", "pattern": None}
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": "bundle--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12,
                "objects": [indicator, broken],
            }
        )
    )
    summary = as_json(
        run("import", str(bundle), "--bubble", "Health", "--as", "a@cert.test", "--json", code=3)
    )
    assert (summary["stored"], summary["refused"]) == (1, 1)
    assert "pattern" in summary["failures"][0]

    exported = orjson.loads(run("export", "--bubble", "Health", "--as", "a@cert.test").stdout)
    assert indicator in exported["objects"]
    assert as_json(run("audit", "verify", "--json"))["ok"] is True


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("org", "add", "X", "--kind", "ngo", "--country", "FR"), "unknown organization kind"),
        (("user", "add", "not-an-email", "--org", "X"), "not an e-mail address"),
        (("bubble", "add", "B", "--owner", "Nobody"), "no organization named 'Nobody'"),
        (("token", "create", "nobody@cert.test"), "no user with e-mail"),
        (("export", "--bubble", "Nope", "--as", "nobody@cert.test"), "no user"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_clear_message(
    run: Any, args: tuple[str, ...], words: str
) -> None:
    result = run(*args, code=1)
    assert words in result.stderr


def test_several_workers_on_sqlite_are_refused(run: Any) -> None:
    result = run("serve", "--workers", "2", code=1)
    assert "PostgreSQL" in result.stderr


def test_tokens_expire_after_the_days_given_or_never_and_list_says_so(run: Any) -> None:
    run("org", "add", "CERT FR", "--kind", "cert", "--country", "FR")
    run("user", "add", "a@cert.test", "--org", "CERT FR")
    default = as_json(run("token", "create", "a@cert.test", "--json"))
    week = as_json(run("token", "create", "a@cert.test", "--expires-in", "7", "--json"))
    kept = as_json(run("token", "create", "a@cert.test", "--no-expiry", "--json"))
    assert kept["expires"] is None

    def days_left(token: dict[str, Any]) -> float:
        return (datetime.fromisoformat(token["expires"]) - datetime.now(UTC)) / timedelta(days=1)

    assert 89.9 < days_left(default) <= 90
    assert 6.9 < days_left(week) <= 7
    both = run("token", "create", "a@cert.test", "--expires-in", "7", "--no-expiry", code=1)
    assert "not both" in both.stderr
    listed = {t["id"]: t for t in as_json(run("token", "list", "a@cert.test", "--json"))["tokens"]}
    assert listed[week["id"]]["expires"] == week["expires"]
    assert listed[kept["id"]]["state"] == "active"
    text = run("token", "list", "a@cert.test").stdout
    assert f"expires {week['expires']}" in text
    assert "expires never" in text


def test_an_operator_sets_a_password_from_stdin_under_the_rules(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("org", "add", "CERT FR", "--kind", "cert", "--country", "FR")
    run("user", "add", "a@cert.test", "--org", "CERT FR")
    db = Database(f"sqlite:///{tmp_path / 'node.sqlite3'}")
    try:
        auth = Authenticator(db)
        for _ in range(5):
            with pytest.raises(Unauthenticated):
                auth.password("a@cert.test", "a guess, and wrong", "basic")
        runner = CliRunner()
        refused = runner.invoke(
            app, ["user", "password", "a@cert.test", "--stdin"], input="password1234\n"
        )
        assert refused.exit_code == 1
        assert "published after data breaches" in refused.stderr
        chosen = "four unrelated words, chosen by me"
        given = runner.invoke(
            app, ["user", "password", "a@cert.test", "--stdin", "--json"], input=chosen + "\n"
        )
        assert given.exit_code == 0, given.stderr
        assert "password" not in as_json(given)
        # The lock is lifted and the new password works.
        assert auth.password("a@cert.test", chosen, "basic").email == "a@cert.test"
        generated = as_json(run("user", "password", "a@cert.test", "--json"))["password"]
        assert auth.password("a@cert.test", generated, "basic").email == "a@cert.test"
    finally:
        db.dispose()
