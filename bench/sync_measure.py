"""The timed parts of the federation benchmark: loading the home node, syncs, and the lag.

Everything runs against the two real nodes of sync_nodes.py. The syncs are
`trustbubble.services.sync.run` in this process, on a node's store, calling the other node's
server over HTTP, as `trustbubble sync run` does.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson
from sqlalchemy import select

from sync_nodes import Node, World
from sync_workload import ENVELOPE_SIZE, Cast, crosses, envelope, object_id
from taxii_servers import TAXII, log
from trustbubble.services import sync
from trustbubble.store.objects import count
from trustbubble.store.tables import objects

# The lag is read from the stores at the end: each object's date_added on A and on B.
_CHUNK = 500


def load_average() -> float:
    return os.getloadavg()[0]


def percentile(values: list[float], share: float) -> float:
    """Nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def _post(client: httpx2.Client, world: World, bubble_id: str, body: bytes, count: int) -> None:
    response = client.post(
        world.home.collection(bubble_id) + "objects/",
        content=body,
        headers={
            "Accept": TAXII,
            "Content-Type": TAXII,
            "Authorization": f"Bearer {world.token}",
        },
    )
    if response.status_code != 202:
        raise SystemExit(f"POST to A answered {response.status_code}: {response.text[:500]}")
    stored = orjson.loads(response.content).get("success_count")
    if stored != count:
        raise SystemExit(f"A stored {stored} of {count} objects: {response.text[:500]}")


def cast(world: World) -> Cast:
    return Cast(world.author, world.recipient)


# -- loading A ---------------------------------------------------------------------------------


@dataclass
class Load:
    objects: int = 0
    envelopes: int = 0
    seconds: float = 0.0  # the POSTs alone, not making their bodies
    server_cpu: float = 0.0
    load: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds else 0.0


def load(world: World, bubble_id: str, series: str, count: int) -> Load:
    """POST objects 0 .. count - 1 of a series to A in envelopes of 1,000; time each POST."""
    done = Load(load=[load_average()])
    cpu = world.home.cpu_seconds()
    with httpx2.Client(timeout=600.0) as client:
        for start in range(0, count, ENVELOPE_SIZE):
            size = min(ENVELOPE_SIZE, count - start)
            body = envelope(series, start, size, cast(world))
            began = time.perf_counter()
            _post(client, world, bubble_id, body, size)
            done.seconds += time.perf_counter() - began
            done.objects += size
            done.envelopes += 1
    done.server_cpu = world.home.cpu_seconds() - cpu
    done.load.append(load_average())
    return done


def expected(count: int) -> int:
    """How many of objects 0 .. count - 1 may reach the peer."""
    return sum(1 for n in range(count) if crosses(n))


# -- a timed sync ------------------------------------------------------------------------------


class PageClock:
    """Times the pages a sync moves through the HTTP client it hands `sync.run`.

    A page's time runs from its request to the sync's next request of any kind: the other node
    serving it (or, pushed, taking it) and this process reading, checking and storing it (or,
    pushed, making and signing it). `served` is the request until the answer's headers.
    """

    def __init__(self, method: str) -> None:
        self.method = method
        self.requests: list[tuple[float, bool]] = []  # (when, is a page of objects)
        self.pages: list[int] = []  # indexes into requests
        self.served: list[float] = []  # seconds, per page

    def connect(self, url: str) -> httpx2.Client:
        hooks: dict[str, list[Callable[..., Any]]] = {
            "request": [self._request],
            "response": [self._response],
        }
        return httpx2.Client(base_url=url, timeout=60.0, event_hooks=hooks)

    def _is_page(self, request: httpx2.Request) -> bool:
        return request.method == self.method and request.url.path.endswith("/objects/")

    def _request(self, request: httpx2.Request) -> None:
        page = self._is_page(request)
        self.requests.append((time.perf_counter(), page))

    def _response(self, response: httpx2.Response) -> None:
        if not self._is_page(response.request):
            return
        # A pulled page that is empty has no date_added headers: it is the end of the pull.
        if self.method == "GET" and "X-TAXII-Date-Added-Last" not in response.headers:
            return
        self.pages.append(len(self.requests) - 1)
        self.served.append(time.perf_counter() - self.requests[-1][0])

    def page_seconds(self, ended: float) -> list[float]:
        out = []
        for index in self.pages:
            following = self.requests[index + 1][0] if index + 1 < len(self.requests) else ended
            out.append(following - self.requests[index][0])
        return out


@dataclass
class SyncRun:
    direction: str  # "pull" or "push"
    moved: int = 0
    refused: int = 0
    seconds: float = 0.0
    page_ms: list[float] = field(default_factory=list)
    served_ms: list[float] = field(default_factory=list)  # the other node's share of each page
    sender_cpu: float = 0.0  # CPU seconds of A (its server pulled, this process pushing)
    receiver_cpu: float = 0.0
    load: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.moved / self.seconds if self.seconds else 0.0


def _checked(outcomes: Iterable[sync.Outcome]) -> list[sync.Outcome]:
    found = list(outcomes)
    errors = [f"{o.bubble}: {o.error}" for o in found if o.error]
    if errors:
        raise SystemExit("sync failed: " + "; ".join(errors))
    return found


