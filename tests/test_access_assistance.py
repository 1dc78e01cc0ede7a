"""Property test: requests for assistance, POCs and checks obey the access policy (issue 4).

Hypothesis builds random worlds (tests/assistance_world.py): organizations with constituencies,
bubbles with memberships in every state, requests of every TLP raised, answered and withdrawn by
random users while organizations leave, join and change role, and communication checks. Every move
goes through the JSON API with the mover's Bearer token; the lifecycle model says whether it must
succeed, and a refused one must change nothing. Then, for every organization, what its users see
through the JSON API, TAXII and their notifications is compared with an oracle written from
DESIGN.md section 4: a request is a note in its bubble, read by its TLP's audience only; a
recipient not named on a RED request cannot see it anywhere.

Each example empties the store first. TRUSTBUBBLE_PROPERTY_EXAMPLES sets how many examples run on
each backend (500 by default); the examples are derandomized, so a run is repeatable.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.assistance_world import (
    ACTIONS,
    MEMBER,
    NONE,
    OWNER,
    Event,
    Model,
    Person,
    Request,
    World,
    build,
    change_membership,
    move,
    my_actions,
    refusal,
    reset,
    worlds,
)
from trustbubble.domain.accounts import UserRole
from trustbubble.store import assistance as assistance_store
from trustbubble.store.database import Database

EXAMPLES = int(os.environ.get("TRUSTBUBBLE_PROPERTY_EXAMPLES", "500"))
API = "/api/v1"
TAXII = "application/taxii+json;version=2.1"
COLLECTIONS = "/taxii2/bubbles/collections/"


# --- the moves ---


def raise_one(db: Database, client: TestClient, model: Model, event: Event) -> None:
    org = event.org % len(model.orgs)
    person = model.person(org, event.user)
    b = event.bubble
    active = model.active(b)
    full = sorted(o for o, role in active.items() if role != "observer")
    body: dict[str, Any] = {"title": f"Help {len(model.requests)}", "asked": ["mitigation"]}
    if event.tlp is not None:
        body["tlp"] = event.tlp
    if event.recipients is not None:
        chosen = [o % len(model.orgs) for o in event.recipients]
        body["recipients"] = [model.orgs[o].name for o in chosen]
        recipients = list(dict.fromkeys(chosen))
        valid = all(o in full and o != org for o in recipients)
    else:
        recipients = [o for o in full if o != org]
        valid = bool(recipients)
    standing = model.standing(org, b)
    if standing == NONE:
        expected = {404}
    elif standing != MEMBER or person.role is UserRole.VIEWER:
        expected = {403}
    elif not valid:
        expected = {400}
    else:
        expected = {201}
    answer = client.post(
        f"{API}/bubbles/{model.bubble_ids[b]}/assistance", json=body, headers=person.auth
    )
    assert answer.status_code in expected, f"raise {event}: {answer.status_code} {answer.text}"
    if answer.status_code != 201:
        return
    request_id = answer.json()["id"]
    with db.read() as conn:  # which note it is (every reader's answers are checked later)
        (stored,) = assistance_store.requests(conn, ids=[request_id])
    tlp = event.tlp or model.default_tlp[b]
    request = Request(request_id, stored.note_id, b, tlp, org, recipients)
    request.answers = {o: "pending" for o in recipients}
    model.requests.append(request)
    model.tell(recipients, request)


def act(client: TestClient, model: Model, event: Event) -> None:
    request = model.requests[event.request % len(model.requests)]
    org = event.org % len(model.orgs)
    person = model.person(org, event.user)
    visible = model.sees(org, request)
    url = f"{API}/assistance/{request.id}"
    if event.kind == "message":
        person = model.person(org, event.user % 2)  # viewers read; analysts and admins write
        expected = {404} if not visible else set()
        if visible and org != request.requester and org not in request.recipients:
            expected = {403}
        answer = client.post(f"{url}/messages", json={"text": "We see it too"}, headers=person.auth)
        if not expected:
            assert answer.status_code == 201, f"{event}: {answer.text}"
            request.events.append("message")
            return
    else:
        if person.role is UserRole.VIEWER:
            expected = {403, 404} if not visible else {403}
        elif not visible:
            expected = {404}
        else:
            expected = refusal(request, org, event.action, event.reason)
            if model.standing(org, request.bubble) != MEMBER:
                expected.add(403)  # a move writes the note's next version: a member's right
        answer = client.post(
            f"{url}/{event.action}", json={"reason": event.reason}, headers=person.auth
        )
        if not expected:
            assert answer.status_code == 204, f"{event} on {request}: {answer.text}"
            move(request, org, event.action)
            model.reached.add(f"{event.action} allowed")
            told = request.recipients if event.action == "withdraw" else [request.requester]
            model.tell(told, request)
            return
    assert answer.status_code in expected, (
        f"{event} on {request}: {answer.status_code} {answer.text}"
    )
    model.reached.add(f"{event.kind} refused with {answer.status_code}")


def start_check(client: TestClient, model: Model, event: Event) -> None:
    b, org = event.bubble, event.org % len(model.orgs)
    person = model.person(org, event.user)
    role, state = model.seats[b].get(org, ("", ""))
    active = model.active(b)
    pings = Counter((model.orgs[o].name, name) for o in active for _kind, name in model.pocs[o])
    if model.standing(org, b) == NONE:
        expected = {403, 404} if state == "invited" else {404}
    elif state != "active" or role != OWNER or person.role is UserRole.VIEWER:
        expected = {403}
    elif not pings:
        expected = {400}
    else:
        expected = {201}
    answer = client.post(f"{API}/bubbles/{model.bubble_ids[b]}/checks", headers=person.auth)
    assert answer.status_code in expected, f"check {event}: {answer.status_code} {answer.text}"
    if answer.status_code == 201:
        model.checks.append((b, answer.json()["id"], pings))


# --- what each user sees ---


def check_person(client: TestClient, model: Model, person: Person, full: bool) -> None:
    org, auth = person.org, person.auth
    what = f"{person.role.value} of org {org}"
    # The in-app notifications link only to requests the user could read when told.
    inbox = client.get(f"{API}/notifications", headers=auth).json()["notifications"]
    links = Counter(
        n["link"].removeprefix("/assistance/") for n in inbox if n["kind"] == "assistance"
    )
    assert links == model.told.get(person.user.id, Counter()), f"notifications of {what}"
    if not full:
        return  # the users of an organization read alike: one of them, turning, reads the rest
    visible = {r.id: r for r in model.requests if model.sees(org, r)}
    listed = client.get(f"{API}/assistance", headers=auth)
    assert listed.status_code == 200
    got = {item["id"]: item["state"] for item in listed.json()}
    assert got == {i: r.state for i, r in visible.items()}, f"list of {what}"
    for request in model.requests:
        answer = client.get(f"{API}/assistance/{request.id}", headers=auth)
        if request.id not in visible:
            assert answer.status_code == 404, f"{what} reads {request}"
            continue
        assert answer.status_code == 200, f"{what} cannot read {request}"
        body = answer.json()
        assert body["state"] == request.state, f"{what} reads {request}"
        assert body["tlp"].lower() == request.tlp, f"{what} reads {request}"
        assert {r["organization"]: r["answer"] for r in body["recipients"]} == {
            model.orgs[o].name: request.answers[o] for o in request.recipients
        }, f"{what} reads {request}"
        assert [e["action"] for e in body["events"]] == request.events, f"{request}"
        member = model.standing(org, request.bubble) == MEMBER
        writer = person.role is not UserRole.VIEWER and member
        assert body["my_actions"] == my_actions(request, org, writer), f"{what} on {request}"
    for b, bubble_id in enumerate(model.bubble_ids):
        check_bubble(client, model, person, b, bubble_id, visible)


def check_bubble(
    client: TestClient,
    model: Model,
    person: Person,
    b: int,
    bubble_id: str,
    visible: dict[str, Request],
) -> None:
    org, auth = person.org, person.auth
    what = f"{person.role.value} of org {org} in bubble {b}"
    standing = model.standing(org, b)
    mine = [r for r in visible.values() if r.bubble == b]
    timings = client.get(f"{API}/bubbles/{bubble_id}/assistance/timings", headers=auth)
    notes = client.get(
        f"{COLLECTIONS}{bubble_id}/objects/",
        params={"match[type]": "note", "match[version]": "all", "limit": "1000"},
        headers={**auth, "Accept": TAXII},
    )
    directory = client.get(f"{API}/bubbles/{bubble_id}/directory", headers=auth)
    if standing == NONE:
        assert timings.status_code == 404, f"timings, {what}"
        assert notes.status_code == 404, f"TAXII, {what}"
    else:
        assert timings.status_code == 200, f"timings, {what}"
        body = timings.json()
        assert body["requests"] == len(mine), f"timings, {what}"
        asked: Counter[str] = Counter()
        acknowledged: Counter[str] = Counter()
        for request in mine:
            for o in request.recipients:
                asked[model.orgs[o].name] += 1
                acknowledged[model.orgs[o].name] += request.answers[o] == "acknowledged"
        got = {o["organization"]: (o["asked"], o["acknowledged"]) for o in body["by_organization"]}
        assert got == {n: (asked[n], acknowledged[n]) for n in asked}, f"timings, {what}"
        assert notes.status_code == 200, f"TAXII, {what}"
        versions = notes.json().get("objects", [])
        assert Counter(v["id"] for v in versions) == Counter(
            {r.note_id: r.versions for r in mine}
        ), f"TAXII notes, {what}"
        identities = {model.orgs[o].identity_id: o for o in range(len(model.orgs))}
        for request in mine:
            last = max(
                (v for v in versions if v["id"] == request.note_id), key=lambda v: v["modified"]
            )
            ours = next(e for e in last["extensions"].values() if "state" in e)
            assert ours["state"] == request.state, f"TAXII note of {request}, {what}"
            answers = {identities[r["identity"]]: r["answer"] for r in ours["recipients"]}
            assert answers == request.answers, f"TAXII note of {request}, {what}"
    if model.directory_reader(org, b):
        assert directory.status_code == 200, f"directory, {what}"
        got_entries = Counter(
            (e["organization"], e["kind"], e["name"]) for e in directory.json()["entries"]
        )
        assert got_entries == model.directory(b), f"directory, {what}"
    else:
        assert directory.status_code == 404, f"directory, {what}"
    checks = [(c, pings) for cb, c, pings in model.checks if cb == b]
    if not checks:
        return
    history = client.get(f"{API}/bubbles/{bubble_id}/checks", headers=auth)
    reports = [client.get(f"{API}/bubbles/{bubble_id}/checks/{c}", headers=auth) for c, _ in checks]
    if not model.directory_reader(org, b):
        # A report names every POC pinged: it is the directory's, to the same readers.
        assert history.status_code == 404, f"checks, {what}"
        assert all(r.status_code == 404 for r in reports), f"check report, {what}"
        return
    assert history.status_code == 200, f"checks, {what}"
    assert {c["id"] for c in history.json()["checks"]} == {c for c, _ in checks}
    for (_c, pings), report in zip(checks, reports, strict=True):
        assert report.status_code == 200, f"check report, {what}"
        got_pings = Counter((p["org"], p["poc_name"]) for p in report.json()["pings"])
        assert got_pings == pings, f"check report, {what}"


def run(db: Database, client: TestClient, model: Model, world: World) -> set[str]:
    reached = model.reached
    for event in world.events:
        if event.kind == "raise":
            raise_one(db, client, model, event)
        elif event.kind in ("act", "message"):
            if model.requests:
                act(client, model, event)
        elif event.kind == "check":
            start_check(client, model, event)
        else:
            change_membership(db, model, event)
    for org, staff in enumerate(model.people):
        chosen = world.full_check[org]
        chosen = chosen % len(staff) if chosen < 3 else -1
        for k, person in enumerate(staff):
            check_person(client, model, person, full=k == chosen)
    for request in model.requests:
        for org in range(len(model.orgs)):
            named = org == request.requester or org in request.recipients
            standing = model.standing(org, request.bubble)
            if request.tlp == "red" and standing == MEMBER and not named:
                reached.add("RED kept from a full member not named")
            if request.tlp == "amber+strict" and standing not in (NONE, MEMBER):
                reached.add("AMBER+STRICT kept from a constituent or observer")
            if named and standing == NONE:
                reached.add("a party that left reads nothing")
        if request.state in ("resolved", "declined", "withdrawn"):
            reached.add(f"request {request.state}")
    if model.checks:
        reached.add("a check reported")
    return reached


SITUATIONS = {
    "RED kept from a full member not named",
    "AMBER+STRICT kept from a constituent or observer",
    "a party that left reads nothing",
    "request resolved",
    "request declined",
    "request withdrawn",
    "a check reported",
    "a party told of a move could not read the request",
    *(f"{action} allowed" for action in ACTIONS),
    *(f"act refused with {code}" for code in (400, 403, 404, 409)),
}


def test_requests_pocs_and_checks_obey_the_access_policy(db: Database, client: TestClient) -> None:
    reached: Counter[str] = Counter()
    runs: list[int] = []
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
        runs.append(1)
        reset(db)
        model = build(db, world)
        try:
            reached.update(run(db, client, model, world))
        except AssertionError:
            if not failed:  # before shrinking: how many examples it took to find
                failed.append(len(runs))
                print(f"\nfirst failure at example {len(runs)}", flush=True)
            raise

    one_world()
    print(f"\n{len(runs)} worlds; examples reaching each situation:")
    for name, count in sorted(reached.items()):
        print(f"{count:6}  {name}")
    assert len(runs) >= EXAMPLES
    if EXAMPLES >= 200:
        assert set(reached) >= SITUATIONS, SITUATIONS - set(reached)
