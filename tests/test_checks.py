"""Communication checks: every POC of the members pinged, one-time answers, reports, schedules."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.mail_and_hooks import Mailbox, free_port, smtp_server
from tests.test_web import form_token, sign_in
from trustbubble.cli import app
from trustbubble.domain.access import Reader
from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.bubbles import BubbleKind, BubbleRole
from trustbubble.domain.errors import Forbidden, Invalid, NotFound
from trustbubble.domain.notifications import RetryPolicy
from trustbubble.services import accounts, bubbles, checks, delivery, pocs
from trustbubble.services.delivery import MailServer, NodeCourier
from trustbubble.store import notifications as outbox
from trustbubble.store.database import Database
from trustbubble.store.tables import check_pings, deliveries

PASSWORD = "a long enough test password"


class World:
    """A bubble owned by the CERT with the hospital as member, the lab as observer, and an
    outsider; each organization has people and POCs."""

    def __init__(self, db: Database) -> None:
        self.db = db
        for name, kind in (
            ("National CERT", "cert"),
            ("Lyon Hospital", "operator"),
            ("Research Lab", "academia"),
            ("Outsider CERT", "cert"),
            ("Invited Ministry", "government"),
        ):
            accounts.create_org(db, name, kind, "FR")
        self.owner = self._user("analyst@cert.test", "National CERT")
        self.viewer = self._user("viewer@cert.test", "National CERT", UserRole.VIEWER)
        self.hospital = self._user("it@hospital.test", "Lyon Hospital")
        self.outsider = self._user("someone@outsider.test", "Outsider CERT")
        self.ministry = self._user("admin@ministry.test", "Invited Ministry", UserRole.ADMIN)
        self.bubble = bubbles.create_bubble(
            db,
            "Health bubble",
            BubbleKind.REGIONAL,
            "National CERT",
            members=("Lyon Hospital",),
            observers=("Research Lab",),
        )
        bubbles.invite(db, self.owner, self.bubble.id, "Invited Ministry", BubbleRole.MEMBER)
        lab = self._user("lab@lab.test", "Research Lab")
        for user, name, email in (
            (self.owner, "CERT duty officer", "duty@cert.test"),
            (self.owner, "CERT head", "head@cert.test"),
            (self.hospital, "Hospital CISO", "ciso@hospital.test"),
            (lab, "Lab contact", "contact@lab.test"),
            (self.outsider, "Outsider desk", "desk@outsider.test"),
            (self.ministry, "Ministry desk", "desk@ministry.test"),
        ):
            pocs.add(db, user, {"name": name, "email": email, "kind": "technical"})

    def _user(self, email: str, org: str, role: UserRole = UserRole.ANALYST) -> User:
        user, _ = accounts.create_user(self.db, email, org, role, PASSWORD)
        return user

    def mails(self) -> dict[str, str]:
        """E-mails of the outbox not sent yet: address -> the link's token."""
        with self.db.read() as conn:
            found = {}
            for d in outbox.all_deliveries(conn):
                if d.channel.value == "email" and d.state.value != "sent":
                    link = orjson.loads(d.payload)["link"]
                    found[d.target] = link.removeprefix("/checks/answer/")
            return found


@pytest.fixture
def world(db: Database) -> World:
    return World(db)


def test_a_check_pings_every_poc_of_the_active_members_with_a_one_time_link(
    world: World,
) -> None:
    started = checks.start(world.db, world.owner, world.bubble.id)

    pinged = ["ciso@hospital.test", "contact@lab.test", "duty@cert.test", "head@cert.test"]
    assert sorted(p.poc_email for p in started.pings) == pinged
    assert (started.asked, started.answered) == (4, 0)
    tokens = world.mails()
    assert sorted(tokens) == pinged  # not the outsider, not the organization only invited
    with world.db.read() as conn:
        stored = set(conn.execute(select(check_pings.c.token_hash)).scalars())
    assert len(set(tokens.values())) == 4
    # The store keeps each token's SHA-256, never the token itself.
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in tokens.values()}


def test_only_an_owners_analyst_or_admin_starts_a_check(world: World) -> None:
    with pytest.raises(Forbidden):
        checks.start(world.db, world.viewer, world.bubble.id)
    with pytest.raises(Forbidden):
        checks.start(world.db, world.hospital, world.bubble.id)
    with pytest.raises(NotFound):
        checks.start(world.db, world.outsider, world.bubble.id)
    with world.db.read() as conn:
        assert conn.execute(select(deliveries.c.id)).first() is None


def test_a_bubble_without_any_poc_cannot_be_checked(db: Database) -> None:
    accounts.create_org(db, "Lonely CERT", "cert", "FR")
    owner, _ = accounts.create_user(db, "a@lonely.test", "Lonely CERT", UserRole.ADMIN, PASSWORD)
    bubble = bubbles.create_bubble(db, "Empty", BubbleKind.REGIONAL, "Lonely CERT")
    with pytest.raises(Invalid, match="no member of Empty has a point of contact"):
        checks.start(db, owner, bubble.id)


