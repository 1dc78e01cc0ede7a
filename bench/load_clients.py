"""The load's clients: people of the demo node using TAXII, the pages and the observatory at once.

Each client is one person (a demo user: an API token for TAXII and the JSON API, a signed-in
session cookie for the pages) with the bubbles and objects that person may read, found
beforehand. For the whole run, each client draws a request from the mix, waits for its answer,
thinks, and draws again. Every answer is checked against what that person should get.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson

from load_content import new_objects
from load_node import Account

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/bubbles/collections"
THINK_SECONDS = (0.05, 0.15)  # uniform: the pause after each answer
TIMEOUT_SECONDS = 30.0  # a request still unanswered after this counts as an error
KEEPALIVE_SECONDS = 2.0  # an idle connection is closed after this, well below uvicorn's 5 s
POST_OBJECTS = (50, 100)  # objects per POSTed envelope, uniform
ALONE_REQUESTS = 20  # of each kind, one at a time, before the run
SIGN_IN_AT_ONCE = 8  # argon2 per sign-in: more at once would only queue in the server
OBSERVATORY_QUERIES = (
    "",
    "since=2019-01-01",
    "since=2019-01-01&country=FR",
    "sector=healthcare&attack_type=ransomware",
    "since=2020-01-01&until=2020-12-31",
)
INCIDENT_QUERIES = ("", "", "country=FR", "sort=patients", "attack_type=ransomware")


@dataclass(frozen=True)
class Kind:
    name: str
    weight: int
    what: str


# The mix: each client draws its next request with these weights (a client that may write in
# none of its bubbles never draws the POST; the counts measured are in the report).
KINDS = (
    Kind("taxii objects page", 18, "`GET .../objects/?added_after=T&limit=L`, L 20 or 100"),
    Kind("taxii manifest", 8, "`GET .../manifest/?added_after=T&limit=100`"),
    Kind("taxii one object", 12, "`GET .../objects/ID/`"),
    Kind("taxii post", 4, "`POST .../objects/`, an envelope of 50 to 100 new objects"),
    Kind("page dashboard", 8, "`GET /`"),
    Kind("page bubble", 6, "`GET /bubbles/ID`"),
    Kind("page incidents", 6, "`GET /incidents`, sometimes filtered or sorted"),
    Kind("page observatory", 4, "`GET /observatory` signed in, sometimes filtered"),
    Kind("page object", 8, "`GET /bubbles/ID/objects/STIX_ID`"),
    Kind("json bubble observatory", 10, "`GET /api/v1/bubbles/ID/observatory`, Bearer, filters"),
    Kind("public observatory page", 8, "`GET /observatory`, anonymous, filters"),
    Kind("public observatory json", 8, "`GET /api/v1/observatory`, anonymous, filters"),
)


@dataclass
class Bubble:
    id: str
    can_write: bool
    ids: list[str] = field(default_factory=list)  # objects the person may read there
    added: list[str] = field(default_factory=list)  # their date_added, for added_after


@dataclass
class Person:
    """What one demo user may see, found once and shared by that user's clients."""

    account: Account
    organization: str
    author: str | None  # the organization's STIX identity, for created_by_ref
    bubbles: list[Bubble]

    @property
    def writable(self) -> list[Bubble]:
        return [b for b in self.bubbles if b.can_write]


@dataclass
class Tally:
    """Every answer of the run: latencies per kind, and what went wrong after how long."""

    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[float]] = field(default_factory=dict)  # "kind: reason" -> latencies

    def add(self, kind: str, started: float, problem: str | None) -> None:
        took = (time.perf_counter() - started) * 1000
        self.latencies_ms.setdefault(kind, []).append(took)
        if problem is not None:
            self.errors.setdefault(f"{kind}: {problem}", []).append(took)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies_ms.values())

    @property
    def error_count(self) -> int:
        return sum(len(v) for v in self.errors.values())


def _bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.account.token}", "Accept": TAXII}


async def _manifest(
    client: httpx2.AsyncClient, person: Person, bubble: str
) -> tuple[list[str], list[str]]:
    ids, added, query = [], [], {"limit": "1000"}
    while True:
        answer = await client.get(
            f"{ROOT}/{bubble}/manifest/", params=query, headers=_bearer(person)
        )
        answer.raise_for_status()
        page = orjson.loads(answer.content)
        for entry in page.get("objects", []):
            ids.append(entry["id"])
            added.append(entry["date_added"])
        if not page.get("more"):
            return ids, added
        query = {"limit": "1000", "next": page["next"]}


async def discover(client: httpx2.AsyncClient, account: Account) -> Person:
    """The user's bubbles (from the dashboard's JSON twin) and organization identity."""
    headers = {"Authorization": f"Bearer {account.token}"}
    answer = await client.get("/api/v1/dashboard", headers=headers)
    answer.raise_for_status()
    dashboard = answer.json()
    bubbles = [Bubble(b["id"], bool(b["can_write"])) for b in dashboard["bubbles"]]
    person = Person(account, dashboard["organization"], None, bubbles)
    for bubble in bubbles:
        found = await client.get(
            f"{ROOT}/{bubble.id}/objects/?match[type]=identity&limit=1000",
            headers=_bearer(person),
        )
        found.raise_for_status()
        for identity in orjson.loads(found.content).get("objects", []):
            if identity.get("name") == person.organization:
                person.author = identity["id"]
    return person


async def read_catalogs(client: httpx2.AsyncClient, person: Person) -> None:
    for bubble in person.bubbles:
        bubble.ids, bubble.added = await _manifest(client, person, bubble.id)


