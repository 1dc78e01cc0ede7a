"""Load: 200 concurrent clients for 60 seconds on TAXII, the pages and the observatory at once.

Run from the repository root with the project's virtual environment:

    .venv/bin/python bench/load.py [--clients 200] [--seconds 60]
        [--backends sqlite,postgresql] [--postgresql URL] [--workers 4] [--preload 2000]
        [--quiet-load 1.5] [--quiet-wait 1200] [--output docs/benchmarks.md]

For each backend the script fills a fresh store with the demo node (`trustbubble demo
--no-serve`, one API token per demo user), starts `trustbubble serve` on it (one process on
SQLite, `--workers` processes on PostgreSQL), shares `--preload` more objects over TAXII, and
signs each client in through the sign-in form. Once the machine's 1-minute load average is under
`--quiet-load` (or after `--quiet-wait` seconds), one client times each kind of request alone,
then every client loops for `--seconds`: draw a request from the mix, check the answer, think,
again. See docs/benchmarks.md, section "Load".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from sqlalchemy import create_engine, text

from load_clients import (
    ALONE_REQUESTS,
    KEEPALIVE_SECONDS,
    KINDS,
    SIGN_IN_AT_ONCE,
    THINK_SECONDS,
    TIMEOUT_SECONDS,
    Client,
    Person,
    Tally,
    discover,
    post,
    read_catalogs,
    sign_in,
    watch_lag,
    work,
)
from load_content import new_objects
from load_node import Node, database, fill, serving
from load_report import END, START, error_lines, render
from taxii_report import source_revision, write_markdown
from taxii_servers import log
from trustbubble.store.database import normalize_url

SEED = 20_261_128
CLIENT_PRIORITY = 10  # nice levels above the server, for the clients' process (needs root)
RESULTS = Path(__file__).resolve().parent / "results"
PRELOAD_ENVELOPE = 100


@dataclass
class Run:
    """One backend's run and the conditions it ran in."""

    backend: str
    workers: int
    clients: int
    seconds: float
    tally: Tally = field(default_factory=Tally)
    elapsed: float = 0.0  # from the start until the last client's last answer
    users: list[str] = field(default_factory=list)  # the demo users the clients act as
    left_out: list[str] = field(default_factory=list)  # demo users with no bubble to work in
    sign_in_ms: list[float] = field(default_factory=list)
    waited: float = 0.0  # seconds spent waiting for a quiet machine
    quiet: bool = True  # False: the load average stayed above the bar for the whole wait
    load_start: float = 0.0
    load_end: float = 0.0
    server_cpu: float = 0.0  # seconds, the server and its workers, during the run
    client_cpu: float = 0.0  # seconds, this process, during the run
    posted: int = 0
    stored_before: int = 0  # object versions in the store
    stored_after: int = 0
    log_problems: list[str] = field(default_factory=list)
    source: str = ""
    alone: Tally = field(default_factory=Tally)  # one request at a time, before the run
    alone_as: str = ""  # the user of that client
    lag_ms: list[float] = field(default_factory=list)  # the clients' event loop, during the run
    client_priority: int = 0  # how many nice levels the clients ran above the server
    alone_cpu_ms: dict[str, float] = field(default_factory=dict)  # server CPU per request


def _stored(database_url: str) -> int:
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM objects")).scalar_one())
    finally:
        engine.dispose()


@contextmanager
def _ahead_of_the_server(run: Run) -> Iterator[None]:
    """Run the clients at a higher CPU priority than the server they load, when allowed.

    On a shared machine a starved client reads answers seconds late: its latencies then hold
    its own delay, and it reuses connections the server has already had idle for its whole
    keep-alive time (5 s), which fail. A load generator should not be the bottleneck it measures.
    Only this thread is raised; the server, started before, keeps its priority.
    """
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, before - CLIENT_PRIORITY)
    except PermissionError:
        yield
        return
    run.client_priority = CLIENT_PRIORITY
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)  # the next server must not inherit it


async def _wait_for_quiet(bar: float, most: float, run: Run) -> None:
    """Wait until the machine's 1-minute load average is under `bar`, for at most `most` s."""
    started = time.monotonic()
    said = started - 60
    while (load := os.getloadavg()[0]) >= bar:
        run.waited = time.monotonic() - started
        if run.waited >= most:
            run.quiet = False
            log(f"  the load average is still {load:.2f} after {run.waited / 60:.0f} min; going on")
            return
        if time.monotonic() - said >= 60:
            log(f"  load average {load:.2f}, waiting for it to fall under {bar}")
            said = time.monotonic()
        await asyncio.sleep(5)
    run.waited = time.monotonic() - started


