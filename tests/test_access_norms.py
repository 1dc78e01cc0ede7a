"""Property test: national implementation reports obey the access policy (docs/norms.md).

Hypothesis builds random worlds (tests/norms_world.py): organizations of a few countries, most of
them government, most in a constituency; bubbles with memberships in every state; users of every
role. Users then start reports, edit them, submit them as private, to a random set of bubbles at a
random TLP, or public, start new revisions and submit those with another visibility, and discard
drafts, all through the JSON API with their Bearer token. Refused actions (a CERT or a viewer
writing, an observer or constituent sharing into a bubble, editing or discarding a submitted
revision, starting a year that exists, another organization's draft, a TLP for a private report)
must answer the code the model says and change nothing. Organizations then leave, join and change
role, and keepers delete their report from a bubble over TAXII.

Then every user, and an anonymous reader, reads the list of revisions and each revision (its
content, its revisions and where it reaches them), and, turning with the reader, a state's
scorecard, a comparison of two states or a bubble's view. Each answer is compared with an oracle
written from docs/norms.md and docs/access-policy.md, with standing taken from the memberships at
read time.

Each example empties the store first. TRUSTBUBBLE_PROPERTY_EXAMPLES sets how many examples run on
each backend (200 by default); the examples are derandomized, so a run is repeatable.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from hypothesis import HealthCheck, given, settings

from tests.norms_world import (
    AMBER,
    AMBER_STRICT,
    CLEAR,
    COUNTRIES,
    GREEN,
    IMPLEMENTING,
    LABELS,
    LETTERS,
    LEVEL_NAMES,
    MEMBER,
    MEMBER_CONSTITUENT,
    NONE,
    OBSERVER,
    OBSERVER_CONSTITUENT,
    RED,
    YEARS,
    Event,
    Model,
    Person,
    Revision,
    World,
    build,
    change_membership,
    entries_body,
    entries_of,
    forget,
    gap_key,
    snapshot,
    worlds,
)
from trustbubble.store.database import Database

EXAMPLES = int(os.environ.get("TRUSTBUBBLE_PROPERTY_EXAMPLES", "200"))
API = "/api/v1"
REPORTS = f"{API}/norm-reports"
TAXII = "application/taxii+json;version=2.1"
TAXII_COLLECTIONS = "/taxii2/bubbles/collections/"
TLP_OF = {"clear": CLEAR, "green": GREEN, "amber": AMBER, "amber+strict": AMBER_STRICT, "red": RED}


# --- the actions ---

Refusal = tuple[int, str] | None  # the status code and why, or None: the action must succeed


def pick(items: list[Any], index: int) -> Any:
    return items[index % len(items)]


def send(
    db: Database,
    model: Model,
    event: Event,
    refusal: Refusal,
    request: Callable[[], Response],
    success: int,
) -> Response | None:
    """Make the request; a refused one must answer the model's code and change nothing. The
    answer of a successful one, for the caller to follow in the model."""
    before = snapshot(db) if refusal is not None else None
    answer = request()
    if refusal is None:
        assert answer.status_code == success, f"{event}: {answer.status_code} {answer.text}"
        return answer
    code, why = refusal
    assert answer.status_code == code, (
        f"{event}: expected {code} ({why}), got {answer.status_code} {answer.text}"
    )
    assert snapshot(db) == before, f"{event}: refused with {code} ({why}) but changed the store"
    model.reached.add(f"{event.kind} refused: {why}")
    return None


def start(db: Database, client: TestClient, model: Model, event: Event) -> None:
    event = replace(event, kind="start")  # (the other actions start a report when they cannot act)
    writers = [p for p in model.people if p.writes and model.government(p.org)]
    years = [YEARS[(event.year + k) % len(YEARS)] for k in range(len(YEARS))]
    # The proper start: a government writer, for a year its country has no report of yet. The
    # others: a writer of another kind, a viewer, a year already reported, or anyone.
    wrong = [
        [p for p in model.people if p.writes and not model.government(p.org)],
        [p for p in model.people if not p.writes],
        [p for p in writers if any(r.country == model.country(p.org) for r in model.revisions)],
    ]
    how = event.wrong % 4
    if event.proper:  # half the time one that may share into a bubble, if any may
        sharing = [
            p for p in writers if any(model.may_write(p, b) for b in range(len(model.seats)))
        ]
        person: Person = pick(
            (event.target % 2 and sharing) or writers or model.people, event.actor
        )
    elif how < 3 and wrong[how]:
        person = pick(wrong[how], event.actor)
    else:
        person = pick(model.people, event.actor)
    country = model.country(person.org)
    taken = {r.year for r in model.revisions if r.country == country}
    if event.proper:
        year = next((y for y in years if y not in taken), years[0])
    else:
        year = pick(sorted(taken), event.year) if how == 2 and taken else years[0]
    # Copying the previous year's report: the entries sent, if any, win.
    sent = () if event.copy and event.target % 2 else event.entries
    body: dict[str, Any] = {"year": year, "entries": entries_body(sent)}
    if event.copy:
        body["copy_previous"] = True
    refusal: Refusal = None
    if not person.writes:
        refusal = 403, "a viewer"
    elif not model.government(person.org):
        refusal = 403, "not a government"
    elif year in taken:
        keepers = {r.keeper for r in model.revisions if r.key == (country, year)}
        refusal = 409, "the year exists" if person.org in keepers else "another keeper"
    answer = send(
        db, model, event, refusal, lambda: client.post(REPORTS, json=body, headers=person.auth), 201
    )
    if answer is None:
        return
    entries = entries_of(sent)
    if event.copy and not sent:
        earlier = [r for r in model.revisions if r.keeper == person.org and r.year < year]
        if earlier:
            entries = dict(max(earlier, key=lambda r: (r.year, r.number)).entries)
            model.reached.add("a report copied from an earlier year")
    made = answer.json()
    assert (made["revision"], made["state"]) == (1, "draft"), f"{event}: {made}"
    model.revisions.append(Revision(made["id"], country, year, 1, person.org, entries))


def target(
    model: Model, event: Event, wanted: list[Revision], wrong_state: list[Revision]
) -> tuple[Person, str, Revision | None] | None:
    """Who acts on which revision. The proper action: one of the wanted revisions, by a writer of
    its keeper (None when none is wanted). The others, as `event.wrong` says (where the world
    allows): a writer of another organization, a viewer of the keeper, a writer of the keeper on
    a revision in the wrong state, or a discarded draft."""
    if event.proper:
        if not wanted:
            return None  # the caller starts a report instead
        rev: Revision = pick(wanted, event.target)
        person: Person = pick(model.writers_of(rev.keeper), event.actor)
        return person, rev.id, rev
    how = event.wrong % 4
    if (how == 3 and model.gone) or not model.revisions:
        return pick(model.people, event.actor), pick(model.gone, event.target), None
    if how == 2 and wrong_state:
        rev = pick(wrong_state, event.target)
        return pick(model.writers_of(rev.keeper), event.actor), rev.id, rev
    rev = pick(model.revisions, event.target)
    viewers = [p for p in model.people if p.org == rev.keeper and not p.writes]
    others = [p for p in model.people if p.org != rev.keeper]
    person = pick((viewers if how == 1 else others) or model.people, event.actor)
    return person, rev.id, rev


def first_refusal(person: Person, rev: Revision | None, draft_only: bool) -> Refusal:
    """What every action on a revision checks first: that it exists and is the actor's
    organization's, the role, and (but for a new revision) that it is still a draft."""
    if rev is None:
        return 404, "a discarded draft"
    if person.org != rev.keeper:
        return 404, "another organization's revision"
    if not person.writes:
        return 403, "a viewer"
    if draft_only and rev.submitted:
        return 409, "a submitted revision"
    return None


