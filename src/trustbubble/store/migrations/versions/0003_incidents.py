"""incidents and observables

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 17:50:47.311435
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_facts",
        sa.Column(
            "object_added", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("started", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("attack_type", sa.String(length=20), nullable=True),
        sa.Column("patients_affected", sa.BigInteger(), nullable=False),
        sa.Column("services_disrupted", sa.BigInteger(), nullable=False),
        sa.Column("care_delayed", sa.Boolean(), nullable=False),
        sa.Column("care_diverted", sa.Boolean(), nullable=False),
        sa.Column("records_exposed", sa.BigInteger(), nullable=False),
        sa.Column("downtime_hours", sa.Float(), nullable=False),
        sa.Column("norms", sa.String(length=11), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_added"],
            ["objects.added"],
            name=op.f("fk_incident_facts_object_added_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_added", name=op.f("pk_incident_facts")),
    )
    with op.batch_alter_table("incident_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_facts_started"), ["started"], unique=False)

    op.create_table(
        "incident_sectors",
        sa.Column(
            "object_added", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_added"],
            ["objects.added"],
            name=op.f("fk_incident_sectors_object_added_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_added", "sector", name=op.f("pk_incident_sectors")),
    )
    op.create_table(
        "observables",
        sa.Column(
            "object_added", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_added"],
            ["objects.added"],
            name=op.f("fk_observables_object_added_objects"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("observables", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observables_object_added"), ["object_added"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_observables_value"), ["value"], unique=False)

    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("observables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observables_value"))
        batch_op.drop_index(batch_op.f("ix_observables_object_added"))

    op.drop_table("observables")
    op.drop_table("incident_sectors")
    with op.batch_alter_table("incident_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_facts_started"))

    op.drop_table("incident_facts")


def _backfill() -> None:
    """Index what earlier versions of the node stored, as ingest now does for new versions."""
    from trustbubble.domain.incidents import facts_of
    from trustbubble.domain.observables import OBSERVABLE_HOLDERS, observables_of
    from trustbubble.domain.tlp import TlpLevel

    conn = op.get_bind()
    holders = sorted({"incident", *OBSERVABLE_HOLDERS})
    rows = conn.execute(
        sa.text("SELECT added, body FROM objects WHERE type IN :types").bindparams(
            sa.bindparam("types", holders, expanding=True)
        )
    )
    facts, sectors, values = [], [], []
    for added, body in rows:
        obj = orjson.loads(body)
        found = facts_of(obj, TlpLevel.AMBER)
        if found is not None:
            facts.append(
                {
                    "object_added": added,
                    "started": found.started,
                    "month": found.month,
                    "status": found.status,
                    "country": found.country,
                    "attack_type": found.attack_type,
                    "patients_affected": found.human.patients_affected,
                    "services_disrupted": found.human.services_disrupted,
                    "care_delayed": found.human.care_delayed,
                    "care_diverted": found.human.care_diverted,
                    "records_exposed": found.human.records_exposed,
                    "downtime_hours": found.human.downtime_hours,
                    "norms": "".join(found.norms),
                }
            )
            sectors += [{"object_added": added, "sector": s} for s in found.sectors]
        values += [{"object_added": added, "kind": k, "value": v} for k, v in observables_of(obj)]
    for table, batch in (
        ("incident_facts", facts),
        ("incident_sectors", sectors),
        ("observables", values),
    ):
        if batch:
            columns = list(batch[0])
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (our names)
                    f"VALUES ({', '.join(':' + c for c in columns)})"
                ),
                batch,
            )
