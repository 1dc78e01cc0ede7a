"""Two nodes share a bubble: peering, agreed membership, signed objects under TLP on the wire,
new versions, deletions, replays and refusals (docs/federation.md)."""

from __future__ import annotations

from pathlib import Path

import orjson
from prometheus_client.parser import text_string_to_metric_families

from tests.federation_nodes import (
    TAXII,
    Federation,
    Node,
    federation,
    indicator,
    invite,
    new_bubble,
)
from tests.test_web import sign_in
from trustbubble.domain.accounts import Organization, UserRole
from trustbubble.domain.bubbles import BubbleRole
from trustbubble.domain.federation import PROVENANCE_EXTENSION_ID
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import audit, bubbles, peers, sync
from trustbubble.store.accounts import all_orgs
from trustbubble.store.database import Database
from trustbubble.store.objects import count
from trustbubble.store.tables import audit_log
from trustbubble.store.tables import objects as objects_table


def _two_nodes(
    world: Federation, db: Database, role: BubbleRole = BubbleRole.MEMBER
) -> tuple[str, str]:
    """North (on the test's store) and South peered; a bubble homed on North, South CERT in it."""
    north = world.add("North", db)
    south = world.add("South")
    north.add_org("North CERT", "cert", "NL")
    north.add_user("analyst@north.test", "North CERT")
    south.add_org("South CERT", "cert", "ZA")
    south.add_org("South Hospital", "operator", "ZA", parent="South CERT")
    south.add_org("South Clinic Group", "operator", "ZA")
    south.add_user("admin@south.test", "South CERT", UserRole.ADMIN)
    south.add_user("analyst@south.test", "South CERT")
    south.add_user("nurse@south.test", "South Hospital", UserRole.VIEWER)
    south.add_user("clinic@south.test", "South Clinic Group", UserRole.VIEWER)
    world.peer(north, south)
    world.sync(north)  # North mirrors the organizations South hosts
    bubble_id = new_bubble(north, "North-South health", "North CERT")
    invite(north, "analyst@north.test", bubble_id, "South CERT", role)
    peers.share(
        north.db, "operator", bubbles.bubble_by_name(north.db, "North-South health"), "South node"
    )
    world.sync(south)  # South mirrors the bubble and the invitation
    bubbles.respond(south.db, south.users["admin@south.test"][0], bubble_id, accept=True)
    world.settle()
    return north.url, bubble_id


def test_objects_cross_by_tlp_and_are_signed_by_their_origin(db: Database, tmp_path: Path) -> None:
    with federation(tmp_path) as world:
        north_url, bubble_id = _two_nodes(world, db)
        north, south = world.nodes[north_url], world.nodes["http://south.test"]
        south_cert = next(o for o in _orgs(north) if o.name == "South CERT")
        north_cert = next(o for o in _orgs(north) if o.name == "North CERT")
        shared = {
            "green": indicator("Green beacon", TlpLevel.GREEN),
            "amber": indicator("Amber loader", TlpLevel.AMBER),
            "strict": indicator("Strict wiper", TlpLevel.AMBER_STRICT),
            "red-south": indicator("Red for South", TlpLevel.RED, [south_cert.identity_id]),
            "red-own": indicator("Red kept home", TlpLevel.RED, [north_cert.identity_id]),
        }
        status = north.post("analyst@north.test", bubble_id, list(shared.values()))
        assert status["success_count"] == 5
        world.sync(south)

        ids = {key: obj["id"] for key, obj in shared.items()}
        cert_sees = south.read("analyst@south.test", bubble_id)
        assert {ids["green"], ids["amber"], ids["strict"], ids["red-south"]} <= set(cert_sees)
        assert ids["red-own"] not in cert_sees
        # The hospital, in South CERT's constituency, reads GREEN and AMBER, not AMBER+STRICT.
        hospital_sees = south.read("nurse@south.test", bubble_id)
        assert {ids["green"], ids["amber"]} <= set(hospital_sees)
        assert ids["strict"] not in hospital_sees
        assert ids["red-south"] not in hospital_sees
        # An organization of South outside the bubble reads nothing of it.
        assert south.read("clinic@south.test", bubble_id) == {}

        provenance = cert_sees[ids["green"]]["extensions"][PROVENANCE_EXTENSION_ID]
        assert provenance["origin_node"] == north.key.node_id
        assert provenance["author"] == north_cert.identity_id

        # South writes; North receives it, signed by South, on South's next sync (a push).
        reply = indicator("South sighting", TlpLevel.AMBER)
        south.post("analyst@south.test", bubble_id, [reply])
        world.sync(south)
        seen = north.read("analyst@north.test", bubble_id)
        assert seen[reply["id"]]["extensions"][PROVENANCE_EXTENSION_ID]["origin_node"] == (
            south.key.node_id
        )

        # A replayed sync moves nothing and duplicates nothing.
        before = _count(south.db), _count(north.db)
        outcomes = world.sync(south) + world.sync(north)
        assert sum(o.received + o.sent for o in outcomes) == 0, outcomes
        assert (_count(south.db), _count(north.db)) == before