def edit(db: Database, client: TestClient, model: Model, event: Event) -> None:
    submitted = [r for r in model.revisions if r.submitted]
    acting = target(model, event, [r for r in model.revisions if not r.submitted], submitted)
    if acting is None:
        start(db, client, model, event)
        return
    person, rev_id, rev = acting
    body = entries_body(event.entries)
    refusal = first_refusal(person, rev, draft_only=True)
    url = f"{REPORTS}/{rev_id}/entries"
    answer = send(
        db, model, event, refusal, lambda: client.put(url, json=body, headers=person.auth), 200
    )
    if answer is not None:
        assert rev is not None
        rev.entries = entries_of(event.entries)


def submit(db: Database, client: TestClient, model: Model, event: Event) -> None:
    submitted = [r for r in model.revisions if r.submitted]
    acting = target(model, event, [r for r in model.revisions if not r.submitted], submitted)
    if acting is None:
        start(db, client, model, event)
        return
    person, rev_id, rev = acting
    count = len(model.bubble_ids)
    chosen = list(dict.fromkeys(b % count for b in event.bubbles))
    if event.writable:  # those of the drawn bubbles it may write in, else any it may write in
        mine = [b for b in range(count) if model.may_write(person, b)]
        chosen = [b for b in chosen if b in mine] or mine[:1] or chosen
    tlp = event.tlp
    if event.visibility != "bubbles":
        chosen = []
        if event.proper or event.target % 3:
            tlp = ""  # a TLP goes with bubbles only; sometimes sent anyway, to be refused
    body = {
        "visibility": event.visibility,
        "bubbles": [model.bubble_ids[b] for b in chosen],
        "tlp": tlp,
    }
    refusal: Refusal = None
    if tlp and event.visibility != "bubbles":  # the publication is read before anything else
        refusal = 400, "a TLP for a private or public report"
    elif tlp == "red":
        refusal = 400, "TLP:RED"
    elif (refusal := first_refusal(person, rev, draft_only=True)) is not None:
        pass
    elif rev is not None and not rev.entries:
        refusal = 400, "no entries"
    elif any(model.standing(person.org, b) == NONE for b in chosen):
        refusal = 404, "a bubble without standing"
    elif not all(model.may_write(person, b) for b in chosen):
        refusal = 403, "a bubble it may not write in"
    url = f"{REPORTS}/{rev_id}/submit"
    answer = send(
        db, model, event, refusal, lambda: client.post(url, json=body, headers=person.auth), 200
    )
    if answer is None:
        return
    assert rev is not None
    rev.submitted = True
    rev.visibility = event.visibility
    if event.visibility == "public":
        rev.shares = [(None, CLEAR)]
        rev.tlp = "CLEAR"
    elif event.visibility == "bubbles":
        chosen_tlp = TLP_OF.get(event.tlp)
        defaults = [model.world.bubbles[b].default for b in chosen]
        rev.shares = [
            (b, d if chosen_tlp is None else chosen_tlp)
            for b, d in zip(chosen, defaults, strict=True)
        ]
        rev.tlp = None if chosen_tlp is None else LABELS[chosen_tlp]
        if chosen_tlp is None and RED in defaults:
            model.reached.add("shared at a bubble's default of RED")
    rev.readers_then = model.readers(rev)
    model.reached.add(f"submitted {event.visibility}")
    earlier = [r for r in model.of_year(rev.key) if r.submitted and r is not rev]
    if any(r.visibility != rev.visibility or r.shares != rev.shares for r in earlier):
        model.reached.add("a new revision submitted with another visibility")


