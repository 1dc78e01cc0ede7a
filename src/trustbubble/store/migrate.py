"""Running the Alembic migrations from code, so the CLI and tests need no alembic.ini."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from trustbubble.domain.errors import Conflict

if TYPE_CHECKING:
    from trustbubble.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaTooNew(Conflict):
    """The database was migrated by a newer trustbubble: this one does not know its schema."""

    def __init__(self, what: str, revision: str) -> None:
        super().__init__(
            f"{what} is at revision {revision}, newer than this trustbubble ({head()}): "
            "upgrade the package"
        )
        self.revision = revision


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = database.engine
    return config


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head() -> str:
    """The newest revision this package knows."""
    revision = _scripts().get_current_head()
    assert revision is not None
    return revision


def known(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def current(conn: Connection) -> str | None:
    """The revision the database is at; None before its first migration."""
    return MigrationContext.configure(conn).get_current_revision()


def refuse_newer(revision: str | None, what: str = "this database") -> None:
    if revision is not None and not known(revision):
        raise SchemaTooNew(what, revision)


def upgrade(database: Database, revision: str = "head") -> None:
    # Checked first: Alembic's own refusal ("Can't locate revision") does not say what to do.
    with database.engine.connect() as conn:
        refuse_newer(current(conn))
    command.upgrade(alembic_config(database), revision)


def downgrade(database: Database, revision: str) -> None:
    command.downgrade(alembic_config(database), revision)
