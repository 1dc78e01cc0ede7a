"""Clients that stream TAXII envelopes into a live node and record what it acknowledged.

Every object id belongs to exactly one envelope, so whatever the node stored traces back to the
envelope that carried it (tests/test_crash_safety.py).
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson

from tests.conftest import TAXII
from trustbubble.domain.timestamps import parse_timestamp
from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID, TLP2_MARKING_IDS, TlpLevel

OBJECTS = 200  # per envelope
FIRST = "2026-03-01T10:00:00.000Z"
SECOND = "2026-03-02T10:00:00.000Z"


@dataclass(frozen=True, slots=True)
class Ack:
    """A 202 the client received: the status id and the ids it lists."""

    status_id: str
    successes: tuple[str, ...]
    failures: tuple[str, ...]


@dataclass(slots=True)
class Envelope:
    """One envelope, posted once or more (again after a crash lost its answer)."""

    number: int
    body: bytes
    valid: frozenset[tuple[str, int]]  # (id, version in µs) of every valid object
    valid_ids: tuple[str, ...]  # sorted, an id once per version: what a status lists
    invalid_ids: tuple[str, ...]  # sorted
    acks: list[Ack] = field(default_factory=list)


def make_envelope(number: int, recipient: str) -> Envelope:
    """Incidents (incident facts), RED indicators (recipients), objects in two versions, and
    indicators (observables); every third envelope also has an invalid object."""
    bodies: list[dict[str, Any]] = []

    def indicator(index: int, **extra: Any) -> dict[str, Any]:
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": FIRST,
            "modified": FIRST,
            "name": f"crash {number}.{index}",
            "pattern": f"[domain-name:value = 'e{number}-{index}.example']",
            "pattern_type": "stix",
            "valid_from": FIRST,
            **extra,
        }

    for index in range(10):
        bodies.append(
            {
                "type": "incident",
                "spec_version": "2.1",
                "id": f"incident--{uuid.uuid4()}",
                "created": FIRST,
                "modified": FIRST,
                "name": f"incident {number}.{index}",
            }
        )
    for index in range(10, 20):
        red = {"object_marking_refs": [TLP2_MARKING_IDS[TlpLevel.RED]]}
        extension = {"extension_type": "property-extension", "recipients": [recipient]}
        bodies.append(indicator(index, **red, extensions={RED_RECIPIENTS_EXTENSION_ID: extension}))
    for index in range(20, 30, 2):
        first = indicator(index)
        bodies += [first, {**first, "modified": SECOND, "name": f"crash {number}.{index} v2"}]
    bodies += [indicator(index) for index in range(30, OBJECTS)]
    invalid: list[str] = []
    if number % 3 == 0:
        del bodies[-1]["pattern"]
        invalid.append(bodies[-1]["id"])
    valid = [
        (body["id"], parse_timestamp(body["modified"]))
        for body in bodies
        if body["id"] not in invalid
    ]
    return Envelope(
        number,
        orjson.dumps({"objects": bodies}),
        frozenset(valid),
        tuple(sorted(object_id for object_id, _ in valid)),
        tuple(sorted(invalid)),
    )


class Feed:
    """The envelopes of one round: those left unacknowledged by earlier rounds first, then new."""

    def __init__(self, ledger: list[Envelope], recipient: str) -> None:
        self.ledger = ledger
        self.recipient = recipient
        self.retries = deque(envelope for envelope in ledger if not envelope.acks)
        self.acknowledged = threading.Event()
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def next(self) -> Envelope:
        with self._lock:
            if self.retries:
                return self.retries.popleft()
            envelope = make_envelope(len(self.ledger), self.recipient)
            self.ledger.append(envelope)
            return envelope


def post(client: httpx2.Client, collection_id: str, envelope: Envelope) -> httpx2.Response:
    """POST the envelope; a 202 is recorded in it."""
    response = client.post(
        f"/taxii2/bubbles/collections/{collection_id}/objects/",
        content=envelope.body,
        headers={"Content-Type": TAXII},
    )
    if response.status_code == 202:
        answer = response.json()
        envelope.acks.append(
            Ack(
                answer["id"],
                tuple(sorted(detail["id"] for detail in answer["successes"])),
                tuple(sorted(detail["id"] for detail in answer["failures"])),
            )
        )
    return response


def client(base_url: str, token: str) -> httpx2.Client:
    headers = {"Accept": TAXII, "Authorization": f"Bearer {token}"}
    return httpx2.Client(base_url=base_url, headers=headers, timeout=60.0)


def post_until_down(base_url: str, token: str, collection_id: str, feed: Feed) -> None:
    """Post envelopes until the node goes away."""
    try:
        with client(base_url, token) as http:
            while True:
                envelope = feed.next()
                try:
                    response = post(http, collection_id, envelope)
                except httpx2.TransportError:
                    return  # killed: whether the envelope was stored is for the checks to say
                if response.status_code != 202:
                    feed.problems.append(f"envelope {envelope.number}: {response.status_code}")
                    return
                feed.acknowledged.set()
    except Exception as error:  # a thread's failure must reach the test
        feed.problems.append(f"client failed: {error!r}")
