"""The rules of each STIX 2.1 object type: its property table, the order its timestamps must keep,
and the co-constraints between its properties that a property-by-property check cannot see.

`rules_for` picks the rules of an object, falling back to the common properties for custom types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trustbubble.domain.stix_properties import (
    TYPE_NAME,
    Check,
    Reasons,
    any_ref,
    any_refs,
    boolean,
    extension_type,
    extensions_of,
    external_reference,
    granular_marking,
    hashes,
    integer,
    ipv4_address,
    ipv6_address,
    json_object,
    json_type,
    kill_chain_phase,
    list_of,
    mac_address,
    mime_part,
    number,
    one_of,
    ref,
    refs,
    required_in,
    show,
    spec_version,
    string,
    strings,
)

CrossCheck = Callable[[dict[str, Any], Reasons], None]  # cross_check(obj, out)


# --- co-constraints between the properties of one type ---


def _location(obj: dict[str, Any], out: Reasons) -> None:
    has_lat, has_long = "latitude" in obj, "longitude" in obj
    if not ("region" in obj or "country" in obj or (has_lat and has_long)):
        out.append(("", "needs region, country, or latitude and longitude"))
    if has_lat != has_long:
        out.append(("latitude" if has_lat else "longitude", "needs both latitude and longitude"))
    if "precision" in obj and not (has_lat and has_long):
        out.append(("precision", "needs both latitude and longitude"))


def _malware(obj: dict[str, Any], out: Reasons) -> None:
    if obj.get("is_family") is True and "name" not in obj:
        out.append(("name", "missing required property 'name' (required when is_family is true)"))


def _malware_analysis(obj: dict[str, Any], out: Reasons) -> None:
    if "result" not in obj and "analysis_sco_refs" not in obj:
        out.append(("", "needs result or analysis_sco_refs"))


def _observed_data(obj: dict[str, Any], out: Reasons) -> None:
    if "objects" in obj and "object_refs" in obj:
        out.append(("objects", "cannot be used together with object_refs"))
    elif "objects" not in obj and "object_refs" not in obj:
        out.append(("object_refs", "missing required property 'object_refs'"))


def _marking_definition(obj: dict[str, Any], out: Reasons) -> None:
    has_type, has_body = "definition_type" in obj, "definition" in obj
    if not (has_type or has_body):
        if "extensions" not in obj:
            out.append(("", "needs definition_type and definition, or extensions"))
        return
    required_in("", obj, ("definition_type", "definition"), out)
    body = obj.get("definition")
    if not isinstance(body, dict):
        return
    if obj.get("definition_type") == "tlp":
        tlp = body.get("tlp")
        if tlp not in ("white", "green", "amber", "red"):
            out.append(("definition.tlp", f"must be white, green, amber or red (got {show(tlp)})"))
    elif obj.get("definition_type") == "statement":
        required_in("definition", body, ("statement",), out)


def _extension_definition(obj: dict[str, Any], out: Reasons) -> None:
    kinds = obj.get("extension_types")
    if "extension_properties" in obj and not (
        isinstance(kinds, list) and "toplevel-property-extension" in kinds
    ):
        out.append(("extension_properties", "needs extension type toplevel-property-extension"))


def _artifact(obj: dict[str, Any], out: Reasons) -> None:
    has_payload, has_url = "payload_bin" in obj, "url" in obj
    if has_payload and has_url:
        out.append(("url", "cannot be used together with payload_bin"))
    elif not (has_payload or has_url):
        out.append(("", "needs payload_bin or url"))
    if has_url and "hashes" not in obj:
        out.append(("hashes", "missing required property 'hashes' (required with url)"))
    if "decryption_key" in obj and "encryption_algorithm" not in obj:
        out.append(("decryption_key", "needs encryption_algorithm"))


def _email_message(obj: dict[str, Any], out: Reasons) -> None:
    if obj.get("is_multipart") is True and "body" in obj:
        out.append(("body", "is not allowed when is_multipart is true (use body_multipart)"))
    if obj.get("is_multipart") is False and "body_multipart" in obj:
        out.append(("body_multipart", "is not allowed when is_multipart is false (use body)"))


def _file(obj: dict[str, Any], out: Reasons) -> None:
    if "hashes" not in obj and "name" not in obj:
        out.append(("", "needs hashes or name"))


def _network_traffic(obj: dict[str, Any], out: Reasons) -> None:
    if "src_ref" not in obj and "dst_ref" not in obj:
        out.append(("", "needs src_ref or dst_ref"))
    if obj.get("is_active") is True and "end" in obj:
        out.append(("end", "is not allowed while is_active is true"))


# The properties any SCO may carry; some types need at least one property beyond these.
_SCO_BASE = frozenset(
    ("type", "id", "spec_version", "object_marking_refs", "granular_markings", "defanged")
)


def _own_property(obj: dict[str, Any], out: Reasons) -> None:
    if _SCO_BASE.issuperset(obj):
        out.append(("", "needs at least one property of its own type"))


# --- the table of each type ---


@dataclass(frozen=True, slots=True)
class Rules:
    """How to check an object of one type; built once per type from its table."""

    required: tuple[str, ...]
    checks: dict[str, Check]
    stamps: frozenset[str]
    order: tuple[tuple[str, str, bool], ...]  # (earlier, later, must be strictly later)
    cross_check: CrossCheck | None


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
_KINDS: dict[str, Check] = {
    "str": string,
    "bool": boolean,
    "object": json_object,
    "strings": strings,
    "hashes": hashes,
    "count": integer(0),
    "port": integer(0, 65535),
    "phases": list_of(kill_chain_phase),
    "latitude": number(-90, 90),
    "longitude": number(-180, 180),
    "distance": number(0, float("inf")),
    "endpoint": ref(banned=_NOT_ENDPOINTS),  # an SDO or SCO
    "observation": refs(banned=_SDOS),  # an SCO or SRO
    "translated": ref(banned=("bundle", "language-content")),
    "ipv4": ipv4_address,
    "ipv6": ipv6_address,
    "mac": mac_address,
    "spec_version": spec_version,
    "confidence": integer(0, 100),
    "number_observed": integer(1, 999_999_999),
    "sighting_count": integer(0, 999_999_999),
    "opinion": one_of("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"),
    "extension_types": list_of(extension_type),
    "encryption": one_of("AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"),
    "granular_markings": list_of(granular_marking),
    "external_references": list_of(external_reference),
    "mime_parts": list_of(mime_part),
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
_CROSS_CHECKS: dict[str, CrossCheck] = {
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


def _rules(object_type: str, table: str) -> Rules:
    required: list[str] = []
    checks: dict[str, Check] = {"extensions": extensions_of(object_type)}
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
            is_refs, is_ref = name.endswith("_refs"), name.endswith("_ref")
            checks[name] = any_refs if is_refs else any_ref if is_ref else string
        elif name.endswith(("_ref", "_refs")):
            targets = kind.split("|")
            checks[name] = refs(*targets) if name.endswith("_refs") else ref(*targets)
        else:
            raise ValueError(f"{object_type}: unknown kind {kind!r} for {name}")
    order = _ORDER.get(object_type)
    sequence = (("created", "modified", False),) if "created" in stamps else ()
    return Rules(
        required=tuple(required),
        checks=checks,
        stamps=frozenset(stamps),
        order=(*sequence, order) if order else sequence,
        cross_check=_CROSS_CHECKS.get(object_type),
    )


_KNOWN: dict[str, Rules] = {
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


def rules_for(obj: dict[str, Any], out: Reasons) -> tuple[Rules, str | None]:
    """The rules to check `obj` by, and its type when that is a usable type name."""
    if "type" not in obj:
        out.append(("type", "missing required property 'type'"))
        return _UNTYPED, None
    object_type = obj["type"]
    if not isinstance(object_type, str):
        out.append(("type", f"must be a string, not {json_type(object_type)}"))
        return _UNTYPED, None
    rules = _KNOWN.get(object_type)
    if rules is not None:
        return rules, object_type
    if not (3 <= len(object_type) <= 250 and TYPE_NAME.fullmatch(object_type)):
        out.append(
            (
                "type",
                f"{show(object_type)} is not a type name "
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
