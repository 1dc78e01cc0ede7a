"""Commands that keep a node safe over time: backup and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trustbubble.cli.common import JsonOption, database, err, errors, fail, out, report
from trustbubble.settings import Settings


def _tables(counts: dict[str, int]) -> str:
    shown = (
        ("organizations", "organizations"),
        ("users", "users"),
        ("bubbles", "bubbles"),
        ("objects", "object versions"),
        ("audit_log", "audit entries"),
    )
    return ", ".join(f"{counts.get(name, 0):,} {label}" for name, label in shown)


def backup(
    file: Annotated[
        Path, typer.Argument(help="The backup file to write (a .tar.gz); never replaced.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Back up the running node: its database (a consistent copy) and its key, in one file."""
    from trustbubble.services import backup as service
    from trustbubble.services.node_key import NodeKeyError

    with database() as db, errors():
        try:
            made = service.backup(db, Settings(), file, progress=lambda text: err.print(text))
        except NodeKeyError as error:
            fail(str(error))
    manifest = made.manifest
    data: dict[str, Any] = {"file": str(made.path), "size": made.size, **manifest.to_json()}

    def text() -> None:
        out.print(
            f"{made.path}: {made.size / 1_000_000:.1f} MB, {manifest.database} at revision "
            f"{manifest.revision}, node {manifest.node or '(no key)'}",
            highlight=False,
        )
        out.print(f"  {_tables(manifest.tables)}", highlight=False)

    report(as_json, data, text)


def restore(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="A file written by `trustbubble backup`."),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a database that holds data, and a different node key."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup into the configured database and key file (stop the server first)."""
    from trustbubble.services import backup as service

    with database() as db, errors():
        done = service.restore(
            db, Settings(), file, force=force, progress=lambda text: err.print(text)
        )
    manifest = done.manifest
    data: dict[str, Any] = {
        "file": str(file),
        "backup": manifest.to_json(),
        "revision": done.revision,
        "migrated": done.migrated,
        "node": done.node,
        "key": done.key,
        "tables": done.tables,
        "warnings": done.warnings,
    }

    def text() -> None:
        migrated = (
            f", migrated from {manifest.revision} to {done.revision}"
            if done.migrated
            else f" at revision {done.revision}"
        )
        out.print(
            f"restored the {manifest.database} backup of {manifest.to_json()['created']}"
            f"{migrated}; node {done.node or '(no key)'}, key {done.key}",
            highlight=False,
        )
        out.print(f"  {_tables(done.tables)}", highlight=False)
        for warning in done.warnings:
            err.print(f"[yellow]warning:[/] {warning}", highlight=False)

    report(as_json, data, text)
