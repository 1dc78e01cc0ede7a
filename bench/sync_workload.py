"""The federation benchmark's objects: indicators as a CERT shares them, under a mix of TLP.

Object n of a series is the same on every run: its id is a UUIDv5 of the series and n. Of every
1,000 objects, 550 are TLP:GREEN, 350 TLP:AMBER, 90 TLP:AMBER+STRICT, 9 TLP:RED naming the peer's
organization as recipient and 1 TLP:RED naming only the home organization, which must not cross.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID, TLP2_MARKING_IDS, TlpLevel

ENVELOPE_SIZE = 1000
_NAMESPACE = uuid.UUID("b3a5e1f0-6a0c-4c57-8f0e-3d9a7c21e6b4")
_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)

MIX = (
    "indicators of four kinds in turn (an IPv4 address, a domain, a URL, a file's SHA-256), each "
    "with a name, a description, indicator types, a kill chain phase, a confidence, labels and "
    "created_by_ref; of every 1,000: 550 TLP:GREEN, 350 TLP:AMBER, 90 TLP:AMBER+STRICT, 9 TLP:RED "
    "naming the peer's organization and 1 TLP:RED naming only the home organization (which must "
    "not cross); about 800 bytes per object as JSON, 1,050 once signed"
)

_PHASES = ("command-and-control", "delivery", "exploitation", "installation")


@dataclass(frozen=True, slots=True)
class Cast:
    """Who the objects name: their author, and the organizations RED objects go to."""

    author: str  # identity of the home organization
    peer: str  # identity of the peer's organization, as the home node mirrors it


def level(n: int) -> TlpLevel:
    share = n % 1000
    if share < 550:
        return TlpLevel.GREEN
    if share < 900:
        return TlpLevel.AMBER
    if share < 990:
        return TlpLevel.AMBER_STRICT
    return TlpLevel.RED


def crosses(n: int) -> bool:
    """May object n reach the peer? All do but the RED ones naming only the home organization."""
    return n % 1000 != 999


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _pattern(n: int, digest: str) -> tuple[str, str]:
    kind = n % 4
    if kind == 0:
        address = f"198.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        return f"[ipv4-addr:value = '{address}']", f"Ransomware command and control at {address}"
    if kind == 1:
        domain = f"upd-{digest[:10]}.example.net"
        return f"[domain-name:value = '{domain}']", f"Phishing domain {domain}"
    if kind == 2:
        url = f"https://cdn-{digest[:8]}.example.com/update/{n}.bin"
        return f"[url:value = '{url}']", f"Payload download URL {url}"
    return f"[file:hashes.'SHA-256' = '{digest}']", f"Loader sample {digest[:12]}"


def stix_object(series: str, n: int, cast: Cast) -> dict[str, Any]:
    """Indicator n of a series."""
    digest = hashlib.sha256(f"{series}/{n}".encode()).hexdigest()
    stamp = _stamp(_EPOCH + timedelta(milliseconds=n))
    pattern, name = _pattern(n, digest)
    tlp = level(n)
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": object_id(series, n),
        "created": stamp,
        "modified": stamp,
        "created_by_ref": cast.author,
        "name": name,
        "description": (
            "Observed during the intrusion into regional hospitals; shared so partners can "
            "block it and look for it in their logs."
        ),
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": stamp,
        "kill_chain_phases": [
            {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": _PHASES[n % 4]}
        ],
        "confidence": 60 + n % 40,
        "labels": ["ransomware", "health-sector"],
        "object_marking_refs": [TLP2_MARKING_IDS[tlp]],
    }
    if tlp is TlpLevel.RED:
        recipients = [cast.peer] if crosses(n) else [cast.author]
        obj["extensions"] = {
            RED_RECIPIENTS_EXTENSION_ID: {
                "extension_type": "property-extension",
                "recipients": recipients,
            }
        }
    return obj


def envelope(series: str, start: int, count: int, cast: Cast) -> bytes:
    """A TAXII envelope of objects start .. start + count - 1, as the bytes a client sends."""
    return orjson.dumps(
        {"objects": [stix_object(series, n, cast) for n in range(start, start + count)]}
    )


def object_id(series: str, n: int) -> str:
    return f"indicator--{uuid.uuid5(_NAMESPACE, f'{series}/{n}')}"
