"""Incidents against critical infrastructure: the report, its checks, and its STIX form.

A report travels as a STIX `incident` whose platform fields sit in a property extension that
the node defines (`INCIDENT_EXTENSION`), so every TAXII client receives the whole incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from trustbubble.domain.choices import parse_choice
from trustbubble.domain.errors import Invalid
from trustbubble.domain.fields import http_url, text
from trustbubble.domain.norms import read_letter
from trustbubble.domain.timestamps import format_timestamp, parse_timestamp
from trustbubble.domain.tlp import (
    RED_RECIPIENTS_EXTENSION_ID,
    TLP2_MARKING_IDS,
    TlpLevel,
    level_of,
    red_recipients,
)

INCIDENT_EXTENSION_ID = "extension-definition--3b0e8f4e-6a2d-4c1e-9d57-0c2a4f1b7e63"


class IncidentStatus(StrEnum):
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    CONTAINED = "contained"
    RECOVERED = "recovered"


class AttackType(StrEnum):
    RANSOMWARE = "ransomware"
    DDOS = "ddos"
    DATA_THEFT = "data-theft"
    WIPER = "wiper"
    PHISHING = "phishing"
    SUPPLY_CHAIN = "supply-chain"
    OTHER = "other"


# STIX 2.1 industry-sector-ov (section 10.12), health first: it is why the platform exists.
SECTORS: tuple[str, ...] = (
    "healthcare",
    "pharmaceuticals",
    "government-emergency-services",
    "government-national",
    "government-regional",
    "government-local",
    "government-public-services",
    "government",
    "energy",
    "utilities",
    "infrastructure",
    "infrastructure-water",
    "infrastructure-dams",
    "infrastructure-nuclear",
    "telecommunications",
    "communications",
    "transportation",
    "financial-services",
    "insurance",
    "education",
    "non-profit",
    "technology",
    "manufacturing",
    "chemical",
    "defense",
    "aerospace",
    "automotive",
    "agriculture",
    "commercial",
    "construction",
    "entertainment",
    "hospitality-leisure",
    "mining",
    "retail",
)


@dataclass(frozen=True, slots=True)
class HumanImpact:
    patients_affected: int = 0
    services_disrupted: int = 0
    care_delayed: bool = False
    care_diverted: bool = False
    records_exposed: int = 0
    downtime_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """What a person reports; `started` and `ended` are microseconds since the epoch."""

    title: str
    started: int
    status: IncidentStatus
    country: str
    attack_type: AttackType
    description: str = ""
    ended: int | None = None
    sectors: tuple[str, ...] = ("healthcare",)
    human: HumanImpact = field(default_factory=HumanImpact)
    technical_impact: str = ""
    suspected_actor: str = ""
    actor_confidence: int | None = None  # STIX confidence, 0 to 100
    norms: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tlp: TlpLevel = TlpLevel.AMBER
    recipients: tuple[str, ...] = ()  # identity ids who may read it when RED


def _list(data: Mapping[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):  # a textarea: one per line
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(name, "must be a list of text")
    return [v.strip() for v in value if v.strip()]


# The largest whole number every JSON reader keeps exactly (RFC 7493): larger counts were
# written into the STIX incident as numbers that orjson refuses (a 500) and peers would round.
MOST = 2**53 - 1


def _count(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise Invalid(name, "must be a whole number")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise Invalid(name, f"{value!r} is not a whole number") from None
    if not isinstance(value, int) or value < 0:
        raise Invalid(name, "must be a whole number, 0 or more")
    if value > MOST:
        raise Invalid(name, f"must be at most {MOST:,}")
    return value


def _hours(data: Mapping[str, Any], name: str) -> float:
    value = data.get(name)
    if value is None or value == "":
        return 0.0
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise Invalid(name, f"{value!r} is not a number of hours") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e6:
        raise Invalid(name, "must be a number of hours, 0 or more")
    return float(value)


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    if not isinstance(value, bool):
        raise Invalid(name, "must be true or false")
    return value


def _moment(data: Mapping[str, Any], name: str, required: bool) -> int | None:
    value = text(data, name, 40, required=required)
    if not value:
        return None
    if len(value) == 10:  # a day, as a date field sends it
        value += "T00:00:00Z"
    elif len(value) == 16:  # a datetime-local field: minutes, no zone; read as UTC
        value += ":00Z"
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise Invalid(name, f"{value!r} is not a date and time ({error})") from None


def _url(text: str) -> str:
    http_url(text, "sources")
    return text


def read_report(data: Mapping[str, Any]) -> IncidentReport:
    """A report from form fields or JSON; an error names the field and what is wrong with it."""
    sectors = _list(data, "sectors") or ["healthcare"]
    for sector in sectors:
        if sector not in SECTORS:
            raise Invalid("sectors", f"{sector!r} is not a STIX industry sector")
    norms = sorted({read_letter(n, "norms") for n in _list(data, "norms")})
    country = text(data, "country", 100, required=True).upper()
    if len(country) != 2 or not country.isalpha():
        raise Invalid("country", f"{country!r} is not an ISO 3166 alpha-2 code such as FR")
    confidence_text = data.get("actor_confidence")
    confidence = None if confidence_text in (None, "") else _count(data, "actor_confidence")
    if confidence is not None and confidence > 100:
        raise Invalid("actor_confidence", "is a STIX confidence, 0 to 100")
    started = _moment(data, "started", required=True)
    assert started is not None
    ended = _moment(data, "ended", required=False)
    if ended is not None and ended < started:
        raise Invalid("ended", "is before the start")
    tlp = TlpLevel.parse(text(data, "tlp") or "amber")
    recipients = _list(data, "recipients")
    for recipient in recipients:
        if not recipient.startswith("identity--"):
            raise Invalid("recipients", f"{recipient!r} is not a STIX identity id")
    return IncidentReport(
        title=text(data, "title", 300, required=True),
        description=text(data, "description"),
        started=started,
        ended=ended,
        status=parse_choice(
            IncidentStatus, text(data, "status") or "suspected", "status", "status"
        ),
        sectors=tuple(dict.fromkeys(sectors)),
        country=country,
        attack_type=parse_choice(
            AttackType, text(data, "attack_type", required=True), "attack_type", "attack type"
        ),
        human=HumanImpact(
            patients_affected=_count(data, "patients_affected"),
            services_disrupted=_count(data, "services_disrupted"),
            care_delayed=_flag(data, "care_delayed"),
            care_diverted=_flag(data, "care_diverted"),
            records_exposed=_count(data, "records_exposed"),
            downtime_hours=_hours(data, "downtime_hours"),
        ),
        technical_impact=text(data, "technical_impact"),
        suspected_actor=text(data, "suspected_actor", 300),
        actor_confidence=confidence,
        norms=tuple(norms),
        sources=tuple(_url(u) for u in _list(data, "sources")),
        tlp=tlp,
        recipients=tuple(recipients) if tlp is TlpLevel.RED else (),
    )


def to_stix(
    report: IncidentReport, *, object_id: str, created: str, modified: str, author: str
) -> dict[str, Any]:
    """The STIX incident of a report; `author` is the reporting organization's identity."""
    impact = report.human
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "status": report.status.value,
        "started": format_timestamp(report.started),
        "sectors": list(report.sectors),
        "country": report.country,
        "attack_type": report.attack_type.value,
        "human_impact": {
            "patients_affected": impact.patients_affected,
            "services_disrupted": impact.services_disrupted,
            "care_delayed": impact.care_delayed,
            "care_diverted": impact.care_diverted,
            "records_exposed": impact.records_exposed,
            "downtime_hours": impact.downtime_hours,
        },
        "norms": list(report.norms),
    }
    if report.ended is not None:
        extension["ended"] = format_timestamp(report.ended)
    for name in ("technical_impact", "suspected_actor"):
        if getattr(report, name):
            extension[name] = getattr(report, name)
    if report.actor_confidence is not None:
        extension["actor_confidence"] = report.actor_confidence
    obj: dict[str, Any] = {
        "type": "incident",
        "spec_version": "2.1",
        "id": object_id,
        "created": created,
        "modified": modified,
        "created_by_ref": author,
        "name": report.title,
        "object_marking_refs": [TLP2_MARKING_IDS[report.tlp]],
        "extensions": {INCIDENT_EXTENSION_ID: extension},
    }
    if report.description:
        obj["description"] = report.description
    if report.sources:
        obj["external_references"] = [
            {"source_name": "source", "url": url} for url in report.sources
        ]
    if report.recipients:
        obj["extensions"][RED_RECIPIENTS_EXTENSION_ID] = {
            "extension_type": "property-extension",
            "recipients": list(report.recipients),
        }
    return obj


