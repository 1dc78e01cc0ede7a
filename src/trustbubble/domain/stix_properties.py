"""Checks of single STIX 2.1 property values: the common data types, ids and references, the
structured common properties (external references, kill chain phases, granular markings,
extensions) and the formats of SCO values.

Each check appends (path, reason) pairs to `out` and never raises, so one pass over an object finds
all of its problems. The per-type tables in `stix_rules` name these checks property by property.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from ipaddress import IPv6Interface
from typing import Any

Reasons = list[tuple[str, str]]  # (path, reason) pairs; path "" is the object as a whole
Check = Callable[[str, Any, Reasons], None]  # check(path, value, out)

TYPE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_SHAPE = re.compile(_UUID, re.ASCII)
# STIX 2.1 "Identifier": any UUID version, but the variant must be RFC 4122's.
IDENTIFIER = re.compile(
    r"([a-z0-9]+(?:-[a-z0-9]+)*)--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    r"-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}",
    re.ASCII,
)
_EXTENSION_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*-ext", re.ASCII)
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?:/(?:3[0-2]|[12]?\d))?",
    re.ASCII,
)
_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}", re.ASCII)


# --- wording values in reasons ---


def show(value: object) -> str:
    """A value as short JSON for a reason a person reads; lists and objects only by their kind."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 80 else value[:77] + "...", ensure_ascii=False)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):  # str() of a huge int raises, and nobody reads 4,000 digits
        return str(value) if -(10**30) < value < 10**30 else "a huge number"
    return repr(value) if isinstance(value, float) else json_type(value)


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


# --- JSON values and the STIX 2.1 common data types ---


def string(path: str, value: Any, out: Reasons) -> None:
    if not isinstance(value, str):
        out.append((path, f"must be a string, not {json_type(value)}"))


def boolean(path: str, value: Any, out: Reasons) -> None:
    if not isinstance(value, bool):
        out.append((path, f"must be true or false, not {json_type(value)}"))


def integer(low: int, high: int | None = None) -> Check:
    def check(path: str, value: Any, out: Reasons) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            out.append((path, f"must be a whole number, not {json_type(value)}"))
        elif value < low or (high is not None and value > high):
            limits = f"at least {low}" if high is None else f"between {low} and {high}"
            out.append((path, f"must be {limits} (got {show(value)})"))

    return check


def number(low: float, high: float) -> Check:
    def check(path: str, value: Any, out: Reasons) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            out.append((path, f"must be a number, not {json_type(value)}"))
        elif not low <= value <= high:
            out.append((path, f"must be between {low:g} and {high:g} (got {show(value)})"))

    return check


def nonempty_list(path: str, value: Any, out: Reasons) -> bool:
    """True when `value` is a non-empty list (STIX 2.1 forbids empty lists)."""
    if not isinstance(value, list):
        out.append((path, f"must be a list, not {json_type(value)}"))
        return False
    if not value:
        out.append((path, "must not be an empty list"))
        return False
    return True


def nonempty_object(path: str, value: Any, out: Reasons) -> bool:
    """True when `value` is a non-empty JSON object."""
    if not isinstance(value, dict):
        out.append((path, f"must be an object, not {json_type(value)}"))
        return False
    if not value:
        out.append((path, "must not be an empty object"))
        return False
    return True


def json_object(path: str, value: Any, out: Reasons) -> None:
    nonempty_object(path, value, out)


def strings(path: str, value: Any, out: Reasons) -> None:
    if nonempty_list(path, value, out):
        for i, item in enumerate(value):
            if not isinstance(item, str):
                out.append((f"{path}[{i}]", f"must be a string, not {json_type(item)}"))


def one_of(*allowed: str) -> Check:
    choices = ", ".join(allowed)

    def check(path: str, value: Any, out: Reasons) -> None:
        if not isinstance(value, str) or value not in allowed:
            out.append((path, f"must be one of {choices} (got {show(value)})"))

    return check


def list_of(item_check: Check) -> Check:
    def check(path: str, value: Any, out: Reasons) -> None:
        if nonempty_list(path, value, out):
            for i, item in enumerate(value):
                item_check(f"{path}[{i}]", item, out)

    return check


# --- identifiers and references ---


def identifier_problem(value: object) -> str:
    """Why `value` is not a STIX identifier (only called once the fast regex has failed)."""
    if not isinstance(value, str):
        return f"must be a STIX id like indicator--<UUID>, not {json_type(value)}"
    prefix, dashes, uuid = value.partition("--")
    if not dashes:
        return f"{show(value)} is not a STIX id (expected <type>--<UUID>)"
    if not TYPE_NAME.fullmatch(prefix):
        return f"{show(value)} does not start with a valid object type"
    if not _UUID_SHAPE.fullmatch(uuid):
        return f"{show(value)} does not end in a UUID"
    return f"{show(value)} has a UUID that is not RFC 4122 (its 4th group must start 8, 9, a or b)"


def ref_problem(
    value: object, allowed: frozenset[str] | None, banned: frozenset[str]
) -> str | None:
    match = IDENTIFIER.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return identifier_problem(value)
    target = match.group(1)
    if allowed is not None and target not in allowed:
        return f"must be an id of type {' or '.join(sorted(allowed))} (got {show(value)})"
    if target in banned:
        return f"cannot refer to a {target} (got {show(value)})"
    return None


def ref(*allowed: str, banned: Iterable[str] = ()) -> Check:
    allow, ban = (frozenset(allowed) or None), frozenset(banned)

    def check(path: str, value: Any, out: Reasons) -> None:
        problem = ref_problem(value, allow, ban)
        if problem is not None:
            out.append((path, problem))

    return check


