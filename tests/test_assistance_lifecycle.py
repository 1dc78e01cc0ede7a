"""The lifecycle of a request for assistance, and its timings against a charter's targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trustbubble.domain.assistance import (
    Action,
    Answer,
    Recipient,
    RequestState,
    RequestStatus,
    Targets,
    apply,
    timing,
)
from trustbubble.domain.errors import Conflict, DomainError, Forbidden, Invalid

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ASKER, PARTNER, OTHER = "org-asker", "org-partner", "org-other"


def fresh() -> RequestStatus:
    return RequestStatus(RequestState.OPEN, ASKER, (Recipient(PARTNER), Recipient(OTHER)), T0)


def run(*steps: tuple[Action, str]) -> RequestStatus:
    status = fresh()
    for hours, (action, org) in enumerate(steps, 1):
        status = apply(status, action, org, T0 + timedelta(hours=hours), reason="busy")
    return status


def test_acknowledge_start_resolve() -> None:
    status = run((Action.ACKNOWLEDGE, PARTNER), (Action.START, PARTNER), (Action.RESOLVE, PARTNER))
    assert status.state is RequestState.RESOLVED
    assert status.resolved == T0 + timedelta(hours=3)
    assert [r.answer for r in status.recipients] == [Answer.ACKNOWLEDGED, Answer.PENDING]


def test_declined_only_when_every_recipient_declines() -> None:
    assert run((Action.DECLINE, PARTNER)).state is RequestState.OPEN
    assert run((Action.DECLINE, PARTNER), (Action.DECLINE, OTHER)).state is RequestState.DECLINED


@pytest.mark.parametrize(
    ("steps", "error", "words"),
    [
        ([(Action.WITHDRAW, ASKER), (Action.RESOLVE, ASKER)], Conflict, "withdrawn"),
        ([(Action.RESOLVE, PARTNER)], Forbidden, "after acknowledging"),
        ([(Action.RESOLVE, ASKER)], Conflict, "is open"),
        ([(Action.WITHDRAW, PARTNER)], Forbidden, "requesting organization"),
        ([(Action.ACKNOWLEDGE, ASKER)], Forbidden, "only a recipient"),
        ([(Action.ACKNOWLEDGE, PARTNER), (Action.ACKNOWLEDGE, PARTNER)], Conflict, "already"),
        ([(Action.START, PARTNER)], Conflict, "acknowledge the request before"),
        (
            [(Action.ACKNOWLEDGE, PARTNER), (Action.RESOLVE, PARTNER), (Action.START, OTHER)],
            Conflict,
            "resolved",
        ),
    ],
)
def test_forbidden_transitions_are_named(
    steps: list[tuple[Action, str]], error: type[DomainError], words: str
) -> None:
    with pytest.raises(error) as caught:
        run(*steps)
    assert words in caught.value.message


def test_a_decline_says_why() -> None:
    with pytest.raises(Invalid):
        apply(fresh(), Action.DECLINE, PARTNER, T0, reason="  ")


def test_timings_and_who_is_late() -> None:
    status = run((Action.ACKNOWLEDGE, PARTNER))
    now = T0 + timedelta(hours=30)
    found = timing(status, Targets(), now)
    assert found.first_acknowledgement == 3600
    assert found.acknowledgements == {PARTNER: 3600}
    assert found.late_recipients == [OTHER]  # 30 hours without an answer, target 24
    assert found.resolution is None
    assert not found.resolution_late
    done = apply(status, Action.RESOLVE, ASKER, T0 + timedelta(days=15))
    final = timing(done, Targets(), T0 + timedelta(days=20))
    assert final.late_recipients == []  # a closed request waits for nobody
    assert final.resolution == 15 * 86400
    assert final.resolution_late