def test_a_new_version_wins_and_a_deletion_follows(db: Database, tmp_path: Path) -> None:
    with federation(tmp_path) as world:
        north_url, bubble_id = _two_nodes(world, db)
        north, south = world.nodes[north_url], world.nodes["http://south.test"]
        first = indicator("Moving target", TlpLevel.GREEN)
        gone = indicator("Withdrawn", TlpLevel.GREEN)
        north.post("analyst@north.test", bubble_id, [first, gone])
        world.sync(south)
        second = {**first, "modified": "2026-11-28T09:00:00.000Z", "name": "Moved target"}
        north.post("analyst@north.test", bubble_id, [second])
        deleted = north.client.delete(
            f"/taxii2/bubbles/collections/{bubble_id}/objects/{gone['id']}/",
            headers=north.headers("analyst@north.test"),
        )
        assert deleted.status_code == 200, deleted.text
        world.sync(south)
        seen = south.read("analyst@south.test", bubble_id)
        assert seen[first["id"]]["name"] == "Moved target"
        assert gone["id"] not in seen


def test_an_observer_made_member_receives_what_it_could_not_before(
    db: Database, tmp_path: Path
) -> None:
    with federation(tmp_path) as world:
        north_url, bubble_id = _two_nodes(world, db, BubbleRole.OBSERVER)
        north, south = world.nodes[north_url], world.nodes["http://south.test"]
        green, amber = indicator("Open", TlpLevel.GREEN), indicator("Closer", TlpLevel.AMBER)
        north.post("analyst@north.test", bubble_id, [green, amber])
        world.settle()
        seen = south.read("analyst@south.test", bubble_id)
        assert green["id"] in seen
        assert amber["id"] not in seen
        with south.db.read() as conn:
            assert amber["id"] not in {row.id for row in conn.execute(objects_table.select())}

        bubbles.change_role(
            north.db,
            north.users["analyst@north.test"][0],
            bubble_id,
            "South CERT",
            BubbleRole.MEMBER,
        )
        world.settle()
        assert amber["id"] in south.read("analyst@south.test", bubble_id)


def test_an_altered_or_unsigned_object_is_refused_and_logged(db: Database, tmp_path: Path) -> None:
    with federation(tmp_path) as world:
        north_url, bubble_id = _two_nodes(world, db)
        north, south = world.nodes[north_url], world.nodes["http://south.test"]
        genuine = indicator("Genuine", TlpLevel.GREEN)
        south.post("analyst@south.test", bubble_id, [genuine])
        # What South would push, taken in transit and altered.
        credential = _credential_of(south, north)
        page = south.client.get(
            f"/taxii2/bubbles/collections/{bubble_id}/objects/",
            headers={"Accept": TAXII, "Authorization": f"Bearer {_credential_of(north, south)}"},
        ).json()["objects"]
        signed = next(obj for obj in page if obj["id"] == genuine["id"])
        altered = {**signed, "name": "Altered in transit"}
        unsigned = indicator("Unsigned", TlpLevel.GREEN)
        response = north.client.post(
            f"/taxii2/bubbles/collections/{bubble_id}/objects/",
            content=orjson.dumps({"objects": [altered, unsigned]}),
            headers={
                "Accept": TAXII,
                "Content-Type": TAXII,
                "Authorization": f"Bearer {credential}",
            },
        )
        assert response.status_code == 202, response.text
        status = response.json()
        assert status["success_count"] == 0
        reasons = {f["id"]: f["message"] for f in status["failures"]}
        assert "does not verify" in reasons[genuine["id"]]
        assert "carries no provenance" in reasons[unsigned["id"]]
        assert genuine["id"] not in north.read("analyst@north.test", bubble_id)
        with north.db.read() as conn:
            actions = [row.action for row in conn.execute(audit_log.select())]
        assert "federation.refused" in actions
        assert audit.verify(north.db).ok


def _settle_through_holds(world: Federation, nodes: list[Node] | None = None) -> None:
    """Sync the nodes (every node, three times); the only error allowed is a refusal for now."""
    for node in nodes or list(world.nodes.values()) * 3:
        for outcome in sync.run(node.db, node.key, world.connect, force=True):
            assert outcome.error is None or "refused for now" in outcome.error, outcome


def _credential_of(caller: Node, callee: Node) -> str:
    """The credential `callee` issued `caller`, as `caller` keeps it (sealed)."""
    token = peers.unseal(caller.key, peers.find(caller.db, callee.key.node_id))
    assert token is not None
    return token


