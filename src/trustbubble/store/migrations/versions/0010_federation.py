"""federation: node of organizations, bubbles and objects; peers, shared bubbles, deletions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node_id", sa.String(length=60), nullable=True))
        batch_op.create_index(batch_op.f("ix_organizations_node_id"), ["node_id"], unique=False)
    with op.batch_alter_table("bubbles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_node", sa.String(length=60), nullable=True))
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_node", sa.String(length=60), nullable=True))

    op.create_table(
        "peers",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("public_key", sa.String(length=60), nullable=False),
        sa.Column("outbound_token", sa.LargeBinary(), nullable=True),
        sa.Column("credential_hash", sa.String(length=64), nullable=True),
        sa.Column("credential_prefix", sa.String(length=12), nullable=True),
        sa.Column("added", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peers")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_peers_credential_hash")),
        sa.UniqueConstraint("public_key", name=op.f("uq_peers_public_key")),
    )
    op.create_table(
        "remote_identities",
        sa.Column("identity_id", sa.String(length=60), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_remote_identities_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("identity_id", name=op.f("pk_remote_identities")),
    )
    with op.batch_alter_table("remote_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remote_identities_org_id"), ["org_id"], unique=False)

    op.create_table(
        "bubble_peers",
        sa.Column("bubble_id", sa.String(length=36), nullable=False),
        sa.Column("peer_id", sa.String(length=60), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pull_cursor", sa.BigInteger(), nullable=True),
        sa.Column("push_cursor", sa.BigInteger(), nullable=True),
        sa.Column("deletions_cursor", sa.BigInteger(), nullable=True),
        sa.Column("received", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sent", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("refused", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_attempt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("newest_moved", sa.BigInteger(), nullable=True),
        sa.Column("their_standing", sa.SmallInteger(), nullable=True),
        sa.Column("our_standing", sa.SmallInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bubble_id"], ["bubbles.id"], name=op.f("fk_bubble_peers_bubble_id_bubbles")
        ),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_bubble_peers_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("bubble_id", "peer_id", name=op.f("pk_bubble_peers")),
    )
    with op.batch_alter_table("bubble_peers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bubble_peers_peer_id"), ["peer_id"], unique=False)

    op.create_table(
        "deletions",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("origin_node", sa.String(length=60), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("deleted", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_deletions")),
    )
    with op.batch_alter_table("deletions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deletions_collection_id_seq"), ["collection_id", "seq"], unique=False
        )


def downgrade() -> None:
    op.drop_table("deletions")
    op.drop_table("bubble_peers")
    op.drop_table("remote_identities")
    op.drop_table("peers")
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.drop_column("origin_node")
    with op.batch_alter_table("bubbles", schema=None) as batch_op:
        batch_op.drop_column("home_node")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_node_id"))
        batch_op.drop_column("node_id")
