"""Counts for the node's Prometheus metrics: how many of each thing, never whose or which."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Table, func, select

from trustbubble.domain.assistance import RequestState
from trustbubble.domain.bubbles import MembershipState
from trustbubble.domain.notifications import Channel, DeliveryState
from trustbubble.domain.tlp import TlpLevel
from trustbubble.store.tables import (
    assistance_requests,
    audit_log,
    bubbles,
    deliveries,
    memberships,
    objects,
    organizations,
    users,
)

E = TypeVar("E", bound=Enum)


def _rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def organizations_count(conn: Connection) -> int:
    return _rows(conn, organizations)


def users_count(conn: Connection) -> int:
    return _rows(conn, users)


def bubbles_count(conn: Connection) -> int:
    return _rows(conn, bubbles)


def audit_entries(conn: Connection) -> int:
    return _rows(conn, audit_log)


def _by(conn: Connection, column: Column[Any], kind: type[E]) -> dict[E, int]:
    """Rows per value of a column holding an enum's values; every value present, 0 if unseen."""
    counts = dict.fromkeys(kind, 0)
    rows = conn.execute(select(column, func.count()).group_by(column))
    for value, n in rows:
        counts[kind(value)] = int(n)
    return counts


def memberships_by_state(conn: Connection) -> dict[MembershipState, int]:
    return _by(conn, memberships.c.state, MembershipState)


def object_versions_by_tlp(conn: Connection) -> dict[TlpLevel, int]:
    """Stored versions per TLP level, every collection included (the public one too).

    A scan of the whole table on both databases: there is no index on `tlp` alone, and adding
    one would cost every insert for the sake of a scrape.
    """
    return _by(conn, objects.c.tlp, TlpLevel)


def assistance_requests_by_state(conn: Connection) -> dict[RequestState, int]:
    return _by(conn, assistance_requests.c.state, RequestState)


def deliveries_by_state(conn: Connection) -> dict[tuple[Channel, DeliveryState], int]:
    """The outbox per channel and state; every pair present, 0 if unseen."""
    counts = {(channel, state): 0 for channel in Channel for state in DeliveryState}
    rows = conn.execute(
        select(deliveries.c.channel, deliveries.c.state, func.count()).group_by(
            deliveries.c.channel, deliveries.c.state
        )
    )
    for channel, state, n in rows:
        counts[Channel(channel), DeliveryState(state)] = int(n)
    return counts
