"""`trustbubble draft` and `trustbubble consultation` as an operator runs them, on every store
under test: a ministry opens a draft to civil society and the private sector, who comment; it
answers, hides, publishes a version that answers comments, and closes (docs/consultations.md)."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from trustbubble.cli import app, common
from trustbubble.store.database import Database

runner = CliRunner()
MINISTRY = "analyst@health.test"  # Ministry of Health, government: drafts
NGO = "analyst@patients.test"  # Patients First, civil society
COMPANY = "analyst@medtech.test"  # MedTech Ltd, private sector
CERT = "analyst@cert.test"  # KE National CERT: not in the audience

DRAFT = """# Health-sector cyber rules

## Scope

These rules apply to every hospital and medical laboratory.

## Duties

Hospitals report ransomware to the national CERT within 24 hours.

Hospitals test their backups every quarter.
"""
REVISED = (
    DRAFT.replace(
        "hospital and medical laboratory.", "hospital, medical laboratory and blood bank."
    )
    + "\nPatients are told when their records were exposed.\n"
)
CLOSES = f"{datetime.now(UTC) + timedelta(days=14):%Y-%m-%dT%H:%MZ}"


@pytest.fixture
def run(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI on the test's migrated store, with its people, 120 columns wide: `run("draft
    list --as EMAIL")` splits its command line as a shell would."""
    monkeypatch.setenv("TRUSTBUBBLE_DATABASE_URL", db.url)
    monkeypatch.setenv("COLUMNS", "120")
    # A console made where COLUMNS was already set (as under pytest-xdist) keeps its width.
    monkeypatch.setattr(common.out, "width", 120)

    def invoke(line: str, code: int = 0) -> Any:
        result = runner.invoke(app, shlex.split(line))
        assert result.exit_code == code, result.output + result.stderr
        return result

    for org, kind, email in (
        ("Ministry of Health", "government", MINISTRY),
        ("Patients First", "civil-society", NGO),
        ("MedTech Ltd", "private", COMPANY),
        ("KE National CERT", "cert", CERT),
    ):
        invoke(f"org add '{org}' --kind {kind} --country KE")
        invoke(f"user add {email} --org '{org}'")
    return invoke


def as_json(result: Any) -> Any:
    return orjson.loads(result.stdout)


def has_row(output: str, *cells: str) -> bool:
    """A line holding these cells in this order, apart from spacing."""
    pattern = r"^\s*" + r"\s+".join(re.escape(cell) for cell in cells) + r"\s*$"
    return re.search(pattern, output, re.MULTILINE) is not None


def _file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _open(run: Any, folder: Path) -> tuple[str, str]:
    text = _file(folder, "v1.md", DRAFT)
    draft = as_json(run(f"draft add Rules --kind guideline --file {text} --as {MINISTRY} --json"))
    opened = run(
        f"consultation open {draft['id']} --version 1 --closes {CLOSES} "
        f"--kind civil-society --kind private --as {MINISTRY} --json"
    )
    return draft["id"], as_json(opened)["id"]


