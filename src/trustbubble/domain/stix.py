"""Fast checks of STIX 2.1 objects on the ingest path: every problem of an object, in plain words.

The rules follow the STIX 2.1 OASIS Standard and are written out by hand instead of run through a
JSON schema, so that a typical object is checked in microseconds. Checked: the common properties of
every object, the required properties and simple co-constraints of each type the spec defines,
timestamps and their order, and the form of every `*_ref` / `*_refs` value.

Custom object types are allowed. An object of a type not known here is checked as an SCO when one
of its `extension-definition--<UUID>` extensions says `"extension_type": "new-sco"`; otherwise it is
checked as an SDO or SRO and so needs `spec_version`, `created` and `modified`, the common
properties the spec requires of those. Custom properties, and `*-ext` custom extensions, are
allowed everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from ipaddress import IPv6Interface
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one object of an envelope or bundle.

    `object_id` is the object's `id` whenever that is a string of at most 300 characters, even a
    malformed one, so that a person can find the object; `path` is "" for the object as a whole.
    """

    index: int
    object_id: str | None
    path: str
    reason: str

    def message(self) -> str:
        where = f"object {self.index}" + (f" ({self.object_id})" if self.object_id else "")
        return f"{where}: {self.path}: {self.reason}" if self.path else f"{where}: {self.reason}"


# --- timestamps (STIX 2.1 "Timestamp": RFC 3339 in UTC with "Z", any number of fraction digits) ---

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z", re.ASCII)
_from_iso = datetime.fromisoformat
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US_PER_DAY = 86_400_000_000
_MIN_US = (1 - _EPOCH_ORDINAL) * _US_PER_DAY
_MAX_US = (date.max.toordinal() + 1 - _EPOCH_ORDINAL) * _US_PER_DAY - 1


def parse_timestamp(value: str) -> int:
    """RFC 3339 STIX timestamp -> microseconds since the Unix epoch.

    Digits past the microsecond are dropped. A leap second (:60) reads as the first second of the
    next minute, so it sorts correctly without a calendar of leap seconds.
    """
    # The pattern admits only the RFC 3339 form; fromisoformat (C, and lenient about forms) then
    # checks the calendar and truncates the fraction, several times faster than int() per field.
    if _TIMESTAMP.fullmatch(value) is None:
        raise ValueError(f"{_show(value)} is not a STIX timestamp like 2016-04-06T20:03:48.000Z")
    leap = value[17:19] == "60"
    try:
        moment = _from_iso(value[:17] + "59" + value[19:] if leap else value)
    except ValueError:
        raise ValueError(f"{_show(value)} is not a real date and time") from None
    days = moment.toordinal() - _EPOCH_ORDINAL
    seconds = (
        ((days * 24 + moment.hour) * 60 + moment.minute) * 60 + moment.second + (1 if leap else 0)
    )
    return seconds * 1_000_000 + moment.microsecond


def format_timestamp(us: int) -> str:
    """Microseconds since the Unix epoch -> 'YYYY-MM-DDTHH:MM:SS.ffffffZ'."""
    if not _MIN_US <= us <= _MAX_US:
        raise ValueError(f"{us} microseconds is outside the years 1 to 9999")
    days, rest = divmod(us, _US_PER_DAY)
    day = date.fromordinal(days + _EPOCH_ORDINAL)
    seconds, micros = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return (
        f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
        f"T{hour:02d}:{minute:02d}:{second:02d}.{micros:06d}Z"
    )


def object_version(obj: Mapping[str, Any]) -> str | None:
    """The version string TAXII uses: `modified`, else `created`, else None (unversioned SCOs)."""
    for name in ("modified", "created"):
        value = obj.get(name)
        if isinstance(value, str):
            return value
    return None


# --- small checks: each appends (path, reason) pairs to `out` and never raises ---

_Out = list[tuple[str, str]]
_Check = Callable[[str, Any, _Out], None]
_Extra = Callable[[dict[str, Any], _Out], None]

