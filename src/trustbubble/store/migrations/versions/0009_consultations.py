"""consultations: drafts, versions, audiences, accreditation, comments, answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 01:22:20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_drafts_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drafts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "consultations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("draft_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opens", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_early", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("bubbles", sa.Text(), nullable=False),
        sa.Column("kinds", sa.Text(), nullable=False),
        sa.Column("objection_days", sa.Integer(), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.id"], name=op.f("fk_consultations_draft_id_drafts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultations_draft_id"), ["draft_id"], unique=False)

    op.create_table(
        "draft_versions",
        sa.Column("draft_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.id"], name=op.f("fk_draft_versions_draft_id_drafts")
        ),
        sa.PrimaryKeyConstraint("draft_id", "number", name=op.f("pk_draft_versions")),
    )
    op.create_table(
        "accreditation_objections",
        sa.Column("consultation_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("objector_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_accreditation_objections_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["objector_id"],
            ["organizations.id"],
            name=op.f("fk_accreditation_objections_objector_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_accreditation_objections_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "org_id", "objector_id", name=op.f("pk_accreditation_objections")
        ),
    )
    op.create_table(
        "accreditations",
        sa.Column("consultation_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("asked", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_by", sa.String(length=254), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decided", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_accreditations_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_accreditations_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("consultation_id", "org_id", name=op.f("pk_accreditations")),
    )
    op.create_table(
        "consultation_answers",
        sa.Column("consultation_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("question", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_answers_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_consultation_answers_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "org_id", "question", name=op.f("pk_consultation_answers")
        ),
    )
    op.create_table(
        "consultation_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consultation_id", sa.String(length=36), nullable=False),
        sa.Column("paragraph", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("stance", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("norms", sa.String(length=30), nullable=False),
        sa.Column("incident", sa.String(length=100), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.Column("verdict_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_comments_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_consultation_comments_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["consultation_comments.id"],
            name=op.f("fk_consultation_comments_parent_id_consultation_comments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_comments")),
    )
    with op.batch_alter_table("consultation_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_comments_consultation_id"),
            ["consultation_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("consultation_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_comments_consultation_id"))

    op.drop_table("consultation_comments")
    op.drop_table("consultation_answers")
    op.drop_table("accreditations")
    op.drop_table("accreditation_objections")
    op.drop_table("draft_versions")
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultations_draft_id"))

    op.drop_table("consultations")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drafts_org_id"))

    op.drop_table("drafts")