async def _prepare(
    node: Node, run: Run, preload: int, rng: random.Random
) -> tuple[list[Person], list[httpx2.Cookies]]:
    """Who the clients are and what they may read; more objects; one session per client."""
    timeout = httpx2.Timeout(TIMEOUT_SECONDS * 4)
    async with httpx2.AsyncClient(base_url=node.base, timeout=timeout) as setup:
        people = [await discover(setup, account) for account in node.accounts]
        run.left_out = [p.account.email for p in people if not p.bubbles]
        people = [p for p in people if p.bubbles]
        run.users = [p.account.email for p in people]
        writers = [p for p in people if p.writable]
        for n in range(preload // PRELOAD_ENVELOPE):
            writer = writers[n % len(writers)]
            bubble = rng.choice(writer.writable)
            problem = await post(
                setup, writer, bubble, new_objects(rng, PRELOAD_ENVELOPE, writer.author)
            )
            if problem is not None:
                raise SystemExit(f"preloading as {writer.account.email}: {problem}")
        for person in people:
            await read_catalogs(setup, person)
    gate = asyncio.Semaphore(SIGN_IN_AT_ONCE)

    async def session(n: int) -> httpx2.Cookies:
        async with gate, httpx2.AsyncClient(base_url=node.base, timeout=timeout) as browser:
            started = time.perf_counter()
            await sign_in(browser, people[n % len(people)].account)
            run.sign_in_ms.append((time.perf_counter() - started) * 1000)
            return browser.cookies

    cookies = await asyncio.gather(*(session(n) for n in range(run.clients)))
    return people, list(cookies)


async def _alone(node: Node, run: Run, person: Person, cookies: httpx2.Cookies) -> None:
    """Each kind of request, one at a time from one client: its cost without a queue."""
    timeout = httpx2.Timeout(TIMEOUT_SECONDS)
    async with (
        httpx2.AsyncClient(base_url=node.base, timeout=timeout, cookies=cookies) as browser,
        httpx2.AsyncClient(base_url=node.base, timeout=timeout) as visitor,
    ):
        client = Client(person, browser, visitor, random.Random(SEED - 1))
        run.alone_as = person.account.email
        kinds = [k for k in KINDS if k.name != "taxii post" or person.writable]
        for kind in kinds:  # the first of each kind pays for templates, plans and caches
            await client.request(kind, Tally())
        for kind in kinds:
            cpu = node.cpu_seconds()
            for _ in range(ALONE_REQUESTS):
                await client.request(kind, run.alone)
            run.alone_cpu_ms[kind.name] = (node.cpu_seconds() - cpu) * 1000 / ALONE_REQUESTS


async def _drive(node: Node, run: Run, args: argparse.Namespace) -> None:
    rng = random.Random(SEED)
    people, cookies = await _prepare(node, run, args.preload, rng)
    log(f"  {len(people)} users, {run.clients} clients signed in; objects ready")
    # Timed alone as the person who may write in the most bubbles, so the POST is timed too.
    widest = max(
        range(len(people)), key=lambda n: (len(people[n].writable), len(people[n].bubbles))
    )
    await _wait_for_quiet(args.quiet_load, args.quiet_wait, run)
    await _alone(node, run, people[widest], cookies[widest])
    # A fresh pool for the run, sized so that every client always has a connection. An idle
    # connection is dropped well before uvicorn closes it (5 s after its last answer): a
    # request sent as the server closes would fail, where a browser would quietly resend it.
    limits = httpx2.Limits(
        max_connections=run.clients,
        max_keepalive_connections=run.clients,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )
    timeout = httpx2.Timeout(TIMEOUT_SECONDS)
    async with httpx2.AsyncHTTPTransport(limits=limits) as transport:
        # Clients share the pool but not their cookies; they are never closed one by one,
        # since closing a client closes its transport.
        clients = [
            Client(
                person=people[n % len(people)],
                browser=httpx2.AsyncClient(
                    base_url=node.base, transport=transport, timeout=timeout, cookies=cookies[n]
                ),
                visitor=httpx2.AsyncClient(
                    base_url=node.base, transport=transport, timeout=timeout
                ),
                rng=random.Random(SEED + n),
            )
            for n in range(run.clients)
        ]
        run.stored_before = _stored(node.database_url)
        run.load_start = os.getloadavg()[0]
        log(f"  running {run.clients} clients for {run.seconds:.0f} s (load {run.load_start:.2f})")
        server_cpu, client_cpu = node.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        until = started + run.seconds
        await asyncio.gather(
            watch_lag(until, run.lag_ms), *(work(client, until, run.tally) for client in clients)
        )
        run.elapsed = time.perf_counter() - started
        run.server_cpu = node.cpu_seconds() - server_cpu
        run.client_cpu = time.process_time() - client_cpu
        run.load_end = os.getloadavg()[0]
    run.posted = sum(client.posted for client in clients)
    run.stored_after = _stored(node.database_url)


def measure(backend: str, args: argparse.Namespace) -> Run:
    workers = 1 if backend == "sqlite" else args.workers
    run = Run(backend, workers, args.clients, args.seconds)
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        work_dir = Path(tmp)
        with database(backend, args.postgresql, work_dir) as url:
            log(f"{backend}: loading the demo node")
            accounts = fill(url, work_dir)
            run.source = source_revision()  # what `trustbubble serve` is about to load
            with serving(url, work_dir, workers, accounts) as node:
                log(f"{backend}: {workers} worker(s) up at {node.base}")
                try:
                    with _ahead_of_the_server(run):
                        asyncio.run(_drive(node, run, args))
                finally:
                    run.log_problems = node.log_problems()
                    RESULTS.mkdir(exist_ok=True)  # git-ignored
                    shutil.copy(node.log_path, RESULTS / f"load-{backend}-serve.log")
    log(
        f"{backend}: {run.tally.requests:,} requests in {run.elapsed:.1f} s, "
        f"{run.tally.requests / run.elapsed:,.0f}/s, {run.tally.error_count} errors; "
        f"load {run.load_start:.2f} -> {run.load_end:.2f}"
    )
    for line in error_lines(run.tally):
        log(f"  {line}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="sqlite, postgresql or both"
    )
    parser.add_argument(
        "--postgresql",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server URL; the script makes and drops its own database there",
    )
    parser.add_argument("--workers", type=int, default=4, help="server processes on PostgreSQL")
    parser.add_argument("--preload", type=int, default=2000, help="objects shared before the run")
    parser.add_argument(
        "--quiet-load", type=float, default=1.5, help="start once the 1-minute load is under this"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=1200.0, help="seconds to wait for that at most"
    )
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    runs = [measure(backend, args) for backend in backends]
    section = render(runs, args, THINK_SECONDS, TIMEOUT_SECONDS)
    print(section)
    write_markdown(args.output, section, START, END)


if __name__ == "__main__":
    main()
