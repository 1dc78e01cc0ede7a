"""`GET /metrics`: what an operator's Prometheus scrapes, counted from the store, with no secret."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, select

from tests.conftest import TAXII, Member
from trustbubble import __version__
from trustbubble.api.app import create_app
from trustbubble.api.metrics import FAMILIES, scrape
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.domain.notifications import Channel, DeliveryState
from trustbubble.domain.tlp import TLP2_MARKING_IDS, TlpLevel
from trustbubble.services import accounts, assistance, bubbles, secrets
from trustbubble.settings import Settings
from trustbubble.store import notifications as notification_store
from trustbubble.store.database import Database
from trustbubble.store.tables import users

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def parse(text: str) -> Samples:
    """Each sample's value by its name and its labels, sorted."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def get(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


def by_tlp(samples: Samples) -> dict[str, float]:
    return {dict(key)["tlp"]: n for key, n in samples["trustbubble_object_versions_by_tlp"].items()}


def indicator(level: TlpLevel | None, modified: str = "2024-01-01T00:00:00.000Z") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "pattern": "[ipv4-addr:value = '192.0.2.1']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    if level is not None:
        obj["object_marking_refs"] = [TLP2_MARKING_IDS[level]]
    return obj


def test_the_scrape_counts_the_versions_added_at_each_tlp_level(
    client: TestClient, member: Member
) -> None:
    before = get(client)
    green = indicator(TlpLevel.GREEN)
    objects = [
        green,
        {**green, "modified": "2024-02-01T00:00:00.000Z"},  # a second version of it
        indicator(TlpLevel.GREEN),
        indicator(None),  # the bubble's default: AMBER
        indicator(TlpLevel.AMBER_STRICT),
        indicator(TlpLevel.RED),
    ]
    r = client.post(member.objects_url, json={"objects": objects}, headers=member.post_headers)
    assert r.status_code == 202, r.text
    assert r.json()["success_count"] == 6

    after = get(client)
    added = {level: n - by_tlp(before)[level] for level, n in by_tlp(after).items()}
    assert added == {"clear": 0, "green": 3, "amber": 1, "amber+strict": 1, "red": 1}
    assert value(after, "trustbubble_object_versions") == sum(by_tlp(after).values())
    assert value(after, "trustbubble_object_versions") - value(
        before, "trustbubble_object_versions"
    ) == len(objects)


def test_the_scrape_is_prometheus_text_with_the_node_counts(
    client: TestClient, db: Database
) -> None:
    accounts.create_org(db, "National CERT", "cert", "FR")
    accounts.create_org(db, "City Hospital", "operator", "FR")
    accounts.create_user(db, "analyst@cert.test", "National CERT", UserRole.ANALYST)
    bubbles.create_bubble(db, "Health", BubbleKind.REGIONAL, "National CERT")
    bubbles.create_bubble(
        db, "Regional", BubbleKind.REGIONAL, "National CERT", members=("City Hospital",)
    )
    audit_before = value(get(client), "trustbubble_audit_log_entries")
    accounts.create_org(db, "Ministry", "government", "FR")  # one change, one audit entry

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    samples = parse(response.text)
    assert value(samples, "trustbubble_info", version=__version__) == 1
    assert value(samples, "trustbubble_organizations") == 3
    assert value(samples, "trustbubble_users") == 1
    assert value(samples, "trustbubble_bubbles") == 2
    assert value(samples, "trustbubble_memberships", state="active") == 3
    assert value(samples, "trustbubble_memberships", state="invited") == 0
    assert value(samples, "trustbubble_audit_log_entries") == audit_before + 1
    assert value(samples, "trustbubble_scrape_duration_seconds") >= 0
    # Every family is named for the node, and every level is there, at 0 when none is stored.
    assert all(name.startswith("trustbubble_") for name in samples)
    assert set(by_tlp(samples)) == {"clear", "green", "amber", "amber+strict", "red"}


