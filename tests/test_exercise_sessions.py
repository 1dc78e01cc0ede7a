"""Exercise sessions on both stores: a facilitator runs a shipped scenario with users and a guest,
players see only their role and decide for it, and the stored log replays to what they saw."""

from __future__ import annotations

import pytest

from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trustbubble.domain.exercises.engine import Entry, Step
from trustbubble.services import accounts, exercises
from trustbubble.store.database import Database


@pytest.fixture
def people(db: Database) -> dict[str, User]:
    accounts.create_org(db, "Training Institute", "academia", "CH")
    accounts.create_org(db, "Ministry of Health", "government", "KE")
    found = {}
    for name, org, role in (
        ("trainer", "Training Institute", UserRole.ANALYST),
        ("health", "Ministry of Health", UserRole.VIEWER),
        ("cert", "Ministry of Health", UserRole.ANALYST),
        ("stranger", "Training Institute", UserRole.ANALYST),
    ):
        found[name], _ = accounts.create_user(db, f"{name}@example.test", org, role)
    return found


def test_a_session_is_played_by_users_and_a_guest(db: Database, people: dict[str, User]) -> None:
    trainer = exercises.as_user(people["trainer"])
    session = exercises.create(db, people["trainer"], "hospital-ransomware")
    exercises.assign(db, people["trainer"], session, "north-health", "health@example.test")
    exercises.assign(db, people["trainer"], session, "north-cert", "cert@example.test")
    token = exercises.invite_guest(db, people["trainer"], session, "south-foreign", "Ana")
    guest, guest_session = exercises.as_guest(db, token)
    assert guest_session == session

    health = exercises.as_user(people["health"])
    exercises.act(db, trainer, session, Entry(Step.START))
    screen = exercises.view(db, health, session).screens
    assert [s.role for s in screen] == ["north-health"]
    assert [i["title"] for i in screen[0].injects] == ["University hospital diverts ambulances"]
    assert [d["id"] for d in screen[0].decisions] == ["first-hour"]
    # A viewer plays too: the role, not the node role, decides what a player may do.
    exercises.act(
        db,
        health,
        session,
        Entry(Step.DECIDE, decision="first-hour", option="continuity", role="north-health"),
    )
    with pytest.raises(Forbidden, match="you do not play the role 'north-cert'"):
        exercises.act(
            db,
            health,
            session,
            Entry(Step.DECIDE, decision="warn-partner", option="warn", role="north-cert"),
        )
    with pytest.raises(Forbidden, match="only the facilitator may advance"):
        exercises.act(db, guest, session, Entry(Step.ADVANCE, minutes=5))
    exercises.act(db, trainer, session, Entry(Step.ADVANCE, minutes=8))
    cert = exercises.as_user(people["cert"])
    exercises.act(
        db,
        cert,
        session,
        Entry(Step.DECIDE, decision="warn-partner", option="ask-help", role="north-cert"),
    )
    with pytest.raises(Conflict, match="decision 'warn-partner' is already taken"):
        exercises.act(
            db,
            cert,
            session,
            Entry(Step.DECIDE, decision="warn-partner", option="hold", role="north-cert"),
        )
    asked = exercises.view(db, guest, session).screens[0]
    assert asked.decisions[0]["id"] == "answer-request"
    exercises.act(
        db,
        guest,
        session,
        Entry(Step.DECIDE, decision="answer-request", option="send-team", role="south-foreign"),
    )
    exercises.say(db, guest, session, "We are sending a team.")
    assert [m.text for m in exercises.chat(db, trainer, session)] == ["We are sending a team."]
    assert exercises.chat(db, health, session) == []  # another team's chat
    exercises.act(db, trainer, session, Entry(Step.ADVANCE, minutes=120))

    seen = exercises.view(db, trainer, session)
    assert seen.ended
    assert len(seen.screens) == 5
    assert seen.scores is not None
    assert seen.scores.objectives["ask-and-answer"].value == "P"
    assert {p["role"]: p["player"] for p in seen.players} == {
        "north-cert": "cert@example.test",
        "north-health": "health@example.test",
        "south-foreign": "Ana (guest)",
    }
    with pytest.raises(Conflict, match="the exercise has ended"):
        exercises.act(db, trainer, session, Entry(Step.ADVANCE, minutes=1))


def test_outsiders_do_not_see_a_session_and_bad_input_is_named(
    db: Database, people: dict[str, User]
) -> None:
    session = exercises.create(db, people["trainer"], "cross-border-water")
    with pytest.raises(NotFound):
        exercises.view(db, exercises.as_user(people["stranger"]), session)
    with pytest.raises(NotFound):
        exercises.as_guest(db, "not-a-token")
    with pytest.raises(Invalid, match="no role 'mayor' in this scenario"):
        exercises.assign(db, people["trainer"], session, "mayor", "cert@example.test")
    with pytest.raises(Invalid, match=r"no user 'nobody@example\.test'"):
        exercises.assign(db, people["trainer"], session, "west-cert", "nobody@example.test")
    with pytest.raises(NotFound, match="no shipped scenario 'moon-landing'"):
        exercises.create(db, people["trainer"], "moon-landing")
    with pytest.raises(Forbidden, match="facilitating an exercise needs the analyst or admin role"):
        exercises.create(db, people["health"], "cross-border-water")
    exercises.assign(db, people["trainer"], session, "west-cert", "cert@example.test")
    with pytest.raises(Forbidden, match="only the facilitator"):
        exercises.assign(db, people["cert"], session, "west-mfa", "cert@example.test")
