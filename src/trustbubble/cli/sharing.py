"""Commands that move STIX content in and out of bubbles: import and export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from trustbubble.cli.common import REFUSED, JsonOption, database, err, errors, operator, out, report


def import_bundle(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A STIX 2.1 bundle.")],
    bubble: Annotated[str, typer.Option(help="Name of the bubble to share into.")],
    as_user: Annotated[str, typer.Option("--as", help="E-mail of the user who shares.")],
    as_json: JsonOption = False,
) -> None:
    """Import a STIX bundle into a bubble, as a user; reports what was refused and why."""
    from trustbubble.services import exchange

    with database() as db, errors():
        objects = exchange.read_bundle(file.read_bytes(), str(file))
        with Progress(console=err, disable=as_json, transient=True) as progress:
            task = progress.add_task(f"importing {file.name}", total=len(objects))
            summary = exchange.import_objects(
                db,
                bubble,
                as_user,
                objects,
                lambda n: progress.advance(task, n),
                actor=operator(as_user),
            )

    def text() -> None:
        refused = len(summary.failures)
        out.print(f"{summary.stored} stored, {summary.duplicates} already there, {refused} refused")
        for failure in summary.failures:
            out.print(f"  refused {failure}", highlight=False)

    report(as_json, summary.to_json(), text)
    if summary.failures:
        raise typer.Exit(REFUSED)


def export_bundle(
    bubble: Annotated[str, typer.Option(help="Name of the bubble.")],
    as_user: Annotated[str, typer.Option("--as", help="E-mail of the reader.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")
    ] = None,
) -> None:
    """Export, as a STIX bundle, every version in a bubble that the user may read."""
    from trustbubble.services import exchange

    with database() as db, errors():
        data = exchange.export_bundle(db, bubble, as_user, actor=operator(as_user))
    if output is None:
        sys.stdout.buffer.write(data + b"\n")
    else:
        output.write_bytes(data)