def _orgs(node: Node) -> list[Organization]:
    with node.db.read() as conn:
        return all_orgs(conn)


def _count(database: Database) -> int:
    with database.read() as conn:
        return count(conn)


def test_sync_status_shows_each_reader_their_bubbles_and_metrics_name_no_one(
    db: Database, tmp_path: Path
) -> None:
    with federation(tmp_path) as world:
        north_url, bubble_id = _two_nodes(world, db)
        north, south = world.nodes[north_url], world.nodes["http://south.test"]
        north.post("analyst@north.test", bubble_id, [indicator("Counted", TlpLevel.GREEN)])
        world.sync(south)

        twin = south.client.get("/api/v1/federation", headers=south.headers("analyst@south.test"))
        assert twin.status_code == 200, twin.text
        (link,) = twin.json()["links"]
        assert link["bubble"] == "North-South health"
        assert link["peer"] == "North node"
        assert link["received"] >= 2  # the indicator and North CERT's identity
        assert link["last_success"] is not None
        outside = south.client.get("/api/v1/federation", headers=south.headers("clinic@south.test"))
        assert outside.json()["links"] == []

        sign_in(south.client, "analyst@south.test", south.passwords["analyst@south.test"])
        page = south.client.get("/federation")
        assert page.status_code == 200
        assert "North-South health" in page.text
        assert "North node" in page.text

        scrape = south.client.get("/metrics").text
        received = {
            (sample.labels["peer"], sample.labels["bubble"]): sample.value
            for family in text_string_to_metric_families(scrape)
            if family.name == "trustbubble_sync_received"
            for sample in family.samples
        }
        assert received[(north.key.node_id, bubble_id)] == link["received"]
        for secret in ("North-South health", "tbp_", "north.test", "North CERT"):
            assert secret not in scrape


def test_what_the_home_relays_is_taken_though_a_third_node_has_not_mirrored_the_answer_yet(
    db: Database, tmp_path: Path
) -> None:
    """Charlie last mirrored the bubble when Bravo CERT was only invited; Alpha, the home,
    relays what Bravo CERT then wrote, its identity among them. Alpha's memberships decide:
    Charlie takes them rather than refusing them for good. And an observer's identity, which
    joining put in the bubble, reaches the home and the other members too."""
    with federation(tmp_path) as world:
        alpha, bravo, charlie = world.add("Alpha", db), world.add("Bravo"), world.add("Charlie")
        alpha.add_org("Alpha CERT")
        alpha.add_user("analyst@alpha.test", "Alpha CERT")
        for node, org in ((bravo, "Bravo CERT"), (charlie, "Charlie CERT")):
            node.add_org(org)
            node.add_user(f"admin@{node.name.lower()}.test", org, UserRole.ADMIN)
            node.add_user(f"analyst@{node.name.lower()}.test", org)
        world.peer(alpha, bravo)
        world.peer(alpha, charlie)
        world.peer(bravo, charlie)
        for node in world.nodes.values():
            world.sync(node)  # each mirrors the organizations the others host
        bubble_id = new_bubble(alpha, "Three CERTs", "Alpha CERT")
        invite(alpha, "analyst@alpha.test", bubble_id, "Bravo CERT")
        invite(alpha, "analyst@alpha.test", bubble_id, "Charlie CERT", BubbleRole.OBSERVER)
        shared = bubbles.bubble_by_name(alpha.db, "Three CERTs")
        peers.share(alpha.db, "operator", shared, "Bravo node")
        peers.share(alpha.db, "operator", shared, "Charlie node")
        world.sync(bravo)
        world.sync(charlie)
        bubbles.respond(charlie.db, charlie.users["admin@charlie.test"][0], bubble_id, True)
        world.sync(charlie)  # its answer goes home; its mirror still has Bravo CERT invited
        bubbles.respond(bravo.db, bravo.users["admin@bravo.test"][0], bubble_id, True)
        green = indicator("Bravo green", TlpLevel.GREEN)
        bravo.post("analyst@bravo.test", bubble_id, [green])
        world.sync(bravo)  # the answer home, then its identity and the indicator
        world.sync(alpha)  # Alpha pushes them on to Charlie, before Charlie mirrors again
        world.settle()

        names = {o.get("name") for o in charlie.read("analyst@charlie.test", bubble_id).values()}
        assert {"Bravo CERT", "Bravo green"} <= names
        for node in (alpha, bravo):
            email = f"analyst@{node.name.lower()}.test"
            assert "Charlie CERT" in {o.get("name") for o in node.read(email, bubble_id).values()}
        for node in world.nodes.values():
            with node.db.read() as conn:
                refused = audit_log.select().where(audit_log.c.action == "federation.refused")
                assert conn.execute(refused).all() == []