def revise(db: Database, client: TestClient, model: Model, event: Event) -> None:
    closed = [r for r in model.revisions if model.of_year(r.key)[-1].submitted]
    open_ = [r for r in model.revisions if r not in closed]
    acting = target(model, event, closed, open_)
    if acting is None:
        start(db, client, model, event)
        return
    person, rev_id, rev = acting
    refusal = first_refusal(person, rev, draft_only=False)
    last = None if rev is None else model.of_year(rev.key)[-1]
    if refusal is None and last is not None and not last.submitted:
        refusal = 409, "the last revision is a draft"
    url = f"{REPORTS}/{rev_id}/revisions"
    answer = send(db, model, event, refusal, lambda: client.post(url, headers=person.auth), 201)
    if answer is None:
        return
    assert rev is not None
    assert last is not None
    made = answer.json()
    assert (made["revision"], made["state"]) == (last.number + 1, "draft"), f"{event}: {made}"
    model.revisions.append(
        Revision(made["id"], rev.country, rev.year, last.number + 1, rev.keeper, dict(last.entries))
    )


def discard(db: Database, client: TestClient, model: Model, event: Event) -> None:
    submitted = [r for r in model.revisions if r.submitted]
    acting = target(model, event, [r for r in model.revisions if not r.submitted], submitted)
    if acting is None:
        start(db, client, model, event)
        return
    person, rev_id, rev = acting
    refusal = first_refusal(person, rev, draft_only=True)
    url = f"{REPORTS}/{rev_id}"
    answer = send(db, model, event, refusal, lambda: client.delete(url, headers=person.auth), 204)
    if answer is not None:
        assert rev is not None
        model.revisions.remove(rev)
        model.gone.append(rev.id)


