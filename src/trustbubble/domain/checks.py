"""Communication checks: a check of a bubble's points of contact, its pings, and its schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

LONGEST_INTERVAL_DAYS = 3650


@dataclass(frozen=True, slots=True)
class CommCheck:
    id: str
    bubble_id: str
    started: datetime
    started_by: str


@dataclass(frozen=True, slots=True)
class Ping:
    """One point of contact asked to confirm; name and address as they were when it started."""

    id: str
    check_id: str
    org_id: str
    poc_name: str
    poc_email: str
    answered: datetime | None


@dataclass(frozen=True, slots=True)
class CheckSchedule:
    bubble_id: str
    every_days: int
    next_due: datetime
    set_by: str


def next_due_after(due: datetime, every_days: int, now: datetime) -> datetime:
    """The first due time after `now` on the schedule's grid (a node that was down skips ahead)."""
    step = timedelta(days=every_days)
    if due > now:
        return due
    missed = (now - due) // step + 1
    return due + step * missed
