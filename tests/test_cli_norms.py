"""`trustbubble norms` as an operator uses it, on every store under test: the catalogue, a report
from a CSV file through submission to a bubble, export and import into a new year, scorecards,
and bad input refused with its place, changing nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from trustbubble.cli import app, common
from trustbubble.domain.norms import NORM_LETTERS, catalogue
from trustbubble.store.database import Database

KE = "a@ke.test"  # Ministry of ICT, KE government: owns the bubble
FR = "a@fr.test"  # Foreign Ministry, FR government: member
BR = "a@br.test"  # Cyber Office, BR government: in no bubble
CERT = "a@cert.test"  # KE-CERT, a CERT: member, not a government

REPORT_CSV = """\
norm,kind,text,reference
g,level,implemented,
g,measure,Hospitals designated critical infrastructure,g.1
g,challenge,Rural hospitals have no security staff,
g,gap,Incident response training for hospitals,
g,evidence,Decree 12/2025,https://example.gov/decree-12
h,level,in-progress,
h,gap,Incident response training for HOSPITALS,
"""


@pytest.fixture
def run(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI on the test's migrated store, with a terminal wide enough for one line a row."""
    monkeypatch.setenv("TRUSTBUBBLE_DATABASE_URL", db.url)
    monkeypatch.setenv("COLUMNS", "120")
    # A console made where COLUMNS was already set (as under pytest-xdist) keeps its width.
    monkeypatch.setattr(common.out, "width", 120)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output + result.stderr
        return result

    return invoke


@pytest.fixture
def world(run: Any) -> Any:
    for org, kind, country, email in (
        ("Ministry of ICT", "government", "KE", KE),
        ("Foreign Ministry", "government", "FR", FR),
        ("Cyber Office", "government", "BR", BR),
        ("KE-CERT", "cert", "KE", CERT),
    ):
        run("org", "add", org, "--kind", kind, "--country", country)
        run("user", "add", email, "--org", org)
    run(
        "bubble",
        "add",
        "Health partnership",
        "--owner",
        "Ministry of ICT",
        "--member",
        "Foreign Ministry",
        "--member",
        "KE-CERT",
    )
    return run


def as_json(result: Any) -> Any:
    return orjson.loads(result.stdout)


def has_row(output: str, *cells: str) -> bool:
    """A line of a table holding these cells in this order, apart from spacing."""
    pattern = r"^\s*" + r"\s+".join(re.escape(cell) for cell in cells) + r"\s*$"
    return re.search(pattern, output, re.MULTILINE) is not None


def test_the_catalogue_lists_the_eleven_norms_and_shows_one(run: Any) -> None:
    listed = run("norms", "list").stdout
    for norm in catalogue().norms:
        assert has_row(listed, norm.letter, norm.name, str(len(norm.guidance))), norm.letter
    body = as_json(run("norms", "list", "--json"))
    assert [n["letter"] for n in body["norms"]] == list(NORM_LETTERS)
    assert body["version"] == catalogue().version
    assert {"A/70/174", "A/76/135"} <= {s["id"] for s in body["sources"]}
    assert body["norms"][6]["guidance"][0]["id"] == "g.1"

    shown = run("norms", "show", "G").stdout
    g = catalogue().norm("g")
    assert shown.startswith("(g) Protect critical infrastructure\n")
    assert g.paraphrase in shown
    assert "Source: A/70/174, para. 13(g)" in shown
    for item in g.guidance:
        assert re.search(rf"^\s*{re.escape(item.id)}\s+\S", shown, re.MULTILINE), item.id
    assert "A/76/135, norm 13(g) guidance" in shown
    assert "A/76/135: Report of the Group of Governmental Experts" in shown
    one = as_json(run("norms", "show", "g", "--json"))
    assert [i["id"] for i in one["guidance"]] == [i.id for i in g.guidance]

    bad = run("norms", "show", "z", code=1)
    assert bad.stdout == ""
    assert "error: letter: 'z' is not a UN GGE norm letter (a to k)" in bad.stderr


