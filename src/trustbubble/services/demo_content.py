"""Deterministic, realistic-looking STIX 2.1 content for the bubbles of a demo node."""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from trustbubble.domain.timestamps import stamp
from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID, TLP2_MARKING_IDS, TlpLevel

# Fixed, so that the same arguments give the same ids on every machine and every run.
_NAMESPACE = uuid.UUID("f6af6d1f-1406-4791-a00f-a3f23237b1b6")
_SPAN_MS = 913 * 24 * 3600 * 1000  # 30 months

# Drawn without replacement and refilled, so every 20 new objects carry all five levels, marked
# objects about 15% CLEAR, 35% GREEN, 30% AMBER, 10% AMBER+STRICT and 10% RED; None (5%) leaves
# the object to its bubble's default.
_LEVEL_BAG: tuple[TlpLevel | None, ...] = (
    (None,)
    + (TlpLevel.CLEAR,) * 3
    + (TlpLevel.GREEN,) * 7
    + (TlpLevel.AMBER,) * 5
    + (TlpLevel.AMBER_STRICT,) * 2
    + (TlpLevel.RED,) * 2
)

# "version" is a later version of an earlier object: an update, or a revocation.
_KIND_WEIGHTS: dict[str, int] = {
    "indicator": 26,
    "incident": 12,
    "sighting": 12,
    "relationship": 14,
    "vulnerability": 7,
    "malware": 5,
    "report": 7,
    "note": 5,
    "version": 12,
}

# Fictional towns in real countries: the hospitals sound plausible and none is a real institution.
_TOWNS: dict[str, tuple[str, ...]] = {
    "Portugal": ("Serraval", "Vila Nova de Arenas", "Porto Lindo"),
    "Spain": ("Valdemora", "Torrejas del Campo", "San Leandro de Ebro"),
    "Czechia": ("Hradov", "Lesná Hora", "Nové Brody"),
    "Estonia": ("Kaarlimäe", "Vaskna", "Põhjaranna"),
    "Kenya": ("Nyandoro", "Kiriani", "Mombera"),
    "Ghana": ("Asankrom", "Nkwanta Bepo", "Adumasa"),
    "Senegal": ("Keur Samba", "Ndiayène", "Thiambé"),
    "Brazil": ("São Brás da Serra", "Vila Esperança do Sul", "Serra Dourada do Norte"),
    "Colombia": ("San Jacinto del Río", "Villa Alborada", "Puerto Celeste"),
    "Chile": ("Villa Alerce", "Puerto Quelén", "Los Arrayanes del Sur"),
}
_HOSPITALS = ("University Hospital", "Regional Hospital", "Children's Hospital", "Cancer Centre")

# (headline naming who was hit, services disrupted if any, attack type)
_ATTACKS: tuple[tuple[str, str, str], ...] = (
    ("Ransomware disrupts radiology at {hospital}", "radiology and imaging (PACS)", "ransomware"),
    ("Ransomware encrypts health records at {hospital}", "records, e-prescribing", "ransomware"),
    ("Ambulances diverted after ransomware hits {hospital}", "emergency, laboratory", "ransomware"),
    ("Ransomware halts radiotherapy planning at {hospital}", "radiotherapy", "ransomware"),
    ("Ransomware hits {dispatch}", "computer-aided dispatch; calls taken on paper", "ransomware"),
    ("Patient records from {hospital} posted on a leak site", "", "data-extortion"),
    ("Phishing campaign harvests staff credentials at {hospital}", "", "phishing"),
    ("DDoS takes the vaccine booking portal of {ministry} offline", "online booking", "ddos"),
)

