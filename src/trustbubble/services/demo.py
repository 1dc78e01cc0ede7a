"""The demo node: organizations of four countries, two bubbles, and their shared content."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from trustbubble.domain.accounts import UserRole
from trustbubble.domain.assistance import Action
from trustbubble.domain.bubbles import BubbleKind
from trustbubble.domain.errors import Conflict
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import accounts, assistance, bubbles, exchange, objects, pocs
from trustbubble.services.demo_consultations import load_consultation
from trustbubble.services.demo_content import bubble_content
from trustbubble.services.demo_exercises import load_sessions
from trustbubble.services.demo_incidents import INTERNATIONAL, incidents
from trustbubble.services.demo_norms import load_reports
from trustbubble.store import accounts as account_store
from trustbubble.store.database import Database


@dataclass(frozen=True, slots=True)
class Login:
    email: str
    password: str
    description: str


# (name, kind, country, parent)
ORGS = [
    ("FR National CERT", "cert", "FR", None),
    ("FR Ministry of Health", "government", "FR", None),
    ("Hôpital Universitaire Lyon-Sud", "operator", "FR", "FR National CERT"),
    ("Centre Hospitalier de Bordeaux", "operator", "FR", "FR National CERT"),
    ("KE National CERT", "cert", "KE", None),
    ("KE Ministry of ICT", "government", "KE", None),
    ("DE Federal Foreign Office", "government", "DE", None),
    ("Nairobi General Hospital", "operator", "KE", "KE National CERT"),
    ("DE National CERT", "cert", "DE", None),
    ("BR National CERT", "cert", "BR", None),
    ("MedSecure GmbH", "private", "DE", None),
    ("Patients' Digital Safety Network", "civil-society", "DE", None),
    (INTERNATIONAL, "international", "CH", None),
]

# (email, organization, role, what they can see); demo passwords are public on purpose.
USERS = [
    ("analyst@fr-cert.demo.test", "FR National CERT", "analyst", "FR CERT analyst, both bubbles"),
    ("admin@fr-cert.demo.test", "FR National CERT", "admin", "FR CERT admin"),
    ("analyst@ke-cert.demo.test", "KE National CERT", "analyst", "KE CERT analyst, both bubbles"),
    ("security@health.fr.demo.test", "FR Ministry of Health", "analyst", "ministry, bilateral"),
    ("policy@ict.ke.demo.test", "KE Ministry of ICT", "analyst", "ministry, both bubbles"),
    (
        "policy@auswaertiges.de.demo.test",
        "DE Federal Foreign Office",
        "analyst",
        "foreign office, regional member",
    ),
    (
        "ciso@lyon-sud.demo.test",
        "Hôpital Universitaire Lyon-Sud",
        "analyst",
        "hospital, FR CERT's constituency",
    ),
    (
        "analyst@de-cert.demo.test",
        "DE National CERT",
        "analyst",
        "DE CERT, owner of the regional bubble",
    ),
    ("analyst@br-cert.demo.test", "BR National CERT", "analyst", "BR CERT, regional bubble"),
    ("soc@medsecure.demo.test", "MedSecure GmbH", "analyst", "company, regional member"),
    (
        "policy@patients-safety.demo.test",
        "Patients' Digital Safety Network",
        "viewer",
        "NGO, regional observer",
    ),
    ("security@ghco.demo.test", INTERNATIONAL, "analyst", "international health organization"),
]

BILATERAL = "France–Kenya health partnership"
REGIONAL = "Europe–Africa–Latin America health CERT network"


def demo_password(email: str) -> str:
    local, domain = email.split("@")
    return f"demo-{local}-{domain.split('.')[0]}"


def _examples_dir() -> Path | None:
    shared = os.environ.get("TRUSTBUBBLE_SHARED_DIR")
    candidates = [Path(shared)] if shared else []
    candidates += [Path.cwd().parent / "shared", Path(__file__).resolve().parents[4] / "shared"]
    for base in candidates:
        examples = base / "data" / "stix21-examples"
        if examples.is_dir():
            return examples
    return None


def load(db: Database, progress: Callable[[str], None] = lambda _t: None) -> list[Login]:
    """Load the demo once; later calls only return the logins."""
    logins = [Login(email, demo_password(email), text) for email, _o, _r, text in USERS]
    with db.read() as conn:
        if account_store.org_by_name(conn, ORGS[0][0]) is not None:
            progress("demo data already loaded")
            return logins
        if account_store.all_orgs(conn):
            raise Conflict(
                "this database already holds organizations: the demo, whose passwords are "
                "public, loads only into an empty database (set TRUSTBUBBLE_DATABASE_URL)"
            )
    progress("loading demo organizations, users and bubbles")
    for name, kind, country, parent in ORGS:
        accounts.create_org(db, name, kind, country, parent)
    for email, org, role, _text in USERS:
        # Public on purpose and built from the e-mail, so the rules for real passwords do not apply.
        password = demo_password(email)
        accounts.create_user(db, email, org, UserRole(role), password, password_rules=False)
    bubbles.create_bubble(
        db,
        BILATERAL,
        BubbleKind.BILATERAL,
        "FR National CERT",
        members=("KE National CERT", "FR Ministry of Health", "KE Ministry of ICT"),
        charter="France and Kenya share incidents against hospitals and answer requests "
        "for help within 24 hours.",
        default_tlp=TlpLevel.AMBER,
    )
    bubbles.create_bubble(
        db,
        REGIONAL,
        BubbleKind.REGIONAL,
        "DE National CERT",
        members=(
            "FR National CERT",
            "KE National CERT",
            "BR National CERT",
            "MedSecure GmbH",
            INTERNATIONAL,
            "KE Ministry of ICT",
            "DE Federal Foreign Office",
        ),
        observers=("Patients' Digital Safety Network",),
        charter="National CERTs of three continents and their partners protect health care.",
        default_tlp=TlpLevel.GREEN,
    )
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    _share(db, BILATERAL, 220, 2020, now, progress)
    _share(db, REGIONAL, 280, 2021, now, progress)
    _report_incidents(db, progress)
    _contacts_and_requests(db, progress)
    load_reports(db, progress)
    load_sessions(db, progress)
    load_consultation(db, progress)
    examples = _examples_dir()
    if examples is not None:
        for path in sorted(examples.glob("*.json")):
            items = exchange.read_bundle(path.read_bytes(), path.name)
            exchange.import_objects(db, REGIONAL, "analyst@de-cert.demo.test", items)
        progress(f"imported the OASIS examples from {examples}")
    return logins


def _share(
    db: Database,
    bubble_name: str,
    count: int,
    seed: int,
    now: datetime,
    progress: Callable[[str], None],
) -> None:
    """Post the generated content as the authors' analysts, in order, through the services."""
    bubble = bubbles.bubble_by_name(db, bubble_name)
    roles = bubbles.members(db, bubble.id)
    with db.read() as conn:
        orgs = {m.org_id: account_store.org_by_id(conn, m.org_id) for m in roles}
    writers = {}
    for email, org_name, role, _text in USERS:
        org = next((o for o in orgs.values() if o and o.name == org_name), None)
        if org and role == "analyst" and org.identity_id not in writers:
            writers[org.identity_id] = email
    authors = [identity for identity in writers]
    recipients = [o.identity_id for o in orgs.values() if o is not None]
    content = bubble_content(bubble.name, authors, recipients, count=count, seed=seed, now=now)
    # One envelope per author: the store needs no referenced object to exist first.
    by_author: dict[str, list[dict[str, object]]] = {}
    for item in content:
        by_author.setdefault(item.author, []).append(item.body)
    for author, bodies in by_author.items():
        user = accounts.user_by_email(db, writers[author])
        reader = accounts.reader_for(db, user)
        with db.read() as conn:
            where = bubbles.collection_access(conn, reader, bubble.id)
        objects.add_envelope(db, reader, user.email, where, bodies)
    progress(f"shared {len(content)} objects in {bubble_name}")


