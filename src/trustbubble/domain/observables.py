"""Observable values (IPs, domains, URLs, e-mail addresses, file hashes) found in STIX objects.

Correlation indexes these values on ingest, so a reader sees which other objects they may read
hold the same value. Values come from the equality comparisons of STIX patterns and from cyber
observables (SCOs); nothing is resolved or fetched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Observable kinds as the index stores them; hashes of any algorithm are one kind.
KINDS = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file-hash")

_VALUE_TYPES = {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"}
# The object types that can hold observable values; ingest looks at no other.
OBSERVABLE_HOLDERS = frozenset({"indicator", "file", *_VALUE_TYPES})
_CASELESS = {"domain-name", "email-addr", "file-hash"}
_MAX_VALUE = 2048

# `object-type:path = 'value'` inside a STIX pattern; the path may hold quoted parts, as in
# file:hashes.'SHA-256'. Other operators (LIKE, MATCHES, IN, <) match sets, not one value.
_COMPARISON = re.compile(
    r"([a-z0-9][a-z0-9-]*):"
    r"((?:[A-Za-z0-9_]+|'[^']*')(?:\.(?:[A-Za-z0-9_]+|'[^']*')|\[[*0-9]*\])*)"
    r"\s*=\s*'((?:[^'\\]|\\.)*)'"
)


def normalize(kind: str, value: str) -> str:
    value = value.strip()
    return value.lower() if kind in _CASELESS else value


def _kind(object_type: str, path: str) -> str | None:
    if object_type in _VALUE_TYPES and path == "value":
        return object_type
    if object_type == "file" and path.startswith("hashes."):
        return "file-hash"
    return None


def from_pattern(pattern: str) -> set[tuple[str, str]]:
    found = set()
    for object_type, path, raw in _COMPARISON.findall(pattern):
        kind = _kind(object_type, path)
        value = raw.replace("\\'", "'").replace("\\\\", "\\")
        if kind is not None and value.strip() and len(value) <= _MAX_VALUE:
            found.add((kind, normalize(kind, value)))
    return found


def _from_sco(obj: Mapping[str, Any]) -> set[tuple[str, str]]:
    object_type = obj.get("type")
    found: set[tuple[str, str]] = set()
    value = obj.get("value")
    if object_type in _VALUE_TYPES and isinstance(value, str) and value.strip():
        found.add((str(object_type), normalize(str(object_type), value)))
    hashes = obj.get("hashes")
    if object_type == "file" and isinstance(hashes, dict):
        for digest in hashes.values():
            if isinstance(digest, str) and digest.strip():
                found.add(("file-hash", normalize("file-hash", digest)))
    return {(kind, v) for kind, v in found if len(v) <= _MAX_VALUE}


def observables_of(obj: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """Every (kind, value) an object holds: from its STIX pattern, or as an SCO.

    A value holding NUL (U+0000) is no address or hash anyone looks for, and PostgreSQL cannot
    store it as text: the object is kept as it came, that value is not indexed."""
    found = set()
    if obj.get("type") == "indicator":
        pattern = obj.get("pattern")
        if obj.get("pattern_type") == "stix" and isinstance(pattern, str):
            found = from_pattern(pattern)
    else:
        found = _from_sco(obj)
    return frozenset((kind, value) for kind, value in found if "\x00" not in value)


def query_values(text: str) -> list[str]:
    """The stored forms a value typed in a search box may take."""
    value = text.strip()
    return sorted({value, value.lower()}) if value else []