def test_stakeholders_comment_the_ministry_answers_revises_and_closes(
    run: Any, tmp_path: Path
) -> None:
    text = _file(tmp_path, "v1.md", DRAFT)
    added = run(
        f"draft add 'Health-sector cyber rules' --kind guideline --file {text} --as {MINISTRY}"
    ).stdout
    said = re.fullmatch(r"added draft (\S+): (.*)\n", added)
    assert said is not None, added
    assert said.group(2) == "Health-sector cyber rules, version 1 with 3 paragraphs"
    draft = said.group(1)
    shown = run(f"draft show {draft} --as {MINISTRY}").stdout
    assert "guideline by Ministry of Health; version 1 of 1" in shown
    assert "\nScope\n  1  These rules apply to every hospital and medical laboratory.\n" in shown
    assert "\nDuties\n  2  Hospitals report" in shown
    listed = as_json(run(f"draft list --as {MINISTRY} --json"))["drafts"]
    assert [(d["id"], d["versions"], d["mine"]) for d in listed] == [(draft, 1, True)]
    assert run(f"draft list --as {NGO}").stdout == "no draft\n"  # not opened to it yet

    opened = run(
        f"consultation open {draft} --version 1 --closes {CLOSES} "
        f"--kind civil-society --kind private --as {MINISTRY}"
    ).stdout
    cid = opened.split()[1].rstrip(":")
    assert f"version 1, open until {CLOSES[:10]} {CLOSES[11:16]} UTC, " in opened
    assert opened.endswith("to civil society, private\n")

    amend = as_json(
        run(
            f"consultation comment {cid} --paragraph 1 --stance amend "
            "--text 'Blood banks hold patient data too.' --wording 'These rules apply to every "
            f"hospital, medical laboratory and blood bank.' --norm g --as {NGO} --json"
        )
    )["id"]
    objection = run(
        f"consultation comment {cid} --paragraph 3 --stance object "
        f"--text 'Quarterly is too often.' --as {COMPANY}"
    ).stdout
    said = re.fullmatch(r"comment #(\d+) on paragraph 3\n", objection)
    assert said is not None, objection
    objection_id = int(said.group(1))
    rude = as_json(
        run(
            f"consultation comment {cid} --paragraph 2 --stance object "
            f"--text 'Patients First lies.' --as {COMPANY} --json"
        )
    )["id"]
    outsider = run(
        f"consultation comment {cid} --paragraph 1 --stance support --text Yes --as {CERT}",
        code=1,
    )
    assert outsider.stderr == f"error: no consultation {cid}\n"

    run(f"consultation reply {cid} {objection_id} --text 'Twice a year?' --as {MINISTRY}")
    accepted = run(f"consultation answer {cid} {amend} --verdict accepted --as {MINISTRY}")
    assert accepted.stdout == f"comment #{amend}: accepted\n"
    run(
        f"consultation answer {cid} {objection_id} --verdict not-accepted "
        f"--reason 'Backups fail silently.' --as {MINISTRY}"
    )
    refused = run(f"consultation answer {cid} {objection_id} --verdict accepted --as {NGO}", code=1)
    assert "only the drafting organization answers" in refused.stderr
    run(f"consultation hide {cid} {rude} --reason 'a personal attack' --as {MINISTRY}")

    as_ngo = run(f"consultation show {cid} --as {NGO}").stdout
    hidden = f"#{rude} MedTech Ltd (private), object: hidden by the drafter: a personal attack\n"
    assert hidden in as_ngo
    assert "Patients First lies." not in as_ngo
    as_author = run(f"consultation show {cid} --as {COMPANY}").stdout
    assert f"#{rude} MedTech Ltd (private), object: Patients First lies.\n" in as_author

    revised = _file(tmp_path, "v2.md", REVISED)
    version = run(
        f"draft version {draft} --file {revised} --note 'Blood banks added.' "
        f"--answers {amend},{objection_id} --as {MINISTRY}"
    ).stdout
    assert version == f"draft {draft}: version 2\nanswers comments #{amend}, #{objection_id}\n"
    changes = run(f"draft diff {draft} 1 2 --as {NGO}").stdout
    assert "note of version 2: Blood banks added.\n" in changes
    assert (
        "paragraph 1 -> 1, changed:\n  These rules apply to every [-hospital-] "
        "{+hospital, medical laboratory+} and [-medical laboratory.-] {+blood bank.+}\n"
    ) in changes
    assert "paragraph 2 -> 2, unchanged\n" in changes
    assert "paragraph 4, added:\n  + Patients are told when their records were exposed.\n" in (
        changes
    )
    body = as_json(run(f"draft diff {draft} 1 2 --as {NGO} --json"))
    assert [c["kind"] for c in body["changes"]] == ["changed", "unchanged", "unchanged", "added"]
    assert body["changes"][0]["words"][:2] == [
        {"op": "=", "text": "These rules apply to every"},
        {"op": "-", "text": "hospital"},
    ]
    assert body["answers"] == [amend, objection_id]
    backwards = run(f"draft diff {draft} 2 1 --as {NGO}").stdout
    assert "paragraph 4, removed:\n  - Patients are told when" in backwards
    run(f"draft diff {draft} 1 3 --as {NGO}", code=1)

    summary = run(f"consultation show {cid} --as {COMPANY}").stdout
    assert f"#{amend} Patients First (civil society), amend, norms g: Blood banks" in summary
    assert "answer: not-accepted: Backups fail silently.\n" in summary
    assert summary.count("answered in version 2\n") == 2
    assert "Ministry of Health (government) replied: Twice a year?\n" in summary
    assert has_row(summary, "Paragraph", "Comments", "Support", "Object", "Amend", "Accepted")
    assert has_row(summary, "1", "1", "0", "0", "1", "100%")
    assert has_row(summary, "2", "1", "0", "1", "0", "-")
    assert has_row(summary, "3", "1", "0", "1", "0", "0%")
    assert has_row(summary, "civil society", "0", "0", "1", "100%")
    assert has_row(summary, "private", "0", "2", "0", "0%")
    seen = as_json(run(f"consultation show {cid} --as {COMPANY} --json"))
    assert (seen["phase"], seen["part"], seen["may_comment"]) == ("open", "participant", True)
    assert seen["by_kind"] == {"civil-society": {"amend": 1}, "private": {"object": 2}}
    listed = as_json(run(f"consultation list --as {COMPANY} --json"))["consultations"]
    assert [(c["id"], c["phase"], c["drafter"]) for c in listed] == [(cid, "open", False)]

    assert run(f"consultation close {cid} --as {MINISTRY}").stdout.startswith(f"{cid}: closed on ")
    late = run(
        f"consultation comment {cid} --paragraph 1 --stance support --text Yes --as {NGO}",
        code=1,
    )
    assert late.stdout == ""
    closed = r"error: the consultation closed on \d{4}-\d\d-\d\d at \d\d:\d\d UTC\n"
    assert re.fullmatch(closed, late.stderr), late.stderr
    assert "; closed on " in run(f"consultation show {cid} --as {NGO}").stdout