async def post(
    client: httpx2.AsyncClient, person: Person, bubble: Bubble, objects: list[dict[str, Any]]
) -> str | None:
    """POST an envelope; None when every object was stored, else what went wrong."""
    answer = await client.post(
        f"{ROOT}/{bubble.id}/objects/",
        content=orjson.dumps({"objects": objects}),
        headers={**_bearer(person), "Content-Type": TAXII},
    )
    if answer.status_code != 202:
        return f"answered {answer.status_code}"
    status = orjson.loads(answer.content)
    if status.get("status") != "complete" or status.get("success_count") != len(objects):
        return f"stored {status.get('success_count')} of {len(objects)}"
    return None


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(browser: httpx2.AsyncClient, account: Account) -> None:
    """Sign in through the form, as a browser does: the form's CSRF token, then the POST."""
    form = await browser.get("/sign-in")
    form.raise_for_status()
    token = _CSRF.search(form.text)
    if token is None:
        raise RuntimeError("the sign-in form has no CSRF field")
    answer = await browser.post(
        "/sign-in",
        data={
            "email": account.email,
            "password": account.password,
            "csrf": token.group(1),
            "next": "/",
        },
    )
    if answer.status_code != 303 or "tb_session" not in browser.cookies:
        raise RuntimeError(
            f"sign-in of {account.email} answered {answer.status_code}: {answer.text[:300]}"
        )


@dataclass
class Client:
    """One person at work: a browser with its session cookie, TAXII and JSON with a token."""

    person: Person
    browser: httpx2.AsyncClient  # keeps this client's cookies
    visitor: httpx2.AsyncClient  # anonymous, its own cookies
    rng: random.Random
    mine: dict[str, list[str]] = field(default_factory=dict)  # bubble -> ids it posted
    posted: int = 0  # objects stored by its POSTs

    def draw(self) -> Kind:
        kinds = [k for k in KINDS if k.name != "taxii post" or self.person.writable]
        return self.rng.choices(kinds, weights=[k.weight for k in kinds])[0]

    def _bubble(self) -> Bubble:
        return self.rng.choice(self.person.bubbles)

    def _object(self, bubble: Bubble) -> str:
        return self.rng.choice(bubble.ids + self.mine.get(bubble.id, []))

    def _since(self, bubble: Bubble) -> str:
        return self.rng.choice(bubble.added)

    async def request(self, kind: Kind, tally: Tally) -> None:
        started = time.perf_counter()
        try:
            problem = await self._send(kind.name)
        except httpx2.TimeoutException as error:
            problem = f"timeout ({type(error).__name__})"
        except httpx2.TransportError as error:
            problem = f"connection error ({type(error).__name__}: {error})"[:200]
        tally.add(kind.name, started, problem)

    async def _send(self, kind: str) -> str | None:
        rng = self.rng
        bubble = self._bubble()
        taxii = f"{ROOT}/{bubble.id}"
        if kind == "taxii post":
            bubble = rng.choice(self.person.writable)
            objects = new_objects(rng, rng.randint(*POST_OBJECTS), self.person.author)
            problem = await post(self.browser, self.person, bubble, objects)
            if problem is None:
                self.mine.setdefault(bubble.id, []).extend(o["id"] for o in objects)
                self.posted += len(objects)
            return problem
        headers = _bearer(self.person)
        client = self.browser
        if kind == "taxii objects page":
            limit = rng.choice((20, 100))
            path = f"{taxii}/objects/?added_after={self._since(bubble)}&limit={limit}"
        elif kind == "taxii manifest":
            path = f"{taxii}/manifest/?added_after={self._since(bubble)}&limit=100"
        elif kind == "taxii one object":
            path = f"{taxii}/objects/{self._object(bubble)}/"
        elif kind == "json bubble observatory":
            headers = {"Authorization": headers["Authorization"]}
            path = f"/api/v1/bubbles/{bubble.id}/observatory?{rng.choice(OBSERVATORY_QUERIES)}"
        else:
            headers = {}
            if kind == "page dashboard":
                path = "/"
            elif kind == "page bubble":
                path = f"/bubbles/{bubble.id}"
            elif kind == "page incidents":
                path = f"/incidents?{rng.choice(INCIDENT_QUERIES)}"
            elif kind == "page observatory":
                path = f"/observatory?{rng.choice(OBSERVATORY_QUERIES)}"
            elif kind == "page object":
                path = f"/bubbles/{bubble.id}/objects/{self._object(bubble)}"
            elif kind == "public observatory page":
                client, path = self.visitor, f"/observatory?{rng.choice(OBSERVATORY_QUERIES)}"
            elif kind == "public observatory json":
                client = self.visitor
                path = f"/api/v1/observatory?{rng.choice(OBSERVATORY_QUERIES)}"
            else:
                raise ValueError(f"unknown request kind {kind!r}")
        answer = await client.get(path, headers=headers)
        if answer.status_code != 200:
            return f"answered {answer.status_code}"
        if kind.startswith("taxii ") and not answer.content.startswith(b"{"):
            return "not a TAXII body"
        return None


async def work(client: Client, until: float, tally: Tally) -> None:
    """Draw, ask, think, until the end of the run; the last request may end after it."""
    await asyncio.sleep(client.rng.uniform(0, THINK_SECONDS[1]))  # not all in the same instant
    while time.perf_counter() < until:
        await client.request(client.draw(), tally)
        await asyncio.sleep(client.rng.uniform(*THINK_SECONDS))


async def watch_lag(until: float, lags_ms: list[float], tick: float = 0.05) -> None:
    """How late this process's event loop wakes: time the clients' own process adds to every
    latency measured (the clients share the cores with the server)."""
    while time.perf_counter() < until:
        asked = time.perf_counter()
        await asyncio.sleep(tick)
        lags_ms.append((time.perf_counter() - asked - tick) * 1000)