# Fictional families: the demo must not put words in the mouth of real threat reports.
_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("NightLatch", "ransomware", "Ransomware as a service; affiliates steal data, then encrypt."),
    ("GreyTide", "ransomware worm", "Ransomware that spreads over SMB and encrypts hypervisors."),
    ("Sutura", "ransomware", "Ransomware whose leak site names hospitals that refuse to pay."),
    ("PaleHorse", "ransomware", "Ransomware deployed through stolen VPN accounts, at night."),
    ("Lazaretto", "ransomware", "Ransomware that deletes shadow copies and backup catalogues."),
    (
        "PillDrop",
        "downloader trojan",
        "Loader sent in invoice-themed phishing; fetches ransomware.",
    ),
    (
        "WardenRAT",
        "remote-access-trojan",
        "Remote access trojan used before ransomware is deployed.",
    ),
)

# Fictional products, so that a real-looking CVE id never describes a real product wrongly.
_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("Vantix SSL VPN", "Authentication bypass in the web portal opens a session."),
    ("Medora PACS server", "Path traversal in the DICOM web viewer exposes arbitrary files."),
    ("CareLink remote support gateway", "Remote code execution through the update endpoint."),
    ("Helix HL7 interface engine", "Unsafe deserialization in the admin API runs code."),
    ("Quorum file transfer appliance", "SQL injection in the upload handler runs code."),
    ("Asclepia patient portal", "Broken access control exposes other patients' documents."),
)

_NOTES: tuple[tuple[str, str], ...] = (
    ("Seen in our logs", "Our SOC confirmed this in firewall logs; blocking it broke nothing."),
    (
        "Restored from backups",
        "Imaging came back from offline backups; entry was a vendor account.",
    ),
    ("Takedown requested", "We asked the hosting provider to take the server down; it agreed."),
    (
        "Possible false positive",
        "This overlaps a legitimate update service; check before blocking.",
    ),
    (
        "Ransom note",
        "The ransom note matches the one we saw last quarter, contact address and all.",
    ),
)

_WORDS = ("pacs", "careportal", "update", "secure", "login", "health", "invoice", "patient", "vpn")
_DOC_NETS = ("192.0.2", "198.51.100", "203.0.113")  # RFC 5737 documentation ranges


@dataclass(frozen=True, slots=True)
class DemoObject:
    """One STIX object to post, and the organization that posts it."""

    author: str  # identity id of the authoring organization (one of the given authors)
    body: dict[str, Any]  # a STIX 2.1 object, JSON-ready


