"""New STIX objects the load's clients share: indicators, incident reports and malware.

Every object is new (a random id), so each POST stores all of its objects. Indicators hold one
IPv4 address drawn from a pool, so a value has several holders and an object's page finds it
"also seen in" elsewhere; incidents carry the node's incident extension, with dates in the last
two years, so the observatory's default period (the last 365 days) moves as they arrive.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from trustbubble.domain.incidents import SECTORS, AttackType, IncidentStatus, read_report, to_stix
from trustbubble.domain.tlp import TLP2_MARKING_IDS, TlpLevel

ADDRESSES = 5_000  # distinct indicator values
COUNTRIES = ("FR", "KE", "DE", "BR", "CH", "PT", "ES", "SN", "CO", "IT")
# Levels of the shared objects; None: no marking, the bubble's default applies.
LEVELS = (None, None, None, TlpLevel.CLEAR, TlpLevel.GREEN, TlpLevel.AMBER)

MIX = (
    "7 in 10 objects are indicators (one IPv4 address among 5,000, so values recur), 2 in 10 "
    "incident reports with the incident extension (started in the last two years, 10 countries, "
    "the STIX sectors, every attack type), 1 in 10 malware; half unmarked (the bubble's default "
    "level), the rest TLP:CLEAR, GREEN or AMBER in equal shares"
)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _indicator(rng: random.Random, now: str) -> dict[str, Any]:
    value = rng.randrange(ADDRESSES)
    address = f"10.0.{value // 256}.{value % 256}"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": f"Ransomware command and control server {address}",
        "description": "Seen beaconing from hospital workstations during the intrusion.",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": now,
    }


def _malware(rng: random.Random, now: str) -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": f"Ransomware strain {rng.randrange(10_000)}",
        "is_family": True,
        "malware_types": ["ransomware"],
    }


def _incident(rng: random.Random, now: datetime, author: str | None) -> dict[str, Any]:
    started = now - timedelta(days=rng.randrange(730), minutes=rng.randrange(1440))
    report = read_report(
        {
            "title": f"Ransomware at a hospital ({rng.randrange(100_000)})",
            "started": _stamp(started),
            "status": rng.choice([s.value for s in IncidentStatus]),
            "country": rng.choice(COUNTRIES),
            "attack_type": rng.choice([a.value for a in AttackType]),
            "sectors": rng.sample(SECTORS[:12], rng.choice((1, 1, 2))),
            "patients_affected": rng.randint(0, 3000),
            "records_exposed": rng.randint(0, 100_000),
            "downtime_hours": rng.randint(0, 200),
            "care_delayed": rng.random() < 0.3,
            "norms": rng.sample("abcdefghijk", 2),
        }
    )
    stamp = _stamp(now)
    body = to_stix(
        report, object_id=f"incident--{uuid.uuid4()}", created=stamp, modified=stamp, author=""
    )
    body.pop("object_marking_refs", None)
    if author:
        body["created_by_ref"] = author
    else:
        body.pop("created_by_ref", None)
    return body


def new_objects(rng: random.Random, count: int, author: str | None) -> list[dict[str, Any]]:
    """`count` new objects as one organization (`author`: its identity id) shares them."""
    now = datetime.now(UTC)
    stamp = _stamp(now)
    out = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.7:
            body = _indicator(rng, stamp)
        elif draw < 0.9:
            body = _incident(rng, now, author)
        else:
            body = _malware(rng, stamp)
        if author and "created_by_ref" not in body:
            body["created_by_ref"] = author
        level = rng.choice(LEVELS)
        if level is not None:
            body["object_marking_refs"] = [TLP2_MARKING_IDS[level]]
        out.append(body)
    return out