def delete_shared(db: Database, client: TestClient, model: Model, event: Event) -> None:
    """A user of the keeper deletes the report's STIX object from a bubble over TAXII: every
    version of it there, so that no revision is readable through that bubble any more
    (docs/access-policy.md). It needs the write right there, like any TAXII deletion."""
    shared = [(rev, b) for rev in model.revisions for b, _level in rev.shares if b is not None]
    if not shared:
        return
    rev, b = pick(shared, event.org)
    staff = model.writers_of(rev.keeper) if event.proper else model.people_of(rev.keeper)
    person: Person = pick(staff, event.actor)
    stix_id = client.get(f"{REPORTS}/{rev.id}", headers=person.auth).json()["stix_id"]
    refusal: Refusal = None
    if model.standing(person.org, b) == NONE:
        refusal = 404, "the keeper has no standing in the bubble"
    elif not model.may_write(person, b):
        refusal = 403, "the user may not write in the bubble"
    url = f"{TAXII_COLLECTIONS}{model.bubble_ids[b]}/objects/{stix_id}/"
    headers = {**person.auth, "Accept": TAXII}
    answer = send(db, model, event, refusal, lambda: client.delete(url, headers=headers), 200)
    if answer is not None:
        for other in model.of_year(rev.key):
            other.shares = [(place, level) for place, level in other.shares if place != b]
        model.reached.add("a report deleted over TAXII from a bubble")


ACTIONS = {"start": start, "edit": edit, "submit": submit, "revise": revise, "discard": discard}


# --- what each reader reads ---


def levels_of(rev: Revision) -> dict[str, str]:
    return {letter: level for letter, (level, _gaps) in rev.entries.items()}


def check_document(model: Model, org: int | None, rev: Revision, body: dict[str, Any]) -> None:
    what = f"revision {rev} read by org {org}"
    heading = (body["country"], body["year"], body["revision"])
    assert heading == (rev.country, rev.year, rev.number), what
    assert body["state"] == ("submitted" if rev.submitted else "draft"), what
    assert (body["visibility"], body["tlp"]) == (rev.visibility, rev.tlp), what
    assert body["keeper"] == model.orgs[rev.keeper].name, what
    got = {k: (v["level"], tuple(v["gaps"])) for k, v in body["entries"].items()}
    assert got == rev.entries, what
    seen = [r.id for r in model.of_year(rev.key) if model.readable(org, r)]
    assert [r["id"] for r in body["revisions"]] == seen, what
    shared = Counter((s["collection"], s["tlp"]) for s in body["shared_in"])
    assert shared == model.reach(org, rev), f"where it reaches, {what}"