# Who reports the incidents of each country in the regional bubble.
_REPORTERS = {
    "FR": "analyst@fr-cert.demo.test",
    "KE": "analyst@ke-cert.demo.test",
    "DE": "analyst@de-cert.demo.test",
    "BR": "analyst@br-cert.demo.test",
    "CH": "security@ghco.demo.test",
}


def _report_incidents(db: Database, progress: Callable[[str], None]) -> None:
    """Two years of incident reports in the regional bubble, each by its country's reporter."""
    bubble = bubbles.bubble_by_name(db, REGIONAL)
    users = {country: accounts.user_by_email(db, email) for country, email in _REPORTERS.items()}
    with db.read() as conn:
        identities = {
            country: account_store.org_by_id(conn, user.org_id) for country, user in users.items()
        }
    authors = {country: org.identity_id for country, org in identities.items() if org}
    made = incidents(authors, recipients=[authors["DE"]])
    for country, user in users.items():
        reader = accounts.reader_for(db, user)
        with db.read() as conn:
            where = bubbles.collection_access(conn, reader, bubble.id)
        bodies = [item.body for item in made if item.country == country]
        objects.add_envelope(db, reader, user.email, where, bodies)
    progress(f"reported {len(made)} incidents of 2019 and 2020 in {REGIONAL}")


