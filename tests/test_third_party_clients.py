"""Third-party TAXII 2.1 clients, unmodified (taxii2-client, stix2), against `trustbubble serve`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import stix2
from requests.exceptions import HTTPError
from stix2 import Filter, TAXIICollectionSink, TAXIICollectionSource
from stix2.datastore import DataSourceError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from tests.live_node import LiveNode, running_node
from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID

pytestmark = pytest.mark.slow

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
NODE_NAME = "TrustBubble conformance node"
CONTACT = "soc@alpha.test"
MAX_CONTENT = 1024 * 1024
PAGE = 8  # served without `limit`
MAX_PAGE = 10  # small, so that the clients' paging is exercised on a handful of objects
VULNERABILITIES = 23  # not a multiple of any page size used below


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    settings: dict[str, str | int] = {
        "node_name": NODE_NAME,
        "contact": CONTACT,
        "max_content_length": MAX_CONTENT,
        "page_size": PAGE,
        "max_page_size": MAX_PAGE,
    }
    with running_node(tmp_path_factory.mktemp("third-party"), settings=settings) as live:
        yield live


def open_collection(
    node: LiveNode, collection_id: str, user: str | None = None, password: str | None = None
) -> Any:
    return Collection(node.collection_url(collection_id), user=user, password=password)


@pytest.fixture(scope="module")
def bubble(node: LiveNode) -> Iterator[Any]:
    """The bubble as its analyst sees it through taxii2-client, logged in with a password."""
    with open_collection(node, node.bubble_id, node.analyst.email, node.analyst.password) as c:
        yield c


def stamp(day: int, hour: int = 10) -> str:
    return f"2024-03-{day:02d}T{hour:02d}:00:00.000Z"


def moment(text: str) -> datetime:
    """A STIX or TAXII timestamp as an instant: the server may write more fraction digits."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def as_dict(obj: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(obj.serialize())
    return parsed


def versions_in(envelope: Mapping[str, Any]) -> set[tuple[str, datetime]]:
    """(id, modified) of every object of an envelope."""
    return {(o["id"], moment(o["modified"])) for o in envelope.get("objects", [])}


def version_of(obj: Any) -> tuple[str, datetime]:
    return obj["id"], moment(as_dict(obj)["modified"])


def http_status(call: Callable[[], object]) -> int:
    """The HTTP status of the error the client raises."""
    with pytest.raises(HTTPError) as caught:
        call()
    assert caught.value.response is not None
    return caught.value.response.status_code


@dataclass(frozen=True, slots=True)
class Shared:
    """What the analyst shared in the bubble at the start, as stix2 objects."""

    indicator: list[Any]  # three versions, oldest first
    malware: list[Any]  # two versions
    relationship: Any
    clear: Any  # marked TLP:CLEAR, so the public collection serves it too
    first_status: Any
    second_status: Any


@pytest.fixture(scope="module")
def shared(bubble: Any) -> Shared:
    i1 = stix2.Indicator(
        name="C2 of the hospital ransomware",
        pattern="[ipv4-addr:value = '198.51.100.7']",
        pattern_type="stix",
        valid_from=stamp(1),
        created=stamp(1),
        modified=stamp(1),
    )
    i2 = i1.new_version(modified=stamp(2), confidence=50)
    i3 = i2.new_version(modified=stamp(3), confidence=90)
    m1 = stix2.Malware(
        name="PandemicLocker", is_family=True, created=stamp(1, 11), modified=stamp(1, 11)
    )
    m2 = m1.new_version(modified=stamp(5), description="Encrypts imaging archives.")
    relation = stix2.Relationship(i1, "indicates", m1, created=stamp(6), modified=stamp(6))
    clear = stix2.Indicator(
        name="Phishing domain, safe to publish",
        pattern="[domain-name:value = 'vaccine-slots.example']",
        pattern_type="stix",
        valid_from=stamp(7),
        created=stamp(7),
        modified=stamp(7),
        object_marking_refs=[TLP_CLEAR],
    )
    # A STIX bundle as a string, then a bare TAXII envelope as a dict: the client takes both.
    first = bubble.add_objects(stix2.Bundle(i1, i2, m1, relation, clear).serialize())
    second = bubble.add_objects({"objects": [as_dict(i3), as_dict(m2)]})
    return Shared([i1, i2, i3], [m1, m2], relation, clear, first, second)