def test_the_link_shows_a_button_and_the_answer_is_recorded_once(
    world: World, client: TestClient
) -> None:
    started = checks.start(world.db, world.owner, world.bubble.id)
    token = world.mails()["ciso@hospital.test"]

    page = client.get(f"/checks/answer/{token}")
    assert page.status_code == 200
    assert "Confirm that I received this" in page.text
    assert "Hospital CISO" in page.text
    # Opening the link answers nothing: a mail scanner may open it.
    assert (
        checks.report(world.db, _reader(world, world.owner), world.bubble.id, started.id).answered
        == 0
    )

    done = client.post(f"/checks/answer/{token}", data={"csrf": form_token(page.text)})
    assert done.status_code == 200
    assert "Confirmed" in done.text
    first = _answered(world, started.id, "ciso@hospital.test")
    assert first is not None

    again = client.post(f"/checks/answer/{token}", data={"csrf": form_token(page.text)})
    assert again.status_code == 200
    assert _answered(world, started.id, "ciso@hospital.test") == first

    # The same token works for scripts.
    api = client.post(f"/api/v1/checks/answer/{world.mails()['duty@cert.test']}")
    assert api.status_code == 200
    assert api.json()["answered"] is not None
    assert client.post("/api/v1/checks/answer/not-a-token").status_code == 404
    assert client.get("/checks/answer/not-a-token").status_code == 404
    assert client.post(f"/checks/answer/{token}", data={"csrf": "wrong"}).status_code == 403


def _reader(world: World, user: User) -> Reader:
    return accounts.reader_for(world.db, user)


def _answered(world: World, check_id: str, email: str) -> datetime | None:
    report = checks.report(world.db, _reader(world, world.owner), world.bubble.id, check_id)
    [line] = [p for p in report.pings if p.poc_email == email]
    return line.answered


def test_the_report_shows_who_answered_how_fast_and_who_did_not(world: World) -> None:
    started = checks.start(world.db, world.owner, world.bubble.id)
    tokens = world.mails()
    checks.answer(world.db, tokens["contact@lab.test"])
    checks.answer(world.db, tokens["duty@cert.test"])

    report = checks.report(world.db, _reader(world, world.hospital), world.bubble.id, started.id)
    assert (report.asked, report.answered) == (4, 2)
    answered = [(p.poc_email, p.seconds is not None) for p in report.pings]
    # The two who answered first (fastest first), then the two who did not.
    assert [email for email, _ in answered[:2]] == ["contact@lab.test", "duty@cert.test"]
    assert [has for _, has in answered] == [True, True, False, False]
    for line in report.pings[:2]:
        assert line.answered is not None
        assert line.seconds == pytest.approx((line.answered - report.started).total_seconds())
        assert 0 <= (line.seconds or 0) < 60
    assert report.median_seconds is not None


def test_the_report_is_for_the_bubbles_members_only(
    world: World, client: TestClient, db: Database
) -> None:
    started = checks.start(world.db, world.owner, world.bubble.id)
    url = f"/bubbles/{world.bubble.id}/checks/{started.id}"

    sign_in(client, world.hospital.email, PASSWORD)
    page = client.get(url)
    assert page.status_code == 200
    assert "Hospital CISO" in page.text
    assert "0 of 4 answered" in page.text
    assert client.get(f"/api/v1{url}").json()["asked"] == 4
    assert client.get(f"/bubbles/{world.bubble.id}/checks").status_code == 200

    outsider = {"Authorization": f"Bearer {accounts.create_token(db, world.outsider)[1]}"}
    assert client.get(f"/api/v1{url}", headers=outsider).status_code == 404
    assert (
        client.get(f"/api/v1/bubbles/{world.bubble.id}/checks", headers=outsider).status_code == 404
    )
    with pytest.raises(NotFound):
        checks.report(db, _reader(world, world.outsider), world.bubble.id, started.id)
    # The invited organization is not a member yet.
    with pytest.raises(NotFound):
        checks.report(db, _reader(world, world.ministry), world.bubble.id, started.id)
    # A check id under another bubble is not found either.
    other = bubbles.create_bubble(db, "Other", BubbleKind.REGIONAL, "National CERT")
    with pytest.raises(NotFound):
        checks.report(db, _reader(world, world.owner), other.id, started.id)


