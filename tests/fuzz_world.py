"""A node with something of every kind, for the API fuzzer to find: the ids it may aim at.

An analyst of the National CERT, which owns a bubble where a hospital is a member, calls the API
with a Bearer token. The bubble holds an indicator, a malware and an incident; the hospital asked
it for help; the CERT keeps a point of contact, a norms report, a draft in consultation that the
hospital commented on, an exercise and a communication check. `ids` maps each path parameter of
the OpenAPI document to values that exist, so that generated requests reach past the 404s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.domain.consultations import read_audience
from trustbubble.domain.exercises.scenario import SHIPPED
from trustbubble.domain.node_objects import PUBLIC_COLLECTION_ID
from trustbubble.domain.norms import read_entries
from trustbubble.services import (
    accounts,
    assistance,
    bubbles,
    checks,
    consultations,
    exercises,
    incidents,
    norms,
    objects,
    pocs,
)
from trustbubble.store import tables
from trustbubble.store.database import Database

INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
MALWARE = "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc"
DRAFT = "# Rules\n\nHospitals report incidents within a day.\n\nThe CERT answers within an hour.\n"


@dataclass(frozen=True)
class FuzzWorld:
    token: str
    ids: dict[str, list[str]]  # path parameter name -> values that exist on the node

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _stix(kind: str, stix_id: str, **props: object) -> dict[str, object]:
    stamp = "2026-03-02T08:15:00.000Z"
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": stix_id,
        "created": stamp,
        "modified": stamp,
        **props,
    }


def build(db: Database) -> FuzzWorld:
    accounts.create_org(db, "National CERT", "government", "FR")
    accounts.create_org(db, "City Hospital", "operator", "FR")
    analyst, _ = accounts.create_user(db, "analyst@cert.test", "National CERT", UserRole.ANALYST)
    nurse, _ = accounts.create_user(db, "ciso@hospital.test", "City Hospital", UserRole.ANALYST)
    _token, secret = accounts.create_token(db, analyst)
    # A second token for the fuzzer to revoke: revoking the one it calls with would end the run.
    spare, _ = accounts.create_token(db, analyst, "spare")
    bubble = bubbles.create_bubble(
        db, "Health bubble", BubbleKind.REGIONAL, "National CERT", members=("City Hospital",)
    )

    reader = accounts.reader_for(db, analyst)
    with db.read() as conn:
        where = bubbles.collection_access(conn, reader, bubble.id)
    pattern = "[ipv4-addr:value = '198.51.100.7']"
    status = objects.add_envelope(
        db,
        reader,
        analyst.email,
        where,
        [
            _stix(
                "indicator",
                INDICATOR,
                pattern=pattern,
                pattern_type="stix",
                valid_from="2026-03-02T08:15:00Z",
            ),
            _stix("malware", MALWARE, name="LockBit", is_family=True),
        ],
    )
    incident = incidents.report(
        db,
        analyst,
        bubble.id,
        {
            "title": "Ransomware at a hospital",
            "started": "2026-03-02T08:15:00Z",
            "country": "FR",
            "attack_type": "ransomware",
            "norms": ["f"],
        },
    )
    request = assistance.raise_request(
        db, nurse, bubble.id, {"title": "Wards offline", "asked": ["mitigation"]}
    )
    poc = pocs.add(db, analyst, {"name": "Duty officer", "email": "duty@cert.test"})
    report = norms.start(db, analyst, 2026, read_entries({"g": {"level": "initial"}}))
    draft = consultations.new_draft(db, analyst, "Incident rules", "guideline", DRAFT)
    now = datetime.now(UTC)
    consultation = consultations.open_consultation(
        db,
        analyst,
        draft,
        1,
        now - timedelta(minutes=1),
        now + timedelta(days=14),
        read_audience({"bubbles": [bubble.id]}),
    )
    comment = consultations.comment(
        db, nurse, consultation, {"paragraph": 1, "stance": "support", "text": "Yes."}
    )
    scenario = "hospital-ransomware"
    assert (SHIPPED / f"{scenario}.yaml").is_file()
    session = exercises.create(db, analyst, scenario)
    check = checks.start(db, analyst, bubble.id)

    with db.read() as conn:
        hospital = conn.execute(
            select(tables.organizations.c.id).where(tables.organizations.c.name == "City Hospital")
        ).scalar_one()
        notices = list(conn.execute(select(tables.notifications.c.id)).scalars())
    return FuzzWorld(
        secret,
        {
            "bubble_id": [bubble.id],
            "collection_id": [bubble.id, PUBLIC_COLLECTION_ID],
            "object_id": [INDICATOR, MALWARE, incident],
            "incident_id": [incident],
            "status_id": [status.id],
            "request_id": [request],
            "poc_id": [poc.id],
            "token_id": [spare.id],
            "notification_id": [str(n) for n in notices],
            "check_id": [check.id],
            "report_id": [report.id],
            "country": ["FR"],
            "letter": ["a", "f", "k"],
            "scenario_id": [scenario],
            "session_id": [session],
            "draft_id": [draft],
            "consultation_id": [consultation],
            "comment_id": [str(comment)],
            "org_id": [hospital],
        },
    )
