"""role-play exercise sessions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercise_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("scenario_id", sa.String(length=63), nullable=False),
        sa.Column("scenario_text", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("facilitator_id", sa.String(length=36), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["facilitator_id"], ["users.id"], name=op.f("fk_exercise_sessions_facilitator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_sessions")),
    )
    with op.batch_alter_table("exercise_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exercise_sessions_facilitator_id"), ["facilitator_id"], unique=False
        )
    op.create_table(
        "exercise_players",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("role_id", sa.String(length=63), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("guest_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("guest_token_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exercise_sessions.id"],
            name=op.f("fk_exercise_players_session_id_exercise_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exercise_players_user_id_users")
        ),
        sa.PrimaryKeyConstraint("session_id", "role_id", name=op.f("pk_exercise_players")),
        sa.UniqueConstraint("guest_token_hash", name=op.f("uq_exercise_players_guest_token_hash")),
    )
    with op.batch_alter_table("exercise_players", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercise_players_user_id"), ["user_id"], unique=False)
    op.create_table(
        "exercise_log",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("step", sa.String(length=10), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("inject", sa.String(length=63), nullable=False),
        sa.Column("decision", sa.String(length=63), nullable=False),
        sa.Column("option", sa.String(length=63), nullable=False),
        sa.Column("role", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exercise_sessions.id"],
            name=op.f("fk_exercise_log_session_id_exercise_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", "seq", name=op.f("pk_exercise_log")),
    )
    op.create_table(
        "exercise_chat",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("team", sa.String(length=63), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exercise_sessions.id"],
            name=op.f("fk_exercise_chat_session_id_exercise_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_chat")),
    )
    with op.batch_alter_table("exercise_chat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exercise_chat_session_id_team_id"),
            ["session_id", "team", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("exercise_chat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_chat_session_id_team_id"))
    op.drop_table("exercise_chat")
    op.drop_table("exercise_log")
    with op.batch_alter_table("exercise_players", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_players_user_id"))
    op.drop_table("exercise_players")
    with op.batch_alter_table("exercise_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_sessions_facilitator_id"))
    op.drop_table("exercise_sessions")
