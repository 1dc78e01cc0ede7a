"""Alembic environment: the engine comes from the caller (see trustbubble.store.migrate)."""

from __future__ import annotations

from alembic import context

from trustbubble.store.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
