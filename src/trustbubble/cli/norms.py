"""Commands for the UN GGE norms: the catalogue, national implementation reports, scorecards.

Thin over `services/norms.py` (docs/norms.md): tables for people, `--json` and `--csv` for scripts.
"""

from __future__ import annotations

import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich import box
from rich.table import Table
from rich.text import Text

from trustbubble.cli.common import AsUser, JsonOption, database, errors, fail, out, report
from trustbubble.domain.errors import Invalid, NotFound
from trustbubble.domain.norms import (
    Entry,
    catalogue,
    entries_csv,
    read_csv,
    read_json,
    read_letter,
)

if TYPE_CHECKING:
    from trustbubble.domain.accounts import User
    from trustbubble.services.norms import Grid, ReportView
    from trustbubble.store.database import Database

norms_app = typer.Typer(
    help="The UN GGE norms, national implementation reports and scorecards.",
    no_args_is_help=True,
)
report_app = typer.Typer(
    help="National implementation reports: write, submit, read, export.", no_args_is_help=True
)
norms_app.add_typer(report_app, name="report")

ReaderOption = Annotated[
    str | None,
    typer.Option(
        "--as", help="E-mail of the user who reads; without it, read as an anonymous visitor."
    ),
]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV, for spreadsheets.")]
FromOption = Annotated[
    Path,
    typer.Option(
        "--from",
        exists=True,
        dir_okay=False,
        help="Entries as JSON (.json: a report document or its entries) or long CSV (.csv).",
    ),
]


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


# -- shared helpers ---------------------------------------------------------------------------


