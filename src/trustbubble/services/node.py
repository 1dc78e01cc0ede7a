"""The node itself: its schema and the objects it publishes."""

from __future__ import annotations

from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID, node_objects
from trustbubble.services.objects import store_node_objects
from trustbubble.store.database import Database

# Objects the node publishes are authored by no organization.
NODE_AUTHOR = "node"


def upgrade(db: Database) -> None:
    """Migrate the schema to the newest version and publish the node's own objects."""
    db.upgrade()
    publish(db)


def publish(db: Database) -> None:
    """Store the objects the node serves in its public collection (again: a no-op)."""
    with db.write() as conn:
        store_node_objects(conn, PUBLIC_COLLECTION_ID, NODE_AUTHOR, node_objects())
