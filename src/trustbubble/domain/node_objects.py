"""STIX objects the node itself serves: the definitions of its property extensions and the
norms catalogue."""

from __future__ import annotations

from typing import Any

from trustbubble.domain.assistance import ASSISTANCE_EXTENSION_ID
from trustbubble.domain.incidents import INCIDENT_EXTENSION_ID
from trustbubble.domain.norms import (
    NORM_EXTENSION_ID,
    NORM_REPORT_EXTENSION_ID,
    catalogue,
    norm_note,
)
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


def _extension(
    extension_id: str, name: str, description: str, slug: str, created: str
) -> dict[str, Any]:
    """The definition of one of our property extensions, authored by the project."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": extension_id,
        "created_by_ref": PROJECT_IDENTITY_ID,
        "created": created,
        "modified": created,
        "name": name,
        "description": description,
        "schema": f"https://trustbubble.example/extensions/{slug}/v1",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
        "object_marking_refs": [TLP2_MARKING_IDS[TlpLevel.CLEAR]],
    }


RED_RECIPIENTS_EXTENSION = _extension(
    RED_RECIPIENTS_EXTENSION_ID,
    "TrustBubble TLP:RED recipients",
    "Names who may read an object marked TLP:RED: the identities of the organizations or "
    "people it is meant for. A TrustBubble node serves a RED object to the organization "
    "that shared it and to the named recipients, and to nobody else.",
    "red-recipients",
    "2026-11-01T00:00:00.000Z",
)

INCIDENT_EXTENSION = _extension(
    INCIDENT_EXTENSION_ID,
    "TrustBubble incident against critical infrastructure",
    "Adds to an incident what a critical-infrastructure report needs: status (suspected, "
    "confirmed, contained, recovered), started and ended, sectors (STIX industry-sector-ov), "
    "country (ISO 3166 alpha-2), attack_type (ransomware, ddos, data-theft, wiper, phishing, "
    "supply-chain, other), human_impact (patients_affected, services_disrupted, "
    "care_delayed, care_diverted, records_exposed, downtime_hours), technical_impact, "
    "suspected_actor with actor_confidence (0 to 100), and norms: the letters (a to k) of "
    "the UN GGE 2015 norms the incident touches. Sources are the incident's "
    "external_references named 'source'.",
    "incident",
    "2026-11-27T00:00:00.000Z",
)

ASSISTANCE_EXTENSION = _extension(
    ASSISTANCE_EXTENSION_ID,
    "TrustBubble request for assistance (UN GGE norm 13(h))",
    "Makes a note a request for assistance: asked (technical-analysis, mitigation, "
    "information-on-activity, law-enforcement, diplomatic), urgency (routine, high, "
    "critical), state (open, acknowledged, in-progress, resolved, declined, withdrawn) and "
    "recipients, each with its identity, answer (pending, acknowledged, declined), the time "
    "of the answer and the reason of a decline. The note's abstract is the request's title, "
    "its object_refs the incident it concerns. Each change is a new version of the note.",
    "assistance",
    "2026-11-27T00:00:00.000Z",
)

NORM_EXTENSION = _extension(
    NORM_EXTENSION_ID,
    "TrustBubble UN GGE norm",
    "Makes a note one norm of the UN GGE 2015 report (A/70/174, paragraph 13): letter (a to "
    "k), name, catalogue_version, and guidance, the expected measures of the 2021 guidance "
    "(A/76/135), each with id, measure and source. The note's abstract names the norm, its "
    "content paraphrases it, its external_references give the sources.",
    "norm",
    "2026-11-27T00:00:00.000Z",
)

NORM_REPORT_EXTENSION = _extension(
    NORM_REPORT_EXTENSION_ID,
    "TrustBubble national implementation report of the UN GGE norms",
    "Makes a report (report_types norms-implementation) a state's account of one year: "
    "country (ISO 3166 alpha-2), year, revision, catalogue_version, and entries, an object "
    "keyed by norm letter whose values hold level (not-started, initial, in-progress, "
    "implemented, leading), measures (text and the guidance ids they answer), challenges, "
    "gaps (capacity gaps) and evidence (title and url). Each submitted revision is a new "
    "version of the report.",
    "norm-report",
    "2026-11-27T00:00:00.000Z",
)


def node_objects() -> list[dict[str, Any]]:
    """Every object the node publishes in its public collection, the norms catalogue included."""
    book = catalogue()
    return [
        PROJECT_IDENTITY,
        RED_RECIPIENTS_EXTENSION,
        INCIDENT_EXTENSION,
        ASSISTANCE_EXTENSION,
        NORM_EXTENSION,
        NORM_REPORT_EXTENSION,
        *(norm_note(norm, book) for norm in book.norms),
    ]


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
