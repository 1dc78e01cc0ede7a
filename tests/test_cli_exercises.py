"""`trustbubble exercise ...` as an operator runs it: scenario files, the shipped scenarios, and a
session played from the command line on every store under test, from casting to the report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from trustbubble.cli import app, common
from trustbubble.domain.exercises.scenario import SHIPPED
from trustbubble.services import exercises
from trustbubble.store.database import Database

runner = CliRunner()
GOOD = SHIPPED / "hospital-ransomware.yaml"
TRAINER = "trainer@example.test"  # analyst: facilitates
HEALTH = "health@example.test"  # viewer: plays north-health
CERT = "cert@example.test"  # analyst: plays north-cert
STRANGER = "stranger@example.test"  # takes no part


def test_a_good_file_is_summarised() -> None:
    result = runner.invoke(app, ["exercise", "check", str(GOOD)])
    assert result.exit_code == 0, result.output
    assert "ok: Ransomware across hospitals in two partner countries" in result.output
    as_json = json.loads(runner.invoke(app, ["exercise", "check", str(GOOD), "--json"]).stdout)
    assert as_json["ok"] is True
    assert as_json["decisions"] == 5


def test_a_bad_file_names_the_line_and_path_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = GOOD.read_text(encoding="utf-8").replace("channel: phone", "channel: fax")
    bad.write_text(text, encoding="utf-8")
    line = text[: text.index("channel: fax")].count("\n") + 1
    result = runner.invoke(app, ["exercise", "check", str(bad)])
    assert result.exit_code == 1
    assert f"bad.yaml:{line}: injects[3].channel: 'fax' is not one of" in result.stderr
    as_json = json.loads(runner.invoke(app, ["exercise", "check", str(bad), "--json"]).stdout)
    assert as_json["problems"][0]["line"] == line
    missing = runner.invoke(app, ["exercise", "check", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 1
    assert "cannot be read" in missing.stderr


def test_the_shipped_scenarios_are_listed() -> None:
    listed = json.loads(runner.invoke(app, ["exercise", "scenarios", "--json"]).stdout)
    assert [s["id"] for s in listed["scenarios"]] == [
        "cross-border-water",
        "health-organization-intrusion",
        "hospital-ransomware",
    ]


@pytest.fixture
def run(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI on the test's migrated store, with its people, 120 columns wide."""
    monkeypatch.setenv("TRUSTBUBBLE_DATABASE_URL", db.url)
    monkeypatch.setenv("COLUMNS", "120")
    # A console made where COLUMNS was already set (as under pytest-xdist) keeps its width.
    monkeypatch.setattr(common.out, "width", 120)

    def invoke(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output + result.stderr
        return result

    invoke("org", "add", "Training Institute", "--kind", "academia", "--country", "CH")
    invoke("org", "add", "Ministry of Health", "--kind", "government", "--country", "KE")
    invoke("user", "add", TRAINER, "--org", "Training Institute")
    invoke("user", "add", STRANGER, "--org", "Training Institute")
    invoke("user", "add", HEALTH, "--org", "Ministry of Health", "--role", "viewer")
    invoke("user", "add", CERT, "--org", "Ministry of Health")
    return invoke


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


def test_a_session_is_cast_played_and_reported(run: Any, db: Database, tmp_path: Path) -> None:
    made = run(
        "exercise", "create", "hospital-ransomware", "--title", "[bold]Drill[/]", "--as", TRAINER
    ).stdout
    found = re.match(r"created (\S+): \[bold\]Drill\[/\] \(scenario hospital-ransomware\)$", made)
    assert found is not None, made
    session = found.group(1)
    listed = as_json(run("exercise", "sessions", "--as", TRAINER, "--json"))["sessions"]
    assert [(s["id"], s["title"], s["facilitator"]) for s in listed] == [
        (session, "[bold]Drill[/]", True)
    ]
    assert run("exercise", "sessions", "--as", HEALTH).stdout == "no exercise session\n"

    cast = run("exercise", "cast", session, "north-health", "--user", HEALTH, "--as", TRAINER)
    assert cast.stdout == f"north-health: played by {HEALTH}\n"
    run("exercise", "cast", session, "north-cert", "--user", CERT, "--as", TRAINER)
    guest = as_json(
        run(
            "exercise",
            "cast",
            session,
            "south-foreign",
            "--guest",
            "Ana",
            "--as",
            TRAINER,
            "--json",
        )
    )
    assert guest["link"] == f"/exercises/join/{guest['guest_token']}"
    assert exercises.as_guest(db, guest["guest_token"])[1] == session
    shown = run("exercise", "cast", session, "south-cert", "--guest", "Bo", "--as", TRAINER).stdout
    assert re.fullmatch(
        r"south-cert: played by the guest Bo; their link \(shown once\): /exercises/join/\S+\n",
        shown,
    )
    assert (
        as_json(run("exercise", "sessions", "--as", HEALTH, "--json"))["sessions"][0]["facilitator"]
        is False
    )

    early = run(
        "exercise",
        "step",
        session,
        "decide",
        "--decision",
        "first-hour",
        "--option",
        "pay",
        "--role",
        "north-health",
        "--as",
        HEALTH,
        code=1,
    )
    assert "error: start the exercise first" in early.stderr
    assert run("exercise", "step", session, "start", "--as", TRAINER).stdout == (
        "start: minute 0, running\n"
    )
    screen = run("exercise", "show", session, "--as", HEALTH).stdout
    assert "you play north-health" in screen
    assert "decide first-hour by minute 10 (default wait): The hospital asks whether" in screen
    assert "minute 0, news: University hospital diverts ambulances" in screen
    seen = as_json(run("exercise", "show", session, "--as", HEALTH, "--json"))
    assert [s["role"] for s in seen["screens"]] == ["north-health"]
    assert seen["scores"] is None
    assert len(as_json(run("exercise", "show", session, "--as", TRAINER, "--json"))["screens"]) == 5

    not_yet = run(
        "exercise",
        "step",
        session,
        "decide",
        "--decision",
        "warn-partner",
        "--option",
        "warn",
        "--role",
        "north-cert",
        "--as",
        CERT,
        code=1,
    )
    assert "error: decision 'warn-partner' is not open yet" in not_yet.stderr
    decided = run(
        "exercise",
        "step",
        session,
        "decide",
        "--decision",
        "first-hour",
        "--option",
        "continuity",
        "--role",
        "north-health",
        "--as",
        HEALTH,
    )
    assert decided.stdout == "north-health chose continuity in first-hour: minute 0, running\n"
    advanced = as_json(
        run("exercise", "step", session, "advance", "--minutes", "8", "--as", TRAINER, "--json")
    )
    assert (advanced["minute"], advanced["running"], advanced["ended"]) == (8, True, False)
    run(
        "exercise",
        "step",
        session,
        "decide",
        "--decision",
        "warn-partner",
        "--option",
        "ask-help",
        "--role",
        "north-cert",
        "--as",
        CERT,
    )

    refused = run("exercise", "step", session, "end", "--as", HEALTH, code=1)
    assert "error: only the facilitator may end the exercise" in refused.stderr
    assert refused.stdout == ""
    closed = run("exercise", "report", session, "--as", HEALTH, code=1)
    assert "opens to players when the exercise ends" in closed.stderr
    ended = run("exercise", "step", session, "end", "--as", TRAINER).stdout
    assert ended == "end: minute 8, ended: ended by the facilitator\n"
    again = run("exercise", "step", session, "advance", "--minutes", "1", "--as", TRAINER, code=1)
    assert "error: the exercise has ended" in again.stderr

    whole = as_json(run("exercise", "report", session, "--as", HEALTH, "--json"))
    chosen = [e for e in whole["timeline"] if e["kind"] == "decision"]
    assert [(e["id"], e["option"], e["by"]) for e in chosen] == [
        ("first-hour", "continuity", "Northland health ministry"),
        ("warn-partner", "ask-help", "Northland national CERT"),
    ]
    ratings = {o["id"]: o["rating"] for o in whole["objectives"]}
    assert ratings == {
        "keep-care-going": "P",
        "ask-and-answer": "P",
        "share-and-warn": "P",
        "attribute-carefully": "U",
    }
    text = run("exercise", "report", session, "--as", HEALTH).stdout
    assert text.startswith(f"After-action report: [bold]Drill[/]   {session}\n")
    assert "ended at minute 8: ended by the facilitator" in text
    assert f"Northland health ministry: {HEALTH}" in text
    assert "Southland foreign ministry: Ana (guest)" in text
    assert re.search(r"^ P\s+Protect the continuity of care", text, re.MULTILINE)
    assert re.search(r"^ U\s+Weigh the evidence before naming anyone", text, re.MULTILINE)
    assert "P: performed without challenges; U: unable to be performed" in text
    assert re.search(r"^ norm \(h\)\s+\+1\s+0\s*$", text, re.MULTILINE)
    assert re.search(r"^\s+0\s+Northland health ministry\s+The hospital asks", text, re.MULTILINE)
    assert "Refuse to pay, send mobile teams" in text
    assert "+a +d +h" in text
    strengths = text[text.index("\nStrengths\n") : text.index("\nAreas for improvement\n")]
    assert "Northland health ministry chose “Refuse to pay" in strengths
    assert "upholding norm (g)" in strengths

    pdf = tmp_path / "report.pdf"
    wrote = run("exercise", "report", session, "--as", TRAINER, "--pdf", str(pdf))
    assert wrote.stdout == f"wrote {pdf}\n"
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_session_of_a_scenario_file(run: Any, tmp_path: Path) -> None:
    own = tmp_path / "own.yaml"
    text = GOOD.read_text(encoding="utf-8")
    own.write_text(text.replace("id: hospital-ransomware", "id: own-drill", 1), encoding="utf-8")
    made = as_json(run("exercise", "create", "--file", str(own), "--as", TRAINER, "--json"))
    assert made["scenario"] == "own-drill"
    assert made["title"] == "Ransomware across hospitals in two partner countries"
    shown = as_json(run("exercise", "show", made["id"], "--as", TRAINER, "--json"))
    assert shown["scenario"] == "own-drill"

    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("channel: phone", "channel: fax"), encoding="utf-8")
    line = text[: text.index("channel: phone")].count("\n") + 1
    refused = run("exercise", "create", "--file", str(bad), "--as", TRAINER, code=1)
    assert f"{bad}:{line}: injects[3].channel: 'fax' is not one of" in refused.stderr
    assert refused.stdout == ""
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert (
        f"error: {empty}: is empty"
        in run("exercise", "create", "--file", str(empty), "--as", TRAINER, code=1).stderr
    )
    # One of the two, never both or neither: a usage error.
    run("exercise", "create", "--as", TRAINER, code=2)
    run("exercise", "create", "cross-border-water", "--file", str(own), "--as", TRAINER, code=2)
    listed = as_json(run("exercise", "sessions", "--as", TRAINER, "--json"))["sessions"]
    assert [s["id"] for s in listed] == [made["id"]]  # the refused ones made nothing


