"""TLP 2.0 levels, the STIX marking-definition ids that carry them, and the level of an object."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any

from trustbubble.domain.errors import Invalid


class TlpLevel(IntEnum):
    """TLP 2.0 levels, ordered from the widest audience to the narrowest."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        return "AMBER+STRICT" if self is TlpLevel.AMBER_STRICT else self.name

    @classmethod
    def parse(cls, text: str) -> TlpLevel:
        """Read `clear`, `TLP:AMBER+STRICT`, `amber-strict`, `white` (TLP 1.0) and the like."""
        key = text.strip().upper().removeprefix("TLP:").replace("+", "_").replace("-", "_")
        if key == "WHITE":
            return cls.CLEAR
        try:
            return cls[key]
        except KeyError:
            names = ", ".join(level.label.lower() for level in cls)
            raise Invalid("tlp", f"unknown TLP level {text!r} (use one of {names})") from None


TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

TLP2_MARKING_IDS: dict[TlpLevel, str] = {
    TlpLevel.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TlpLevel.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TlpLevel.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TlpLevel.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TlpLevel.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# The TLP 1.0 marking definitions of STIX 2.1 (section 7.2.1.4), read as their 2.0 levels.
TLP1_MARKING_IDS: dict[TlpLevel, str] = {
    TlpLevel.CLEAR: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    TlpLevel.GREEN: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    TlpLevel.AMBER: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    TlpLevel.RED: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

MARKING_LEVELS: dict[str, TlpLevel] = {
    **{marking: level for level, marking in TLP2_MARKING_IDS.items()},
    **{marking: level for level, marking in TLP1_MARKING_IDS.items()},
}

# Our property extension naming the recipients of RED content (identity ids of organizations or
# users). The node serves its extension-definition; see trustbubble.domain.node_objects.
RED_RECIPIENTS_EXTENSION_ID = "extension-definition--7d4a5f8e-3b1c-4e9a-9f7d-2c6b8a1e5d30"


def marking_refs(obj: Mapping[str, Any]) -> Iterable[str]:
    """Every marking-definition id an object refers to, object-level and granular."""
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list):
        yield from (ref for ref in refs if isinstance(ref, str))
    granular = obj.get("granular_markings")
    if isinstance(granular, list):
        for marking in granular:
            if isinstance(marking, dict) and isinstance(marking.get("marking_ref"), str):
                yield marking["marking_ref"]


def level_of(obj: Mapping[str, Any], default: TlpLevel) -> TlpLevel:
    """The TLP level deciding an object's audience: the most restrictive of its markings.

    Granular markings count for the whole object: a page is served whole, so one RED field makes
    the object RED. An object with no TLP marking takes the bubble's default.
    """
    levels = [MARKING_LEVELS[ref] for ref in marking_refs(obj) if ref in MARKING_LEVELS]
    return max(levels) if levels else default


def red_recipients(obj: Mapping[str, Any]) -> frozenset[str]:
    """Identity ids named as recipients in our RED property extension; empty when absent."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict):
        return frozenset()
    extension = extensions.get(RED_RECIPIENTS_EXTENSION_ID)
    if not isinstance(extension, dict):
        return frozenset()
    recipients = extension.get("recipients")
    if not isinstance(recipients, list):
        return frozenset()
    return frozenset(r for r in recipients if isinstance(r, str) and r.startswith("identity--"))
