"""The benchmark's STIX 2.1 objects: deterministic, mostly indicators, in envelopes of 1,000."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

ENVELOPE_SIZE = 1000

# Object number n is the same on every run and every server: its id is a UUIDv5 of n.
_NAMESPACE = uuid.UUID("5c3c8a36-4f3e-4d0b-9b7e-2f1d1c0b7a10")
_WARMUP_NAMESPACE = uuid.UUID("0d8f4b8e-8a55-4c34-9d6f-7f2a8f1e3b21")
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

MIX = (
    "4 in 5 objects are indicators (an IPv4 pattern, name, description, indicator_types), "
    "1 in 10 malware, 1 in 10 identity; 1 in 10 carries a TLP:GREEN marking, the rest take "
    "the collection's default; about 430 bytes per object as JSON"
)


def _stamp(n: int) -> str:
    moment = _EPOCH + timedelta(milliseconds=n)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def object_type(n: int) -> str:
    if n % 5 != 4:
        return "indicator"
    return "malware" if (n // 5) % 2 == 0 else "identity"


def stix_object(n: int, *, warmup: bool = False) -> dict[str, Any]:
    """Object number n: an indicator, malware or identity with realistic properties."""
    kind = object_type(n)
    namespace = _WARMUP_NAMESPACE if warmup else _NAMESPACE
    stamp = _stamp(n)
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid5(namespace, str(n))}",
        "created": stamp,
        "modified": stamp,
    }
    if kind == "indicator":
        address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        obj |= {
            "name": f"Ransomware command and control server {address}",
            "description": "Seen beaconing from hospital workstations during the intrusion.",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '{address}']",
            "pattern_type": "stix",
            "valid_from": stamp,
        }
    elif kind == "malware":
        obj |= {
            "name": f"Ransomware strain {n}",
            "is_family": True,
            "malware_types": ["ransomware"],
        }
    else:
        obj |= {"name": f"Regional hospital {n}", "identity_class": "organization"}
        obj["sectors"] = ["healthcare"]
    if n % 10 == 3:
        obj["object_marking_refs"] = [_GREEN]
    return obj


def envelope(start: int, count: int, *, warmup: bool = False) -> bytes:
    """A TAXII envelope of objects start .. start + count - 1, as the bytes a client sends."""
    objects = [stix_object(n, warmup=warmup) for n in range(start, start + count)]
    return orjson.dumps({"objects": objects})


def indicators_in(count: int) -> int:
    """How many of objects 0 .. count - 1 are indicators."""
    return sum(1 for n in range(count) if object_type(n) == "indicator")