def grid_of(answer: dict[str, Any]) -> tuple[list[str], dict[str, list[str | None]]]:
    ids = [c["report_id"] for c in answer["columns"]]
    return ids, {row["norm"]: row["levels"] for row in answer["rows"]}


def expected_grid(revs: list[Revision]) -> tuple[list[str], dict[str, list[str | None]]]:
    levels = {letter: [levels_of(r).get(letter) for r in revs] for letter in LETTERS}
    return [r.id for r in revs], levels


def check_scorecard(
    client: TestClient,
    auth: dict[str, str],
    latest: dict[tuple[str, int], Revision],
    country: str,
    what: str,
) -> None:
    answer = client.get(f"{API}/norm-scorecards/{country}", headers=auth)
    revs = [latest[key] for key in sorted(latest) if key[0] == country]
    if not revs:
        assert answer.status_code == 404, f"scorecard {country}, {what}: {answer.text}"
        return
    assert answer.status_code == 200, f"scorecard {country}, {what}: {answer.text}"
    body = answer.json()
    assert [c["label"] for c in body["columns"]] == [str(r.year) for r in revs], what
    assert grid_of(body) == expected_grid(revs), f"scorecard {country}, {what}"
    for row in body["rows"]:
        levels = row["levels"]
        change = None
        if len(levels) >= 2 and levels[-1] is not None and levels[-2] is not None:
            change = LEVEL_NAMES.index(levels[-1]) - LEVEL_NAMES.index(levels[-2])
        assert row["change"] == change, f"scorecard {country}, {what}"


