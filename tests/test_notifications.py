"""Notifications: in-app, e-mail through a real SMTP server, signed webhooks, retries, restarts."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.conftest import Member
from tests.mail_and_hooks import Mailbox, free_port, smtp_server, webhook_receiver
from trustbubble.api.app import create_app
from trustbubble.cli import app
from trustbubble.domain.accounts import User, UserRole
from trustbubble.domain.notifications import Delivery, DeliveryState, RetryPolicy
from trustbubble.services import accounts, delivery, notifications, webhooks
from trustbubble.services.delivery import MailServer, NodeCourier
from trustbubble.settings import Settings
from trustbubble.store import notifications as store
from trustbubble.store.database import Database
from trustbubble.store.tables import deliveries
from trustbubble.store.tables import notifications as notification_rows

SECRET = "a node secret key of at least thirty-two characters"
PASSWORD = "a long enough test password"
FAST = RetryPolicy(attempts=3, first_delay=timedelta(seconds=30))


def _user(db: Database, email: str, org: str, role: UserRole = UserRole.ANALYST) -> User:
    user, _ = accounts.create_user(db, email, org, role, PASSWORD)
    return user


@pytest.fixture
def people(db: Database, member: Member) -> tuple[User, User, User]:
    """Two analysts of the National CERT and one of another organization."""
    accounts.create_org(db, "Lyon Hospital", "operator", "FR")
    return (
        _user(db, "a@cert.test", "National CERT"),
        _user(db, "b@cert.test", "National CERT"),
        _user(db, "c@hospital.test", "Lyon Hospital"),
    )


def _notify(db: Database, users: list[User], subject: str = "Help asked") -> None:
    with db.write() as conn:
        notifications.notify(
            conn, users, "assistance.requested", subject, "Lyon asks for mitigation.", "/bubbles/x"
        )


def _states(db: Database) -> list[tuple[str, str, str, int]]:
    with db.read() as conn:
        return [
            (d.channel.value, d.target, d.state.value, d.attempts)
            for d in store.all_deliveries(conn)
        ]


def _wait(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_notify_writes_the_inbox_and_the_outbox_in_the_callers_transaction(
    db: Database, people: tuple[User, User, User]
) -> None:
    a, b, c = people
    cert_hook, _ = webhooks.add_for_org(db, SECRET, "National CERT", "https://cert.test/hook")
    webhooks.add_for_org(db, SECRET, "Lyon Hospital", "https://hospital.test/hook")

    _notify(db, [a, b, a])

    assert notifications.inbox(db, a).unread == 1
    assert notifications.inbox(db, b).notifications[0].subject == "Help asked"
    assert notifications.inbox(db, c).notifications == []
    # One mail per person, one call per webhook of their organizations: none to the hospital's.
    assert sorted(_states(db)) == [
        ("email", "a@cert.test", "pending", 0),
        ("email", "b@cert.test", "pending", 0),
        ("webhook", cert_hook.id, "pending", 0),
    ]

    def failing_change() -> None:
        with db.write() as conn:
            notifications.notify(conn, [c], "x", "rolled back", "", "")
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()
    assert notifications.inbox(db, c).notifications == []
    assert len(_states(db)) == 3


def test_a_mail_reaches_a_real_smtp_server_with_an_absolute_link(
    db: Database, people: tuple[User, User, User]
) -> None:
    a, _b, _c = people
    mailbox, port = Mailbox(), free_port()
    courier = NodeCourier(
        db, MailServer("127.0.0.1", port, "node@tb.test"), None, "https://node.test/"
    )
    _notify(db, [a])
    with smtp_server(port, mailbox):
        assert delivery.send_due(db, courier, FAST) == 1
    courier.close()

    [message] = mailbox.messages
    assert message["To"] == "a@cert.test"
    assert message["From"] == "node@tb.test"
    assert message["Subject"] == "Help asked"
    text = message.get_content()
    assert "Lyon asks for mitigation." in text
    assert "https://node.test/bubbles/x" in text
    [(_channel, _target, state, attempts)] = _states(db)
    assert (state, attempts) == ("sent", 1)


def test_a_webhook_call_carries_a_signature_the_receiver_can_verify(
    db: Database, people: tuple[User, User, User]
) -> None:
    a, b, _c = people
    with webhook_receiver() as receiver:
        hook, key_hex = webhooks.add_for_org(db, SECRET, "National CERT", receiver.url)
        _notify(db, [a, b])
        courier = NodeCourier(db, None, SECRET, "https://node.test")
        delivery.send_due(db, courier, FAST)
        courier.close()

    [call] = receiver.calls
    expected = hmac.new(bytes.fromhex(key_hex), call.body, hashlib.sha256).hexdigest()
    assert call.headers["x-trustbubble-signature"] == f"sha256={expected}"
    assert call.headers["x-trustbubble-webhook"] == hook.id
    # The key is derived from the node's secret and the webhook's id: the store holds none.
    assert bytes.fromhex(key_hex) == hmac.new(SECRET.encode(), hook.id.encode(), "sha256").digest()
    event = orjson.loads(call.body)
    assert event["event"] == "assistance.requested"
    assert event["link"] == "https://node.test/bubbles/x"
    assert event["recipients"] == ["a@cert.test", "b@cert.test"]
    # E-mails without an SMTP server are skipped, not left pending for ever.
    assert sorted(s for _c, _t, s, _a in _states(db)) == ["sent", "skipped", "skipped"]


def test_a_failing_call_is_retried_with_backoff_then_given_up(
    db: Database, people: tuple[User, User, User]
) -> None:
    a, _b, _c = people
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with webhook_receiver() as receiver:
        receiver.status = 500
        webhooks.add_for_org(db, SECRET, "National CERT", receiver.url)
        _notify(db, [a])
        courier = NodeCourier(db, None, SECRET, None)
        assert delivery.send_due(db, courier, FAST, now=now) == 2  # the call, the skipped mail
        [hook] = [d for d in _all(db) if d.channel.value == "webhook"]
        assert (hook.state, hook.attempts) == (DeliveryState.PENDING, 1)
        assert hook.next_attempt == now + timedelta(seconds=30)
        assert "HTTP 500" in hook.last_error
        # Not due yet: nothing is sent.
        assert delivery.send_due(db, courier, FAST, now=now + timedelta(seconds=29)) == 0
        delivery.send_due(db, courier, FAST, now=now + timedelta(seconds=30))
        [hook] = [d for d in _all(db) if d.channel.value == "webhook"]
        assert hook.next_attempt == now + timedelta(seconds=30 + 60)  # doubled
        delivery.send_due(db, courier, FAST, now=now + timedelta(seconds=90))
        courier.close()
    [hook] = [d for d in _all(db) if d.channel.value == "webhook"]
    assert (hook.state, hook.attempts) == (DeliveryState.FAILED, 3)
    assert len(receiver.calls) == 3


def _all(db: Database) -> list[Delivery]:
    with db.read() as conn:
        return store.all_deliveries(conn)


def test_a_revoked_webhook_is_not_called(db: Database, people: tuple[User, User, User]) -> None:
    a, _b, _c = people
    with webhook_receiver() as receiver:
        hook, _key = webhooks.add_for_org(db, SECRET, "National CERT", receiver.url)
        _notify(db, [a])
        webhooks.revoke_any(db, hook.id)
        _notify(db, [a], "after the revocation")
        courier = NodeCourier(db, None, SECRET, None)
        delivery.send_due(db, courier, FAST)
        courier.close()
    assert receiver.calls == []
    assert [d.last_error for d in _all(db) if d.channel.value == "webhook"] == [
        "the webhook was revoked"
    ]


def test_a_webhook_needs_the_node_secret_key(db: Database, people: tuple[User, User, User]) -> None:
    with pytest.raises(Exception, match="TRUSTBUBBLE_SECRET_KEY"):
        webhooks.add_for_org(db, None, "National CERT", "https://cert.test/hook")
    with pytest.raises(Exception, match="http or https"):
        webhooks.add_for_org(db, SECRET, "National CERT", "ftp://cert.test/hook")


@pytest.fixture
def node_settings(db: Database) -> Callable[[int], Settings]:
    def make(smtp_port: int) -> Settings:
        return Settings(
            database_url=db.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_from="node@tb.test",
            delivery_retry_seconds=0.2,
        )

    return make


def test_a_failed_mail_is_sent_after_a_restart_and_never_twice(
    db: Database, people: tuple[User, User, User], node_settings: Callable[[int], Settings]
) -> None:
    a, _b, _c = people
    port = free_port()
    settings = node_settings(port)
    _notify(db, [a])

    # The SMTP server is down: the node's worker tries, fails and keeps the mail pending.
    with TestClient(create_app(settings, db)):
        _wait(lambda: _all(db)[0].attempts >= 1 and _all(db)[0].last_error != "")
    [mail] = _all(db)
    assert mail.state is DeliveryState.PENDING
    assert "127.0.0.1" in mail.last_error

    mailbox = Mailbox()
    with smtp_server(port, mailbox):
        # A new node process picks up the pending mail and sends it.
        with TestClient(create_app(settings, db)):
            _wait(lambda: _all(db)[0].state is DeliveryState.SENT)
        # Restarted again, and however late the clock: a sent mail is never claimed again.
        with TestClient(create_app(settings, db)) as client:
            client.post("/sign-out")  # a write wakes the worker
            time.sleep(0.5)
        courier = NodeCourier(db, MailServer("127.0.0.1", port, "node@tb.test"), None, None)
        far = datetime.now(UTC) + timedelta(days=365)
        assert delivery.send_due(db, courier, FAST, now=far) == 0
        courier.close()
    assert len(mailbox.messages) == 1
    assert mailbox.messages[0]["To"] == "a@cert.test"


def test_a_claimed_delivery_is_hidden_from_other_workers(
    db: Database, people: tuple[User, User, User]
) -> None:
    a, _b, _c = people
    _notify(db, [a])
    now = datetime.now(UTC)
    with db.write() as conn:
        first = store.claim_due(conn, now, delivery.LEASE)
    with db.write() as conn:
        second = store.claim_due(conn, now, delivery.LEASE)
    assert first is not None
    assert second is None
    with db.write() as conn:
        assert store.finish(conn, first.id, DeliveryState.SENT, now)
        # Marking it again (a second worker after a lease ran out) changes nothing.
        assert not store.finish(conn, first.id, DeliveryState.SENT, now)
    with db.read() as conn:
        row = conn.execute(select(deliveries.c.payload, deliveries.c.sent)).one()
    assert row.payload == ""  # the sent mail's text is not kept
    assert row.sent is not None


# The pages and the JSON API.


def _sign_in(client: TestClient, email: str) -> None:
    from tests.test_web import sign_in

    sign_in(client, email, PASSWORD)


def test_the_notifications_page_lists_counts_and_marks_read(
    db: Database, client: TestClient, people: tuple[User, User, User]
) -> None:
    a, b, _c = people
    _notify(db, [a], "First")
    _notify(db, [a, b], "Second")
    _sign_in(client, a.email)

    assert "Notifications" in client.get("/").text
    assert (
        '<span class="badge" aria-label="2 unread">2</span>'
        in client.get("/notifications/count").text
    )
    page = client.get("/notifications").text
    assert page.index("Second") < page.index("First")
    assert "2 unread" in page

    from tests.test_web import form_token

    with db.read() as conn:
        first_id = conn.execute(
            select(notification_rows.c.id).where(
                notification_rows.c.subject == "First", notification_rows.c.user_id == a.id
            )
        ).scalar_one()
    token = form_token(page)
    answer = client.post(f"/notifications/{first_id}/read", data={"csrf": token})
    assert answer.status_code == 200
    assert "1 unread" in answer.text
    assert notifications.inbox(db, b).unread == 1  # b's copy is b's own

    # Without the form token nothing changes.
    assert client.post("/notifications/read", data={"csrf": "wrong"}).status_code == 403
    assert notifications.inbox(db, a).unread == 1
    client.post("/notifications/read", data={"csrf": token})
    assert notifications.inbox(db, a).unread == 0


def test_the_json_twin_lists_and_marks_only_my_notifications(
    db: Database, client: TestClient, people: tuple[User, User, User]
) -> None:
    a, b, _c = people
    _notify(db, [a], "Mine")
    _notify(db, [b], "Not mine")
    _token, secret = accounts.create_token(db, a)
    auth = {"Authorization": f"Bearer {secret}"}

    listed = client.get("/api/v1/notifications", headers=auth).json()
    assert listed["unread"] == 1
    [mine] = listed["notifications"]
    assert mine["subject"] == "Mine"
    assert mine["read"] is None

    answer = client.post(f"/api/v1/notifications/{mine['id']}/read", headers=auth)
    assert answer.status_code == 200
    assert answer.json()["read"] is not None
    assert client.get("/api/v1/notifications", headers=auth).json()["unread"] == 0

    theirs = notifications.inbox(db, b).notifications[0].id
    assert client.post(f"/api/v1/notifications/{theirs}/read", headers=auth).status_code == 404
    assert notifications.inbox(db, b).unread == 1
    assert client.get("/api/v1/notifications").status_code == 401


def test_admins_manage_their_organizations_webhooks_over_json(
    db: Database, people: tuple[User, User, User]
) -> None:
    admin = _user(db, "admin@cert.test", "National CERT", UserRole.ADMIN)
    analyst = people[0]
    settings = Settings(database_url=db.url, secret_key=SECRET)
    with TestClient(create_app(settings, db)) as client:
        admin_auth = {"Authorization": f"Bearer {accounts.create_token(db, admin)[1]}"}
        analyst_auth = {"Authorization": f"Bearer {accounts.create_token(db, analyst)[1]}"}
        body = {"url": "https://cert.test/hook"}
        assert client.post("/api/v1/webhooks", json=body, headers=analyst_auth).status_code == 403
        for url in ("ftp://cert.test/hook", "https://[::1/hook"):  # the second was a 500
            bad = client.post("/api/v1/webhooks", json={"url": url}, headers=admin_auth)
            assert bad.status_code == 400
            assert bad.json()["description"] == f"url: {url!r} is not an http or https address"

        added = client.post("/api/v1/webhooks", json=body, headers=admin_auth)
        assert added.status_code == 201, added.text
        hook_id = added.json()["webhook"]["id"]
        key = webhooks.signing_key(SECRET, hook_id).hex()
        assert added.json()["signing_key"] == key

        listed = client.get("/api/v1/webhooks", headers=admin_auth).json()["webhooks"]
        assert [w["url"] for w in listed] == ["https://cert.test/hook"]
        assert client.delete(f"/api/v1/webhooks/{hook_id}", headers=admin_auth).status_code == 204
        listed = client.get("/api/v1/webhooks", headers=admin_auth).json()["webhooks"]
        assert listed[0]["revoked"] is not None

    without_secret = Settings(database_url=db.url)
    with TestClient(create_app(without_secret, db)) as client:
        refused = client.post("/api/v1/webhooks", json=body, headers=admin_auth)
        assert refused.status_code == 400
        assert "TRUSTBUBBLE_SECRET_KEY" in refused.json()["description"]


def test_the_operator_adds_lists_and_revokes_webhooks_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTBUBBLE_DATABASE_URL", f"sqlite:///{tmp_path / 'node.sqlite3'}")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output + result.stderr
        return result

    run("db", "upgrade")
    run("org", "add", "CERT FR", "--kind", "cert", "--country", "FR")
    refused = run("webhook", "add", "https://cert.test/hook", "--org", "CERT FR", code=1)
    assert "TRUSTBUBBLE_SECRET_KEY" in refused.stderr

    monkeypatch.setenv("TRUSTBUBBLE_SECRET_KEY", SECRET)
    added = orjson.loads(
        run("webhook", "add", "https://cert.test/hook", "--org", "CERT FR", "--json").stdout
    )
    assert added["signing_key"] == webhooks.signing_key(SECRET, added["id"]).hex()
    listed = orjson.loads(run("webhook", "list", "--json").stdout)["webhooks"]
    assert [(w["org"], w["url"], w["revoked"]) for w in listed] == [
        ("CERT FR", "https://cert.test/hook", None)
    ]
    run("webhook", "revoke", added["id"])
    listed = orjson.loads(run("webhook", "list", "--org", "CERT FR", "--json").stdout)["webhooks"]
    assert listed[0]["revoked"] is not None
    run("webhook", "revoke", "no-such-id", code=1)


class BrokenCourier:
    """A courier with a bug: every send raises something unexpected."""

    def send(self, delivery: Delivery) -> None:
        raise RuntimeError("a bug in the sender")


def test_an_unexpected_error_counts_as_an_attempt_so_nothing_is_retried_for_ever(
    db: Database, people: tuple[User, User, User]
) -> None:
    a, _b, _c = people
    _notify(db, [a])
    now = datetime(2030, 1, 1, tzinfo=UTC)
    for minutes in (0, 1, 2, 3):
        delivery.send_due(db, BrokenCourier(), FAST, now=now + timedelta(minutes=minutes))
    [mail] = _all(db)
    assert (mail.state, mail.attempts) == (DeliveryState.FAILED, 3)
    assert mail.last_error == "a bug in the sender"
