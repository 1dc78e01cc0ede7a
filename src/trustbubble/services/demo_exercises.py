"""Demo exercise sessions: one played to its end, with answers and a debrief, so the after-action
report has something to show; one cast and waiting to start."""

from __future__ import annotations

from collections.abc import Callable

from trustbubble.domain.exercises.engine import Entry, Step
from trustbubble.services import accounts, exercises
from trustbubble.store.database import Database

FACILITATOR = "policy@auswaertiges.de.demo.test"

# role -> the demo user who played it
PLAYED = {
    "north-health": "security@health.fr.demo.test",
    "north-cert": "analyst@fr-cert.demo.test",
    "south-cert": "analyst@ke-cert.demo.test",
    "south-foreign": "policy@ict.ke.demo.test",
}
# (role, decision, option) after each advance of (minutes)
PLAY: list[tuple[int, list[tuple[str, str, str]]]] = [
    (0, [("north-health", "first-hour", "continuity")]),
    (8, [("north-cert", "warn-partner", "ask-help")]),
    (3, [("south-foreign", "answer-request", "take-down")]),
    (49, []),  # the foreign ministry's seat was empty: its press question took the default
]
DEBRIEF = {
    "analyst@fr-cert.demo.test": {
        1: "We had the partner CERT's number from the last communication check: one call.",
    },
    "policy@ict.ke.demo.test": {
        0: "When the laboratory network alert came; we blocked the shared segment at once.",
        2: "Nothing on attribution until the forensic team had finished.",
    },
}


def load_sessions(db: Database, progress: Callable[[str], None]) -> None:
    trainer = accounts.user_by_email(db, FACILITATOR)
    facilitator = exercises.as_user(trainer)
    played = exercises.create(
        db, trainer, "hospital-ransomware", "Health diplomacy course: ransomware across borders"
    )
    for role, email in PLAYED.items():
        exercises.assign(db, trainer, played, role, email)
    players = {
        email: exercises.as_user(accounts.user_by_email(db, email)) for email in PLAYED.values()
    }
    for who in players.values():
        exercises.respond(db, who, played, "before", {0: "0", 1: "2"})
    exercises.act(db, facilitator, played, Entry(Step.START))
    for minutes, choices in PLAY:
        if minutes:
            exercises.act(db, facilitator, played, Entry(Step.ADVANCE, minutes))
        for role, decision, option in choices:
            player = players[PLAYED[role]]
            step = Entry(Step.DECIDE, decision=decision, option=option, role=role)
            exercises.act(db, player, played, step)
    for who in players.values():
        exercises.respond(db, who, played, "after", {0: "1", 1: "2"})
    for email, answers in DEBRIEF.items():
        exercises.respond(db, players[email], played, "debrief", answers)

    waiting = exercises.create(db, trainer, "cross-border-water", "Water utility tabletop, spring")
    exercises.assign(db, trainer, waiting, "west-utility", "ciso@lyon-sud.demo.test")
    exercises.assign(db, trainer, waiting, "west-mfa", "analyst@de-cert.demo.test")
    progress("played one demo exercise to its end and cast another")
