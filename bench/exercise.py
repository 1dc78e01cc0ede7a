"""Benchmark live play: players of one exercise session, each following it over server-sent events.

Run from the repository root with the project's virtual environment:

    .venv/bin/python bench/exercise.py [--players 30] [--teams 6] [--releases 40]
        [--spacing 0.25] [--backends sqlite,postgresql] [--postgresql URL]
        [--output docs/benchmarks.md]

The script writes a scenario of `--teams` teams sharing `--players` roles and `--releases`
injects that only the facilitator releases, each told to every role, and checks it as the node
does. For each backend it starts `trustbubble serve` on a fresh store (a SQLite file in a
temporary directory, or a database it creates and drops on the PostgreSQL server of
`--postgresql`), creates a session from that scenario and casts one guest per role. Every guest
follows the session over its own server-sent events connection; the facilitator starts the
session and releases the injects one at a time, `--spacing` seconds apart. Measured, per release
and player: from just before the release POST is sent until that player's `screen` event holding
the inject has been parsed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import orjson
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from taxii_report import command_line, machine, source_revision, write_markdown
from taxii_servers import free_port, log
from trustbubble.domain.exercises.scenario import RESOURCES, read_scenario
from trustbubble.store.database import normalize_url

START = "<!-- bench/exercise.py: start (generated; a rerun replaces this section) -->"
END = "<!-- bench/exercise.py: end -->"
P99_TARGET_MS = 200.0
ARRIVAL_TIMEOUT = 10.0  # seconds a release may take to reach every player before it counts lost
SETUP_TIMEOUT = 120.0
CLI = Path(sys.executable).with_name("trustbubble")
FACILITATOR = "facilitator@bench.test"
ROLE_NAMES = ("Health ministry", "National CERT", "Foreign ministry", "Hospital group", "Regulator")
CHANNELS = ("news", "intelligence", "email", "phone", "social-media")


# -- the scenario ------------------------------------------------------------------------------


def scenario_source(teams: int, players: int, releases: int) -> tuple[str, list[str], list[str]]:
    """A scenario's YAML, its role ids and the ids of the injects released by hand.

    One inject at minute 0 opens a decision for each team's first role, so the screens carry an
    open decision as in real play; the others have no `at` and go to every role.
    """
    team_ids = [f"state-{t + 1}" for t in range(teams)]
    roles = [
        {
            "id": f"{team_ids[n % teams]}-role-{n // teams + 1}",
            "team": team_ids[n % teams],
            "name": f"State {n % teams + 1} {ROLE_NAMES[(n // teams) % len(ROLE_NAMES)]}",
        }
        for n in range(players)
    ]
    everyone = [r["id"] for r in roles]
    leads = [next(r["id"] for r in roles if r["team"] == team) for team in team_ids]
    by_hand = [f"update-{n + 1}" for n in range(releases)]
    injects: list[dict[str, Any]] = [
        {
            "id": "outbreak",
            "at": 0,
            "channel": "news",
            "title": "Ransomware hits hospitals in several states at once",
            "content": "Emergency rooms divert ambulances; laboratories cannot send results.",
            "roles": list(everyone),  # a list of its own: a shared one is dumped as an alias
        }
    ]
    injects += [
        {
            "id": inject,
            "channel": CHANNELS[n % len(CHANNELS)],
            "title": f"Situation update {n + 1}: the attack reaches another sector",
            "content": (
                f"Update {n + 1}. Partner CERTs report new encrypted systems in hospitals and "
                "water utilities; the ransom note names a deadline; journalists ask whether a "
                "state is behind it and whether patients are at risk. "
            )
            * 2,
            "roles": list(everyone),
        }
        for n, inject in enumerate(by_hand)
    ]
    data = {
        "id": "bench-live-play",
        "version": 1,
        "title": f"Benchmark: {players} players in {teams} teams",
        "audience": "A benchmark of live play",
        "minutes": 120,
        "seed": 1,
        "objectives": [{"id": "ask-for-help", "text": "Ask for help in time.", "norms": ["h"]}],
        "teams": [{"id": team, "name": f"State {t + 1}"} for t, team in enumerate(team_ids)],
        "roles": roles,
        "resources": dict.fromkeys(RESOURCES, 80),
        "injects": injects,
        "decisions": [
            {
                "id": "ask",
                "opens_with": "outbreak",
                "roles": leads,
                "prompt": "Do you ask a partner state's CERT for help?",
                "minutes": 120,
                "default": "wait",
                "options": [
                    {"id": "ask", "text": "Ask now.", "upholds": ["h"]},
                    {"id": "wait", "text": "Wait and see.", "strains": ["h"]},
                ],
            }
        ],
        "end": {"minutes": 120},
        "debrief": ["What would you do differently?"],
    }
    source = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
    read_scenario(source, "bench scenario")  # InvalidScenario says what is wrong
    return source, everyone, by_hand


# -- the node ----------------------------------------------------------------------------------


def _cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([str(CLI), *args, "--json"], env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"trustbubble {' '.join(args)} failed:\n{done.stderr.decode()}")
    lines = [line for line in done.stdout.decode().splitlines() if line.strip()]
    answer: dict[str, Any] = orjson.loads(lines[-1]) if lines else {}
    return answer


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    base: str
    password: str
    log_path: Path

    def cpu_seconds(self) -> float:
        """User and system CPU time the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _database(backend: str, pg_url: str, work: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{work / 'node.sqlite3'}"
        return
    name = f"tb_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def running_node(database_url: str, work: Path) -> Iterator[Node]:
    """`trustbubble serve` on a free port, with one organization and a facilitator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTBUBBLE_")}
    env["TRUSTBUBBLE_DATABASE_URL"] = database_url
    _cli(env, "db", "upgrade")
    _cli(env, "org", "add", "Bench CERT", "--kind", "cert", "--country", "FR")
    user = _cli(env, "user", "add", FACILITATOR, "--org", "Bench CERT", "--role", "analyst")
    port = free_port()
    log_path = work / "serve.log"
    with log_path.open("wb") as output:
        # A file, not a pipe: a pipe nobody reads would fill and stall the node.
        process = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    node = Node(process, f"http://127.0.0.1:{port}", str(user["password"]), log_path)
    try:
        _wait_until_up(node)
        yield node
    except BaseException:
        log(f"the node's log ends with:\n{log_path.read_text(errors='replace')[-4000:]}")
        raise
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()


def _wait_until_up(node: Node, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx2.Client(timeout=2.0) as client:
        while True:
            if node.process.poll() is not None:
                raise SystemExit(f"the node exited with {node.process.returncode}")
            try:
                if client.get(node.base + "/api/v1/scenarios").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the node did not answer within {timeout:.0f} s")
            time.sleep(0.1)


# -- play --------------------------------------------------------------------------------------


@dataclass
class Player:
    token: str
    seen: dict[str, float] = field(default_factory=dict)  # inject -> when first parsed
    started: bool = False
    screens: int = 0
    screen_bytes: int = 0
    failures: list[str] = field(default_factory=list)  # why each stream of its ended


@dataclass
class Result:
    backend: str
    arrivals_ms: list[float] = field(default_factory=list)  # every player of every release
    last_ms: list[float] = field(default_factory=list)  # the slowest player, per release
    post_ms: list[float] = field(default_factory=list)
    lost: int = 0  # arrivals still missing after ARRIVAL_TIMEOUT
    server_cpu_ms: float = 0.0  # per release, over the release phase
    client_cpu_ms: float = 0.0  # the same, of this process: every player's stream and parse
    screen_bytes: float = 0.0  # mean size of a screen event's data
    screens: int = 0
    join_ms: float = 0.0  # from opening every stream until every player has a first screen
    start_ms: float = 0.0  # from the start POST until every player sees the session started
    join_failures: list[str] = field(default_factory=list)  # streams that failed, until joined
    play_failures: list[str] = field(default_factory=list)  # and after


async def _follow(
    client: httpx2.AsyncClient, url: str, player: Player, moved: asyncio.Event
) -> None:
    """Read one player's event stream until cancelled, noting when each inject first shows.

    A stream that fails or ends is opened again a second later and the failure kept (a browser
    retries a dropped stream, but not one refused with an error status); the first screen on
    the new stream carries every inject released meanwhile.
    """
    headers = {"X-Guest-Token": player.token, "Accept": "text/event-stream"}
    while True:
        try:
            async with client.stream("GET", url, headers=headers) as response:
                response.raise_for_status()
                event, data = "", []
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif not line and event:
                        if event == "screen":
                            _screen(player, "\n".join(data))
                            moved.set()
                        event, data = "", []
        except httpx2.HTTPStatusError as error:
            player.failures.append(f"answered {error.response.status_code}")
        except (httpx2.HTTPError, ValueError, KeyError) as error:
            player.failures.append(f"{type(error).__name__}: {error}"[:200])
        else:
            player.failures.append("the stream ended")
        await asyncio.sleep(1.0)


def _screen(player: Player, body: str) -> None:
    view = orjson.loads(body)
    now = time.perf_counter()
    player.screens += 1
    player.screen_bytes += len(body)
    player.started = bool(view["started"])
    for inject in view["screens"][0]["injects"]:
        player.seen.setdefault(inject["id"], now)


def _stuck(players: list[Player], what: str) -> str:
    errors = sorted({e for p in players for e in p.failures})
    return f"a player {what} within {SETUP_TIMEOUT:.0f} s" + "".join(f"; {e}" for e in errors)


def _all_saw(players: list[Player], inject: str) -> bool:
    return all(inject in p.seen for p in players)


async def _until(ready: Callable[[], bool], moved: asyncio.Event, timeout: float) -> bool:
    """Wait until `ready()`, looking again whenever a player's screen moved; False on timeout."""
    deadline = time.perf_counter() + timeout
    while not ready():
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        moved.clear()
        try:
            await asyncio.wait_for(moved.wait(), left)
        except TimeoutError:
            return ready()
    return True


async def play(
    node: Node, result: Result, source: str, roles: list[str], injects: list[str], spacing: float
) -> None:
    auth = httpx2.BasicAuth(FACILITATOR, node.password)
    # Before its first byte, a stream waits for the node to answer every other player too.
    timeout = httpx2.Timeout(10.0, read=SETUP_TIMEOUT)
    limits = httpx2.Limits(max_connections=len(roles) + 5, max_keepalive_connections=len(roles))
    async with (
        httpx2.AsyncClient(base_url=node.base, auth=auth, timeout=timeout) as facilitator,
        httpx2.AsyncClient(base_url=node.base, timeout=timeout, limits=limits) as guests,
    ):
        made = await facilitator.post(
            "/api/v1/exercises", json={"source": source, "title": "Benchmark session"}
        )
        made.raise_for_status()
        session = f"/api/v1/exercises/{made.json()['id']}"
        players = []
        for n, role in enumerate(roles):
            cast = await facilitator.post(
                f"{session}/players", json={"role": role, "guest_name": f"Player {n + 1}"}
            )
            cast.raise_for_status()
            players.append(Player(cast.json()["guest_token"]))
        moved = asyncio.Event()
        opened = time.perf_counter()
        followers = [
            asyncio.create_task(_follow(guests, f"{session}/events", p, moved)) for p in players
        ]
        try:
            if not await _until(lambda: all(p.screens for p in players), moved, SETUP_TIMEOUT):
                raise SystemExit(_stuck(players, "had no first screen"))
            result.join_ms = (time.perf_counter() - opened) * 1000
            result.join_failures = [e for p in players for e in p.failures]
            sent = time.perf_counter()
            answer = await facilitator.post(f"{session}/steps", json={"step": "start"})
            answer.raise_for_status()
            if not await _until(lambda: all(p.started for p in players), moved, SETUP_TIMEOUT):
                raise SystemExit(_stuck(players, "did not see the start"))
            result.start_ms = (time.perf_counter() - sent) * 1000
            await asyncio.sleep(spacing)
            cpu_before, client_before = node.cpu_seconds(), time.process_time()
            for inject in injects:
                sent = time.perf_counter()
                answer = await facilitator.post(
                    f"{session}/steps", json={"step": "release", "inject": inject}
                )
                result.post_ms.append((time.perf_counter() - sent) * 1000)
                answer.raise_for_status()
                await _until(partial(_all_saw, players, inject), moved, ARRIVAL_TIMEOUT)
                times = [(p.seen[inject] - sent) * 1000 for p in players if inject in p.seen]
                result.lost += len(players) - len(times)
                result.arrivals_ms += times
                result.last_ms.append(max(times, default=ARRIVAL_TIMEOUT * 1000))
                await asyncio.sleep(max(0.0, sent + spacing - time.perf_counter()))
            result.server_cpu_ms = (node.cpu_seconds() - cpu_before) * 1000 / len(injects)
            result.client_cpu_ms = (time.process_time() - client_before) * 1000 / len(injects)
        finally:
            for task in followers:
                task.cancel()
            await asyncio.gather(*followers, return_exceptions=True)
        every = [e for p in players for e in p.failures]
        result.play_failures = every[len(result.join_failures) :]
        result.screens = sum(p.screens for p in players)
        result.screen_bytes = sum(p.screen_bytes for p in players) / max(1, result.screens)


def measure(backend: str, pg_url: str, args: argparse.Namespace) -> Result:
    source, roles, injects = scenario_source(args.teams, args.players, args.releases)
    result = Result(backend)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with _database(backend, pg_url, work) as url, running_node(url, work) as node:
            log(f"{backend}: node up at {node.base}; {args.releases} releases to {len(roles)}")
            asyncio.run(play(node, result, source, roles, injects, args.spacing))
    return result


# -- the report --------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _failures(found: list[str]) -> str:
    if not found:
        return "0"
    counts = {e: found.count(e) for e in sorted(set(found))}
    return f"{len(found)} (" + ", ".join(f"{n} {e}" for e, n in counts.items()) + ")"


def render(results: list[Result], args: argparse.Namespace) -> str:
    facts = machine()
    lines = [
        START,
        f"### Results of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command, from the repository root: `{command_line()}`",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory']} RAM, {facts['os']};"
        f" Python {facts['python']}, SQLite {facts['sqlite']}; {facts['packages']}.",
        "",
        f"Source: TrustBubble at {source_revision()}.",
        "",
        f"Session: {args.players} guests in {args.teams} teams, one server-sent events stream "
        f"each; {args.releases} injects released by hand, each to every player, at most one "
        f"every {args.spacing * 1000:.0f} ms and each once the one before reached everyone.",
        "",
        "From the release POST to each player's parsed `screen` event:",
        "",
        "| store | arrivals | p50 ms | p90 ms | p99 ms | max ms "
        "| slowest player per release: p50 ms | max ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        a = r.arrivals_ms or [0.0]
        lost = f" ({r.lost} lost)" if r.lost else ""
        lines.append(
            f"| {r.backend} | {len(r.arrivals_ms):,}{lost} | {percentile(a, 0.5):.1f} "
            f"| {percentile(a, 0.9):.1f} | {percentile(a, 0.99):.1f} | {max(a):.1f} "
            f"| {statistics.median(r.last_ms or [0.0]):.1f} | {max(r.last_ms or [0.0]):.1f} |"
        )
    lines += [
        "",
        "| store | release POST p50 ms | p99 ms | CPU per release ms: server | client "
        "| screen event KB (mean) | screen events | all streams opened at once: "
        "every first screen after ms | streams failed while joining | after "
        "| start POST until everyone sees it ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|---|--:|",
    ]
    for r in results:
        post = r.post_ms or [0.0]
        lines.append(
            f"| {r.backend} | {percentile(post, 0.5):.1f} | {percentile(post, 0.99):.1f} "
            f"| {r.server_cpu_ms:.1f} | {r.client_cpu_ms:.1f} "
            f"| {r.screen_bytes / 1000:.1f} | {r.screens:,} "
            f"| {r.join_ms:,.0f} | {_failures(r.join_failures)} | {_failures(r.play_failures)} "
            f"| {r.start_ms:,.0f} |"
        )
    lines += ["", "| target | measured | verdict |", "|---|---|---|"]
    for r in results:
        p99 = percentile(r.arrivals_ms or [float("inf")], 0.99)
        met = p99 < P99_TARGET_MS and not r.lost
        lost = f", {r.lost} arrivals lost" if r.lost else ""
        lines.append(
            f"| release to every player, p99 under {P99_TARGET_MS:.0f} ms ({r.backend}) "
            f"| {p99:.1f} ms{lost} | {'met' if met else '**not met**'} |"
        )
    lines += ["", END, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--players", type=int, default=30, help="one guest per role")
    parser.add_argument("--teams", type=int, default=6)
    parser.add_argument("--releases", type=int, default=40, help="injects released by hand")
    parser.add_argument("--spacing", type=float, default=0.25, help="seconds between releases")
    parser.add_argument("--backends", default="sqlite", help="sqlite, postgresql or both")
    parser.add_argument(
        "--postgresql",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL server URL; the script makes and drops its own database there",
    )
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    if args.players < args.teams:
        parser.error("every team needs at least one player")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results = [measure(backend, args.postgresql, args) for backend in backends]
    section = render(results, args)
    print(section)
    write_markdown(args.output, section, START, END)


if __name__ == "__main__":
    main()
