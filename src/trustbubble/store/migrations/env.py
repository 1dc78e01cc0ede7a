"""Alembic environment: the engine comes from the caller (see trustbubble.store.migrate)."""

from __future__ import annotations

from alembic import context

from trustbubble.store.tables import metadata

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"

with engine.connect() as connection:
    raw = connection.connection.driver_connection
    if sqlite:
        # Batch migrations rebuild a table (copy, drop, rename); with foreign keys enforced the
        # drop fails once other tables reference its rows. Off for the migration only, outside
        # any transaction (SQLite ignores the pragma inside one), checked before it goes back on.
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows without their parent: {broken[:5]}")
    finally:
        if sqlite:
            raw.execute("PRAGMA foreign_keys=ON")