def test_markup_in_what_users_write_is_printed_as_written(run: Any, tmp_path: Path) -> None:
    marked = DRAFT.replace("## Scope", "## [blink]Scope[/blink]").replace(
        "every hospital", "every [bold]hospital[/bold]"
    )
    text = _file(tmp_path, "marked.md", marked)
    added = run(f"draft add '[red]Rules[/red]' --kind strategy --file {text} --as {MINISTRY}")
    assert ": [red]Rules[/red], version 1 " in added.stdout
    draft = added.stdout.split()[2].rstrip(":")
    shown = run(f"draft show {draft} --as {MINISTRY}").stdout
    assert "\n[blink]Scope[/blink]\n  1  These rules apply to every [bold]hospital[/bold]" in shown
    opened = run(
        f"consultation open {draft} --version 1 --closes {CLOSES} --public --as {MINISTRY} --json"
    )
    cid = as_json(opened)["id"]
    run(
        f"consultation comment {cid} --paragraph 2 --stance support "
        f"--text '[green]Yes[/green] [link=https://evil.test]here[/link]' --as {CERT}"
    )
    seen = run(f"consultation show {cid} --as {NGO}").stdout
    assert seen.startswith("[red]Rules[/red], version 1 ")
    assert "support: [green]Yes[/green] [link=https://evil.test]here[/link]\n" in seen


def test_an_unknown_consultation_or_draft_is_one_line_and_exit_1(run: Any) -> None:
    for line, said in (
        (f"consultation show no-such-id --as {NGO}", "no consultation no-such-id"),
        (f"consultation show no-such-id --as {NGO} --json", "no consultation no-such-id"),
        (f"consultation close no-such-id --as {MINISTRY}", "no consultation no-such-id"),
        (f"draft show no-such-id --as {MINISTRY}", "no draft no-such-id"),
    ):
        result = run(line, code=1)
        assert result.stdout == "", line
        assert result.stderr == f"error: {said}\n", line