def check_comparison(
    client: TestClient,
    auth: dict[str, str],
    latest: dict[tuple[str, int], Revision],
    turn: int,
    what: str,
) -> None:
    first = COUNTRIES[turn % len(COUNTRIES)]
    second = COUNTRIES[(turn + 1 + turn // 3 % 2) % len(COUNTRIES)]
    year = YEARS[turn // 2 % len(YEARS)] if turn % 3 == 0 else None
    params: dict[str, Any] = {"country": [first, second]}
    if year is not None:
        params["year"] = year
    answer = client.get(f"{API}/norm-comparison", params=params, headers=auth)
    revs = []
    for country in (first, second):
        years = [y for (c, y) in latest if c == country and year in (None, y)]
        if not years:
            assert answer.status_code == 404, f"compare {params}, {what}: {answer.text}"
            assert f"no submitted report of {country}" in answer.text, what
            return
        revs.append(latest[country, max(years)])
    assert answer.status_code == 200, f"compare {params}, {what}: {answer.text}"
    assert grid_of(answer.json()) == expected_grid(revs), f"compare {params}, {what}"


def check_bubble(
    client: TestClient,
    model: Model,
    person: Person,
    b: int,
    latest: dict[tuple[str, int], Revision],
) -> None:
    what = f"bubble {b}, {person.role.value} of org {person.org}"
    answer = client.get(f"{API}/bubbles/{model.bubble_ids[b]}/norms", headers=person.auth)
    if model.standing(person.org, b) == NONE:
        assert answer.status_code == 404, f"{what}: {answer.text}"
        return
    assert answer.status_code == 200, f"{what}: {answer.text}"
    body = answer.json()
    # docs/norms.md: the member organizations' countries (every active membership, observers
    # included, as tests/test_norms.py has it), each with its latest report the reader may read.
    countries = sorted({model.country(o) for o in model.active(b)})
    revs, missing = [], []
    for country in countries:
        years = [y for (c, y) in latest if c == country]
        if years:
            revs.append(latest[country, max(years)])
        else:
            missing.append(country)
    assert grid_of(body) == expected_grid(revs), what
    assert body["without_report"] == missing, what
    implementing = {
        letter: [r.country for r in revs if levels_of(r).get(letter) in IMPLEMENTING]
        for letter in LETTERS
    }
    assert body["implementing"] == implementing, what
    gaps: dict[str, tuple[int, set[str], set[str]]] = {}
    for rev in revs:
        for letter, (_level, named) in rev.entries.items():
            for gap in named:
                count, letters, where = gaps.get(gap_key(gap), (0, set(), set()))
                gaps[gap_key(gap)] = (count + 1, letters | {letter}, where | {rev.country})
    got = {
        gap_key(g["text"]): (g["count"], set(g["letters"]), set(g["countries"]))
        for g in body["gaps"]
    }
    assert got == gaps, what
    if revs and len(revs) < len(countries):
        model.reached.add("a bubble view with a country missing")


def check_reader(client: TestClient, model: Model, person: Person | None, turn: int) -> None:
    """Everything one reader reads: the list and every revision; and, turning with the reader
    and the example to keep examples quick, a scorecard, a comparison or a bubble's view."""
    org = None if person is None else person.org
    auth = {} if person is None else person.auth
    what = "anonymous" if person is None else f"{person.role.value} of org {org}"
    readable = {r.id: r for r in model.revisions if model.readable(org, r)}
    listed = client.get(REPORTS, headers=auth)
    assert listed.status_code == 200, what
    got = {item["id"]: (item["revision"], item["state"]) for item in listed.json()}
    expected = {i: (r.number, "submitted" if r.submitted else "draft") for i, r in readable.items()}
    assert got == expected, f"list of {what}"
    for rev in model.revisions:
        answer = client.get(f"{REPORTS}/{rev.id}", headers=auth)
        if rev.id not in readable:
            assert answer.status_code == 404, f"{what} reads {rev}: {answer.text}"
            continue
        assert answer.status_code == 200, f"{what} cannot read {rev}: {answer.text}"
        check_document(model, org, rev, answer.json())
    if person is None or turn % 3 == 0:  # a discarded draft: gone for everyone
        for gone in model.gone:
            assert client.get(f"{REPORTS}/{gone}", headers=auth).status_code == 404, what
    latest = model.latest(org)
    view, turn = turn % 3, turn // 3
    if view == 0:  # mostly a country with something submitted: a scorecard with columns
        reported = sorted({r.country for r in model.revisions if r.submitted})
        countries = reported if reported and turn % 4 else list(COUNTRIES)
        check_scorecard(client, auth, latest, countries[turn % len(countries)], what)
    elif view == 1:
        check_comparison(client, auth, latest, turn, what)
    elif person is None:
        answer = client.get(f"{API}/bubbles/{pick(model.bubble_ids, turn)}/norms")
        assert answer.status_code == 401, f"bubble view, anonymous: {answer.text}"
    else:
        check_bubble(client, model, person, turn % len(model.bubble_ids), latest)


def situations(model: Model) -> set[str]:
    """The situations an example reaches, to show that the worlds drawn reach them all."""
    found = set(model.reached)
    for rev in model.revisions:
        readers = model.readers(rev)
        others = [o for o in range(len(model.orgs)) if o != rev.keeper]
        if not rev.submitted and others:
            found.add("a draft kept from other organizations")
        if rev.submitted and rev.readers_then - readers:
            found.add("a reader lost a revision it read when submitted")
        if rev.submitted and readers - rev.readers_then:
            found.add("a reader gained a revision after it was submitted")
        if rev.submitted and model.readable(None, rev):
            found.add("read anonymously")
        if any(b is not None and model.standing(rev.keeper, b) == NONE for b, _ in rev.shares):
            found.add("the keeper reads what it shared into a bubble it left")
        if any(
            model.standing(o, b) == NONE and level == CLEAR
            for o in others
            for b, level in rev.shares
            if b is not None
        ):
            found.add("a bubble without standing reads as Public")
        for b, level in rev.shares:
            if b is None:
                continue
            for o in others:
                standing = model.standing(o, b)
                seen = o in readers
                if level == GREEN and standing in (OBSERVER, OBSERVER_CONSTITUENT) and seen:
                    found.add("GREEN read by an observer or its constituency")
                if level == AMBER and standing in (OBSERVER, OBSERVER_CONSTITUENT) and not seen:
                    found.add("AMBER kept from an observer or its constituency")
                if level == AMBER and standing == MEMBER_CONSTITUENT and seen:
                    found.add("AMBER read through a member's constituency")
                if level == AMBER_STRICT and standing == MEMBER_CONSTITUENT and not seen:
                    found.add("AMBER+STRICT kept from a member's constituency")
                if level == AMBER_STRICT and standing == MEMBER and seen:
                    found.add("AMBER+STRICT read by a member")
                if level == CLEAR and standing == NONE and seen:
                    found.add("CLEAR in a bubble read by an outsider")
    for o in range(len(model.orgs)):
        mine = model.latest(o)
        for key, rev in mine.items():
            if any(r.submitted and r.number > rev.number for r in model.of_year(key)):
                found.add("a reader's latest is an earlier revision")
    return found


SITUATIONS = {
    "a draft kept from other organizations",
    "a reader lost a revision it read when submitted",
    "the keeper reads what it shared into a bubble it left",
    "a bubble without standing reads as Public",
    "a report deleted over TAXII from a bubble",
    "submit refused: a TLP for a private or public report",
    "read anonymously",
    "GREEN read by an observer or its constituency",
    "AMBER kept from an observer or its constituency",
    "AMBER read through a member's constituency",
    "AMBER+STRICT kept from a member's constituency",
    "AMBER+STRICT read by a member",
    "CLEAR in a bubble read by an outsider",
    "a reader's latest is an earlier revision",
    "a new revision submitted with another visibility",
    "a bubble view with a country missing",
    "a report copied from an earlier year",
    "submitted bubbles",
    "submitted public",
    "submitted private",
    "start refused: a viewer",
    "start refused: not a government",
    "start refused: the year exists",
    "start refused: another keeper",
    "edit refused: a submitted revision",
    "edit refused: another organization's revision",
    "submit refused: a bubble it may not write in",
    "submit refused: a bubble without standing",
    "submit refused: no entries",
    "submit refused: TLP:RED",
    "revise refused: the last revision is a draft",
    "discard refused: a submitted revision",
    "an organization leaves a bubble after reports",
}


def run(db: Database, client: TestClient, model: Model, world: World) -> set[str]:
    for event in world.events:
        if event.kind in ACTIONS:
            if model.revisions or model.gone:
                ACTIONS[event.kind](db, client, model, event)
            else:
                start(db, client, model, event)  # nothing to act on yet
        elif event.kind == "delete":
            delete_shared(db, client, model, event)
        else:
            change_membership(db, model, event)
    for k, person in enumerate(model.people):
        check_reader(client, model, person, world.turn + k)
    check_reader(client, model, None, world.turn + len(model.people))
    return situations(model)


def test_norm_reports_obey_the_access_policy(db: Database, client: TestClient) -> None:
    reached: Counter[str] = Counter()
    runs: list[float] = []
    failed: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
        print_blob=True,
    )
    @given(world=worlds())
    def one_world(world: World) -> None:
        began = time.perf_counter()
        forget(db)
        model = build(db, world)
        try:
            reached.update(run(db, client, model, world))
        except AssertionError as error:
            if not failed:  # before shrinking: how many examples it took to find, and what
                failed.append(len(runs) + 1)
                first = str(error).splitlines()[0][:300]
                print(f"\nfirst failure at example {len(runs) + 1}: {first}", flush=True)
            raise
        finally:
            runs.append(time.perf_counter() - began)

    one_world()
    print(
        f"\n{len(runs)} worlds, {sum(runs) / len(runs) * 1000:.0f} ms each on average;"
        " examples reaching each situation:"
    )
    for name, count in sorted(reached.items()):
        print(f"{count:6}  {name}")
    assert len(runs) >= EXAMPLES
    if EXAMPLES >= 200:
        assert set(reached) >= SITUATIONS, SITUATIONS - set(reached)