def _write(text: str) -> None:
    """Machine output, undecorated, on stdout."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _reader(db: Database, email: str | None) -> User | None:
    from trustbubble.services import accounts

    return accounts.user_by_email(db, email) if email else None


def read_entries_file(path: Path) -> tuple[Entry, ...]:
    """A report's entries from a file, chosen by its extension; an error names the file and
    the place in it."""
    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise Invalid(where, "name a .json file (a report or its entries) or a .csv file")
    try:
        content = path.read_text(encoding="utf-8-sig")  # spreadsheets often write a BOM
    except UnicodeDecodeError:
        raise Invalid(where, "is not UTF-8 text") from None
    except OSError as error:
        raise Invalid(where, f"cannot be read ({error.strerror})") from None
    try:
        return read_csv(content) if suffix == ".csv" else read_json(content, "")
    except Invalid as error:
        raise Invalid(f"{where}: {error.field}" if error.field else where, error.reason) from None


def _bubble_id(db: Database, value: str) -> str:
    """A bubble named by name, or by id."""
    from trustbubble.services import bubbles

    try:
        return bubbles.bubble_by_name(db, value).id
    except NotFound:
        try:
            # The service refuses an id the user may not know as it does any other.
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
        raise


def _count(entries: tuple[Entry, ...]) -> str:
    return f"{len(entries)} norm" + ("" if len(entries) == 1 else "s")


# -- the catalogue ----------------------------------------------------------------------------


@norms_app.command("list")
def norms_list(as_json: JsonOption = False) -> None:
    """List the 11 norms with the number of guidance items of each."""
    from trustbubble.services import norms

    book = catalogue()
    data = norms.catalogue_json()

    def text() -> None:
        table = Table(
            title=f"UN GGE norms (catalogue {book.version}, {book.published})", box=box.SIMPLE
        )
        table.add_column("Norm")
        table.add_column("Name")
        table.add_column("Guidance", justify="right")
        for norm in book.norms:
            table.add_row(norm.letter, Text(norm.name), str(len(norm.guidance)))
        out.print(table)

    report(as_json, data, text)


@norms_app.command("show")
def norms_show(
    letter: Annotated[str, typer.Argument(help="The norm's letter, a to k.")],
    as_json: JsonOption = False,
) -> None:
    """Show a norm: its paraphrase, source, and the 2021 guidance with ids and sources."""
    from trustbubble.services import norms

    book = catalogue()
    with errors():
        norm = book.norm(read_letter(letter, "letter"))
    sources = book.sources_of(norm)

    def text() -> None:
        out.print(Text(norm.label, style="bold"))
        out.print(Text(norm.paraphrase))
        out.print(Text(f"Source: {norm.source}"))
        table = Table(title="Guidance (expected measures)", box=box.SIMPLE)
        table.add_column("Id", no_wrap=True)
        table.add_column("Measure")
        table.add_column("Source")
        for item in norm.guidance:
            table.add_row(item.id, Text(item.measure), Text(item.source))
        out.print(table)
        for source in sources:
            out.print(Text(f"{source.id}: {source.title} <{source.url}>"))

    data = {
        **norms.norm_json(norm),
        "catalogue_version": book.version,
        "sources": [{"id": s.id, "title": s.title, "url": s.url} for s in sources],
    }
    report(as_json, data, text)


# -- reports ----------------------------------------------------------------------------------


def _print_report(view: ReportView) -> None:
    r = view.report
    names = {n.letter: n.name for n in catalogue().norms}
    out.print(
        Text(f"{r.country} {r.year}, revision {r.revision} ({r.state.value})", style="bold"),
        Text(f"  {r.id}"),
    )
    out.print(Text(f"kept by {view.keeper}; catalogue {r.catalogue_version}"))
    if r.submitted is not None:
        tlp = f", TLP:{r.tlp.label}" if r.tlp is not None else ""
        out.print(Text(f"submitted {r.submitted:%Y-%m-%d %H:%M} UTC, {r.visibility.value}{tlp}"))
    if view.shared_in:
        places = ", ".join(f"{name} (TLP:{tlp})" for name, tlp in view.shared_in)
        out.print(Text(f"shared in {places}"))
    if len(view.revisions) > 1:
        seen = ", ".join(f"{x.revision} {x.state.value} ({x.id})" for x in view.revisions)
        out.print(Text(f"revisions: {seen}"))
    if not r.entries:
        out.print("no norm addressed yet")
        return
    # One line per fact, as in the long CSV form, under each norm's name.
    table = Table(box=box.SIMPLE, pad_edge=False)
    table.add_column("Norm", no_wrap=True)
    table.add_column("Level", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Text", overflow="fold")
    for e in r.entries:
        table.add_row(e.letter, e.level.value, "", Text(names[e.letter], style="bold"))
        for m in e.measures:
            guidance = f" [{' '.join(m.guidance)}]" if m.guidance else ""
            table.add_row("", "", "measure", Text(m.text + guidance))
        if e.challenges:
            table.add_row("", "", "challenge", Text(e.challenges))
        for gap in e.gaps:
            table.add_row("", "", "gap", Text(gap))
        for v in e.evidence:
            table.add_row("", "", "evidence", Text(f"{v.title} <{v.url}>"))
        table.add_section()
    out.print(table)


@report_app.command("start")
def report_start(
    as_user: AsUser,
    year: Annotated[int, typer.Option(help="The year the report covers.")],
    copy_previous: Annotated[
        bool,
        typer.Option(
            "--copy-previous", help="Start from the content of the latest earlier year's report."
        ),
    ] = False,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            exists=True,
            dir_okay=False,
            help="Entries to start with: .json (a report or its entries) or long .csv.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start the report of the user's state for a year: revision 1, a draft."""
    from trustbubble.services import accounts, norms

    if copy_previous and source is not None:
        raise typer.BadParameter("give --copy-previous or --from, not both", param_hint="--from")
    with errors():
        entries = read_entries_file(source) if source is not None else ()
        chosen = norms.read_year(year)
    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        made = norms.start(db, user, chosen, entries, copy_previous)
    data = {"id": made.id, "revision": made.revision, "state": made.state.value}
    report(
        as_json,
        data,
        lambda: out.print(
            Text(
                f"started {made.id}: {made.country} {made.year}, revision {made.revision}, "
                f"a draft addressing {_count(made.entries)}"
            )
        ),
    )


@report_app.command("edit")
def report_edit(
    report_id: str, as_user: AsUser, source: FromOption, as_json: JsonOption = False
) -> None:
    """Replace a draft's entries with those of a file."""
    from trustbubble.services import accounts, norms

    with errors():
        entries = read_entries_file(source)
    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        norms.edit(db, user, report_id, entries)
        found = norms.view(db, user, report_id)
    r = found.report
    report(
        as_json,
        norms.document(found),
        lambda: out.print(
            Text(
                f"updated {r.id}: {r.country} {r.year}, revision {r.revision}, "
                f"now addressing {_count(r.entries)}"
            )
        ),
    )