def test_a_report_from_csv_is_submitted_to_a_bubble_exported_and_imported_into_a_new_year(
    world: Any, tmp_path: Path
) -> None:
    run = world
    source = tmp_path / "ke-2026.csv"
    source.write_text(REPORT_CSV, encoding="utf-8")
    started = run("norms", "report", "start", "--as", KE, "--year", "2026", "--from", str(source))
    found = re.search(r"^started (\S+): KE 2026, revision 1, ", started.stdout)
    assert found is not None, started.stdout
    report_id = found.group(1)
    assert "a draft addressing 2 norms" in started.stdout

    # The keeper sees the draft, fact by fact; nobody else knows it exists.
    shown = run("norms", "report", "show", report_id, "--as", KE).stdout
    assert f"KE 2026, revision 1 (draft)   {report_id}" in shown
    assert "kept by Ministry of ICT" in shown
    assert has_row(shown, "g", "implemented", "Protect critical infrastructure")
    assert has_row(shown, "measure", "Hospitals designated critical infrastructure [g.1]")
    assert has_row(shown, "challenge", "Rural hospitals have no security staff")
    assert has_row(shown, "evidence", "Decree 12/2025 <https://example.gov/decree-12>")
    assert has_row(shown, "h", "in-progress", "Answer requests for assistance")
    for reader in (("--as", FR), ()):
        hidden = run("norms", "report", "show", report_id, *reader, code=1)
        assert f"error: no report {report_id}" in hidden.stderr

    submitted = run(
        "norms",
        "report",
        "submit",
        report_id,
        "--as",
        KE,
        "--visibility",
        "bubbles",
        "--bubble",
        "Health partnership",
    )
    assert submitted.stdout == (
        f"submitted {report_id}: KE 2026, revision 1, bubbles, "
        "shared in Health partnership as TLP:AMBER\n"
    )

    # A partner in the bubble lists and reads it; an outsider and an anonymous reader do not.
    listed = run("norms", "report", "list", "--as", FR).stdout
    assert has_row(listed, report_id, "KE 2026 r1", "bubbles", "Ministry of ICT")
    rows = as_json(run("norms", "report", "list", "--as", FR, "--json"))["reports"]
    assert [(r["id"], r["state"], r["norms"]) for r in rows] == [(report_id, "submitted", 2)]
    seen = as_json(run("norms", "report", "show", report_id, "--as", FR, "--json"))
    assert seen["entries"]["g"]["measures"] == [
        {"text": "Hospitals designated critical infrastructure", "guidance": ["g.1"]}
    ]
    assert seen["shared_in"] == [{"collection": "Health partnership", "tlp": "AMBER"}]
    for reader in (("--as", BR), ()):
        assert run("norms", "report", "list", *reader).stdout == "no report\n"
        assert as_json(run("norms", "report", "list", *reader, "--json")) == {"reports": []}
        run("norms", "report", "show", report_id, *reader, code=1)

    # The CSV export is the file it came from; the JSON export starts the next year.
    exported_csv = run("norms", "report", "export", report_id, "--as", FR, "--format", "csv")
    assert exported_csv.stdout == REPORT_CSV
    document = tmp_path / "ke-2026.json"
    run("norms", "report", "export", report_id, "--as", KE, "-o", str(document))
    assert orjson.loads(document.read_bytes())["entries"] == seen["entries"]
    made = as_json(
        run(
            "norms",
            "report",
            "start",
            "--as",
            KE,
            "--year",
            "2027",
            "--from",
            str(document),
            "--json",
        )
    )
    assert (made["revision"], made["state"]) == (1, "draft")
    draft = as_json(run("norms", "report", "show", made["id"], "--as", KE, "--json"))
    assert (draft["year"], draft["entries"]) == (2027, seen["entries"])

    # France reports to the bubble; the two states side by side, for those who may read both.
    fr = tmp_path / "fr.csv"
    fr.write_text("norm,kind,text,reference\ng,level,initial,\n", encoding="utf-8")
    fr_id = as_json(
        run("norms", "report", "start", "--as", FR, "--year", "2026", "--from", str(fr), "--json")
    )["id"]
    (bubble_id,) = [b["id"] for b in as_json(run("bubble", "list", "--json"))["bubbles"]]
    by_id = run(
        "norms",
        "report",
        "submit",
        fr_id,
        "--as",
        FR,
        "--visibility",
        "bubbles",
        "--bubble",
        bubble_id,  # a bubble by its id works as by its name
        "--tlp",
        "green",
    )
    assert "shared in Health partnership as TLP:GREEN" in by_id.stdout
    side = run("norms", "compare", "ke", "FR", "--as", KE).stdout
    assert has_row(side, "Norm", "KE 2026", "FR 2026")
    assert has_row(side, "(g) Protect critical infrastructure", "implemented", "initial")
    assert has_row(side, "(h) Answer requests for assistance", "in-progress", "-")
    as_csv = run("norms", "compare", "KE", "FR", "--year", "2026", "--as", FR, "--csv").stdout
    assert as_csv.splitlines()[0] == "norm,name,KE 2026,FR 2026,change"
    assert "g,Protect critical infrastructure,implemented,initial," in as_csv.splitlines()
    refused = run("norms", "compare", "KE", "FR", "--as", BR, code=1)
    assert "error: no submitted report of KE that you may read" in refused.stderr

    # The bubble: who implements what, and the gaps its members name most.
    bubble = run("norms", "bubble", "Health partnership", "--as", FR).stdout
    assert has_row(bubble, "Norm", "FR 2026", "KE 2026")
    assert has_row(bubble, "(g) Protect critical infrastructure", "initial", "implemented")
    assert "implemented or leading: (g) KE" in bubble
    assert has_row(bubble, "Incident response training for hospitals", "2", "g h", "KE")
    body = as_json(run("norms", "bubble", "Health partnership", "--as", FR, "--json"))
    assert [c["label"] for c in body["columns"]] == ["FR 2026", "KE 2026"]
    assert (body["implementing"]["g"], body["without_report"]) == (["KE"], [])
    assert body["gaps"][0] == {
        "text": "Incident response training for hospitals",
        "count": 2,
        "letters": ["g", "h"],
        "countries": ["KE"],
    }
    csv_lines = run("norms", "bubble", "Health partnership", "--as", FR, "--csv").stdout
    assert csv_lines.splitlines()[0] == "norm,name,FR 2026,KE 2026,change"
    outside = run("norms", "bubble", "Health partnership", "--as", BR, code=1)
    assert "error: no collection" in outside.stderr

    # The next year's draft, edited from a JSON file of entries, goes public.
    better = tmp_path / "better.json"
    better.write_text('{"g": {"level": "leading"}, "k": {"level": "initial"}}', encoding="utf-8")
    edited = run("norms", "report", "edit", made["id"], "--as", KE, "--from", str(better))
    assert "now addressing 2 norms" in edited.stdout
    public = as_json(
        run(
            "norms",
            "report",
            "submit",
            made["id"],
            "--as",
            KE,
            "--visibility",
            "public",
            "--json",
        )
    )
    assert (public["visibility"], public["tlp"]) == ("public", "CLEAR")
    anyone = run("norms", "report", "list").stdout
    assert has_row(anyone, made["id"], "KE 2027 r1", "public", "Ministry of ICT")
    assert report_id not in anyone

    # The scorecard shows the years the reader may read, with the change.
    card = run("norms", "scorecard", "ke", "--as", FR).stdout
    assert has_row(card, "Norm", "2026", "2027", "Change")
    assert has_row(card, "(g) Protect critical infrastructure", "implemented", "leading", "+1")
    assert has_row(card, "(k) Do not harm emergency response teams", "-", "initial")
    anonymous = run("norms", "scorecard", "KE", "--csv").stdout
    assert anonymous.splitlines()[0] == "norm,name,2027,change"
    assert "g,Protect critical infrastructure,leading," in anonymous.splitlines()
    card_json = as_json(run("norms", "scorecard", "KE", "--as", FR, "--json"))
    assert [c["label"] for c in card_json["columns"]] == ["2026", "2027"]
    assert card_json["rows"][6] == {
        "norm": "g",
        "name": "Protect critical infrastructure",
        "levels": ["implemented", "leading"],
        "change": 1,
    }
    latest = as_json(run("norms", "compare", "KE", "FR", "--as", FR, "--json"))
    assert [c["label"] for c in latest["columns"]] == ["KE 2027", "FR 2026"]
    assert latest["rows"][6]["levels"] == ["leading", "initial"]


