"""Prometheus metrics at `/metrics`, counted in the store when scraped: no names, no secrets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from trustbubble import __version__
from trustbubble.api.deps import NodeDep
from trustbubble.store import metrics as store
from trustbubble.store.database import Database
from trustbubble.store.federation import all_peers, links

# A provider reads some families from the store, in the scrape's read transaction.
FamilyProvider = Callable[[Connection], Iterable[Metric]]


def accounts_and_bubbles(conn: Connection) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "trustbubble_organizations", "Organizations on the node.", store.organizations_count(conn)
    )
    yield GaugeMetricFamily("trustbubble_users", "Users on the node.", store.users_count(conn))
    yield GaugeMetricFamily("trustbubble_bubbles", "Bubbles of trust.", store.bubbles_count(conn))
    memberships = GaugeMetricFamily(
        "trustbubble_memberships",
        "Memberships of organizations in bubbles, by state (active: taking part).",
        labels=["state"],
    )
    for state, n in store.memberships_by_state(conn).items():
        memberships.add_metric([state.value], n)
    yield memberships


def object_versions(conn: Connection) -> Iterator[Metric]:
    by_tlp = store.object_versions_by_tlp(conn)
    yield GaugeMetricFamily(
        "trustbubble_object_versions",
        "Stored versions of STIX objects, in every collection.",
        sum(by_tlp.values()),
    )
    family = GaugeMetricFamily(
        "trustbubble_object_versions_by_tlp",
        "Stored versions of STIX objects, by TLP level.",
        labels=["tlp"],
    )
    for level, n in by_tlp.items():
        family.add_metric([level.label.lower()], n)
    yield family


def audit_log(conn: Connection) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "trustbubble_audit_log_entries", "Entries in the audit log.", store.audit_entries(conn)
    )


def outbox(conn: Connection) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "trustbubble_deliveries",
        "E-mails and webhook calls in the outbox, by channel and state "
        "(pending, sent, failed: gave up, skipped: no SMTP server).",
        labels=["channel", "state"],
    )
    for (channel, state), n in store.deliveries_by_state(conn).items():
        family.add_metric([channel.value, state.value], n)
    yield family


def assistance(conn: Connection) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "trustbubble_assistance_requests",
        "Requests for assistance, by state (open: not yet acknowledged).",
        labels=["state"],
    )
    for state, n in store.assistance_requests_by_state(conn).items():
        family.add_metric([state.value], n)
    yield family


def federation(conn: Connection) -> Iterator[Metric]:
    """Sync with peer nodes, per peer node id and bubble id (docs/federation.md)."""
    every = links(conn)
    yield GaugeMetricFamily("trustbubble_peers", "Peer nodes.", len(all_peers(conn)))
    families = {
        "received": CounterMetricFamily(
            "trustbubble_sync_received", "Object versions received from a peer.", labels=LINK
        ),
        "sent": CounterMetricFamily(
            "trustbubble_sync_sent", "Object versions pushed to a peer and taken.", labels=LINK
        ),
        "refused": CounterMetricFamily(
            "trustbubble_sync_refused", "Objects refused either way.", labels=LINK
        ),
    }
    success = GaugeMetricFamily(
        "trustbubble_sync_last_success_timestamp_seconds",
        "When the link last synced completely (Unix time; absent: never).",
        labels=LINK,
    )
    failing = GaugeMetricFamily(
        "trustbubble_sync_failures",
        "Syncs of the link that failed in a row (0: the last one worked).",
        labels=LINK,
    )
    for link in every:
        key = [link.peer_id, link.bubble_id]
        for name, family in families.items():
            family.add_metric(key, getattr(link, name))
        if link.last_success is not None:
            success.add_metric(key, link.last_success.timestamp())
        failing.add_metric(key, link.failures)
    yield from families.values()
    yield success
    yield failing


LINK = ["peer", "bubble"]  # a peer's node id and a bubble's id: never their names


# The families of every scrape, read in this order in one read transaction. To add some (sync
# metrics per peer node and bubble, for instance), write a FamilyProvider and add it here. Its
# families are named `trustbubble_...`; their labels may hold ids and fixed words, never a name
# of a bubble, organization or person (names of bubbles can be confidential), an e-mail address,
# a URL, nor anything secret. Read from the store, not from process memory: with several worker
# processes, any one of them answers a scrape.
FAMILIES: tuple[FamilyProvider, ...] = (
    accounts_and_bubbles,
    object_versions,
    audit_log,
    outbox,
    assistance,
    federation,
)


class NodeCollector:
    """A prometheus_client collector of the node's families, read from the store when scraped."""

    def __init__(self, db: Database, providers: Sequence[FamilyProvider] = FAMILIES) -> None:
        self._db = db
        self._providers = tuple(providers)

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        info = GaugeMetricFamily(
            "trustbubble_info", "The node's software, always 1.", labels=["version"]
        )
        info.add_metric([__version__], 1)
        with self._db.read() as conn:
            families = [family for provider in self._providers for family in provider(conn)]
        yield info
        yield from families
        yield GaugeMetricFamily(
            "trustbubble_scrape_duration_seconds",
            "Time this scrape took to read the store.",
            time.perf_counter() - started,
        )


def scrape(db: Database, providers: Sequence[FamilyProvider] = FAMILIES) -> bytes:
    """The text exposition format of one scrape."""
    # A registry of its own per scrape, never prometheus_client's global one: the database is
    # known only once the app has started, an app may be made many times in one process, and
    # a registry costs nothing to make.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector(db, providers))
    return generate_latest(registry)


router = APIRouter(tags=["monitoring"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "The metrics."}},
)
async def get_metrics(node: NodeDep) -> Response:
    """The node's metrics in the Prometheus text format, for a Prometheus server to scrape."""
    return Response(await run_in_threadpool(scrape, node.db), media_type=CONTENT_TYPE_LATEST)