def test_the_outbox_is_counted_per_channel_and_every_state_is_shown(
    client: TestClient, db: Database
) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        for n in range(2):
            notification_store.insert_delivery(
                conn, Channel.EMAIL, f"person{n}@cert.test", "Subject", "Text", now
            )
    deliveries = get(client)["trustbubble_deliveries"]
    assert len(deliveries) == len(Channel) * len(DeliveryState)

    def total(channel: Channel) -> float:
        # The node's worker may send (or skip) them meanwhile: count every state.
        return sum(n for key, n in deliveries.items() if dict(key)["channel"] == channel.value)

    assert total(Channel.EMAIL) == 2
    assert total(Channel.WEBHOOK) == 0


def test_open_requests_for_assistance_are_counted(
    client: TestClient, db: Database, member: Member
) -> None:
    accounts.create_org(db, "City Hospital", "operator", "FR")
    user, _password = accounts.create_user(
        db, "ciso@hospital.test", "City Hospital", UserRole.ANALYST
    )
    bubbles.create_bubble(
        db, "Hospitals", BubbleKind.REGIONAL, "City Hospital", members=("National CERT",)
    )
    hospitals = bubbles.bubble_by_name(db, "Hospitals")
    before = get(client)
    assert value(before, "trustbubble_assistance_requests", state="open") == 0
    asked = {"title": "Ransomware on the wards", "asked": ["mitigation"]}
    assistance.raise_request(db, user, hospitals.id, asked)

    after = get(client)
    assert value(after, "trustbubble_assistance_requests", state="open") == 1
    assert value(after, "trustbubble_assistance_requests", state="resolved") == 0


def test_no_name_e_mail_password_or_token_is_in_the_scrape(
    client: TestClient, db: Database, member: Member
) -> None:
    _user, password = accounts.create_user(db, "admin@cert.test", "National CERT", UserRole.ADMIN)
    with db.read() as conn:
        password_hashes = list(conn.execute(select(users.c.password_hash)).scalars())
    with db.write() as conn:
        notification_store.insert_delivery(
            conn, Channel.EMAIL, "admin@cert.test", "Outbox subject", "Text", datetime.now(UTC)
        )
    # A use of the token: its use is recorded, so the scrape reads after it.
    r = client.get("/taxii2/bubbles/collections/", headers=member.headers)
    assert r.status_code == 200, r.text

    text = client.get("/metrics").text.lower()
    secret_things = [
        member.token,
        secrets.token_hash(member.token),
        password,
        *password_hashes,
        member.email,
        "admin@cert.test",
        "Health bubble",
        "National CERT",
        "Outbox subject",
    ]
    assert len(password_hashes) == 2
    found = [thing for thing in secret_things if thing.lower() in text]
    assert not found, f"the scrape shows {found}"


def test_with_the_setting_off_there_is_no_metrics_endpoint(db: Database) -> None:
    settings = Settings(database_url=db.url, metrics=False)
    with TestClient(create_app(settings, db)) as client:
        assert client.get("/metrics", headers={"Accept": TAXII}).status_code == 404
        assert client.get("/taxii2/", headers={"Accept": TAXII}).status_code == 200


def test_a_provider_added_to_the_families_is_read_in_the_scrape(db: Database) -> None:
    """The extension point: one more family, read in the scrape's own transaction."""
    accounts.create_org(db, "National CERT", "cert", "FR")
    accounts.create_user(db, "analyst@cert.test", "National CERT", UserRole.ANALYST)

    def example(conn: Connection) -> Iterator[Metric]:
        people = conn.execute(select(users.c.id)).all()
        yield GaugeMetricFamily("trustbubble_example", "An example family.", len(people))

    samples = parse(scrape(db, (*FAMILIES, example)).decode())
    assert value(samples, "trustbubble_example") == 1
    assert value(samples, "trustbubble_users") == 1
    assert "trustbubble_example" not in parse(scrape(db).decode())