def from_stix(obj: Mapping[str, Any], default_tlp: TlpLevel) -> IncidentReport | None:
    """The report inside a STIX incident carrying our extension, or None without it."""
    extensions = obj.get("extensions")
    extension = extensions.get(INCIDENT_EXTENSION_ID) if isinstance(extensions, dict) else None
    if obj.get("type") != "incident" or not isinstance(extension, dict):
        return None
    impact = extension.get("human_impact")
    data: dict[str, Any] = {
        **{k: v for k, v in extension.items() if k != "human_impact"},
        **(impact if isinstance(impact, dict) else {}),
        "title": obj.get("name"),
        "description": obj.get("description"),
        "sources": [
            ref["url"]
            for ref in obj.get("external_references") or []
            if isinstance(ref, dict) and ref.get("source_name") == "source" and "url" in ref
        ],
        "tlp": level_of(obj, default_tlp).label,
        "recipients": sorted(red_recipients(obj)),
    }
    try:
        return read_report(data)
    except Invalid:
        return None  # a peer's incident that breaks our rules is shown as plain STIX


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the incident list and the observatory count of one incident version."""

    started: int
    status: str | None
    country: str | None
    attack_type: str | None
    human: HumanImpact
    norms: tuple[str, ...]
    sectors: tuple[str, ...]

    @property
    def month(self) -> str:
        return format_timestamp(self.started)[:7]


def facts_of(obj: Mapping[str, Any], default_tlp: TlpLevel) -> IncidentFacts | None:
    """Facts of any STIX incident: from our extension, else only when it was created."""
    if obj.get("type") != "incident":
        return None
    report = from_stix(obj, default_tlp)
    if report is None:
        return IncidentFacts(
            parse_timestamp(obj["created"]), None, None, None, HumanImpact(), (), ()
        )
    return IncidentFacts(
        report.started,
        report.status.value,
        report.country,
        report.attack_type.value,
        report.human,
        report.norms,
        report.sectors,
    )