_TYPE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_SHAPE = re.compile(_UUID, re.ASCII)
# STIX 2.1 "Identifier": any UUID version, but the variant must be RFC 4122's.
_IDENTIFIER = re.compile(
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


def _show(value: object) -> str:
    """A value as short JSON for a reason a person reads; lists and objects only by their kind."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 80 else value[:77] + "...", ensure_ascii=False)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):  # str() of a huge int raises, and nobody reads 4,000 digits
        return str(value) if -(10**30) < value < 10**30 else "a huge number"
    return repr(value) if isinstance(value, float) else _json_type(value)


def _json_type(value: object) -> str:
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


def _string(path: str, value: Any, out: _Out) -> None:
    if not isinstance(value, str):
        out.append((path, f"must be a string, not {_json_type(value)}"))


def _boolean(path: str, value: Any, out: _Out) -> None:
    if not isinstance(value, bool):
        out.append((path, f"must be true or false, not {_json_type(value)}"))


def _integer(low: int, high: int | None = None) -> _Check:
    def check(path: str, value: Any, out: _Out) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            out.append((path, f"must be a whole number, not {_json_type(value)}"))
        elif value < low or (high is not None and value > high):
            limits = f"at least {low}" if high is None else f"between {low} and {high}"
            out.append((path, f"must be {limits} (got {_show(value)})"))

    return check


def _number(low: float, high: float) -> _Check:
    def check(path: str, value: Any, out: _Out) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            out.append((path, f"must be a number, not {_json_type(value)}"))
        elif not low <= value <= high:
            out.append((path, f"must be between {low:g} and {high:g} (got {_show(value)})"))

    return check


def _list(path: str, value: Any, out: _Out) -> bool:
    """True when `value` is a non-empty list (STIX 2.1 forbids empty lists)."""
    if not isinstance(value, list):
        out.append((path, f"must be a list, not {_json_type(value)}"))
        return False
    if not value:
        out.append((path, "must not be an empty list"))
        return False
    return True


def _dict(path: str, value: Any, out: _Out) -> bool:
    """True when `value` is a non-empty JSON object."""
    if not isinstance(value, dict):
        out.append((path, f"must be an object, not {_json_type(value)}"))
        return False
    if not value:
        out.append((path, "must not be an empty object"))
        return False
    return True


def _object(path: str, value: Any, out: _Out) -> None:
    _dict(path, value, out)


def _strings(path: str, value: Any, out: _Out) -> None:
    if _list(path, value, out):
        for i, item in enumerate(value):
            if not isinstance(item, str):
                out.append((f"{path}[{i}]", f"must be a string, not {_json_type(item)}"))


def _one_of(*allowed: str) -> _Check:
    choices = ", ".join(allowed)

    def check(path: str, value: Any, out: _Out) -> None:
        if not isinstance(value, str) or value not in allowed:
            out.append((path, f"must be one of {choices} (got {_show(value)})"))

    return check


def _list_of(item_check: _Check) -> _Check:
    def check(path: str, value: Any, out: _Out) -> None:
        if _list(path, value, out):
            for i, item in enumerate(value):
                item_check(f"{path}[{i}]", item, out)

    return check


def _identifier_problem(value: object) -> str:
    """Why `value` is not a STIX identifier (only called once the fast regex has failed)."""
    if not isinstance(value, str):
        return f"must be a STIX id like indicator--<UUID>, not {_json_type(value)}"
    prefix, dashes, uuid = value.partition("--")
    if not dashes:
        return f"{_show(value)} is not a STIX id (expected <type>--<UUID>)"
    if not _TYPE_NAME.fullmatch(prefix):
        return f"{_show(value)} does not start with a valid object type"
    if not _UUID_SHAPE.fullmatch(uuid):
        return f"{_show(value)} does not end in a UUID"
    return f"{_show(value)} has a UUID that is not RFC 4122 (its 4th group must start 8, 9, a or b)"


def _ref_problem(
    value: object, allowed: frozenset[str] | None, banned: frozenset[str]
) -> str | None:
    match = _IDENTIFIER.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return _identifier_problem(value)
    target = match.group(1)
    if allowed is not None and target not in allowed:
        return f"must be an id of type {' or '.join(sorted(allowed))} (got {_show(value)})"
    if target in banned:
        return f"cannot refer to a {target} (got {_show(value)})"
    return None


def _ref(*allowed: str, banned: Iterable[str] = ()) -> _Check:
    allow, ban = (frozenset(allowed) or None), frozenset(banned)

    def check(path: str, value: Any, out: _Out) -> None:
        problem = _ref_problem(value, allow, ban)
        if problem is not None:
            out.append((path, problem))

    return check


def _refs(*allowed: str, banned: Iterable[str] = ()) -> _Check:
    allow, ban = (frozenset(allowed) or None), frozenset(banned)

    def check(path: str, value: Any, out: _Out) -> None:
        if _list(path, value, out):
            for i, item in enumerate(value):
                problem = _ref_problem(item, allow, ban)
                if problem is not None:
                    out.append((f"{path}[{i}]", problem))

    return check


_any_ref, _any_refs = _ref(), _refs()


def _stamp(path: str, value: Any, out: _Out, times: dict[str, int], seen: dict[str, int]) -> None:
    """Parse the timestamp `value` into `times[path]`; `seen` spares parsing one text twice."""
    if not isinstance(value, str):
        out.append((path, f"must be a timestamp string, not {_json_type(value)}"))
        return
    micros = seen.get(value)
    if micros is None:
        try:
            micros = seen[value] = parse_timestamp(value)
        except ValueError as error:
            out.append((path, str(error)))
            return
    times[path] = micros
    # STIX 2.1 "Common Properties": created and modified are precise to the millisecond or finer.
    if len(value) < 24 and path in ("created", "modified"):
        out.append((path, "must give at least milliseconds, like 2016-04-06T20:03:48.000Z"))


def _required_in(path: str, item: Mapping[str, Any], names: Iterable[str], out: _Out) -> None:
    for name in names:
        if name not in item:
            out.append((f"{path}.{name}" if path else name, f"missing required property '{name}'"))


def _hashes(path: str, value: Any, out: _Out) -> None:
    if _dict(path, value, out):
        for name, digest in value.items():
            _string(f"{path}.{name}", digest, out)


def _external_reference(path: str, item: Any, out: _Out) -> None:
    if not _dict(path, item, out):
        return
    _required_in(path, item, ("source_name",), out)
    for name in ("source_name", "description", "url", "external_id"):
        if name in item:
            _string(f"{path}.{name}", item[name], out)
    if "hashes" in item:
        _hashes(f"{path}.hashes", item["hashes"], out)
    if not ("description" in item or "url" in item or "external_id" in item):
        out.append((path, "needs at least one of description, url or external_id"))


def _kill_chain_phase(path: str, item: Any, out: _Out) -> None:
    if _dict(path, item, out):
        _required_in(path, item, ("kill_chain_name", "phase_name"), out)
        for name in ("kill_chain_name", "phase_name"):
            if name in item:
                _string(f"{path}.{name}", item[name], out)


_marking_ref = _ref("marking-definition")


def _granular_marking(path: str, item: Any, out: _Out) -> None:
    if not _dict(path, item, out):
        return
    _required_in(path, item, ("selectors",), out)
    if "selectors" in item:
        _strings(f"{path}.selectors", item["selectors"], out)
    has_ref, has_lang = "marking_ref" in item, "lang" in item
    if has_ref == has_lang:
        out.append((path, "needs exactly one of marking_ref and lang"))
    if has_ref:
        _marking_ref(f"{path}.marking_ref", item["marking_ref"], out)
    if has_lang:
        _string(f"{path}.lang", item["lang"], out)


_EXTENSION_TYPES = (
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
)
_extension_type = _one_of(*_EXTENSION_TYPES)
# The extensions STIX 2.1 predefines for SCOs, and the one type each belongs to.
_PREDEFINED_EXTENSIONS = {
    **dict.fromkeys(
        ("archive-ext", "ntfs-ext", "pdf-ext", "raster-image-ext", "windows-pebinary-ext"), "file"
    ),
    **dict.fromkeys(("http-request-ext", "icmp-ext", "socket-ext", "tcp-ext"), "network-traffic"),
    **dict.fromkeys(("windows-process-ext", "windows-service-ext"), "process"),
    "unix-account-ext": "user-account",
}


def _extensions_of(object_type: str) -> _Check:
    def check(path: str, value: Any, out: _Out) -> None:
        if not _dict(path, value, out):
            return
        for name, body in value.items():
            where = f"{path}.{name}"
            if not isinstance(name, str):
                out.append((where, "must be named by a string"))
                continue
            if name.startswith("extension-definition--"):
                problem = _ref_problem(name, None, frozenset())
                if problem is not None:
                    out.append((where, problem))
                if _dict(where, body, out) and "extension_type" in body:
                    _extension_type(f"{where}.extension_type", body["extension_type"], out)
                continue
            if not _EXTENSION_NAME.fullmatch(name):
                out.append((where, "must be named extension-definition--<UUID> or end in -ext"))
            owner = _PREDEFINED_EXTENSIONS.get(name, object_type)
            if object_type and owner != object_type:
                out.append((where, f"is an extension of {owner} objects, not {object_type}"))
            if _dict(where, body, out):
                for key, item in body.items():
                    if isinstance(key, str) and key.endswith("_ref"):
                        _any_ref(f"{where}.{key}", item, out)
                    elif isinstance(key, str) and key.endswith("_refs"):
                        _any_refs(f"{where}.{key}", item, out)

    return check


def _spec_version(path: str, value: Any, out: _Out) -> None:
    if value != "2.1":
        out.append((path, f'must be "2.1" (got {_show(value)})'))


def _ipv4(path: str, value: Any, out: _Out) -> None:
    if not isinstance(value, str) or not _IPV4.fullmatch(value):
        out.append((path, f"must be an IPv4 address or CIDR block (got {_show(value)})"))


def _ipv6(path: str, value: Any, out: _Out) -> None:
    valid = isinstance(value, str) and "%" not in value  # no zone ids like fe80::1%eth0
    if valid:
        try:
            IPv6Interface(value)
        except ValueError:
            valid = False
    if not valid:
        out.append((path, f"must be an IPv6 address or CIDR block (got {_show(value)})"))


def _mac(path: str, value: Any, out: _Out) -> None:
    if not isinstance(value, str) or not _MAC.fullmatch(value):
        out.append(
            (path, f"must be a lowercase MAC-48 like 00:00:5e:00:53:af (got {_show(value)})")
        )


def _mime_part(path: str, item: Any, out: _Out) -> None:
    if _dict(path, item, out) and ("body" in item) == ("body_raw_ref" in item):
        out.append((path, "needs exactly one of body and body_raw_ref"))


# --- per-type co-constraints that a property-by-property check cannot see ---


def _location(obj: dict[str, Any], out: _Out) -> None:
    has_lat, has_long = "latitude" in obj, "longitude" in obj
    if not ("region" in obj or "country" in obj or (has_lat and has_long)):
        out.append(("", "needs region, country, or latitude and longitude"))
    if has_lat != has_long:
        out.append(("latitude" if has_lat else "longitude", "needs both latitude and longitude"))
    if "precision" in obj and not (has_lat and has_long):
        out.append(("precision", "needs both latitude and longitude"))


def _malware(obj: dict[str, Any], out: _Out) -> None:
    if obj.get("is_family") is True and "name" not in obj:
        out.append(("name", "missing required property 'name' (required when is_family is true)"))


def _malware_analysis(obj: dict[str, Any], out: _Out) -> None:
    if "result" not in obj and "analysis_sco_refs" not in obj:
        out.append(("", "needs result or analysis_sco_refs"))


def _observed_data(obj: dict[str, Any], out: _Out) -> None:
    if "objects" in obj and "object_refs" in obj:
        out.append(("objects", "cannot be used together with object_refs"))
    elif "objects" not in obj and "object_refs" not in obj:
        out.append(("object_refs", "missing required property 'object_refs'"))


def _marking_definition(obj: dict[str, Any], out: _Out) -> None:
    has_type, has_body = "definition_type" in obj, "definition" in obj
    if not (has_type or has_body):
        if "extensions" not in obj:
            out.append(("", "needs definition_type and definition, or extensions"))
        return
    _required_in("", obj, ("definition_type", "definition"), out)
    body = obj.get("definition")
    if not isinstance(body, dict):
        return
    if obj.get("definition_type") == "tlp":
        tlp = body.get("tlp")
        if tlp not in ("white", "green", "amber", "red"):
            out.append(("definition.tlp", f"must be white, green, amber or red (got {_show(tlp)})"))
    elif obj.get("definition_type") == "statement":
        _required_in("definition", body, ("statement",), out)


def _extension_definition(obj: dict[str, Any], out: _Out) -> None:
    kinds = obj.get("extension_types")
    if "extension_properties" in obj and not (
        isinstance(kinds, list) and "toplevel-property-extension" in kinds
    ):
        out.append(("extension_properties", "needs extension type toplevel-property-extension"))


def _artifact(obj: dict[str, Any], out: _Out) -> None:
    has_payload, has_url = "payload_bin" in obj, "url" in obj
    if has_payload and has_url:
        out.append(("url", "cannot be used together with payload_bin"))
    elif not (has_payload or has_url):
        out.append(("", "needs payload_bin or url"))
    if has_url and "hashes" not in obj:
        out.append(("hashes", "missing required property 'hashes' (required with url)"))
    if "decryption_key" in obj and "encryption_algorithm" not in obj:
        out.append(("decryption_key", "needs encryption_algorithm"))


def _email_message(obj: dict[str, Any], out: _Out) -> None:
    if obj.get("is_multipart") is True and "body" in obj:
        out.append(("body", "is not allowed when is_multipart is true (use body_multipart)"))
    if obj.get("is_multipart") is False and "body_multipart" in obj:
        out.append(("body_multipart", "is not allowed when is_multipart is false (use body)"))


def _file(obj: dict[str, Any], out: _Out) -> None:
    if "hashes" not in obj and "name" not in obj:
        out.append(("", "needs hashes or name"))


def _network_traffic(obj: dict[str, Any], out: _Out) -> None:
    if "src_ref" not in obj and "dst_ref" not in obj:
        out.append(("", "needs src_ref or dst_ref"))
    if obj.get("is_active") is True and "end" in obj:
        out.append(("end", "is not allowed while is_active is true"))


_SCO_BASE = frozenset(
    ("type", "id", "spec_version", "object_marking_refs", "granular_markings", "defanged")
)


def _own_property(obj: dict[str, Any], out: _Out) -> None:
    if _SCO_BASE.issuperset(obj):
        out.append(("", "needs at least one property of its own type"))


# --- the rules of each type ---


@dataclass(frozen=True, slots=True)
class _Rules:
    required: tuple[str, ...]
    checks: dict[str, _Check]
    stamps: frozenset[str]
    order: tuple[tuple[str, str, bool], ...]  # (earlier, later, must be strictly later)
    cross_check: _Extra | None


_NOT_ENDPOINTS = ("relationship", "sighting", "bundle", "marking-definition", "language-content")
# Each table reads like the property tables of the spec: a property name, `!` when the property is
# required, then `:kind`, a key of _KINDS (default "str"), or "time" for a timestamp. For a `*_ref`
# or `*_refs` property the kind may instead list the types its ids must have, separated by `|`;
# without a kind such a property takes ids of any type.
_COMMON = (
    "spec_version!:spec_version created!:time modified!:time created_by_ref:identity"
    " object_marking_refs:marking-definition granular_markings:granular_markings"
    " external_references:external_references labels:strings revoked:bool confidence:confidence"
    " lang"
)
_SCO_COMMON = (
    "spec_version:spec_version object_marking_refs:marking-definition"
    " granular_markings:granular_markings defanged:bool"
)
_SEEN = "first_seen:time last_seen:time"
_SDO_TABLES = {
    "attack-pattern": "name! kill_chain_phases:phases",
    "campaign": f"name! {_SEEN}",
    "course-of-action": "name!",
    "grouping": "context! object_refs!",
    "identity": "name!",
    "incident": "name! kill_chain_phases:phases",
    "indicator": "pattern! pattern_type! valid_from!:time valid_until:time"
    " kill_chain_phases:phases",
    "infrastructure": f"name! kill_chain_phases:phases {_SEEN}",
    "intrusion-set": f"name! {_SEEN}",
    "location": "latitude:latitude longitude:longitude precision:distance",
    "malware": f"is_family!:bool name kill_chain_phases:phases {_SEEN}"
    " operating_system_refs:software sample_refs:file|artifact",
    "malware-analysis": "product! result analysis_sco_refs sample_ref:file|artifact|network-traffic"
    " host_vm_ref:software operating_system_ref:software installed_software_refs:software"
    " submitted:time analysis_started:time analysis_ended:time",
    "note": "content! object_refs!",
    "observed-data": "first_observed!:time last_observed!:time number_observed!:number_observed"
    " objects:object object_refs:observation",
    "opinion": "opinion!:opinion object_refs!",
    "report": "name! published!:time object_refs!",
    "threat-actor": f"name! {_SEEN}",
    "tool": "name! kill_chain_phases:phases",
    "vulnerability": "name!",
}
_SRO_TABLES = {
    "relationship": "relationship_type! source_ref!:endpoint target_ref!:endpoint"
    " start_time:time stop_time:time",
    "sighting": f"sighting_of_ref!:endpoint {_SEEN} count:sighting_count summary:bool"
    " observed_data_refs:observed-data where_sighted_refs:identity|location",
}
_META_TABLES = {
    "marking-definition": "definition_type definition:object name",
    "language-content": "object_ref!:translated object_modified:time contents!:object",
    "extension-definition": "created_by_ref!:identity name! schema! version!"
    " extension_types!:extension_types extension_properties:strings",
}
_SCO_TABLES = {
    "artifact": "payload_bin url hashes:hashes encryption_algorithm:encryption",
    "autonomous-system": "number!:count name",
    "directory": "path! ctime:time mtime:time atime:time contains_refs:file|directory",
    "domain-name": "value! resolves_to_refs:ipv4-addr|ipv6-addr|domain-name",
    "email-addr": "value! belongs_to_ref:user-account",
    "email-message": "is_multipart!:bool date:time from_ref:email-addr sender_ref:email-addr"
    " to_refs:email-addr cc_refs:email-addr bcc_refs:email-addr raw_email_ref:artifact"
    " body_multipart:mime_parts",
    "file": "hashes:hashes name size:count ctime:time mtime:time atime:time"
    " parent_directory_ref:directory content_ref:artifact",
    "ipv4-addr": "value!:ipv4 resolves_to_refs:mac-addr belongs_to_refs:autonomous-system",
    "ipv6-addr": "value!:ipv6 resolves_to_refs:mac-addr belongs_to_refs:autonomous-system",
    "mac-addr": "value!:mac",
    "mutex": "name!",
    "network-traffic": "protocols!:strings is_active:bool start:time end:time"
    " src_port:port dst_port:port src_ref:ipv4-addr|ipv6-addr|mac-addr|domain-name"
    " dst_ref:ipv4-addr|ipv6-addr|mac-addr|domain-name",
    "process": "pid:count created_time:time opened_connection_refs:network-traffic"
    " creator_user_ref:user-account image_ref:file parent_ref:process child_refs:process",
    "software": "name!",
    "url": "value!",
    "user-account": "account_created:time account_expires:time credential_last_changed:time"
    " account_first_login:time account_last_login:time",
    "windows-registry-key": "key modified_time:time creator_user_ref:user-account"
    " number_of_subkeys:count",
    "x509-certificate": "is_self_signed:bool hashes:hashes"
    " validity_not_before:time validity_not_after:time",
}
_SDOS = frozenset(_SDO_TABLES)
_KINDS: dict[str, _Check] = {
    "str": _string,
    "bool": _boolean,
    "object": _object,
    "strings": _strings,
    "hashes": _hashes,
    "count": _integer(0),
    "port": _integer(0, 65535),
    "phases": _list_of(_kill_chain_phase),
    "latitude": _number(-90, 90),
    "longitude": _number(-180, 180),
    "distance": _number(0, float("inf")),
    "endpoint": _ref(banned=_NOT_ENDPOINTS),  # an SDO or SCO
    "observation": _refs(banned=_SDOS),  # an SCO or SRO
    "translated": _ref(banned=("bundle", "language-content")),
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "mac": _mac,
    "spec_version": _spec_version,
    "confidence": _integer(0, 100),
    "number_observed": _integer(1, 999_999_999),
    "sighting_count": _integer(0, 999_999_999),
    "opinion": _one_of("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"),
    "extension_types": _list_of(_extension_type),
    "encryption": _one_of("AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"),
    "granular_markings": _list_of(_granular_marking),
    "external_references": _list_of(_external_reference),
    "mime_parts": _list_of(_mime_part),
}

_ORDER = {
    "indicator": ("valid_from", "valid_until", True),
    "relationship": ("start_time", "stop_time", True),
    "observed-data": ("first_observed", "last_observed", False),
    "network-traffic": ("start", "end", False),
    **dict.fromkeys(
        ("campaign", "infrastructure", "intrusion-set", "malware", "sighting", "threat-actor"),
        ("first_seen", "last_seen", False),
    ),
}
_CROSS_CHECKS: dict[str, _Extra] = {
    "location": _location,
    "malware": _malware,
    "malware-analysis": _malware_analysis,
    "observed-data": _observed_data,
    "marking-definition": _marking_definition,
    "extension-definition": _extension_definition,
    "artifact": _artifact,
    "email-message": _email_message,
    "file": _file,
    "network-traffic": _network_traffic,
    **dict.fromkeys(
        ("process", "user-account", "windows-registry-key", "x509-certificate"), _own_property
    ),
}


def _rules(object_type: str, table: str) -> _Rules:
    required: list[str] = []
    checks: dict[str, _Check] = {"extensions": _extensions_of(object_type)}
    stamps: set[str] = set()
    for entry in table.split():
        name, _, kind = entry.partition(":")
        if name.endswith("!"):
            name = name[:-1]
            required.append(name)
        if kind == "time":
            stamps.add(name)
        elif kind in _KINDS:
            checks[name] = _KINDS[kind]
        elif not kind:
            refs, ref = name.endswith("_refs"), name.endswith("_ref")
            checks[name] = _any_refs if refs else _any_ref if ref else _string
        elif name.endswith(("_ref", "_refs")):
            targets = kind.split("|")
            checks[name] = _refs(*targets) if name.endswith("_refs") else _ref(*targets)
        else:
            raise ValueError(f"{object_type}: unknown kind {kind!r} for {name}")
    order = _ORDER.get(object_type)
    sequence = (("created", "modified", False),) if "created" in stamps else ()
    return _Rules(
        required=tuple(required),
        checks=checks,
        stamps=frozenset(stamps),
        order=(*sequence, order) if order else sequence,
        cross_check=_CROSS_CHECKS.get(object_type),
    )


_KNOWN: dict[str, _Rules] = {
    **{
        name: _rules(name, f"{_COMMON} {table}")
        for name, table in {**_SDO_TABLES, **_SRO_TABLES, **_META_TABLES}.items()
    },
    **{name: _rules(name, f"{_SCO_COMMON} {table}") for name, table in _SCO_TABLES.items()},
}
# A marking definition is never versioned, so it has no `modified`.
_KNOWN["marking-definition"] = _rules(
    "marking-definition",
    _COMMON.replace(" modified!:time", "") + " " + _META_TABLES["marking-definition"],
)
_CUSTOM_OBJECT = _rules("", _COMMON)
_CUSTOM_SCO = _rules("", _SCO_COMMON)
_UNTYPED = _rules("", _COMMON.replace("!", ""))


def _rules_for(obj: dict[str, Any], out: _Out) -> tuple[_Rules, str | None]:
    """The rules to check `obj` by, and its type when that is a usable type name."""
    if "type" not in obj:
        out.append(("type", "missing required property 'type'"))
        return _UNTYPED, None
    object_type = obj["type"]
    if not isinstance(object_type, str):
        out.append(("type", f"must be a string, not {_json_type(object_type)}"))
        return _UNTYPED, None
    rules = _KNOWN.get(object_type)
    if rules is not None:
        return rules, object_type
    if not (3 <= len(object_type) <= 250 and _TYPE_NAME.fullmatch(object_type)):
        out.append(
            (
                "type",
                f"{_show(object_type)} is not a type name "
                "(3-250 lowercase letters, digits and single inner hyphens)",
            )
        )
        return _UNTYPED, None
    extensions = obj.get("extensions")
    if isinstance(extensions, dict):
        for name, body in extensions.items():
            if (
                isinstance(name, str)
                and name.startswith("extension-definition--")
                and isinstance(body, dict)
                and body.get("extension_type") == "new-sco"
            ):
                return _CUSTOM_SCO, object_type
    return _CUSTOM_OBJECT, object_type


def check_object(obj: object, index: int) -> list[Problem]:
    """All problems of one STIX 2.1 object; [] when it is valid."""
    if not isinstance(obj, dict):
        return [Problem(index, None, "", f"must be a JSON object, not {_json_type(obj)}")]
    out: _Out = []
    rules, object_type = _rules_for(obj, out)

    object_id = obj.get("id")
    if "id" not in obj:
        out.append(("id", "missing required property 'id'"))
    else:
        match = _IDENTIFIER.fullmatch(object_id) if isinstance(object_id, str) else None
        if match is None:
            out.append(("id", _identifier_problem(object_id)))
        elif object_type is not None and match.group(1) != object_type:
            out.append(("id", f"{object_id} does not match type '{object_type}'"))

    for name in rules.required:
        if name not in obj:
            out.append((name, f"missing required property '{name}'"))

    checks, stamps = rules.checks, rules.stamps
    times: dict[str, int] = {}
    seen: dict[str, int] = {}
    for key, value in obj.items():
        if key in stamps:
            _stamp(key, value, out, times, seen)
            continue
        check = checks.get(key)
        if check is not None:
            check(key, value, out)
        elif isinstance(key, str) and key.endswith(("_ref", "_refs")):
            # Every *_ref / *_refs property holds STIX ids, custom properties included.
            (_any_ref if key[-1] == "f" else _any_refs)(key, value, out)

    for earlier, later, strict in rules.order:
        if earlier in times and later in times:
            first, then = times[earlier], times[later]
            if then < first or (strict and then == first):
                what = "must be later than" if strict else "is before"
                text = obj[earlier] if len(obj[earlier]) <= 40 else format_timestamp(first)
                out.append((later, f"{what} {earlier} ({text})"))
    if rules.cross_check is not None:
        rules.cross_check(obj, out)

    if not out:
        return []
    shown_id = object_id if isinstance(object_id, str) and 0 < len(object_id) <= 300 else None
    return [Problem(index, shown_id, path, reason) for path, reason in out]
