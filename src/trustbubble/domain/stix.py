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

The checks of single property values are in `stix_properties`, the tables and co-constraints of
each type in `stix_rules`, and the timestamps in `timestamps`; the latter's `parse_timestamp` and
`format_timestamp` are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trustbubble.domain.stix_properties import (
    IDENTIFIER,
    Reasons,
    any_ref,
    any_refs,
    identifier_problem,
    json_type,
)
from trustbubble.domain.stix_rules import rules_for
from trustbubble.domain.timestamps import format_timestamp, parse_timestamp

__all__ = [
    "Problem",
    "check_object",
    "format_timestamp",
    "inspect_object",
    "object_version",
    "object_version_us",
    "parse_timestamp",
]


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


def object_version(obj: Mapping[str, Any]) -> str | None:
    """The version string TAXII uses: `modified`, else `created`, else None (unversioned SCOs)."""
    for name in ("modified", "created"):
        value = obj.get(name)
        if isinstance(value, str):
            return value
    return None


def object_version_us(obj: Mapping[str, Any], times: Mapping[str, int]) -> int:
    """`object_version` in microseconds, 0 when there is none; `times` are those already parsed.

    A version the checks did not parse (a `modified` that the object's type does not define) is
    parsed here, and raises ValueError when it is not a timestamp.
    """
    for name in ("modified", "created"):
        value = obj.get(name)
        if isinstance(value, str):
            if not value:
                return 0
            parsed = times.get(name)
            return parse_timestamp(value) if parsed is None else parsed
    return 0


def _stamp(
    path: str, value: Any, out: Reasons, times: dict[str, int], seen: dict[str, int]
) -> None:
    """Parse the timestamp `value` into `times[path]`; `seen` spares parsing one text twice."""
    if not isinstance(value, str):
        out.append((path, f"must be a timestamp string, not {json_type(value)}"))
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


def check_object(obj: object, index: int) -> list[Problem]:
    """All problems of one STIX 2.1 object; [] when it is valid."""
    return inspect_object(obj, index)[0]


def inspect_object(obj: object, index: int) -> tuple[list[Problem], dict[str, int]]:
    """`check_object`, and the timestamps it parsed (microseconds by property name).

    The ingest path stores the version in microseconds: handing back what the checks parsed spares
    parsing it a second time.
    """
    times: dict[str, int] = {}
    if not isinstance(obj, dict):
        return [Problem(index, None, "", f"must be a JSON object, not {json_type(obj)}")], times
    out: Reasons = []
    rules, object_type = rules_for(obj, out)

    object_id = obj.get("id")
    if "id" not in obj:
        out.append(("id", "missing required property 'id'"))
    else:
        match = IDENTIFIER.fullmatch(object_id) if isinstance(object_id, str) else None
        if match is None:
            out.append(("id", identifier_problem(object_id)))
        elif object_type is not None and match.group(1) != object_type:
            out.append(("id", f"{object_id} does not match type '{object_type}'"))

    for name in rules.required:
        if name not in obj:
            out.append((name, f"missing required property '{name}'"))

    checks, stamps = rules.checks, rules.stamps
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
            (any_ref if key[-1] == "f" else any_refs)(key, value, out)

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
        return [], times
    shown_id = object_id if isinstance(object_id, str) and 0 < len(object_id) <= 300 else None
    return [Problem(index, shown_id, path, reason) for path, reason in out], times