# (user who adds it, kind, name, role, e-mail, phone, languages, hours, time zone); all fictional.
_POCS = [
    (
        "analyst@fr-cert.demo.test",
        "technical",
        "FR CERT duty officer",
        "Incident handling",
        "duty@fr-cert.demo.test",
        "+33 1 00 00 00 01",
        "fr, en",
        "24/7",
        "Europe/Paris",
    ),
    (
        "analyst@fr-cert.demo.test",
        "diplomatic",
        "Cyber affairs desk",
        "Ministry liaison",
        "cyber-desk@fr-cert.demo.test",
        "+33 1 00 00 00 02",
        "fr, en",
        "Mon-Fri 9-18",
        "Europe/Paris",
    ),
    (
        "analyst@ke-cert.demo.test",
        "technical",
        "KE CERT operations",
        "SOC lead",
        "soc@ke-cert.demo.test",
        "+254 20 000 0001",
        "en, sw",
        "24/7",
        "Africa/Nairobi",
    ),
    (
        "analyst@de-cert.demo.test",
        "technical",
        "DE CERT Lagezentrum",
        "Watch officer",
        "lage@de-cert.demo.test",
        "+49 30 0000 0001",
        "de, en",
        "24/7",
        "Europe/Berlin",
    ),
    (
        "analyst@br-cert.demo.test",
        "technical",
        "BR CERT plantão",
        "On-call analyst",
        "plantao@br-cert.demo.test",
        "+55 61 0000 0001",
        "pt, en, es",
        "24/7",
        "America/Sao_Paulo",
    ),
]


def _contacts_and_requests(db: Database, progress: Callable[[str], None]) -> None:
    """Points of contact of the CERTs, and requests for assistance in several states."""
    fields = ("kind", "name", "role", "email", "phone", "languages", "hours", "time_zone")
    for email, *values in _POCS:
        pocs.add(db, accounts.user_by_email(db, email), dict(zip(fields, values, strict=True)))
    fr = accounts.user_by_email(db, "analyst@fr-cert.demo.test")
    ke = accounts.user_by_email(db, "analyst@ke-cert.demo.test")
    de = accounts.user_by_email(db, "analyst@de-cert.demo.test")
    bilateral = bubbles.bubble_by_name(db, BILATERAL).id
    regional = bubbles.bubble_by_name(db, REGIONAL).id
    resolved = assistance.raise_request(
        db,
        fr,
        bilateral,
        {
            "title": "Ransomware at Hôpital Universitaire Lyon-Sud: decryptor and C2 sightings",
            "details": "The ransom note names NightLatch. Have you seen its C2 servers in Kenya?",
            "asked": ["technical-analysis", "information-on-activity"],
            "urgency": "critical",
            "recipients": ["KE National CERT"],
            "tlp": "amber",
        },
    )
    assistance.act(db, ke, resolved, Action.ACKNOWLEDGE)
    assistance.post_message(
        db,
        ke,
        resolved,
        "Two of the C2 addresses are hosted here; we have asked the provider to take them down.",
    )
    assistance.act(db, ke, resolved, Action.START)
    assistance.act(db, ke, resolved, Action.RESOLVE)
    waiting = assistance.raise_request(
        db,
        de,
        regional,
        {
            "title": "DDoS on vaccine booking portals: traffic from your networks",
            "details": "Please share netflow of the attacking addresses listed in the report.",
            "asked": ["information-on-activity", "mitigation"],
            "urgency": "high",
            "tlp": "green",
        },
    )
    assistance.act(db, fr, waiting, Action.ACKNOWLEDGE)
    progress("added points of contact and requests for assistance")
