"""A demo consultation: a ministry's draft guideline opened to companies, civil society and
international organizations, commented on, answered, and revised in answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from trustbubble.domain.consultations import read_audience
from trustbubble.services import accounts, consultations
from trustbubble.store.database import Database

DRAFTER = "policy@ict.ke.demo.test"
TITLE = "Guideline on cybersecurity in health care"
DRAFT = """# Guideline on cybersecurity in health care

## Scope

This guideline applies to every public hospital in Kenya.

## Duties of hospitals

Hospitals report a ransomware attack to the national CERT within 24 hours.

Hospitals test the restoring of their backups once a year.

## Cooperation

The national CERT answers a partner state's request for help within a day, as UN norm 13(h) asks.
"""


def load_consultation(db: Database, progress: Callable[[str], None]) -> None:
    ministry = accounts.user_by_email(db, DRAFTER)
    company = accounts.user_by_email(db, "soc@medsecure.demo.test")
    international = accounts.user_by_email(db, "security@ghco.demo.test")
    draft = consultations.new_draft(db, ministry, TITLE, "guideline", DRAFT)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    audience = read_audience({"kinds": ["private", "civil-society", "international"]})
    opened = consultations.open_consultation(
        db, ministry, draft, 1, now - timedelta(days=3), now + timedelta(days=27), audience
    )
    clinics = consultations.comment(
        db,
        company,
        opened,
        {
            "paragraph": 1,
            "stance": "amend",
            "text": "Private clinics hold the same patient records and were hit in 2021.",
            "wording": "This guideline applies to every hospital and clinic in Kenya.",
            "norms": ["g"],
        },
    )
    backups = consultations.comment(
        db,
        international,
        opened,
        {
            "paragraph": 3,
            "stance": "object",
            "text": "Once a year is too rare: our member hospitals test every quarter.",
        },
    )
    consultations.comment(
        db, company, opened, {"paragraph": 4, "stance": "support", "text": "Yes.", "norms": ["h"]}
    )
    consultations.respond(db, ministry, opened, clinics, "accepted", "Clinics are in scope now.")
    consultations.respond(
        db, ministry, opened, backups, "partly-accepted", "Twice a year, to spare small hospitals."
    )
    revised = DRAFT.replace("every public hospital", "every hospital and clinic").replace(
        "once a year", "twice a year"
    )
    note = "Clinics are in scope; backups are tested twice a year."
    consultations.add_version(db, ministry, draft, revised, note, [clinics, backups])
    progress("opened a demo consultation, commented, answered and revised")
