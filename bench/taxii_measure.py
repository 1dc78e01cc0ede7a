"""The timed parts: POST envelopes, filtered GET pages at random offsets, and a full paged walk."""

from __future__ import annotations

import bisect
import os
import random
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx2
import orjson

from taxii_servers import TAXII, Server, log
from taxii_workload import ENVELOPE_SIZE, envelope

PAGE = 100  # objects per filtered GET
WALK_PAGE = 1000  # objects per page of the full walk (TrustBubble's maximum page size)


@dataclass
class Stage:
    """What one server did with `stored` objects in its measured collection."""

    server: str
    stored: int
    posted: int = 0  # objects POSTed to grow the store to `stored`
    envelopes: int = 0
    post_seconds: float = 0.0
    ceiling_seconds: float = 0.0  # orjson.loads of the same envelope bytes, best of 5 each
    get_ms: list[float] = field(default_factory=list)
    walk_objects: int = 0
    walk_pages: int = 0
    walk_seconds: float = 0.0
    # CPU seconds the server process used in each phase: unlike wall time, barely moved by other
    # work on the machine.
    post_cpu: float = 0.0
    get_cpu: float = 0.0
    walk_cpu: float = 0.0
    load: list[float] = field(default_factory=list)  # 1-minute load average, phase by phase

    @property
    def post_rate(self) -> float:
        return self.posted / self.post_seconds if self.post_seconds else 0.0

    @property
    def ceiling_rate(self) -> float:
        return self.posted / self.ceiling_seconds if self.ceiling_seconds else 0.0

    @property
    def walk_rate(self) -> float:
        return self.walk_objects / self.walk_seconds if self.walk_seconds else 0.0

    @property
    def post_cpu_us(self) -> float:
        """Server CPU microseconds per object POSTed."""
        return self.post_cpu / self.posted * 1e6 if self.posted else 0.0

    @property
    def get_cpu_ms(self) -> float:
        """Server CPU milliseconds per filtered GET."""
        return self.get_cpu / len(self.get_ms) * 1e3 if self.get_ms else 0.0

    @property
    def walk_cpu_us(self) -> float:
        """Server CPU microseconds per object walked."""
        return self.walk_cpu / self.walk_objects * 1e6 if self.walk_objects else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the GET latencies, in milliseconds."""
        ordered = sorted(self.get_ms)
        rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
        return ordered[int(rank) - 1]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out |= {
            "post_objects_per_s": self.post_rate,
            "ceiling_objects_per_s": self.ceiling_rate,
            "get_p50_ms": self.percentile(50) if self.get_ms else None,
            "get_p99_ms": self.percentile(99) if self.get_ms else None,
            "get_mean_ms": statistics.fmean(self.get_ms) if self.get_ms else None,
            "walk_objects_per_s": self.walk_rate,
            "post_server_cpu_us_per_object": self.post_cpu_us,
            "get_server_cpu_ms_per_request": self.get_cpu_ms,
            "walk_server_cpu_us_per_object": self.walk_cpu_us,
        }
        return out


class Bench:
    """One keep-alive HTTP client, used the same way against every server."""

    def __init__(self, client: httpx2.Client, server: Server) -> None:
        self.client = client
        self.server = server

    def _get(self, url: str, params: dict[str, str]) -> httpx2.Response:
        return self.client.get(
            url, params=params, headers=self.server.headers, auth=self.server.auth
        )

    def post(self, collection: str, body: bytes) -> tuple[httpx2.Response, float]:
        headers = {**self.server.headers, "Content-Type": TAXII}
        started = time.perf_counter()
        response = self.client.post(
            collection + "objects/",
            content=body,
            headers=headers,
            auth=self.server.auth or httpx2.USE_CLIENT_DEFAULT,
        )
        return response, time.perf_counter() - started

    def grow(
        self, stage: Stage, start: int, *, collection: str | None = None, warmup: bool = False
    ) -> None:
        """POST objects start .. stage.stored - 1 in envelopes of 1,000; time each POST alone."""
        target = collection or self.server.collection
        n = start
        total = stage.stored - start
        reported = 0
        cpu = self.server.cpu_seconds()
        while n < stage.stored:
            count = min(ENVELOPE_SIZE, stage.stored - n)
            body = envelope(n, count, warmup=warmup)
            response, seconds = self.post(target, body)
            if response.status_code != 202:
                raise RuntimeError(f"POST answered {response.status_code}: {response.text[:500]}")
            status = orjson.loads(response.content)
            if status.get("success_count") != count:
                raise RuntimeError(
                    f"POST stored {status.get('success_count')} of {count}: {status}"
                )
            stage.posted += count
            stage.envelopes += 1
            stage.post_seconds += seconds
            best = min(_timed_loads(body) for _ in range(5))
            stage.ceiling_seconds += best
            n += count
            done = n - start
            if total >= 20 * ENVELOPE_SIZE and done - reported >= total // 10:
                reported = done
                rate = stage.post_rate
                log(f"  {self.server.name}: posted {done:,} of {total:,} ({rate:,.0f} objects/s)")
        stage.post_cpu += self.server.cpu_seconds() - cpu
        stage.load.append(os.getloadavg()[0])

    def page_offsets(self, collection: str | None = None) -> list[str]:
        """Values of added_after that each leave at least 100 indicators after them (not timed).

        The date_added of every indicator is read from the manifest; an offset is one of those
        with at least 100 indicators added strictly after it, or a moment before the first one.
        """
        url = (collection or self.server.collection) + "manifest/"
        params = {"match[type]": "indicator", "limit": str(WALK_PAGE)}
        stamps: list[str] = []
        while True:
            response = self._get(url, params)
            response.raise_for_status()
            page = orjson.loads(response.content)
            stamps.extend(item["date_added"] for item in page.get("objects", []))
            if not page.get("more"):
                break
            params = {"match[type]": "indicator", "limit": str(WALK_PAGE), "next": page["next"]}
        stamps.sort()
        if len(stamps) < PAGE:
            raise RuntimeError(f"{len(stamps)} indicators stored; too few for a page of {PAGE}")
        offsets = sorted(
            {s for s in stamps if len(stamps) - bisect.bisect_right(stamps, s) >= PAGE}
        )
        return [_just_before(stamps[0]), *offsets]

    def filtered_gets(
        self,
        stage: Stage,
        offsets: list[str],
        count: int,
        rng: random.Random,
        *,
        collection: str | None = None,
    ) -> None:
        """`count` GETs of `match[type]=indicator&limit=100&added_after=T`, T drawn at random.

        T is one of `offsets` (see page_offsets), so every page is full. Each GET is timed from
        request to fully read body, and checked to hold 100 indicators.
        """
        url = (collection or self.server.collection) + "objects/"
        cpu = self.server.cpu_seconds()
        for _ in range(count):
            params = {
                "match[type]": "indicator",
                "limit": str(PAGE),
                "added_after": rng.choice(offsets),
            }
            started = time.perf_counter()
            response = self._get(url, params)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            objects = orjson.loads(response.content).get("objects", [])
            if len(objects) != PAGE or any(o["type"] != "indicator" for o in objects):
                raise RuntimeError(
                    f"a filtered page held {len(objects)} objects, not {PAGE} indicators"
                )
            stage.get_ms.append(elapsed * 1000)
        stage.get_cpu += self.server.cpu_seconds() - cpu
        stage.load.append(os.getloadavg()[0])

    def walk(self, stage: Stage, *, collection: str | None = None) -> None:
        """Every object of the collection, limit=1000 per page, following `next`; timed whole.

        The time includes the client's orjson.loads of each page, which it needs to find `next`.
        """
        url = (collection or self.server.collection) + "objects/"
        params = {"limit": str(WALK_PAGE)}
        cpu = self.server.cpu_seconds()
        started = time.perf_counter()
        while True:
            response = self._get(url, params)
            if response.status_code != 200:
                raise RuntimeError(
                    f"walk page answered {response.status_code}: {response.text[:500]}"
                )
            page = orjson.loads(response.content)
            stage.walk_objects += len(page.get("objects", []))
            stage.walk_pages += 1
            if not page.get("more"):
                break
            params = {"limit": str(WALK_PAGE), "next": page["next"]}
        stage.walk_seconds = time.perf_counter() - started
        stage.walk_cpu = self.server.cpu_seconds() - cpu
        stage.load.append(os.getloadavg()[0])


def _just_before(stamp: str) -> str:
    """A date_added one millisecond before `stamp`, in the servers' own format."""
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ") - timedelta(milliseconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _timed_loads(body: bytes) -> float:
    started = time.perf_counter()
    orjson.loads(body)
    return time.perf_counter() - started
