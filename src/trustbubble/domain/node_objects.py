"""STIX objects the node itself serves: the definition of our RED recipients extension."""

from __future__ import annotations

from typing import Any

from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID, TLP2_MARKING_IDS, TlpLevel

# The identity of the TrustBubble project, author of the extension definitions it publishes.
PROJECT_IDENTITY_ID = "identity--5c6c1a0e-8f34-4d6b-9a52-3f1e7b0d2c11"

# The read-only collection of CLEAR objects, open to anonymous readers.
PUBLIC_COLLECTION_ID = "7c1ea500-0000-4000-8000-000000000001"

PROJECT_IDENTITY: dict[str, Any] = {
    "type": "identity",
    "spec_version": "2.1",
    "id": PROJECT_IDENTITY_ID,
    "created": "2026-11-01T00:00:00.000Z",
    "modified": "2026-11-01T00:00:00.000Z",
    "name": "TrustBubble project",
    "identity_class": "organization",
    "object_marking_refs": [TLP2_MARKING_IDS[TlpLevel.CLEAR]],
}

RED_RECIPIENTS_EXTENSION: dict[str, Any] = {
    "type": "extension-definition",
    "spec_version": "2.1",
    "id": RED_RECIPIENTS_EXTENSION_ID,
    "created_by_ref": PROJECT_IDENTITY_ID,
    "created": "2026-11-01T00:00:00.000Z",
    "modified": "2026-11-01T00:00:00.000Z",
    "name": "TrustBubble TLP:RED recipients",
    "description": (
        "Names who may read an object marked TLP:RED: the identities of the organizations or "
        "people it is meant for. A TrustBubble node serves a RED object to the organization "
        "that shared it and to the named recipients, and to nobody else."
    ),
    "schema": "https://trustbubble.example/extensions/red-recipients/v1",
    "version": "1.0.0",
    "extension_types": ["property-extension"],
    "object_marking_refs": [TLP2_MARKING_IDS[TlpLevel.CLEAR]],
}

NODE_OBJECTS: tuple[dict[str, Any], ...] = (PROJECT_IDENTITY, RED_RECIPIENTS_EXTENSION)


def organization_identity(
    identity_id: str, name: str, kind: str, country: str, created: str
) -> dict[str, Any]:
    """The STIX identity of an organization, shared GREEN with the bubbles it belongs to."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": created,
        "modified": created,
        "name": name,
        "identity_class": "organization",
        "description": f"{kind} organization, country {country}",
        "roles": [kind],
        "object_marking_refs": [TLP2_MARKING_IDS[TlpLevel.GREEN]],
    }
