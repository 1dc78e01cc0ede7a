"""Live exercise sessions: one watcher per followed session, many followers, server-sent events.

A session with followers has one watcher task in this process. It moves game time with the wall
clock (`exercises.tick`), notices a new log entry or chat message, reads the session once and
hands the new state to every follower, who shows it as its participant may see it. A step taken
through this process pokes the watcher, so it is seen at once; one taken by another process
(`serve --workers N`) is seen at the next round, within `interval` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from trustbubble.services import exercises
from trustbubble.services.exercises import Live, Participant
from trustbubble.store import exercises as store
from trustbubble.store.database import Database

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
SAID_KEPT = 500  # the chat messages a watcher keeps for followers that fall behind


@dataclass(slots=True)
class _Watched:
    current: Live
    version: int = 0
    followers: int = 0
    said: list[store.Said] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    poked: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class Hub:
    """The sessions followed in this process."""

    def __init__(self, db: Database, interval: float = 1.0) -> None:
        self.db = db
        self.interval = interval
        self._watched: dict[str, _Watched] = {}

    def poke(self, session_id: str) -> None:
        """Something changed in the session: look now rather than at the next round."""
        watched = self._watched.get(session_id)
        if watched is not None:
            watched.poked.set()

    @contextlib.asynccontextmanager
    async def _follow(self, session_id: str) -> AsyncIterator[_Watched]:
        watched = self._watched.get(session_id)
        if watched is None:
            current = await run_in_threadpool(exercises.live, self.db, session_id, 0)
            watched = self._watched.setdefault(session_id, _Watched(current))
            watched.said = current.said[-SAID_KEPT:]
        watched.followers += 1
        if watched.task is None:
            watched.task = asyncio.create_task(self._watch(session_id, watched))
        try:
            yield watched
        finally:
            watched.followers -= 1
            if watched.followers == 0:
                if watched.task is not None:
                    watched.task.cancel()
                self._watched.pop(session_id, None)

    async def _watch(self, session_id: str, watched: _Watched) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watched.poked.wait(), self.interval)
            watched.poked.clear()
            last = watched.said[-1].id if watched.said else 0
            try:
                fresh = await run_in_threadpool(self._look, session_id, watched.current, last)
            except Exception:  # a store hiccup must not stop the session's clock for good
                log.exception("watching exercise session %s", session_id)
                continue
            if fresh is None:
                continue
            async with watched.changed:
                watched.current = fresh
                watched.said = (watched.said + fresh.said)[-SAID_KEPT:]
                watched.version += 1
                watched.changed.notify_all()

    def _look(self, session_id: str, seen: Live, said: int) -> Live | None:
        """The session again if its log, its players or its chat moved on, after moving its
        clock."""
        exercises.tick(self.db, session_id)
        with self.db.read() as conn:
            same = (
                store.last_seq(conn, session_id) == seen.seq
                and store.last_said(conn, session_id) == said
                and store.players(conn, session_id) == seen.players
            )
        return None if same else exercises.live(self.db, session_id, said)

    async def events(
        self,
        session_id: str,
        who: Participant,
        screen: Callable[[Live, list[str]], str],
        said: Callable[[list[store.Said], bool], str],
    ) -> AsyncIterator[str]:
        """Server-sent events for one participant: `screen` with the whole of what they see
        (first, and whenever a step is taken or a role cast), `chat` with all their teams'
        messages first, then `said` with each newer one. Ends when they leave the session."""
        async with self._follow(session_id) as watched:
            seen_version = -1
            seen_screen: tuple[object, ...] = ()
            seen_said = -1
            while True:
                current = watched.current
                roles = exercises.roles_of(current, who)
                if roles is None:
                    return
                if watched.version != seen_version:
                    seen_version = watched.version
                    key = (current.seq, tuple(sorted(current.names.items())))
                    if key != seen_screen:
                        seen_screen = key
                        yield _event("screen", screen(current, roles))
                    teams = set(exercises.teams_of(current, roles))
                    new = [s for s in watched.said if s.id > seen_said and s.team in teams]
                    if seen_said < 0:
                        yield _event("chat", said(new, True))
                    elif new:
                        yield _event("said", said(new, False))
                    seen_said = watched.said[-1].id if watched.said else 0
                if not await _moved_on(watched, seen_version):
                    yield ": still here\n\n"


async def _moved_on(watched: _Watched, seen: int) -> bool:
    """Wait for a version after `seen`; False if none came before the keep-alive is due."""

    def moved() -> bool:
        return watched.version != seen

    async with watched.changed:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watched.changed.wait_for(moved), KEEPALIVE_SECONDS)
    return moved()


def _event(name: str, data: str) -> str:
    lines = "\n".join(f"data: {line}" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n\n"
