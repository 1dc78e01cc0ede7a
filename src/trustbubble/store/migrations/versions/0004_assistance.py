"""assistance

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 18:13:39.507253
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deliveries_state_next_attempt"), ["state", "next_attempt"], unique=False
        )

    op.create_table(
        "assistance_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("bubble_id", sa.String(length=36), nullable=False),
        sa.Column("note_id", sa.String(length=60), nullable=False),
        sa.Column("requester_org_id", sa.String(length=36), nullable=False),
        sa.Column("requester_email", sa.String(length=254), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("asked", sa.String(length=200), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("incident_id", sa.String(length=60), nullable=True),
        sa.Column("tlp", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bubble_id"], ["bubbles.id"], name=op.f("fk_assistance_requests_bubble_id_bubbles")
        ),
        sa.ForeignKeyConstraint(
            ["requester_org_id"],
            ["organizations.id"],
            name=op.f("fk_assistance_requests_requester_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_requests")),
        sa.UniqueConstraint("note_id", name=op.f("uq_assistance_requests_note_id")),
    )
    with op.batch_alter_table("assistance_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistance_requests_bubble_id"), ["bubble_id"], unique=False
        )

    op.create_table(
        "check_schedules",
        sa.Column("bubble_id", sa.String(length=36), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["bubble_id"], ["bubbles.id"], name=op.f("fk_check_schedules_bubble_id_bubbles")
        ),
        sa.PrimaryKeyConstraint("bubble_id", name=op.f("pk_check_schedules")),
    )
    op.create_table(
        "comm_checks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("bubble_id", sa.String(length=36), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["bubble_id"], ["bubbles.id"], name=op.f("fk_comm_checks_bubble_id_bubbles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comm_checks")),
    )
    with op.batch_alter_table("comm_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comm_checks_bubble_id"), ["bubble_id"], unique=False)

    op.create_table(
        "pocs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=60), nullable=False),
        sa.Column("languages", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=60), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_pocs_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pocs")),
    )
    with op.batch_alter_table("pocs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pocs_org_id"), ["org_id"], unique=False)

    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_webhooks_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhooks_org_id"), ["org_id"], unique=False)

    op.create_table(
        "assistance_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["assistance_requests.id"],
            name=op.f("fk_assistance_events_request_id_assistance_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_events")),
    )
    with op.batch_alter_table("assistance_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistance_events_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "assistance_recipients",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("answer", sa.String(length=12), nullable=False),
        sa.Column("answered", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_assistance_recipients_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["assistance_requests.id"],
            name=op.f("fk_assistance_recipients_request_id_assistance_requests"),
        ),
        sa.PrimaryKeyConstraint("request_id", "org_id", name=op.f("pk_assistance_recipients")),
    )
    with op.batch_alter_table("assistance_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistance_recipients_org_id"), ["org_id"], unique=False
        )

    op.create_table(
        "check_pings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("check_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("poc_name", sa.String(length=200), nullable=False),
        sa.Column("poc_email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("answered", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"], ["comm_checks.id"], name=op.f("fk_check_pings_check_id_comm_checks")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_check_pings_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_pings")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_check_pings_token_hash")),
    )
    with op.batch_alter_table("check_pings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_pings_check_id"), ["check_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("bubbles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "ack_target_hours", sa.Integer(), server_default=sa.text("(24)"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "resolve_target_hours",
                sa.Integer(),
                server_default=sa.text("(336)"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("bubbles", schema=None) as batch_op:
        batch_op.drop_column("resolve_target_hours")
        batch_op.drop_column("ack_target_hours")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_user_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("check_pings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_pings_check_id"))

    op.drop_table("check_pings")
    with op.batch_alter_table("assistance_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistance_recipients_org_id"))

    op.drop_table("assistance_recipients")
    with op.batch_alter_table("assistance_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistance_events_request_id"))

    op.drop_table("assistance_events")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_org_id"))

    op.drop_table("webhooks")
    with op.batch_alter_table("pocs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pocs_org_id"))

    op.drop_table("pocs")
    with op.batch_alter_table("comm_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comm_checks_bubble_id"))

    op.drop_table("comm_checks")
    op.drop_table("check_schedules")
    with op.batch_alter_table("assistance_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistance_requests_bubble_id"))

    op.drop_table("assistance_requests")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_state_next_attempt"))

    op.drop_table("deliveries")
