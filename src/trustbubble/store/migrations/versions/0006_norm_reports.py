"""national implementation reports of the UN GGE norms

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "norm_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("stix_id", sa.String(length=60), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("tlp", sa.SmallInteger(), nullable=True),
        sa.Column("catalogue_version", sa.String(length=20), nullable=False),
        sa.Column("entries", sa.Text(), nullable=False),
        sa.Column("author_email", sa.String(length=254), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_norm_reports_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_norm_reports")),
        sa.UniqueConstraint(
            "country", "year", "revision", name=op.f("uq_norm_reports_country_year_revision")
        ),
    )
    with op.batch_alter_table("norm_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_norm_reports_org_id"), ["org_id"], unique=False)
    op.create_table(
        "norm_report_shares",
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column(
            "object_added", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["object_added"],
            ["objects.added"],
            name=op.f("fk_norm_report_shares_object_added_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["norm_reports.id"],
            name=op.f("fk_norm_report_shares_report_id_norm_reports"),
        ),
        sa.PrimaryKeyConstraint("report_id", "object_added", name=op.f("pk_norm_report_shares")),
    )


def downgrade() -> None:
    op.drop_table("norm_report_shares")
    with op.batch_alter_table("norm_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_norm_reports_org_id"))
    op.drop_table("norm_reports")