def test_refusals_say_why_and_exit_1(run: Any) -> None:
    made = as_json(run("exercise", "create", "cross-border-water", "--as", TRAINER, "--json"))
    session = made["id"]
    for who in (TRAINER, STRANGER):
        missing = run("exercise", "show", "no-such-session", "--as", who, code=1)
        assert "error: no exercise session no-such-session" in missing.stderr
    hidden = run("exercise", "report", session, "--as", STRANGER, code=1)
    assert f"error: no exercise session {session}" in hidden.stderr
    nobody = run("exercise", "sessions", "--as", "nobody@example.test", code=1)
    assert "error: no user with e-mail nobody@example.test" in nobody.stderr
    viewer = run("exercise", "create", "cross-border-water", "--as", HEALTH, code=1)
    assert "facilitating an exercise needs the analyst or admin role" in viewer.stderr
    unknown = run("exercise", "create", "moon-landing", "--as", TRAINER, code=1)
    assert "error: no shipped scenario 'moon-landing'" in unknown.stderr
    role = run("exercise", "cast", session, "mayor", "--user", CERT, "--as", TRAINER, code=1)
    assert "error: role: no role 'mayor' in this scenario" in role.stderr
    run("exercise", "cast", session, "west-cert", "--user", CERT, "--as", TRAINER)
    player = run("exercise", "cast", session, "east-cert", "--guest", "Bo", "--as", CERT, code=1)
    assert "error: only the facilitator of the session may do this" in player.stderr
    run("exercise", "cast", session, "west-cert", "--as", TRAINER, code=2)
    step = run("exercise", "step", session, "fly", "--as", TRAINER, code=1)
    assert "error: step: unknown step 'fly' (use one of start, pause" in step.stderr
    run("exercise", "step", session, "start", "--as", TRAINER)
    zero = run("exercise", "step", session, "advance", "--as", TRAINER, code=1)
    assert "error: minutes: advance by 1 to 480 minutes, not 0" in zero.stderr
    paused = run("exercise", "step", session, "pause", "--as", TRAINER).stdout
    assert paused == "pause: minute 0, paused\n"
