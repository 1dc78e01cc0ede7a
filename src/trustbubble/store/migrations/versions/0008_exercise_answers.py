"""answers to an exercise's knowledge questions and debrief

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercise_answers",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("participant", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("question", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=63), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exercise_sessions.id"],
            name=op.f("fk_exercise_answers_session_id_exercise_sessions"),
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "participant", "kind", "question", name=op.f("pk_exercise_answers")
        ),
    )


def downgrade() -> None:
    op.drop_table("exercise_answers")
