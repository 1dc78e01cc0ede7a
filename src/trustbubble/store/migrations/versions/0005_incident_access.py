"""incident facts carry the access columns of their version

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COPIED = ("collection_id", "stix_id", "tlp", "author_org_id", "is_latest")


def upgrade() -> None:
    with op.batch_alter_table("incident_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collection_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("stix_id", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("tlp", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("author_org_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("is_latest", sa.Boolean(), nullable=True))
    for column in _COPIED:
        source = "id" if column == "stix_id" else column
        op.execute(
            f"UPDATE incident_facts SET {column} = (SELECT objects.{source} FROM objects "  # noqa: S608 (our names)
            "WHERE objects.added = incident_facts.object_added)"
        )
    with op.batch_alter_table("incident_facts", schema=None) as batch_op:
        for column in _COPIED:
            batch_op.alter_column(column, nullable=False)
        batch_op.create_index(
            batch_op.f("ix_incident_facts_collection_id_is_latest"),
            ["collection_id", "is_latest"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_facts_collection_id_is_latest"))
        for column in reversed(_COPIED):
            batch_op.drop_column(column)