@pytest.fixture(scope="module")
def vulnerabilities(bubble: Any) -> list[str]:
    """Ids of objects of a type no other test shares, for counting across pages."""
    objects = [
        stix2.Vulnerability(name=f"CVE-2024-{n:04d}", created=stamp(9), modified=stamp(9))
        for n in range(VULNERABILITIES)
    ]
    status = bubble.add_objects({"objects": [as_dict(o) for o in objects]})
    assert status.success_count == VULNERABILITIES
    return [o["id"] for o in objects]


# --- discovery, API root, collections ---


def test_discovery_names_the_node_and_its_api_root(node: LiveNode) -> None:
    with Server(node.discovery_url, user=node.analyst.email, password=node.analyst.password) as s:
        assert s.title == NODE_NAME
        assert s.contact == CONTACT
        assert [root.url for root in s.api_roots] == [node.api_root_url]
        assert s.default is s.api_roots[0]


def test_api_root_information(node: LiveNode) -> None:
    with ApiRoot(node.api_root_url, user=node.analyst.email, password=node.analyst.password) as r:
        assert r.versions == [TAXII]
        assert r.max_content_length == MAX_CONTENT
        assert r.title


def test_collections_list_the_bubble_and_the_public_collection(node: LiveNode) -> None:
    with ApiRoot(node.api_root_url, user=node.analyst.email, password=node.analyst.password) as r:
        seen = {c.id: c for c in r.collections}
    assert node.bubble_id in seen
    assert PUBLIC_COLLECTION_ID in seen
    assert node.other_bubble_id not in seen
    mine, public = seen[node.bubble_id], seen[PUBLIC_COLLECTION_ID]
    assert (mine.title, mine.can_read, mine.can_write) == (node.bubble_name, True, True)
    assert mine.media_types == [STIX]
    assert (public.can_read, public.can_write) == (True, False)


def test_a_viewer_reads_the_bubble_but_may_not_write(node: LiveNode, shared: Shared) -> None:
    viewer = node.viewer
    with open_collection(node, node.bubble_id, viewer.email, viewer.password) as collection:
        assert (collection.can_read, collection.can_write) == (True, False)
        with pytest.raises(DataSourceError):
            TAXIICollectionSink(collection)
        latest = TAXIICollectionSource(collection).get(shared.malware[0].id)
    assert (latest.id, latest.modified) == (shared.malware[1].id, shared.malware[1].modified)


# --- add objects and status ---


def test_add_objects_status_is_complete_and_can_be_polled(
    node: LiveNode, bubble: Any, shared: Shared
) -> None:
    first = shared.first_status
    assert (first.status, first.total_count, first.success_count) == ("complete", 5, 5)
    assert (first.failure_count, first.pending_count) == (0, 0)
    posted = [shared.indicator[0], shared.indicator[1], shared.malware[0]]
    posted += [shared.relationship, shared.clear]
    assert sorted((s["id"], moment(s["version"])) for s in first.successes) == sorted(
        version_of(o) for o in posted
    )
    first.wait_until_final(poll_interval=0.1, timeout=5)
    first.refresh()  # a real GET of the status resource
    assert (first.status, first.success_count, first.failure_count) == ("complete", 5, 0)
    with ApiRoot(node.api_root_url, user=node.analyst.email, password=node.token) as r:
        again = r.get_status(shared.second_status.id)
    assert (again.status, again.total_count, again.success_count) == ("complete", 2, 2)

    later = bubble.add_objects(
        {"objects": [as_dict(shared.indicator[2])]}, wait_for_completion=False
    )
    assert (later.status, later.success_count) == ("complete", 1)  # a replay changes nothing
    assert len(bubble.object_versions(shared.indicator[0].id)["versions"]) == 3


