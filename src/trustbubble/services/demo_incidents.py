"""Two years of demo incident reports (2019 and 2020) that show the pandemic surge against health.

The numbers follow the shape the experts described, not real counts: attacks on health care
rise from March 2020, and the systems of an international health organization are attacked
about five times more in spring 2020 than in spring 2019. Every name is fictional.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from trustbubble.domain.incidents import (
    AttackType,
    HumanImpact,
    IncidentReport,
    IncidentStatus,
    to_stix,
)
from trustbubble.domain.tlp import TlpLevel

_NAMESPACE = uuid.UUID("0b7f5a3e-2c61-4d0e-9a8f-5e4c3b2a1908")

# International health organization: its own incidents make the five-fold spring.
INTERNATIONAL = "Global Health Cooperation Office"

# (country code, places attacked there); the places are fictional.
_PLACES: dict[str, tuple[str, ...]] = {
    "FR": ("Hôpital Universitaire Lyon-Sud", "Centre Hospitalier de Bordeaux", "SAMU 69"),
    "KE": ("Nairobi General Hospital", "Mombera County Referral Hospital"),
    "DE": ("Klinikum Nordstadt", "Universitätsklinikum Auenfeld"),
    "BR": ("Hospital Serra Dourada", "Laboratório Central de Vila Esperança"),
    "CH": (INTERNATIONAL,),
}

# Monthly incidents against health per country outside the international organization, by month
# of the year, before the pandemic; 2020 multiplies March to December.
_BASE = {"FR": 2, "KE": 1, "DE": 2, "BR": 1}
_SURGE_2020 = {3: 3.0, 4: 3.5, 5: 3.0, 6: 2.0, 7: 1.8, 8: 1.6, 9: 1.8, 10: 2.2, 11: 2.4, 12: 2.2}
# Against the international organization: 4 in spring 2019, 20 in spring 2020 (5.0x).
_INTERNATIONAL = {
    (2019, 1): 1,
    (2019, 3): 1,
    (2019, 4): 2,
    (2019, 5): 1,
    (2019, 8): 1,
    (2019, 11): 1,
    (2020, 2): 2,
    (2020, 3): 6,
    (2020, 4): 8,
    (2020, 5): 6,
    (2020, 6): 3,
    (2020, 9): 2,
    (2020, 12): 2,
}

# Weights of the attack types before and during the pandemic (COVID-themed phishing, ransomware).
_BEFORE = {
    "phishing": 5,
    "ransomware": 3,
    "ddos": 2,
    "data-theft": 2,
    "supply-chain": 1,
    "other": 1,
}
_DURING = {"phishing": 7, "ransomware": 5, "ddos": 2, "data-theft": 3, "wiper": 1, "other": 1}

_TITLES = {
    "phishing": "COVID-19 themed phishing against staff of {place}",
    "ransomware": "Ransomware disrupts care at {place}",
    "ddos": "DDoS takes the online services of {place} offline",
    "data-theft": "Patient data stolen from {place}",
    "wiper": "Wiper destroys research data at {place}",
    "supply-chain": "Compromised update of a medical software vendor reaches {place}",
    "other": "Intrusion into the network of {place}",
}
_PRE_PANDEMIC_TITLES = {"phishing": "Credential phishing against staff of {place}"}

# TLP of the reports: most are CLEAR so the public observatory tells the story.
_LEVELS = (
    (TlpLevel.CLEAR, 50),
    (TlpLevel.GREEN, 25),
    (TlpLevel.AMBER, 15),
    (TlpLevel.AMBER_STRICT, 6),
    (TlpLevel.RED, 4),
)


@dataclass(frozen=True, slots=True)
class DemoIncident:
    country: str
    body: dict[str, Any]


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _impact(rng: random.Random, attack: str, international: bool) -> HumanImpact:
    if international or attack == "phishing":
        return HumanImpact(records_exposed=rng.choice((0, 0, rng.randint(10, 400))))
    if attack == "ransomware":
        return HumanImpact(
            patients_affected=rng.randint(20, 2500),
            services_disrupted=rng.randint(1, 6),
            care_delayed=True,
            care_diverted=rng.random() < 0.6,
            records_exposed=rng.choice((0, rng.randint(1000, 90000))),
            downtime_hours=float(rng.randint(12, 400)),
        )
    if attack == "ddos":
        return HumanImpact(services_disrupted=1, downtime_hours=float(rng.randint(2, 30)))
    if attack == "data-theft":
        return HumanImpact(records_exposed=rng.randint(500, 250_000))
    return HumanImpact(
        patients_affected=rng.randint(0, 300),
        services_disrupted=rng.randint(0, 3),
        care_delayed=rng.random() < 0.4,
        downtime_hours=float(rng.randint(0, 72)),
    )


def _report(
    rng: random.Random, country: str, started: datetime, recipients: Sequence[str]
) -> IncidentReport:
    international = country == "CH"
    pandemic = started >= datetime(2020, 3, 1, tzinfo=UTC)
    attack = _pick(rng, _DURING if pandemic else _BEFORE)
    place = rng.choice(_PLACES[country])
    titles = _TITLES if pandemic else {**_TITLES, **_PRE_PANDEMIC_TITLES}
    level = rng.choices([lv for lv, _ in _LEVELS], weights=[w for _, w in _LEVELS])[0]
    if international:
        level = TlpLevel.CLEAR  # it reports the attacks on it in public
    ended = started + timedelta(hours=rng.randint(6, 24 * 20))
    status = rng.choice(
        (IncidentStatus.RECOVERED, IncidentStatus.RECOVERED, IncidentStatus.CONTAINED)
    )
    norms = ["f", "g"] + (["h"] if rng.random() < 0.3 else []) + (["k"] if international else [])
    return IncidentReport(
        title=titles[attack].format(place=place),
        description=(
            f"{place} reported the attack to its national CERT"
            + (" and asked partners for help." if "h" in norms else ".")
        ),
        started=int(started.timestamp() * 1_000_000),
        ended=int(ended.timestamp() * 1_000_000),
        status=status,
        country=country,
        attack_type=AttackType(attack),
        sectors=("healthcare",) if not international else ("healthcare", "non-profit"),
        human=_impact(rng, attack, international),
        technical_impact="Systems restored from offline backups." if attack == "ransomware" else "",
        norms=tuple(sorted(norms)),
        tlp=level,
        recipients=tuple(recipients[:1]) if level is TlpLevel.RED else (),
    )


def _months() -> list[tuple[int, int]]:
    return [(year, month) for year in (2019, 2020) for month in range(1, 13)]


def incidents(
    authors: dict[str, str], recipients: Sequence[str], seed: int = 2020
) -> list[DemoIncident]:
    """The reports as STIX incidents; `authors` maps a country code to the author identity."""
    rng = random.Random(seed)
    made: list[DemoIncident] = []
    for year, month in _months():
        plan = {
            country: round(base * (_SURGE_2020.get(month, 1.0) if year == 2020 else 1.0))
            for country, base in _BASE.items()
        }
        plan["CH"] = _INTERNATIONAL.get((year, month), 0)
        for country, count in plan.items():
            for _ in range(count):
                day = rng.randint(1, 28)
                started = datetime(year, month, day, rng.randint(0, 23), tzinfo=UTC)
                report = _report(rng, country, started, recipients)
                stamp = (started + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                body = to_stix(
                    report,
                    object_id=f"incident--{uuid.uuid5(_NAMESPACE, f'{len(made)}')}",
                    created=stamp,
                    modified=stamp,
                    author=authors[country],
                )
                made.append(DemoIncident(country, body))
    return made