@report_app.command("submit")
def report_submit(
    report_id: str,
    as_user: AsUser,
    visibility: Annotated[
        str,
        typer.Option(
            help="private (your organization), bubbles (those named with --bubble) or public."
        ),
    ],
    bubble: Annotated[
        list[str] | None,
        typer.Option(help="A bubble to submit to, by name or id; repeat for several."),
    ] = None,
    tlp: Annotated[
        str | None, typer.Option(help="TLP in the bubbles; each bubble's default if not given.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a draft: it is frozen, and shared as STIX where its visibility says."""
    from trustbubble.services import accounts, norms

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        ids = [_bubble_id(db, b) for b in bubble or []]
        publication = norms.read_publication(
            {"visibility": visibility, "bubbles": ids, "tlp": tlp or ""}
        )
        norms.submit(db, user, report_id, publication)
        found = norms.view(db, user, report_id)

    def text() -> None:
        r = found.report
        where = ", ".join(f"{name} as TLP:{level}" for name, level in found.shared_in)
        out.print(
            Text(
                f"submitted {r.id}: {r.country} {r.year}, revision {r.revision}, "
                f"{r.visibility.value}" + (f", shared in {where}" if where else "")
            )
        )

    report(as_json, norms.document(found), text)


@report_app.command("revise")
def report_revise(report_id: str, as_user: AsUser, as_json: JsonOption = False) -> None:
    """Start a new revision (a draft copied from the latest) of a submitted report."""
    from trustbubble.services import accounts, norms

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        made = norms.revise(db, user, report_id)
    data = {"id": made.id, "revision": made.revision, "state": made.state.value}
    report(
        as_json,
        data,
        lambda: out.print(
            Text(f"started {made.id}: {made.country} {made.year}, revision {made.revision}")
        ),
    )


@report_app.command("discard")
def report_discard(report_id: str, as_user: AsUser) -> None:
    """Throw a draft away; submitted revisions are kept."""
    from trustbubble.services import accounts, norms

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        norms.discard(db, user, report_id)
    out.print(Text(f"discarded {report_id}"))


@report_app.command("list")
def report_list(as_user: ReaderOption = None, as_json: JsonOption = False) -> None:
    """List the report revisions the user may read (without --as: the public ones)."""
    from trustbubble.services import norms

    with database() as db, errors():
        found = norms.listing(db, _reader(db, as_user))

    def text() -> None:
        if not found:
            out.print("no report")
            return
        # Narrow enough for 80 columns: a submitted revision's state is its visibility (the
        # date and the number of norms are in --json and `report show`).
        table = Table(box=box.SIMPLE, pad_edge=False)
        table.add_column("Id", no_wrap=True)
        table.add_column("Report", no_wrap=True)
        table.add_column("State", no_wrap=True)
        table.add_column("Keeper")
        for r in found:
            table.add_row(
                r["id"],
                f"{r['country']} {r['year']} r{r['revision']}",
                r["visibility"] if r["state"] == "submitted" else r["state"],
                Text(r["keeper"]),
            )
        out.print(table)

    report(as_json, {"reports": found}, text)


@report_app.command("show")
def report_show(report_id: str, as_user: ReaderOption = None, as_json: JsonOption = False) -> None:
    """Show one revision, if the user (or, without --as, anyone) may read it."""
    from trustbubble.services import norms

    with database() as db, errors():
        found = norms.view(db, _reader(db, as_user), report_id)
    report(as_json, norms.document(found), lambda: _print_report(found))


@report_app.command("export")
def report_export(
    report_id: str,
    as_user: ReaderOption = None,
    form: Annotated[
        ExportFormat,
        typer.Option(
            "--format", help="json (the report, which `report edit --from` reads) or csv (long)."
        ),
    ] = ExportFormat.JSON,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")
    ] = None,
) -> None:
    """Write one revision as JSON or as long CSV, to import elsewhere or into another year."""
    from trustbubble.services import norms

    with database() as db, errors():
        found = norms.view(db, _reader(db, as_user), report_id)
    if form is ExportFormat.CSV:
        content = entries_csv(found.report.entries)
    else:
        document = norms.document(found)
        content = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    if output is None:
        _write(content)
        return
    try:
        output.write_text(content, encoding="utf-8")
    except OSError as error:
        fail(f"{output}: cannot be written ({error.strerror})")


# -- scorecards -------------------------------------------------------------------------------


def _grid_table(grid: Grid, trend: bool) -> Table:
    title = f"{grid.title}: levels by year" if trend else grid.title
    table = Table(title=Text(title), box=box.SIMPLE)
    table.add_column("Norm")
    for column in grid.columns:
        table.add_column(column, no_wrap=True)
    if trend:
        table.add_column("Change", justify="right")
    for row in grid.rows:
        cells = [level.value if level else "-" for level in row.levels]
        change = [] if not trend else ["" if row.change is None else f"{row.change:+d}"]
        table.add_row(Text(f"({row.letter}) {row.name}"), *cells, *change)
    return table


def _print_grid(grid: Grid, as_json: bool, as_csv: bool, trend: bool) -> None:
    from trustbubble.services import norms

    if as_csv:
        _write(grid.as_csv())
    else:
        report(as_json, norms.grid_json(grid), lambda: out.print(_grid_table(grid, trend)))


@norms_app.command("scorecard")
def norms_scorecard(
    country: Annotated[str, typer.Argument(help="ISO 3166 alpha-2 code, such as KE.")],
    as_user: ReaderOption = None,
    as_csv: CsvOption = False,
    as_json: JsonOption = False,
) -> None:
    """A state's level per norm, year by year, and the change from the year before."""
    from trustbubble.services import norms

    with database() as db, errors():
        grid = norms.scorecard(db, _reader(db, as_user), country)
    _print_grid(grid, as_json, as_csv, trend=True)


@norms_app.command("compare")
def norms_compare(
    countries: Annotated[
        list[str], typer.Argument(help="Two to five ISO 3166 alpha-2 codes, such as KE FR.")
    ],
    year: Annotated[
        int | None, typer.Option(help="The year to compare; default each state's latest.")
    ] = None,
    as_user: ReaderOption = None,
    as_csv: CsvOption = False,
    as_json: JsonOption = False,
) -> None:
    """Two to five states side by side, norm by norm."""
    from trustbubble.services import norms

    with database() as db, errors():
        chosen = norms.read_year(year) if year is not None else None
        grid = norms.compare(db, _reader(db, as_user), countries, chosen)
    _print_grid(grid, as_json, as_csv, trend=False)


@norms_app.command("bubble")
def norms_bubble(
    bubble: Annotated[str, typer.Argument(help="The bubble's name.")],
    as_user: AsUser,
    as_csv: CsvOption = False,
    as_json: JsonOption = False,
) -> None:
    """Which member states implement which norms, and the capacity gaps they name most."""
    from trustbubble.services import accounts, bubbles, norms

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = norms.bubble_norms(db, user, bubbles.bubble_by_name(db, bubble).id)
    if as_csv:
        _write(found.grid.as_csv())
        return
    data = norms.bubble_json(found)

    def text() -> None:
        if found.grid.columns:
            out.print(_grid_table(found.grid, trend=False))
        else:
            out.print(Text(f"{found.bubble_name}: no member state's report that you may read"))
        implementing = [
            f"({letter}) {', '.join(countries)}"
            for letter, countries in found.implementing.items()
            if countries
        ]
        if implementing:
            out.print(Text("implemented or leading: " + "; ".join(implementing)))
        if found.gaps:
            table = Table(title="Capacity gaps named most", box=box.SIMPLE)
            table.add_column("Gap")
            table.add_column("Named", justify="right")
            table.add_column("Norms")
            table.add_column("States")
            for gap in found.gaps:
                table.add_row(
                    Text(gap.text),
                    str(gap.count),
                    " ".join(gap.letters),
                    " ".join(gap.countries),
                )
            out.print(table)
        if found.without_report:
            missing = ", ".join(found.without_report)
            out.print(Text(f"no report you may read from: {missing}"))

    report(as_json, data, text)
