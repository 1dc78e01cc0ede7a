"""What every command shares: consoles, the store, errors as one line, --json output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

from trustbubble.domain.errors import DomainError
from trustbubble.settings import Settings
from trustbubble.store.database import Database

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

REFUSED = 3  # exit code of an import that stored what it could and refused the rest

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object, for scripts.")]


@contextmanager
def database() -> Iterator[Database]:
    """The node's store, from the settings; bad settings end the command with one line."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"TRUSTBUBBLE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        fail(f"bad setting: {problems}")
    try:
        db = Database(settings.database_url)
    except (ValueError, ArgumentError, NoSuchModuleError) as error:
        fail(f"TRUSTBUBBLE_DATABASE_URL: {error}")
    try:
        yield db
    finally:
        db.dispose()


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Domain and store errors become one line on stderr and a non-zero exit."""
    try:
        yield
    except DomainError as error:
        fail(error.message)
    except (OperationalError, ProgrammingError) as error:
        if "no such table" in str(error) or "does not exist" in str(error):
            fail("the database is not set up: run `trustbubble db upgrade` first")
        fail(f"the database refused: {error.orig}")


def operator(email: str) -> str:
    """How the audit log names an operator acting on a user's behalf from the CLI."""
    return f"operator as {email}"


def report(as_json: bool, data: dict[str, Any], text: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
    else:
        text()


AsUser = Annotated[str, typer.Option("--as", help="E-mail of the user who acts.")]