def test_a_check_started_over_json_and_from_the_page(world: World, client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {accounts.create_token(world.db, world.owner)[1]}"}
    started = client.post(f"/api/v1/bubbles/{world.bubble.id}/checks", headers=auth)
    assert started.status_code == 201
    assert started.json()["asked"] == 4
    hospital = {"Authorization": f"Bearer {accounts.create_token(world.db, world.hospital)[1]}"}
    assert (
        client.post(f"/api/v1/bubbles/{world.bubble.id}/checks", headers=hospital).status_code
        == 403
    )

    sign_in(client, world.owner.email, PASSWORD)
    page = client.get(f"/bubbles/{world.bubble.id}/checks")
    answer = client.post(
        f"/bubbles/{world.bubble.id}/checks",
        data={"csrf": form_token(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert re.fullmatch(
        rf"/bubbles/{world.bubble.id}/checks/[0-9a-f-]{{36}}", answer.headers["location"]
    )
    assert len(checks.history(world.db, _reader(world, world.owner), world.bubble.id).checks) == 2


def test_a_scheduled_check_starts_when_due_and_the_schedule_moves_on(world: World) -> None:
    with pytest.raises(Forbidden):
        checks.schedule(world.db, world.viewer, world.bubble.id, 90)
    with pytest.raises(Invalid):
        checks.schedule(world.db, world.owner, world.bubble.id, 4000)
    planned = checks.schedule(world.db, world.owner, world.bubble.id, 90)
    assert planned is not None
    now = datetime.now(UTC)
    assert planned.next_due <= now  # never checked: due at once

    started = checks.run_due(world.db, now)
    assert len(started) == 1
    assert checks.run_due(world.db, now) == []  # moved on: not started twice
    history = checks.history(world.db, _reader(world, world.owner), world.bubble.id)
    assert history.schedule is not None
    assert history.schedule.next_due == planned.next_due + timedelta(days=90)
    assert history.checks[0].started_by == "analyst@cert.test (schedule)"
    assert len(world.mails()) == 4

    # A node that was down for a year starts one check, not four, and keeps the 90-day grid.
    later = planned.next_due + timedelta(days=400)
    assert len(checks.run_due(world.db, later)) == 1
    history = checks.history(world.db, _reader(world, world.owner), world.bubble.id)
    assert history.schedule is not None
    assert history.schedule.next_due == planned.next_due + timedelta(days=450)

    assert checks.schedule(world.db, world.owner, world.bubble.id, 0) is None
    assert checks.run_due(world.db, later + timedelta(days=900)) == []


def test_a_schedule_whose_setter_may_no_longer_check_is_dropped(world: World) -> None:
    checks.schedule(world.db, world.owner, world.bubble.id, 30)
    bubbles.change_role(world.db, world.owner, world.bubble.id, "Lyon Hospital", BubbleRole.OWNER)
    bubbles.change_role(
        world.db, world.hospital, world.bubble.id, "National CERT", BubbleRole.MEMBER
    )
    assert checks.run_due(world.db, datetime.now(UTC)) == []
    assert checks.history(world.db, _reader(world, world.owner), world.bubble.id).schedule is None


def test_the_ping_mail_reaches_the_poc_and_its_link_answers(
    world: World, client: TestClient
) -> None:
    started = checks.start(world.db, world.owner, world.bubble.id)
    mailbox, port = Mailbox(), free_port()
    courier = NodeCourier(
        world.db, MailServer("127.0.0.1", port, "node@tb.test"), None, "https://tb.test"
    )
    with smtp_server(port, mailbox):
        delivery.send_due(world.db, courier, RetryPolicy())
    courier.close()

    assert sorted(m["To"] for m in mailbox.messages) == sorted(p.poc_email for p in started.pings)
    [mail] = [m for m in mailbox.messages if m["To"] == "ciso@hospital.test"]
    assert "Health bubble" in mail["Subject"]
    link = re.search(r"https://tb\.test(/checks/answer/\S+)", mail.get_content())
    assert link is not None
    assert client.post(f"/api/v1{link.group(1)}").status_code == 200
    assert _answered(world, started.id, "ciso@hospital.test") is not None


def test_the_operator_starts_reads_and_schedules_checks_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'node.sqlite3'}"
    monkeypatch.setenv("TRUSTBUBBLE_DATABASE_URL", url)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output + result.stderr
        return result

    run("db", "upgrade")
    World(Database(url))
    started = orjson.loads(
        run(
            "check", "start", "--bubble", "Health bubble", "--as", "analyst@cert.test", "--json"
        ).stdout
    )
    assert started["asked"] == 4
    refused = run("check", "start", "--bubble", "Health bubble", "--as", "viewer@cert.test", code=1)
    assert "only analysts and admins of an owner organization" in refused.stderr

    newest = orjson.loads(run("check", "report", "--bubble", "Health bubble", "--json").stdout)
    assert newest["id"] == started["id"]
    assert [p["answered"] for p in newest["pings"]] == [None] * 4
    text = run("check", "report", "--bubble", "Health bubble", "--check", started["id"]).stdout
    assert "0 of 4 answered" in text
    run("check", "report", "--bubble", "Health bubble", "--check", "nope", code=1)

    planned = orjson.loads(
        run(
            "check",
            "schedule",
            "--bubble",
            "Health bubble",
            "--every",
            "90",
            "--as",
            "analyst@cert.test",
            "--json",
        ).stdout
    )
    assert planned["every_days"] == 90
    due = datetime.fromisoformat(planned["next_due"]) - datetime.fromisoformat(started["started"])
    assert due == timedelta(days=90)  # 90 days after the newest check