def test_members_on_two_spokes_share_amber_directly_even_when_a_mirror_lags(
    db: Database, tmp_path: Path
) -> None:
    """A bubble homed on Hub with members on East and West: AMBER from East reaches West
    straight from East (the hub may not pass it on). When West's mirror lags (a new member
    organization on East it has not seen yet), West refuses for now and East sends again."""
    with federation(tmp_path) as world:
        hub, east, west = world.add("Hub", db), world.add("East"), world.add("West")
        for node, org in ((hub, "Hub CERT"), (east, "East CERT"), (west, "West CERT")):
            node.add_org(org)
            node.add_user(f"analyst@{node.name.lower()}.test", org)
            node.add_user(f"admin@{node.name.lower()}.test", org, UserRole.ADMIN)
        world.peer(hub, east)
        world.peer(hub, west)
        world.peer(east, west)
        world.settle(1)  # everyone mirrors everyone's organizations
        bubble_id = new_bubble(hub, "Three shores", "Hub CERT")
        bubble = bubbles.bubble_by_name(hub.db, "Three shores")
        for node, org in ((west, "West CERT"), (east, "East CERT")):
            invite(hub, "analyst@hub.test", bubble_id, org)
            peers.share(hub.db, "operator", bubble, f"{node.name} node")
            world.sync(node)
            bubbles.respond(
                node.db, node.users[f"admin@{node.name.lower()}.test"][0], bubble_id, True
            )
        _settle_through_holds(world)
        amber = indicator("Eastern loader", TlpLevel.AMBER)
        east.post("analyst@east.test", bubble_id, [amber])
        _settle_through_holds(world)
        assert amber["id"] in west.read("analyst@west.test", bubble_id)

        # A new organization on East joins; West has not mirrored it when its AMBER comes.
        east.add_org("East Lab", "academia", "NL")
        east.add_user("lab@east.test", "East Lab")
        east.add_user("lab-admin@east.test", "East Lab", UserRole.ADMIN)
        _settle_through_holds(world, [hub])
        invite(hub, "analyst@hub.test", bubble_id, "East Lab")
        _settle_through_holds(world, [east])
        bubbles.respond(east.db, east.users["lab-admin@east.test"][0], bubble_id, True)
        _settle_through_holds(world, [east, hub])  # the answer goes home
        finding = indicator("Lab finding", TlpLevel.AMBER)
        east.post("lab@east.test", bubble_id, [finding])
        outcomes = sync.run(east.db, east.key, world.connect, force=True)
        held = [o for o in outcomes if o.error and "refused for now" in o.error]
        assert held, outcomes
        assert finding["id"] not in west.read("analyst@west.test", bubble_id)

        _settle_through_holds(world)
        assert finding["id"] in west.read("analyst@west.test", bubble_id)
        assert finding["id"] in hub.read("analyst@hub.test", bubble_id)


def test_a_deletions_cursor_past_64_bits_is_a_400_not_a_500(db: Database, tmp_path: Path) -> None:
    with federation(tmp_path) as world:
        north_url, bubble_id = _two_nodes(world, db)
        north, south = world.nodes[north_url], world.nodes["http://south.test"]
        answer = north.client.get(
            f"/federation/v1/collections/{bubble_id}/deletions",
            params={"after": str(2**63)},
            headers={"Authorization": f"Bearer {_credential_of(south, north)}"},
        )
        assert answer.status_code == 400, answer.text
        assert "after" in answer.text


def test_a_peer_answering_what_no_node_sends_is_an_error_on_its_links_not_a_crash(
    db: Database, tmp_path: Path
) -> None:
    from contextlib import nullcontext
    from datetime import UTC, datetime

    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse
    from fastapi.testclient import TestClient

    from trustbubble.domain.federation import NodeKey
    from trustbubble.store.federation import Peer, insert_peer

    impostor = FastAPI()

    @impostor.get("/federation/v1/organizations", response_class=PlainTextResponse)
    def garbled() -> str:
        return "<html>maintenance</html>"

    with federation(tmp_path) as world, TestClient(impostor) as broken:
        north = world.add("North", db)
        other = NodeKey.generate()
        sealed = peers.seal(north.key, other.node_id, "tbp_" + "x" * 43)
        with north.db.write() as conn:
            insert_peer(
                conn,
                Peer(
                    other.node_id,
                    "Broken node",
                    None,
                    "http://broken.test",
                    other.public_text,
                    sealed,
                    None,
                    datetime.now(UTC),
                    None,
                ),
            )
        outcomes = sync.run(north.db, north.key, lambda _url: nullcontext(broken), force=True)
        (outcome,) = outcomes
        assert outcome.peer == "Broken node"
        assert outcome.error is not None
