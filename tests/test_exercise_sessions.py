"""Exercise sessions on both stores: a facilitator runs a shipped scenario with users and a guest,
players see only their role and decide for it, and the stored log replays to what they saw."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trustbubble.domain.exercises.engine import Entry, Step
from trustbubble.services import accounts, exercises
from trustbubble.store import exercises as store
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


def _started(db: Database, trainer: User) -> str:
    session = exercises.create(db, trainer, "hospital-ransomware")
    exercises.act(db, exercises.as_user(trainer), session, Entry(Step.START))
    return session


def test_game_time_follows_the_wall_clock_while_running(
    db: Database, people: dict[str, User]
) -> None:
    trainer = exercises.as_user(people["trainer"])
    session = _started(db, people["trainer"])
    begun = exercises.live(db, session).session.created
    with db.read() as conn:
        anchor = store.clock_anchor(conn, session)
    assert anchor is not None
    assert anchor >= begun
    assert not exercises.tick(db, session, anchor + timedelta(seconds=59))
    assert exercises.live(db, session).state.minute == 0
    assert exercises.tick(db, session, anchor + timedelta(minutes=12, seconds=30))
    assert exercises.live(db, session).state.minute == 12
    # Deadlines passed on the way took their defaults, as if the minutes had been advanced.
    assert "first-hour" in {d.decision for d in exercises.live(db, session).state.decided}
    # The half minute left over counts towards the next minute; a repeat changes nothing.
    assert not exercises.tick(db, session, anchor + timedelta(minutes=12, seconds=50))
    assert exercises.tick(db, session, anchor + timedelta(minutes=13))
    assert exercises.live(db, session).state.minute == 13
    # Paused, the clock stands still however long the pause.
    exercises.act(db, trainer, session, Entry(Step.PAUSE))
    assert not exercises.tick(db, session, anchor + timedelta(hours=5))
    assert exercises.live(db, session).state.minute == 13
    # Past the planned length, time stops at the end.
    exercises.act(db, trainer, session, Entry(Step.RESUME))
    exercises.tick(db, session, datetime.now(UTC) + timedelta(hours=3))
    ended = exercises.live(db, session).state
    assert ended.ended
    assert ended.minute == 60
    assert ended.end_reason == "time is up at minute 60"


def test_answers_before_and_after_and_the_debrief(db: Database, people: dict[str, User]) -> None:
    trainer = people["trainer"]
    session = exercises.create(db, trainer, "hospital-ransomware")
    exercises.assign(db, trainer, session, "north-health", "health@example.test")
    health = exercises.as_user(people["health"])
    exercises.respond(db, health, session, "before", {0: "2", 1: "2"})
    exercises.respond(db, health, session, "before", {0: "1"})  # changed their mind
    with pytest.raises(Invalid, match=r"answers\.0: choose one of the 3 options"):
        exercises.respond(db, health, session, "before", {0: "7"})
    with pytest.raises(Invalid, match=r"answers\.5: no question 6 in this scenario"):
        exercises.respond(db, health, session, "before", {5: "0"})
    with pytest.raises(Conflict, match="the debrief questions open when the exercise ends"):
        exercises.respond(db, health, session, "debrief", {0: "Too early"})
    with pytest.raises(Conflict, match="opens to players when the exercise ends"):
        exercises.report(db, health, session)
    exercises.act(db, exercises.as_user(trainer), session, Entry(Step.START))
    with pytest.raises(Conflict, match="the questions before it are closed"):
        exercises.respond(db, health, session, "before", {0: "0"})
    provisional = exercises.report(db, exercises.as_user(trainer), session)
    assert provisional["ended"] is False
    exercises.act(db, exercises.as_user(trainer), session, Entry(Step.END))
    exercises.respond(db, health, session, "after", {0: "1", 1: "2"})
    exercises.respond(db, health, session, "debrief", {1: "The partner's hotline was slow."})
    assert exercises.answered(db, health, session) == {
        "before": {0: "1", 1: "2"},
        "after": {0: "1", 1: "2"},
        "debrief": {1: "The partner's hotline was slow."},
    }
    report = exercises.report(db, health, session)
    assert report["knowledge"]["before"] == {"people": 1, "answers": 2, "correct": 2, "share": 1.0}
    assert report["debrief"][1]["answers"] == [
        {
            "name": "health@example.test",
            "role": "Northland health ministry",
            "answer": "The partner's hotline was slow.",
        }
    ]
    assert report["end_reason"] == "ended by the facilitator"
    # Ended before any choice: every objective unable to be performed, and said so.
    assert report["improvements"][0] == (
        "Objective “Protect the continuity of care in the hospitals attacked (critical "
        "infrastructure).” was rated U (unable to be performed): no choice upheld norm (g)"
    )
    assert {r["id"]: r["player"] for r in report["roles"]}["north-health"] == "health@example.test"
    with pytest.raises(NotFound):
        exercises.report(db, exercises.as_user(people["stranger"]), session)
