"""Property test: in random federations of three or four nodes, no object reaches a node outside
its audience, on the wire or in the store, and every person reads on their node exactly what the
access policy gives them (docs/federation.md, "TLP on the wire"; DESIGN.md section 4).

Hypothesis draws worlds (tests/federation_world.py): nodes hosting organizations in constituencies,
peered in pairs, bubbles homed on one node with members and observers of its peers who accept,
decline or leave the invitation open, and indicators posted by full members wherever they live,
at every TLP level (or none, for the bubble's default) with RED recipients naming organizations or
people. A world drawn by hand, in which every rule has work to do, runs first. Each example builds
the nodes afresh (the first on the `db` store, so the PostgreSQL run covers one node; the others on
SQLite files in a temporary directory), peers them, shares the bubbles, answers the invitations
in two waves, posting before and right after each, and syncs until a round moves nothing. Then,
against an oracle that does not ask trustbubble.domain.access:

- every object that crossed the wire (pulled or pushed, seen by a tap on each node's client) went
  between two nodes that sync the bubble (its home and a peer it shared it with, or two such
  peers that peer and both host an active member), to a node hosting some of its audience, never
  back to its origin, and from a node other than its origin only if CLEAR or GREEN;
- every node stores an object only if it may hold it, and holds every object that it may hold and
  that it takes part in the bubble for (so the test cannot pass because nothing moves);
- every person of every node reads, over TAXII, exactly the objects held there that their
  organization's standing and the RED recipients allow; an organization with no standing reads
  nothing of the bubble.

TRUSTBUBBLE_PROPERTY_EXAMPLES sets how many examples run on each backend (25 by default, plus the
world drawn by hand; some 4 s of CPU an example, about two minutes a backend on a 2-core machine).
Examples are derandomized, so a run is repeatable; a change to `one_world` draws other worlds.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from pprint import pformat

from hypothesis import HealthCheck, example, given, settings
from sqlalchemy import select

from tests.federation_world import (
    AMBER,
    AMBER_STRICT,
    LATE,
    MEMBER_CONSTITUENT,
    NONE,
    OBSERVER,
    OBSERVER_CONSTITUENT,
    PASSED_ON,
    PEOPLE,
    RED,
    Built,
    Post,
    World,
    empty,
    federation_of,
    populate,
    showcase,
    worlds,
)
from trustbubble.store.database import Database
from trustbubble.store.tables import objects

DEFAULT_EXAMPLES = 25
EXAMPLES = int(os.environ.get("TRUSTBUBBLE_PROPERTY_EXAMPLES", DEFAULT_EXAMPLES))

# What the default examples must reach, so that a pass means something.
SITUATIONS = {
    "posted on a spoke",
    "sent to a spoke from the home node",
    "CLEAR or GREEN passed on by a node other than its origin",
    "CLEAR or GREEN not passed on: the origin is no peer",
    "AMBER or narrower straight from one spoke to another",
    "sent straight from one spoke to another",
    "AMBER kept from a node of observers",
    "RED to a node hosting a named recipient",
    "RED kept from a linked node hosting no recipient",
    "kept from a node whose invitation is declined or open",
    "RED read by a named person, not their colleague",
    "AMBER read by a member's constituent",
    "AMBER+STRICT kept from a member's constituent",
    "AMBER kept from an observer",
    "a bubble is a 404 to an organization without standing",
    "written by a member as it joined, and sent on",
}


def check_wire(built: Built, reached: set[str]) -> None:
    """Every object that crossed went where the rules of the wire let it go."""
    world, nodes = built.world, built.nodes
    index = {node.name: n for n, node in enumerate(nodes)}
    for crossing in built.federation.crossings:
        sender, receiver = index[crossing.sender], index[crossing.receiver]
        what = f"{crossing.object_id} from N{sender} to N{receiver}"
        assert crossing.origin_node != nodes[receiver].key.node_id, f"{what}: back to its origin"
        post = built.posted.get(crossing.object_id)
        if post is None:
            continue  # an organization's identity, shared into the bubble as it joined
        assert crossing.bubble_id == built.bubble_ids[post.bubble], what
        assert world.may_cross(sender, receiver, post), (
            f"{what}: {world.level(post)} of org {post.author} (origin N{world.origin(post)}) "
            f"in bubble {post.bubble} may not cross"
        )
        home = world.bubbles[post.bubble].home
        if sender == home:
            reached.add("sent to a spoke from the home node")
        if sender != world.origin(post):
            reached.add("CLEAR or GREEN passed on by a node other than its origin")
        elif home not in (sender, receiver):
            reached.add("sent straight from one spoke to another")


def held_by(built: Built) -> list[dict[str, tuple[str, str | None]]]:
    """Per node, each posted object it stores: its collection and its recorded origin."""
    found = []
    ids = sorted(built.posted)
    for node in built.nodes:
        with node.db.read() as conn:
            rows = conn.execute(
                select(objects.c.id, objects.c.collection_id, objects.c.origin_node).where(
                    objects.c.id.in_(ids)
                )
            ).all()
        assert len(rows) == len({row.id for row in rows}), f"{node.name}: a post stored twice"
        found.append({row.id: (row.collection_id, row.origin_node) for row in rows})
    return found


def check_stores(
    built: Built, held: list[dict[str, tuple[str, str | None]]], reached: set[str]
) -> None:
    """Each node holds what it may hold, and all of it that it takes part in."""
    world = built.world
    for object_id, post in built.posted.items():
        origin, b, level = world.origin(post), post.bubble, world.level(post)
        if origin != world.bubbles[b].home:
            reached.add("posted on a spoke")
        for n in range(len(built.nodes)):
            what = (
                f"{level} {object_id} of org {post.author} (origin N{origin}, bubble {b}) on N{n}"
            )
            stored = held[n].get(object_id)
            if stored is not None:
                assert world.may_hold(n, post), f"{what}: stored outside its audience"
                expected = None if n == origin else built.nodes[origin].key.node_id
                assert stored == (built.bubble_ids[b], expected), f"{what}: stored as {stored}"
            if world.must_hold(n, post):
                assert stored is not None, f"{what}: never arrived"
            if n != origin:
                note_reached(world, n, post, stored is not None, reached)
                if stored and post.when == LATE and world.joined_late(post.author, b):
                    reached.add("written by a member as it joined, and sent on")


def note_reached(world: World, n: int, post: Post, stored: bool, reached: set[str]) -> None:
    """Name the situation of a node other than the origin, to count what the examples reach."""
    origin, b, level = world.origin(post), post.bubble, world.level(post)
    if world.linked(b, n, origin):
        if not world.stands(n, b):
            reached.add("kept from a node whose invitation is declined or open")
        elif level == RED:
            reached.add(
                "RED to a node hosting a named recipient"
                if stored
                else "RED kept from a linked node hosting no recipient"
            )
        elif level == AMBER and not stored:
            reached.add("AMBER kept from a node of observers")
        elif level in (AMBER, AMBER_STRICT) and stored and world.bubbles[b].home not in (n, origin):
            reached.add("AMBER or narrower straight from one spoke to another")
    elif (
        world.in_star(b, n)
        and world.in_star(b, origin)
        and world.stands(n, b)
        and world.audience_on(n, post)
        and level in PASSED_ON
        and not world.peered(n, origin)
    ):
        reached.add("CLEAR or GREEN not passed on: the origin is no peer")


def check_readers(
    built: Built, held: list[dict[str, tuple[str, str | None]]], reached: set[str]
) -> None:
    """Every person reads, on their node, what the single-node policy gives them of what is held."""
    world = built.world
    for o, spec in enumerate(world.orgs):
        node = built.nodes[spec.node]
        for person in PEOPLE:
            for b, bubble_id in enumerate(built.bubble_ids):
                seen = node.read(built.email(o, person), bubble_id)
                who = f"{person} of org {o} on N{spec.node}, bubble {b}"
                if world.standing(o, b) == NONE:
                    assert seen == {}, f"{who}: no standing, read {sorted(seen)}"
                    reached.add("a bubble is a 404 to an organization without standing")
                    continue
                mine = {i: p for i, p in built.posted.items() if p.bubble == b}
                expected = {
                    i
                    for i, p in mine.items()
                    if i in held[spec.node] and world.may_read(o, person, p)
                }
                got = set(seen) & set(mine)
                assert got == expected, (
                    f"{who}: read {sorted(got - expected)} beyond the policy, "
                    f"missed {sorted(expected - got)}"
                )
                note_readers(world, o, person, b, mine, got, reached)


def note_readers(
    world: World,
    o: int,
    person: str,
    b: int,
    mine: dict[str, Post],
    got: set[str],
    reached: set[str],
) -> None:
    standing = world.standing(o, b)
    other = next(p for p in PEOPLE if p != person)
    for i, post in mine.items():
        level = world.level(post)
        only_me = (o, person) in post.recipients and not {(o, None), (o, other)} & set(
            post.recipients
        )
        if level == RED and only_me and o != post.author and i in got:
            reached.add("RED read by a named person, not their colleague")
        if level == AMBER and standing == MEMBER_CONSTITUENT and i in got:
            reached.add("AMBER read by a member's constituent")
        if level == AMBER_STRICT and standing == MEMBER_CONSTITUENT:
            reached.add("AMBER+STRICT kept from a member's constituent")
        if level == AMBER and standing in (OBSERVER, OBSERVER_CONSTITUENT):
            reached.add("AMBER kept from an observer")


def test_objects_reach_only_their_audience_across_nodes(
    db: Database, sqlite_template: Path
) -> None:
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
    @example(world=showcase())
    def one_world(world: World) -> None:
        began = time.perf_counter()
        empty(db)
        example: set[str] = set()
        try:
            with (
                tempfile.TemporaryDirectory() as tmp,
                federation_of(world, db, sqlite_template, Path(tmp)) as built,
            ):
                populate(built)
                check_wire(built, example)
                held = held_by(built)
                check_stores(built, held, example)
                check_readers(built, held, example)
            reached.update(example)
        except AssertionError as error:
            if not failed:  # before shrinking: how many examples it took, and what
                failed.append(len(runs) + 1)
                first = str(error).splitlines()[0][:300]
                print(f"\nfirst failure at example {len(runs) + 1}: {first}", flush=True)
            # Hypothesis names the failing world too, unless a plugin blanks it (schemathesis's).
            error.add_note(f"in the world:\n{pformat(world, width=100)}")
            raise
        finally:
            runs.append(time.perf_counter() - began)

    one_world()
    print(
        f"\n{len(runs)} federations, {sum(runs) / len(runs) * 1000:.0f} ms each on average;"
        " examples reaching each situation:"
    )
    for name, count in sorted(reached.items()):
        print(f"{count:6}  {name}")
    assert len(runs) >= EXAMPLES
    if EXAMPLES >= DEFAULT_EXAMPLES:
        assert set(reached) >= SITUATIONS, SITUATIONS - set(reached)
