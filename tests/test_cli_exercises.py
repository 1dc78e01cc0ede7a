"""`trustbubble exercise check` and `exercise scenarios`, as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from trustbubble.cli import app
from trustbubble.domain.exercises.scenario import SHIPPED

runner = CliRunner()
GOOD = SHIPPED / "hospital-ransomware.yaml"


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