def test_a_submitted_revision_changes_only_through_a_new_revision(
    world: Any, tmp_path: Path
) -> None:
    run = world
    source = tmp_path / "r.csv"
    source.write_text(REPORT_CSV, encoding="utf-8")
    first = as_json(
        run(
            "norms",
            "report",
            "start",
            "--as",
            KE,
            "--year",
            "2026",
            "--from",
            str(source),
            "--json",
        )
    )["id"]
    run("norms", "report", "submit", first, "--as", KE, "--visibility", "private")
    for args in (
        ("edit", first, "--as", KE, "--from", str(source)),
        ("start", "--as", KE, "--year", "2026"),
    ):
        refused = run("norms", "report", *args, code=1)
        assert "start a new revision" in refused.stderr
    discard = run("norms", "report", "discard", first, "--as", KE, code=1)
    assert "submitted revisions are kept" in discard.stderr

    second = as_json(run("norms", "report", "revise", first, "--as", KE, "--json"))
    assert (second["revision"], second["state"]) == (2, "draft")
    copied = as_json(run("norms", "report", "show", second["id"], "--as", KE, "--json"))
    assert sorted(copied["entries"]) == ["g", "h"]
    assert [r["revision"] for r in copied["revisions"]] == [1, 2]
    assert run("norms", "report", "discard", second["id"], "--as", KE).stdout == (
        f"discarded {second['id']}\n"
    )
    mine = as_json(run("norms", "report", "list", "--as", KE, "--json"))["reports"]
    assert [(r["revision"], r["state"], r["visibility"]) for r in mine] == [
        (1, "submitted", "private")
    ]
    # A private report is the keeper's own: a partner in a shared bubble does not see it.
    assert run("norms", "report", "list", "--as", FR).stdout == "no report\n"

    # The next year starts from this one when asked.
    copy = as_json(
        run("norms", "report", "start", "--as", KE, "--year", "2027", "--copy-previous", "--json")
    )
    shown = as_json(run("norms", "report", "show", copy["id"], "--as", KE, "--json"))
    assert sorted(shown["entries"]) == ["g", "h"]


