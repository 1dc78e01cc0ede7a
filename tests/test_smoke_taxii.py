from __future__ import annotations

from fastapi.testclient import TestClient

from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.services import accounts, bubbles
from trustbubble.store.database import Database

TAXII = "application/taxii+json;version=2.1"


def test_discovery_and_post(client: TestClient, db: Database) -> None:
    accounts.create_org(db, "CERT A", "cert", "FR")
    _user, password = accounts.create_user(db, "a@cert.test", "CERT A", UserRole.ANALYST)
    bubble = bubbles.create_bubble(db, "B", BubbleKind.BILATERAL, "CERT A")
    auth = ("a@cert.test", password)
    r = client.get("/taxii2/", headers={"Accept": TAXII})
    assert r.status_code == 200, r.text
    r = client.get("/taxii2/bubbles/collections/", headers={"Accept": TAXII}, auth=auth)
    assert bubble.id in r.text
    envelope = {
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "created": "2016-04-06T20:03:48.000Z",
                "modified": "2016-04-06T20:03:48.000Z",
                "pattern": "[ipv4-addr:value = '192.0.2.1']",
                "pattern_type": "stix",
                "valid_from": "2016-01-01T00:00:00Z",
            }
        ]
    }
    r = client.post(
        f"/taxii2/bubbles/collections/{bubble.id}/objects/",
        json=envelope,
        headers={"Accept": TAXII, "Content-Type": TAXII},
        auth=auth,
    )
    assert r.status_code == 202, r.text
    assert r.json()["success_count"] == 1
    r = client.get(
        f"/taxii2/bubbles/collections/{bubble.id}/objects/",
        auth=auth,
        params={"match[type]": "indicator"},
    )
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()["objects"]] == [envelope["objects"][0]["id"]]