def timed_sync(world: World, direction: str) -> SyncRun:
    """One `sync.run` of B (pull) or of A (push), timed page by page."""
    syncing, other = (world.peer, world.home) if direction == "pull" else (world.home, world.peer)
    clock = PageClock("GET" if direction == "pull" else "POST")
    run = SyncRun(direction, load=[load_average()])
    held = _count(world.peer)
    other_cpu, own_cpu = other.cpu_seconds(), time.process_time()
    began = time.perf_counter()
    outcomes = _checked(sync.run(syncing.db, syncing.key, clock.connect, force=True))
    ended = time.perf_counter()
    run.seconds = ended - began
    run.moved = _count(world.peer) - held  # new versions B stored, not duplicates
    run.refused = sum(o.refused for o in outcomes)
    run.page_ms = [s * 1000 for s in clock.page_seconds(ended)]
    run.served_ms = [s * 1000 for s in clock.served]
    other_cpu = other.cpu_seconds() - other_cpu
    own_cpu = time.process_time() - own_cpu
    run.sender_cpu, run.receiver_cpu = (
        (other_cpu, own_cpu) if direction == "pull" else (own_cpu, other_cpu)
    )
    run.load.append(load_average())
    return run


# -- the lag -----------------------------------------------------------------------------------


class Poster(threading.Thread):
    """Posts a steady stream to A: `batch` objects every batch / rate seconds, for `seconds`."""

    def __init__(
        self, world: World, bubble_id: str, series: str, rate: float, seconds: float, batch: int
    ) -> None:
        super().__init__(name="poster", daemon=True)
        self.world, self.bubble_id, self.series = world, bubble_id, series
        self.rate, self.seconds, self.batch = rate, seconds, batch
        self.posted = 0
        self.elapsed = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        interval = self.batch / self.rate
        ticks = max(1, round(self.seconds / interval))
        began = time.perf_counter()
        try:
            with httpx2.Client(timeout=60.0) as client:
                for tick in range(ticks):
                    body = envelope(self.series, self.posted, self.batch, cast(self.world))
                    _post(client, self.world, self.bubble_id, body, self.batch)
                    self.posted += self.batch
                    time.sleep(max(0.0, began + (tick + 1) * interval - time.perf_counter()))
        except BaseException as error:  # reported by the thread that waits for it
            self.error = error
        self.elapsed = time.perf_counter() - began

    def ids(self) -> list[str]:
        return [object_id(self.series, n) for n in range(self.posted) if crosses(n)]


@dataclass
class LagRun:
    mode: str
    posted: int = 0
    post_seconds: float = 0.0
    arrived: int = 0
    lag_ms: list[float] = field(default_factory=list)
    rounds: int = 0  # syncs run by this process while the stream ran (0: the nodes' own)
    load: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.posted / self.post_seconds if self.post_seconds else 0.0


def _count(node: Node) -> int:
    with node.db.read() as conn:
        return count(conn)


def _added(node: Node, bubble_id: str, ids: list[str]) -> dict[str, int]:
    """date_added (µs) of these objects in the bubble on a node."""
    found: dict[str, int] = {}
    with node.db.read() as conn:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows = conn.execute(
                select(objects.c.id, objects.c.added).where(
                    objects.c.collection_id == bubble_id, objects.c.id.in_(chunk)
                )
            )
            found.update({row.id: row.added for row in rows})
    return found


def _held(node: Node, bubble_id: str, ids: list[str]) -> int:
    return len(_added(node, bubble_id, ids))


def _finish(run: LagRun, world: World, bubble_id: str, poster: Poster) -> LagRun:
    if poster.error is not None:
        raise SystemExit(f"the stream to A failed: {poster.error}")
    ids = poster.ids()
    sent, arrived = _added(world.home, bubble_id, ids), _added(world.peer, bubble_id, ids)
    run.posted, run.post_seconds = poster.posted, poster.elapsed
    run.arrived = len(arrived)
    run.lag_ms = [(arrived[i] - sent[i]) / 1000 for i in ids if i in arrived and i in sent]
    run.load.append(load_average())
    return run


def _wait(ready: Callable[[], bool], timeout: float, step: Callable[[], object]) -> bool:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            return False
        step()
    return True


def lag_pulling(
    world: World, bubble_id: str, series: str, rate: float, seconds: float, batch: int
) -> LagRun:
    """A takes a steady stream while B pulls in a loop, one `sync.run` after the other."""
    run = LagRun("B pulls in a loop", load=[load_average()])
    poster = Poster(world, bubble_id, series, rate, seconds, batch)

    def pull() -> None:
        _checked(sync.run(world.peer.db, world.peer.key, force=True))
        run.rounds += 1

    poster.start()
    while poster.is_alive():
        pull()
    ids = poster.ids()
    if not _wait(lambda: _held(world.peer, bubble_id, ids) == len(ids), 60.0, pull):
        log("  some objects of the stream never reached B")
    return _finish(run, world, bubble_id, poster)


def lag_served(
    world: World, bubble_id: str, series: str, rate: float, seconds: float, batch: int
) -> LagRun:
    """A takes a steady stream; A's `serve` pushes each write to B by itself (background sync)."""
    run = LagRun("A's serve pushes after each write", load=[load_average()])
    poster = Poster(world, bubble_id, series, rate, seconds, batch)
    poster.start()
    poster.join()
    ids = poster.ids()
    # The last writes may wait for the next periodic round: allow for one (30 s by default).
    if not _wait(
        lambda: _held(world.peer, bubble_id, ids) == len(ids), 45.0, lambda: time.sleep(0.2)
    ):
        log("  some objects of the stream never reached B")
    return _finish(run, world, bubble_id, poster)