def refs(*allowed: str, banned: Iterable[str] = ()) -> Check:
    allow, ban = (frozenset(allowed) or None), frozenset(banned)

    def check(path: str, value: Any, out: Reasons) -> None:
        if nonempty_list(path, value, out):
            for i, item in enumerate(value):
                problem = ref_problem(item, allow, ban)
                if problem is not None:
                    out.append((f"{path}[{i}]", problem))

    return check


any_ref, any_refs = ref(), refs()


# --- the structured common properties ---


def required_in(path: str, item: Mapping[str, Any], names: Iterable[str], out: Reasons) -> None:
    for name in names:
        if name not in item:
            out.append((f"{path}.{name}" if path else name, f"missing required property '{name}'"))


def hashes(path: str, value: Any, out: Reasons) -> None:
    if nonempty_object(path, value, out):
        for name, digest in value.items():
            string(f"{path}.{name}", digest, out)


def external_reference(path: str, item: Any, out: Reasons) -> None:
    if not nonempty_object(path, item, out):
        return
    required_in(path, item, ("source_name",), out)
    for name in ("source_name", "description", "url", "external_id"):
        if name in item:
            string(f"{path}.{name}", item[name], out)
    if "hashes" in item:
        hashes(f"{path}.hashes", item["hashes"], out)
    if not ("description" in item or "url" in item or "external_id" in item):
        out.append((path, "needs at least one of description, url or external_id"))


def kill_chain_phase(path: str, item: Any, out: Reasons) -> None:
    if nonempty_object(path, item, out):
        required_in(path, item, ("kill_chain_name", "phase_name"), out)
        for name in ("kill_chain_name", "phase_name"):
            if name in item:
                string(f"{path}.{name}", item[name], out)


_marking_ref = ref("marking-definition")


def granular_marking(path: str, item: Any, out: Reasons) -> None:
    if not nonempty_object(path, item, out):
        return
    required_in(path, item, ("selectors",), out)
    if "selectors" in item:
        strings(f"{path}.selectors", item["selectors"], out)
    has_ref, has_lang = "marking_ref" in item, "lang" in item
    if has_ref == has_lang:
        out.append((path, "needs exactly one of marking_ref and lang"))
    if has_ref:
        _marking_ref(f"{path}.marking_ref", item["marking_ref"], out)
    if has_lang:
        string(f"{path}.lang", item["lang"], out)


_EXTENSION_TYPES = (
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
)
extension_type = one_of(*_EXTENSION_TYPES)
# The extensions STIX 2.1 predefines for SCOs, and the one type each belongs to.
_PREDEFINED_EXTENSIONS = {
    **dict.fromkeys(
        ("archive-ext", "ntfs-ext", "pdf-ext", "raster-image-ext", "windows-pebinary-ext"), "file"
    ),
    **dict.fromkeys(("http-request-ext", "icmp-ext", "socket-ext", "tcp-ext"), "network-traffic"),
    **dict.fromkeys(("windows-process-ext", "windows-service-ext"), "process"),
    "unix-account-ext": "user-account",
}


def extensions_of(object_type: str) -> Check:
    def check(path: str, value: Any, out: Reasons) -> None:
        if not nonempty_object(path, value, out):
            return
        for name, body in value.items():
            where = f"{path}.{name}"
            if not isinstance(name, str):
                out.append((where, "must be named by a string"))
                continue
            if name.startswith("extension-definition--"):
                problem = ref_problem(name, None, frozenset())
                if problem is not None:
                    out.append((where, problem))
                if nonempty_object(where, body, out) and "extension_type" in body:
                    extension_type(f"{where}.extension_type", body["extension_type"], out)
                continue
            if not _EXTENSION_NAME.fullmatch(name):
                out.append((where, "must be named extension-definition--<UUID> or end in -ext"))
            owner = _PREDEFINED_EXTENSIONS.get(name, object_type)
            if object_type and owner != object_type:
                out.append((where, f"is an extension of {owner} objects, not {object_type}"))
            if nonempty_object(where, body, out):
                for key, item in body.items():
                    if isinstance(key, str) and key.endswith("_ref"):
                        any_ref(f"{where}.{key}", item, out)
                    elif isinstance(key, str) and key.endswith("_refs"):
                        any_refs(f"{where}.{key}", item, out)

    return check


# --- fixed values and the formats of SCO values ---


def spec_version(path: str, value: Any, out: Reasons) -> None:
    if value != "2.1":
        out.append((path, f'must be "2.1" (got {show(value)})'))


def ipv4_address(path: str, value: Any, out: Reasons) -> None:
    if not isinstance(value, str) or not _IPV4.fullmatch(value):
        out.append((path, f"must be an IPv4 address or CIDR block (got {show(value)})"))


def ipv6_address(path: str, value: Any, out: Reasons) -> None:
    valid = isinstance(value, str) and "%" not in value  # no zone ids like fe80::1%eth0
    if valid:
        try:
            IPv6Interface(value)
        except ValueError:
            valid = False
    if not valid:
        out.append((path, f"must be an IPv6 address or CIDR block (got {show(value)})"))


def mac_address(path: str, value: Any, out: Reasons) -> None:
    if not isinstance(value, str) or not _MAC.fullmatch(value):
        out.append((path, f"must be a lowercase MAC-48 like 00:00:5e:00:53:af (got {show(value)})"))


def mime_part(path: str, item: Any, out: Reasons) -> None:
    if nonempty_object(path, item, out) and ("body" in item) == ("body_raw_ref" in item):
        out.append((path, "needs exactly one of body and body_raw_ref"))