def test_status_names_each_refused_object(bubble: Any) -> None:
    campaign = as_dict(stix2.Campaign(name="Winter wave", created=stamp(8), modified=stamp(8)))
    broken = dict(campaign, id="campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
    del broken["name"]
    status = bubble.add_objects({"objects": [campaign, broken]})
    assert (status.status, status.total_count) == ("complete", 2)
    assert (status.success_count, status.failure_count) == (1, 1)
    assert [s["id"] for s in status.successes] == [campaign["id"]]
    assert [f["id"] for f in status.failures] == [broken["id"]]
    assert "name" in status.failures[0]["message"]
    assert http_status(lambda: bubble.get_object(broken["id"])) == 404


def test_a_status_is_private_to_its_poster(node: LiveNode, shared: Shared) -> None:
    other = node.other_analyst
    with ApiRoot(node.api_root_url, user=other.email, password=other.password) as r:
        assert http_status(lambda: r.get_status(shared.first_status.id)) == 404
    with ApiRoot(node.api_root_url) as anonymous:
        assert http_status(lambda: anonymous.get_status(shared.first_status.id)) == 401


# --- get objects and every filter ---


def test_get_objects_serves_the_latest_version_of_each(bubble: Any, shared: Shared) -> None:
    wanted = [shared.indicator[2], shared.malware[1], shared.relationship, shared.clear]
    found = bubble.get_objects(id=[o.id for o in wanted])
    assert len(found["objects"]) == len(wanted)
    assert versions_in(found) == {version_of(o) for o in wanted}
    assert found["more"] is False
    served = {o["id"]: o for o in found["objects"]}
    assert served[shared.indicator[0].id]["confidence"] == 90
    assert served[shared.malware[0].id]["description"] == "Encrypts imaging archives."


def test_match_id_one_and_several(bubble: Any, shared: Shared) -> None:
    indicator, malware = shared.indicator, shared.malware
    assert versions_in(bubble.get_objects(id=indicator[0].id)) == {version_of(indicator[2])}
    both = bubble.get_objects(id=f"{indicator[0].id},{malware[0].id}")
    assert versions_in(both) == {version_of(indicator[2]), version_of(malware[1])}
    missing = "indicator--00000000-0000-4000-8000-000000000000"
    assert bubble.get_objects(id=missing) == {"more": False}


def test_match_type_one_and_several(bubble: Any, shared: Shared) -> None:
    malware = bubble.get_objects(type="malware")
    assert versions_in(malware) == {version_of(shared.malware[1])}
    several = bubble.get_objects(type="indicator,relationship")
    assert len(several["objects"]) == 3
    assert versions_in(several) == {
        version_of(shared.indicator[2]),
        version_of(shared.clear),
        version_of(shared.relationship),
    }


def test_match_version_first_last_all_and_timestamps(bubble: Any, shared: Shared) -> None:
    i1, i2, i3 = shared.indicator
    one = i1.id

    def read(version: str | list[str]) -> set[tuple[str, datetime]]:
        return versions_in(bubble.get_objects(id=one, version=version))

    assert read("first") == {version_of(i1)}
    assert read("last") == {version_of(i3)}
    assert read("all") == {version_of(i1), version_of(i2), version_of(i3)}
    assert read(as_dict(i2)["modified"]) == {version_of(i2)}
    assert read([as_dict(i1)["modified"], as_dict(i3)["modified"]]) == {
        version_of(i1),
        version_of(i3),
    }
    assert read("first,last") == {version_of(i1), version_of(i3)}
    assert read("2024-03-02T10:00:00Z") == {version_of(i2)}  # the same instant, fewer digits
    assert read(stamp(4)) == set()


def test_match_spec_version(bubble: Any, shared: Shared) -> None:
    ids = [shared.indicator[0].id, shared.malware[0].id]
    assert versions_in(bubble.get_objects(id=ids, spec_version="2.1")) == {
        version_of(shared.indicator[2]),
        version_of(shared.malware[1]),
    }
    assert bubble.get_objects(id=ids, spec_version="2.0") == {"more": False}
    both = bubble.get_objects(id=ids, spec_version="2.0,2.1", version="first")
    assert versions_in(both) == {version_of(shared.indicator[0]), version_of(shared.malware[0])}


def test_added_after(bubble: Any, shared: Shared) -> None:
    i1, i2, i3 = shared.indicator
    records = bubble.get_manifest(id=i1.id, version="all")["objects"]
    added = [r["date_added"] for r in records]
    assert added == sorted(added, key=moment)
    everything = bubble.get_objects(id=i1.id, version="all", added_after=added[0])
    assert versions_in(everything) == {version_of(i2), version_of(i3)}
    assert versions_in(bubble.get_objects(id=i1.id, added_after=added[1])) == {version_of(i3)}
    assert bubble.get_objects(id=i1.id, version="all", added_after=added[2]) == {"more": False}
    # A datetime, which the client formats itself.
    before = moment(added[0]) - timedelta(microseconds=1)
    assert len(bubble.get_objects(id=i1.id, version="all", added_after=before)["objects"]) == 3


def test_get_object_with_filters(bubble: Any, shared: Shared) -> None:
    i1, i2, i3 = shared.indicator
    assert versions_in(bubble.get_object(i1.id)) == {version_of(i3)}
    assert versions_in(bubble.get_object(i1.id, version="first")) == {version_of(i1)}
    every = bubble.get_object(i1.id, version="all")
    assert [version_of(o) for o in [i1, i2, i3]] == [
        (o["id"], moment(o["modified"])) for o in every["objects"]
    ]
    assert versions_in(bubble.get_object(i1.id, version="all", spec_version="2.1")) == {
        version_of(o) for o in [i1, i2, i3]
    }
    missing = "malware--00000000-0000-4000-8000-000000000000"
    assert http_status(lambda: bubble.get_object(missing)) == 404


def test_object_versions(bubble: Any, shared: Shared) -> None:
    i1, i2, i3 = shared.indicator
    listed = bubble.object_versions(i1.id)
    assert listed["more"] is False
    assert [moment(v) for v in listed["versions"]] == [version_of(o)[1] for o in [i1, i2, i3]]
    relation = bubble.object_versions(shared.relationship.id)["versions"]
    assert [moment(v) for v in relation] == [version_of(shared.relationship)[1]]
    first_added = bubble.get_manifest(id=i1.id, version="first")["objects"][0]["date_added"]
    later = bubble.object_versions(i1.id, added_after=first_added)["versions"]
    assert [moment(v) for v in later] == [version_of(i2)[1], version_of(i3)[1]]


def test_manifest_records_each_version(bubble: Any, shared: Shared) -> None:
    i1, i2, i3 = shared.indicator
    records = bubble.get_manifest(id=i1.id, version="all")["objects"]
    assert [(r["id"], moment(r["version"])) for r in records] == [
        version_of(o) for o in [i1, i2, i3]
    ]
    assert {r["media_type"] for r in records} == {STIX}
    latest = bubble.get_manifest(type="malware,relationship")["objects"]
    assert {(r["id"], moment(r["version"])) for r in latest} == {
        version_of(shared.malware[1]),
        version_of(shared.relationship),
    }
    first = bubble.get_manifest(id=shared.malware[0].id, version="first", spec_version="2.1")
    assert [moment(r["version"]) for r in first["objects"]] == [version_of(shared.malware[0])[1]]


# --- pagination ---


def _ids_per_page(pages: list[Any]) -> list[list[str]]:
    return [[o["id"] for o in page.get("objects", [])] for page in pages]


def test_pages_of_objects_carry_each_object_once(bubble: Any, vulnerabilities: list[str]) -> None:
    pages = list(as_pages(bubble.get_objects, per_request=5, type="vulnerability"))
    per_page = _ids_per_page(pages)
    assert [len(ids) for ids in per_page] == [5, 5, 5, 5, 3]
    assert sorted(i for ids in per_page for i in ids) == sorted(vulnerabilities)
    assert [page["more"] for page in pages] == [True, True, True, True, False]


def test_pages_of_the_manifest_carry_each_object_once(
    bubble: Any, vulnerabilities: list[str]
) -> None:
    pages = list(as_pages(bubble.get_manifest, per_request=4, type="vulnerability"))
    per_page = _ids_per_page(pages)
    assert [len(ids) for ids in per_page] == [4, 4, 4, 4, 4, 3]
    assert sorted(i for ids in per_page for i in ids) == sorted(vulnerabilities)
    assert all(page.get("next") for page in pages[:-1])


def test_a_page_larger_than_the_node_allows_is_cut_and_paging_goes_on(
    bubble: Any, vulnerabilities: list[str]
) -> None:
    pages = list(as_pages(bubble.get_objects, per_request=50, type="vulnerability"))
    assert [len(ids) for ids in _ids_per_page(pages)] == [10, 10, 3]
    assert sorted(i for ids in _ids_per_page(pages) for i in ids) == sorted(vulnerabilities)


def test_a_read_without_limit_gets_the_node_page_size(
    bubble: Any, vulnerabilities: list[str]
) -> None:
    page = bubble.get_objects(type="vulnerability")
    assert [o["id"] for o in page["objects"]] == vulnerabilities[:PAGE]
    assert page["more"] is True
    rest = bubble.get_objects(type="vulnerability", next=page["next"])
    assert [o["id"] for o in rest["objects"]] == vulnerabilities[PAGE : 2 * PAGE]


def test_every_version_in_pages_of_objects_matches_the_manifest(
    bubble: Any, shared: Shared, vulnerabilities: list[str]
) -> None:
    def everything(read: Callable[..., Any], key: str) -> list[tuple[str, datetime]]:
        pages = as_pages(read, per_request=7, version="all")
        return [(o["id"], moment(o[key])) for page in pages for o in page.get("objects", [])]

    objects = everything(bubble.get_objects, "modified")
    assert len(objects) == len(set(objects))
    assert objects == everything(bubble.get_manifest, "version")
    posted = [*shared.indicator, *shared.malware, shared.relationship, shared.clear]
    assert {version_of(o) for o in posted} <= set(objects)
    assert set(vulnerabilities) <= {object_id for object_id, _ in objects}


# --- delete ---


def test_delete_one_version_then_the_object(bubble: Any) -> None:
    t1 = stix2.Tool(name="Exfil kit", created=stamp(10), modified=stamp(10))
    t2 = t1.new_version(modified=stamp(11))
    t3 = t2.new_version(modified=stamp(12))
    status = bubble.add_objects(stix2.Bundle(t1, t2, t3).serialize())
    assert status.success_count == 3
    bubble.delete_object(t1.id, version="first")
    kept = bubble.object_versions(t1.id)["versions"]
    assert [moment(v) for v in kept] == [version_of(t2)[1], version_of(t3)[1]]
    assert versions_in(bubble.get_object(t1.id, version="first")) == {version_of(t2)}
    bubble.delete_object(t1.id)
    assert http_status(lambda: bubble.get_object(t1.id)) == 404
    assert bubble.get_manifest(id=t1.id, version="all") == {"more": False}
    assert http_status(lambda: bubble.delete_object(t1.id)) == 404


# --- authentication and who sees what ---


def test_basic_auth_with_an_api_token(node: LiveNode, shared: Shared) -> None:
    email = node.analyst.email
    with open_collection(node, node.bubble_id, email, node.token) as collection:
        assert collection.can_write is True
        found = collection.get_object(shared.malware[0].id)
    assert versions_in(found) == {version_of(shared.malware[1])}


def test_wrong_or_missing_credentials_get_401(node: LiveNode) -> None:
    wrong = open_collection(node, node.bubble_id, node.analyst.email, "not-the-password")
    assert http_status(lambda: wrong.title) == 401
    anonymous = open_collection(node, node.bubble_id)
    with pytest.raises(HTTPError) as caught:
        _ = anonymous.title
    response = caught.value.response
    assert response is not None
    assert response.status_code == 401
    assert "basic" in response.headers["WWW-Authenticate"].lower()
    assert response.json()["title"]


def test_a_collection_the_user_may_not_see_is_404(node: LiveNode) -> None:
    analyst, other = node.analyst, node.other_analyst
    theirs = open_collection(node, node.other_bubble_id, analyst.email, analyst.password)
    assert http_status(lambda: theirs.title) == 404
    ours = open_collection(node, node.bubble_id, other.email, other.password)
    assert http_status(lambda: ours.title) == 404
    with ApiRoot(node.api_root_url, user=other.email, password=other.password) as root:
        seen = {c.id for c in root.collections}
    assert seen == {node.other_bubble_id, PUBLIC_COLLECTION_ID}


def test_anonymous_readers_get_only_clear_objects_from_the_public_collection(
    node: LiveNode, shared: Shared
) -> None:
    with ApiRoot(node.api_root_url) as root:
        assert [c.id for c in root.collections] == [PUBLIC_COLLECTION_ID]
        public = root.collections[0]
        pages = list(as_pages(public.get_objects, per_request=MAX_PAGE))
    served = {o["id"]: o for page in pages for o in page.get("objects", [])}
    assert shared.clear.id in served
    assert served[shared.clear.id]["name"] == "Phishing domain, safe to publish"
    for secret in [shared.indicator[0], shared.malware[0], shared.relationship]:
        assert secret.id not in served
    assert all(TLP_CLEAR in o.get("object_marking_refs", []) for o in served.values())


# --- stix2 data store on top of taxii2-client ---


@pytest.fixture(scope="module")
def stix2_bubble(node: LiveNode) -> Iterator[Any]:
    """The other organization's bubble, where only these tests write, so counts are exact."""
    analyst = node.other_analyst
    with open_collection(node, node.other_bubble_id, analyst.email, analyst.password) as collection:
        yield collection


def test_stix2_sink_then_source_get_versions_and_query(stix2_bubble: Any) -> None:
    a1 = stix2.Indicator(
        name="Beacon",
        pattern="[url:value = 'http://203.0.113.9/beacon']",
        pattern_type="stix",
        valid_from=stamp(13),
    )
    a2 = a1.new_version(name="Beacon (confirmed)")
    b = stix2.Indicator(
        name="Dropper hash",
        pattern="[file:hashes.'SHA-256' = "
        "'4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']",
        pattern_type="stix",
        valid_from=stamp(13),
    )
    family = stix2.Malware(name="BeaconRAT", is_family=True)
    link = stix2.Relationship(a1, "indicates", family)
    TAXIICollectionSink(stix2_bubble).add([a1, a2, b, family])
    TAXIICollectionSink(stix2_bubble).add(stix2.Bundle(link))

    source = TAXIICollectionSource(stix2_bubble)
    latest = source.get(a1.id)
    assert isinstance(latest, stix2.Indicator)
    assert (latest.name, latest.modified) == ("Beacon (confirmed)", a2.modified)
    assert source.get("indicator--00000000-0000-4000-8000-000000000000") is None

    every = source.all_versions(a1.id)
    assert sorted((o.modified, o.name) for o in every) == [
        (a1.modified, "Beacon"),
        (a2.modified, "Beacon (confirmed)"),
    ]

    indicators = source.query([Filter("type", "=", "indicator")])
    assert sorted((o.id, o.modified) for o in indicators) == sorted(
        [(a2.id, a2.modified), (b.id, b.modified)]
    )
    assert [o.id for o in source.query([Filter("name", "=", "Dropper hash")])] == [b.id]

    assert [r.id for r in source.relationships(family)] == [link.id]
    assert [o.id for o in source.related_to(family)] == [a1.id]


def test_stix2_source_pages_past_the_node_maximum(node: LiveNode, stix2_bubble: Any) -> None:
    many = [
        stix2.AttackPattern(name=f"Technique {n}", created=stamp(14), modified=stamp(14))
        for n in range(MAX_PAGE * 2 + 1)
    ]
    TAXIICollectionSink(stix2_bubble).add(stix2.Bundle(*many))
    # stix2 asks for 5000 per page by default; the node serves MAX_PAGE and says there is more.
    found = TAXIICollectionSource(stix2_bubble).query([Filter("type", "=", "attack-pattern")])
    assert sorted(o.id for o in found) == sorted(o.id for o in many)