def test_an_outsider_asks_to_take_part_is_objected_to_and_admitted_by_name(
    run: Any, tmp_path: Path
) -> None:
    draft, cid = _open(run, tmp_path)
    asked = run(f"consultation ask {cid} --reason 'We handle the incidents.' --as {CERT}")
    assert asked.stdout == f"asked to take part in {cid}: pending\n"
    waiting = run(f"consultation show {cid} --as {CERT}").stdout
    assert "your organization asked to take part" in waiting
    assert "These rules apply" not in waiting  # an applicant sees its request only
    assert "KE National CERT (cert), pending: We handle the incidents.\n" in waiting
    objected = run(
        f"consultation object {cid} 'KE  National CERT' --reason 'Not a health body.' --as {NGO}"
    )
    assert objected.stdout == "KE National CERT: pending\n"
    nobody = run(f"consultation decide {cid} Nobody --admit --as {MINISTRY}", code=1)
    assert nobody.stderr == "error: no request to take part from 'Nobody' in this consultation\n"
    not_drafter = run(f"consultation decide {cid} 'KE National CERT' --admit --as {NGO}", code=1)
    assert "only the drafting organization" in not_drafter.stderr
    admitted = run(f"consultation decide {cid} 'KE National CERT' --admit --as {MINISTRY} --json")
    assert as_json(admitted) == {
        "consultation": cid,
        "organization": "KE National CERT",
        "state": "admitted",
    }
    seen = run(f"consultation show {cid} --as {CERT}").stdout
    assert "objection from Patients First: Not a health body.\n" in seen
    assert "These rules apply" in seen
    assert [d["id"] for d in as_json(run(f"draft list --as {CERT} --json"))["drafts"]] == [draft]


def test_hide_needs_a_reason_or_show_and_showing_again_restores_the_text(
    run: Any, tmp_path: Path
) -> None:
    _draft, cid = _open(run, tmp_path)
    made = as_json(
        run(
            f"consultation comment {cid} --paragraph 1 --stance object --text 'Off topic.' "
            f"--as {COMPANY} --json"
        )
    )["id"]
    run(f"consultation hide {cid} {made} --as {MINISTRY}", code=2)
    run(f"consultation hide {cid} {made} --reason spam --show --as {MINISTRY}", code=2)
    run(f"consultation hide {cid} {made} --reason spam --as {MINISTRY}")
    assert "Off topic." not in run(f"consultation show {cid} --as {NGO}").stdout
    shown = run(f"consultation hide {cid} {made} --show --as {MINISTRY} --json")
    assert as_json(shown) == {"consultation": cid, "comment": made, "hidden": False}
    assert "Off topic." in run(f"consultation show {cid} --as {NGO}").stdout


def test_bad_options_name_the_option_and_change_nothing(run: Any, tmp_path: Path) -> None:
    draft, _cid = _open(run, tmp_path)
    for line, said in (
        ("--closes tomorrow --kind private", "--closes: 'tomorrow' is not a date and time"),
        (f"--closes {CLOSES} --kind nobody", "--kind: unknown stakeholder kind 'nobody'"),
        (f"--closes {CLOSES}", "choose who may comment: --kind, --bubble or --public"),
        (f"--closes {CLOSES} --bubble Nowhere", "no bubble named 'Nowhere'"),
    ):
        result = run(f"consultation open {draft} --version 1 {line} --as {MINISTRY}", code=1)
        assert result.stderr.startswith(f"error: {said}"), result.stderr
    text = _file(tmp_path, "v2.md", REVISED)
    bad = run(f"draft version {draft} --file {text} --answers 1,x --as {MINISTRY}", code=1)
    assert bad.stderr == "error: --answers: 'x' is not a comment number\n"
    assert len(as_json(run(f"draft list --as {MINISTRY} --json"))["drafts"]) == 1
    assert len(as_json(run(f"consultation list --as {MINISTRY} --json"))["consultations"]) == 1


def test_questions_from_a_file_are_shown_and_a_bad_file_names_the_place(
    run: Any, tmp_path: Path
) -> None:
    draft, _cid = _open(run, tmp_path)
    asked = '[{"text": "Are you a patient?", "choices": ["yes", "no"]}, {"text": "Why?"}]'
    good = _file(tmp_path, "questions.json", asked)
    opened = run(
        f"consultation open {draft} --version 1 --closes {CLOSES} --public "
        f"--questions {good} --as {MINISTRY} --json"
    )
    seen = run(f"consultation show {as_json(opened)['id']} --as {NGO}").stdout
    assert "\n  1. Are you a patient? (yes, no)\n     0 answered\n  2. Why?\n" in seen
    bad = _file(tmp_path, "bad.json", '{"questions": [{"text": "Yes?", "choices": ["yes"]}]}')
    refused = run(
        f"consultation open {draft} --version 1 --closes {CLOSES} --public "
        f"--questions {bad} --as {MINISTRY}",
        code=1,
    )
    assert refused.stderr == (
        f"error: {bad}: questions[0].choices: give two choices or more, or none\n"
    )
    assert len(as_json(run(f"consultation list --as {MINISTRY} --json"))["consultations"]) == 2