def bubble_content(
    bubble: str,
    authors: Sequence[str],
    red_recipients: Sequence[str],
    *,
    count: int,
    seed: int,
    now: datetime,
) -> list[DemoObject]:
    """`count` objects authored by `authors`, in an order that can be posted as it is.

    Every reference points to an object earlier in the list or to an author; the same arguments
    always give the same objects. `bubble` varies the content and the ids between bubbles.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if count and not authors:
        raise ValueError("at least one author is needed")
    return _Composer(bubble, authors, red_recipients, seed, now).compose(count)


@dataclass(slots=True)
class _Entry:
    body: dict[str, Any]  # the latest version
    kind: str
    position: int
    level: TlpLevel  # unmarked objects count as AMBER, the usual bubble default
    family: str | None
    created: datetime
    versioned: bool = False
    revoked: bool = False


_Made = tuple[dict[str, Any], str | None]  # the type-specific properties, and a malware family


class _Composer:
    def __init__(
        self,
        bubble: str,
        authors: Sequence[str],
        red_recipients: Sequence[str],
        seed: int,
        now: datetime,
    ) -> None:
        self.rng = random.Random(f"{bubble}/{seed}")
        self.id_prefix = f"{bubble}/{seed}"
        self.bubble = bubble
        self.authors = list(authors)
        self.red_recipients = list(red_recipients)
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        self.now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self.families = self.rng.sample(_FAMILIES, 4)  # this bubble's threat landscape
        self.entries: list[_Entry] = []
        self.by_kind: dict[str, list[_Entry]] = {}
        self.malware_of: dict[str, _Entry] = {}
        self.cves: set[str] = set()
        self.links: set[tuple[str, str, str]] = set()
        self.bag: list[TlpLevel | None] = []
        self.position = 0
        self.t = self.now
        self.makers: dict[str, Callable[[TlpLevel | None, str], _Made | None]] = {
            "incident": self._incident,
            "indicator": self._indicator,
            "malware": self._malware,
            "vulnerability": self._vulnerability,
            "relationship": self._relationship,
            "sighting": self._sighting,
            "report": self._report,
            "note": self._note,
        }

    def compose(self, count: int) -> list[DemoObject]:
        # Sorted offsets plus their rank are strictly increasing: no two objects share a moment.
        # The cube root makes activity grow over time, as it did in the field.
        span = max(_SPAN_MS - count, 0)
        offsets = sorted(int(self.rng.random() ** (1 / 3) * span) for _ in range(count))
        start = self.now - timedelta(milliseconds=_SPAN_MS)
        kinds, weights = list(_KIND_WEIGHTS), list(_KIND_WEIGHTS.values())
        out: list[DemoObject] = []
        for position, offset in enumerate(offsets):
            self.position = position
            self.t = start + timedelta(milliseconds=offset + position)
            body = self._make(self.rng.choices(kinds, weights)[0])
            out.append(DemoObject(author=str(body["created_by_ref"]), body=body))
        return out

    def _make(self, kind: str) -> dict[str, Any]:
        if kind == "version":
            version = self._new_version()
            if version is not None:
                return version
            kind = "indicator"
        level = self._draw_level()
        author = self.rng.choice(self.authors)
        made = self.makers[kind](level, author)
        if made is None:  # nothing suitable to refer to yet
            kind, made = "indicator", self._indicator(level, author)
        props, family = made
        ts = stamp(self.t)
        object_id = uuid.uuid5(_NAMESPACE, f"{self.id_prefix}/{self.position}")
        body: dict[str, Any] = {
            "type": kind,
            "spec_version": "2.1",
            "id": f"{kind}--{object_id}",
            "created_by_ref": author,
            "created": ts,
            "modified": ts,
            **props,
        }
        if level is not None:
            body["object_marking_refs"] = [TLP2_MARKING_IDS[level]]
        if level is TlpLevel.RED and self.red_recipients:
            body["extensions"] = {
                RED_RECIPIENTS_EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "recipients": self._recipients(author),
                }
            }
        effective = TlpLevel.AMBER if level is None else level
        entry = _Entry(body, kind, self.position, effective, family, self.t)
        self.entries.append(entry)
        self.by_kind.setdefault(kind, []).append(entry)
        if kind == "malware" and family is not None:
            self.malware_of[family] = entry
        return body

    def _draw_level(self) -> TlpLevel | None:
        if not self.bag:
            self.bag = list(_LEVEL_BAG)
            self.rng.shuffle(self.bag)
        return self.bag.pop()

    def _recipients(self, author: str) -> list[str]:
        # The author's organization always reads its own RED objects; name someone else if we can.
        others = [r for r in self.red_recipients if r != author] or self.red_recipients
        return self.rng.sample(others, min(len(others), self.rng.choice((1, 1, 2))))

    def _eligible(self, kinds: tuple[str, ...], level: TlpLevel | None) -> list[_Entry]:
        """Live objects whose audience includes everyone who may read an object at `level`."""
        ceiling = TlpLevel.AMBER if level is None else level
        found = [
            e
            for kind in kinds
            for e in self.by_kind.get(kind, ())
            if e.level <= ceiling and not e.revoked
        ]
        if len(kinds) > 1:
            found.sort(key=lambda e: e.position)
        return found

    def _family(self) -> str:
        return self.rng.choice(self.families)[0]

    def _domain(self) -> str:
        first, second = self.rng.sample(_WORDS, 2)
        return f"{first}-{second}.{self.rng.choice(('example', 'test'))}"

    def _incident(self, level: TlpLevel | None, author: str) -> _Made:
        headline, services, attack = self.rng.choice(_ATTACKS)
        country = self.rng.choice(list(_TOWNS))
        town = self.rng.choice(_TOWNS[country])
        places = {
            "hospital": f"{town} {self.rng.choice(_HOSPITALS)}",
            "dispatch": f"the {town} ambulance dispatch centre",
            "ministry": f"the Ministry of Health of {country}",
        }
        site = next(place for key, place in places.items() if f"{{{key}}}" in headline)
        day = self.t - timedelta(days=self.rng.randint(0, 3))
        text = [f"{site[0].upper()}{site[1:]} ({country}) reported the attack on {day:%d %B %Y}."]
        if services:
            text.append(f"Services disrupted: {services}.")
        if attack == "ransomware" and site == places["hospital"]:
            text.append(
                f"{self.rng.randint(5, 220)} patients were diverted to neighbouring hospitals and "
                f"{self.rng.randint(10, 600)} planned procedures were postponed."
            )
        family = None
        if attack == "ransomware":
            family = self._family()
            text.append(f"The ransom note names {family}.")
            text.append(f"Systems were degraded for about {self.rng.randint(2, 21)} days.")
        elif attack == "ddos":
            text.append(f"The portal was unreachable for {self.rng.randint(2, 30)} hours.")
        elif attack == "data-extortion":
            text.append(f"Records of {self.rng.randint(2, 400) * 100} patients were published.")
        else:
            text.append(f"{self.rng.randint(3, 90)} staff accounts were used by the attacker.")
        props = {
            "name": headline.format(**places),
            "description": " ".join(text),
            "labels": ["health", attack],
        }
        return props, family

    def _indicator(self, level: TlpLevel | None, author: str) -> _Made:
        family = self._family()
        rng = self.rng
        shape = rng.choice(("ipv4", "ipv4", "domain", "url", "file", "file", "email"))
        types = ["malicious-activity"]
        if shape == "ipv4":
            value = f"{rng.choice(_DOC_NETS)}.{rng.randint(1, 254)}"
            name, pattern = f"{family} command-and-control server", f"[ipv4-addr:value = '{value}']"
            types = rng.choice((types, ["compromised"], ["anomalous-activity"]))
        elif shape == "domain":
            value = self._domain()
            name, pattern = f"{family} staging domain", f"[domain-name:value = '{value}']"
        elif shape == "url":
            path = rng.choice(("owa/auth/logon.php", "invoice/view", "download/update.bin"))
            value = f"https://{self._domain()}/{path}"
            name, pattern = f"{family} download URL", f"[url:value = '{value}']"
        elif shape == "file":
            value = f"{rng.getrandbits(256):064x}"
            name, pattern = f"{family} payload", f"[file:hashes.'SHA-256' = '{value}']"
        else:
            local = rng.choice(("billing", "hr-notice", "it-support", "vaccination"))
            value = f"{local}@{self._domain()}"
            name, pattern = f"{family} phishing sender", f"[email-addr:value = '{value}']"
            types = ["malicious-activity", "attribution"]
        props = {
            "name": name,
            "indicator_types": types,
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": stamp(self.t),
        }
        return props, family

    def _malware(self, level: TlpLevel | None, author: str) -> _Made | None:
        fresh = [f for f in self.families if f[0] not in self.malware_of]
        if not fresh:
            return None
        name, types, description = self.rng.choice(fresh)
        props = {
            "name": name,
            "description": description,
            "malware_types": types.split(),
            "is_family": True,
        }
        return props, name

    def _vulnerability(self, level: TlpLevel | None, author: str) -> _Made:
        product, flaw = self.rng.choice(_PRODUCTS)
        cve = ""
        while not cve or cve in self.cves:
            year = self.t.year - self.rng.choice((0, 0, 1))
            cve = f"CVE-{year}-{self.rng.randint(1000, 49999):04d}"
        self.cves.add(cve)
        props = {
            "name": cve,
            "description": f"{flaw} Affects {product}.",
            "external_references": [{"source_name": "cve", "external_id": cve}],
        }
        return props, None

    def _relationship(self, level: TlpLevel | None, author: str) -> _Made | None:
        # The relationship types STIX 2.1 defines for these pairs; an incident has only the
        # common ones.
        sources = self._eligible(("indicator", "incident"), level)
        vulnerabilities = self._eligible(("vulnerability",), level)
        pairs: list[tuple[str, str, str]] = []
        for malware in self._eligible(("malware",), level):
            malware_id = malware.body["id"]
            for source in sources:
                if source.family == malware.family:
                    verb = "indicates" if source.kind == "indicator" else "related-to"
                    pairs.append((verb, source.body["id"], malware_id))
            pairs.extend(("exploits", malware_id, v.body["id"]) for v in vulnerabilities)
        fresh = [pair for pair in pairs if pair not in self.links]
        if not fresh:
            return None
        verb, source_id, target_id = self.rng.choice(fresh)
        self.links.add((verb, source_id, target_id))
        props = {"relationship_type": verb, "source_ref": source_id, "target_ref": target_id}
        return props, None

    def _sighting(self, level: TlpLevel | None, author: str) -> _Made | None:
        indicators = self._eligible(("indicator",), level)
        if not indicators:
            return None
        indicator = self.rng.choice(indicators[-40:])
        window = (self.t - indicator.created) // timedelta(milliseconds=1)
        first = indicator.created + timedelta(milliseconds=self.rng.randint(0, window))
        last = first + timedelta(milliseconds=self.rng.randint(0, window) // 4)
        props = {
            "sighting_of_ref": indicator.body["id"],
            "count": min(int(self.rng.paretovariate(0.9)), 5000),
            "first_seen": stamp(first),
            "last_seen": stamp(min(last, self.t)),
            "where_sighted_refs": [author],
        }
        return props, None

    def _report(self, level: TlpLevel | None, author: str) -> _Made | None:
        kinds = ("incident", "indicator", "malware", "vulnerability", "sighting", "relationship")
        recent = self._eligible(kinds, level)[-40:]
        if len(recent) < 2:
            return None
        refs = self.rng.sample(recent, min(len(recent), self.rng.randint(2, 6)))
        families = [e.body["name"] for e in refs if e.kind == "malware"]
        if families:
            name = f"{families[0]} activity against the health sector, {self.t:%B %Y}"
        else:
            week = self.t.isocalendar()
            name = f"Health-sector threat summary, week {week.week} of {week.year}"
        props = {
            "name": name,
            "description": f"What members of the {self.bubble} bubble shared and saw lately.",
            "report_types": ["threat-report"],
            "published": stamp(self.t),
            "object_refs": [e.body["id"] for e in refs],
        }
        return props, None

    def _note(self, level: TlpLevel | None, author: str) -> _Made | None:
        recent = self._eligible(("incident", "indicator", "report"), level)[-20:]
        if not recent:
            return None
        abstract, content = self.rng.choice(_NOTES)
        refs = self.rng.sample(recent, min(len(recent), self.rng.choice((1, 1, 2))))
        props = {
            "abstract": abstract,
            "content": content,
            "object_refs": [e.body["id"] for e in refs],
        }
        return props, None

    def _new_version(self) -> dict[str, Any] | None:
        versionable = ("incident", "indicator", "malware", "vulnerability", "sighting", "report")
        candidates = [e for e in self.entries if e.kind in versionable and not e.versioned]
        if not candidates:
            return None
        entry = self.rng.choice(candidates)
        body = copy.deepcopy(entry.body)
        body["modified"] = stamp(self.t)
        kind = entry.kind
        if kind in ("indicator", "report") and self.rng.random() < 0.3:
            body["revoked"] = entry.revoked = True  # a false positive, or a report withdrawn
        elif kind == "indicator":
            body["valid_until"] = body["modified"]  # the infrastructure was taken down
        elif kind == "incident":
            body["description"] += f" Update: recovery completed on {self.t:%d %B %Y}."
        elif kind == "sighting":
            body["count"] += self.rng.randint(1, 40)
            body["last_seen"] = body["modified"]
        elif kind == "malware":
            body["description"] += f" A new variant appeared in {self.t:%B %Y}."
        elif kind == "vulnerability":
            body["description"] += " Exploited in the wild against hospitals."
        else:
            body["description"] += " Revised with what members reported since."
        entry.body, entry.versioned = body, True
        return body
