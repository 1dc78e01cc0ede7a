"""Demo national implementation reports: three states, two years, each shared its own way.

The content is fictional, written to show the scorecards, the comparison and a bubble's common
capacity gaps; it describes no real state's policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trustbubble.domain.norms import Visibility, read_entries
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services import accounts, bubbles, norms
from trustbubble.store.database import Database

_TRAINING = "Incident response training for hospital IT staff"
_CVD = "A legal safe harbour for security researchers"
_POC = "Staff to answer requests around the clock"


def _entry(level: str, *measures: tuple[str, str], gaps: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "level": level,
        "measures": [{"text": text, "guidance": ids.split()} for text, ids in measures],
        "gaps": list(gaps),
    }


# (keeper's user, year, entries, visibility, bubbles by name, TLP in them)
_REPORTS: list[tuple[str, int, dict[str, Any], Visibility, tuple[str, ...], TlpLevel | None]] = [
    (
        "security@health.fr.demo.test",
        2025,
        {
            "g": _entry(
                "in-progress",
                ("Hospitals and medical laboratories added to the critical sectors", "g.1"),
                gaps=(_TRAINING,),
            ),
            "h": _entry("implemented", ("A national contact point for requests for help", "h.1")),
            "j": _entry("initial", gaps=(_CVD,)),
        },
        Visibility.PUBLIC,
        (),
        None,
    ),
    (
        "security@health.fr.demo.test",
        2026,
        {
            "f": _entry("implemented", ("Public statement: health care is never a target", "f.1")),
            "g": _entry(
                "implemented",
                ("Hospitals and medical laboratories added to the critical sectors", "g.1"),
                ("Security requirements for hospital operators, audited yearly", "g.3"),
            ),
            "h": _entry("leading", ("A national contact point for requests for help", "h.1")),
            "j": _entry(
                "in-progress", ("A disclosure policy for state systems", "j.1"), gaps=(_CVD,)
            ),
        },
        Visibility.PUBLIC,
        (),
        None,
    ),
    (
        "policy@ict.ke.demo.test",
        2025,
        {
            "g": _entry("initial", gaps=(_TRAINING,)),
            "h": _entry("in-progress", ("KE-CERT named contact point for requests", "h.1")),
        },
        Visibility.BUBBLES,
        ("France–Kenya health partnership",),
        TlpLevel.AMBER,
    ),
    (
        "policy@ict.ke.demo.test",
        2026,
        {
            "f": _entry("in-progress"),
            "g": _entry(
                "in-progress",
                ("Critical information infrastructure list published, health included", "g.1"),
                gaps=(_TRAINING, "Backup power and offline copies in county hospitals"),
            ),
            "h": _entry(
                "implemented",
                ("KE-CERT named contact point for requests", "h.1"),
                gaps=(_POC,),
            ),
            "k": _entry("implemented"),
        },
        Visibility.BUBBLES,
        ("France–Kenya health partnership", "Europe–Africa–Latin America health CERT network"),
        TlpLevel.GREEN,
    ),
    (
        "policy@auswaertiges.de.demo.test",
        2026,
        {
            "g": _entry("implemented", gaps=("Incident response training for hospital IT staff ",)),
            "h": _entry("implemented", gaps=(_POC,)),
            "j": _entry(
                "leading", ("Coordinated vulnerability disclosure at the national CERT", "j.1")
            ),
        },
        Visibility.BUBBLES,
        ("Europe–Africa–Latin America health CERT network",),
        None,
    ),
]


def load_reports(db: Database, progress: Callable[[str], None]) -> None:
    for email, year, entries, visibility, bubble_names, tlp in _REPORTS:
        user = accounts.user_by_email(db, email)
        made = norms.start(db, user, year, read_entries(entries))
        ids = tuple(bubbles.bubble_by_name(db, name).id for name in bubble_names)
        norms.submit(db, user, made.id, norms.Publication(visibility, ids, tlp))
    progress(f"submitted {len(_REPORTS)} national implementation reports of FR, KE and DE")