def test_bad_input_is_refused_with_its_place_and_changes_nothing(
    world: Any, tmp_path: Path
) -> None:
    run = world
    source = tmp_path / "r.csv"
    source.write_text(REPORT_CSV, encoding="utf-8")
    report_id = as_json(
        run(
            "norms",
            "report",
            "start",
            "--as",
            KE,
            "--year",
            "2026",
            "--from",
            str(source),
            "--json",
        )
    )["id"]
    before = run("norms", "report", "show", report_id, "--as", KE, "--json").stdout
    listed = run("norms", "report", "list", "--as", KE, "--json").stdout

    def write(name: str, content: str) -> str:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        return str(path)

    header = "norm,kind,text,reference\n"
    for name, content, message in (
        ("broken.json", '{"g": {"level": "implemented"}', "broken.json: is not valid JSON ("),
        (
            "level.json",
            '{"entries": {"g": {"level": "excellent"}}}',
            "level.json: entries.g.level: unknown level 'excellent'",
        ),
        (
            "level.csv",
            header + "g,level,excellent,\n",
            "level.csv: entries.g.level: unknown level 'excellent'",
        ),
        (
            "letter.csv",
            header + "g,level,initial,\nz,level,initial,\n",
            "letter.csv: line 3: 'z' is not a UN GGE norm letter (a to k)",
        ),
        (
            "letter.json",
            '{"l": {"level": "initial"}}',
            "letter.json: entries.l: 'l' is not a UN GGE norm letter (a to k)",
        ),
        (
            "guidance.csv",
            header + "g,level,initial,\ng,measure,Something,h.1\n",
            "'h.1' is guidance of norm h, not of norm g",
        ),
        ("kind.csv", header + "g,mood,good,\n", "kind.csv: line 2: kind 'mood' is not one of"),
        ("header.csv", "letter,what\n", "header.csv: line 1: the header must be"),
        ("report.txt", "g,level,initial,\n", "report.txt: name a .json file"),
    ):
        path = write(name, content)
        refused = run("norms", "report", "edit", report_id, "--as", KE, "--from", path, code=1)
        assert refused.stdout == ""
        assert f"error: {tmp_path / name}" in refused.stderr, name
        assert message in refused.stderr, name
        again = run(
            "norms", "report", "start", "--as", KE, "--year", "2025", "--from", path, code=1
        )
        assert message in again.stderr, name

    both = run(
        "norms",
        "report",
        "start",
        "--as",
        KE,
        "--year",
        "2025",
        "--copy-previous",
        "--from",
        str(source),
        code=2,
    )
    assert "give --copy-previous or --from, not both" in both.stderr
    missing = run("norms", "report", "edit", report_id, "--as", KE, "--from", "nope.csv", code=2)
    assert "nope.csv" in missing.stderr
    assert "does not exist" in missing.stderr

    for args, message in (
        (("submit", report_id, "--as", KE, "--visibility", "bubbles"), "bubbles: name at least"),
        (("submit", report_id, "--as", KE, "--visibility", "secret"), "unknown visibility"),
        (
            ("submit", report_id, "--as", KE, "--visibility", "bubbles", "--bubble", "Nope"),
            "no bubble named 'Nope'",
        ),
        (
            (
                "submit",
                report_id,
                "--as",
                KE,
                "--visibility",
                "bubbles",
                "--bubble",
                "Health partnership",
                "--tlp",
                "red",
            ),
            "tlp: a report cannot be TLP:RED",
        ),
        (("submit", report_id, "--as", FR, "--visibility", "public"), f"no report {report_id}"),
        (("start", "--as", CERT, "--year", "2026"), "only a government organization"),
        (("start", "--as", KE, "--year", "1999"), "year: 1999 is outside 2015 to"),
        (("start", "--as", "nobody@x.test", "--year", "2025"), "no user with e-mail"),
    ):
        refused = run("norms", "report", *args, code=1)
        assert message in refused.stderr, args

    for reading, message in (
        (("scorecard", "KEN"), "country: 'KEN' is not an ISO 3166 alpha-2 code"),
        (("scorecard", "BR"), "no submitted report of BR that you may read"),
        (("compare", "KE"), "countries: compare two to five states; 1 given"),
        (("bubble", "Nope", "--as", KE), "no bubble named 'Nope'"),
    ):
        refused = run("norms", *reading, code=1)
        assert message in refused.stderr, reading

    assert run("norms", "report", "show", report_id, "--as", KE, "--json").stdout == before
    assert run("norms", "report", "list", "--as", KE, "--json").stdout == listed
