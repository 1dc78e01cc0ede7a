"""STIX 2.1 timestamps: RFC 3339 text in UTC ("Z", any number of fraction digits) <-> microseconds.

Object versions are stored and compared as microseconds since the Unix epoch, so both directions
work on a plain int instead of going through aware datetimes.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from trustbubble.domain.stix_properties import show

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z", re.ASCII)
_from_iso = datetime.fromisoformat
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US_PER_DAY = 86_400_000_000
_MIN_US = (1 - _EPOCH_ORDINAL) * _US_PER_DAY
_MAX_US = (date.max.toordinal() + 1 - _EPOCH_ORDINAL) * _US_PER_DAY - 1


def parse_timestamp(value: str) -> int:
    """RFC 3339 STIX timestamp -> microseconds since the Unix epoch.

    Digits past the microsecond are dropped. A leap second (:60) reads as the first second of the
    next minute, so it sorts correctly without a calendar of leap seconds.
    """
    # The pattern admits only the RFC 3339 form; fromisoformat (C, and lenient about forms) then
    # checks the calendar and truncates the fraction, several times faster than int() per field.
    if _TIMESTAMP.fullmatch(value) is None:
        raise ValueError(f"{show(value)} is not a STIX timestamp like 2016-04-06T20:03:48.000Z")
    leap = value[17:19] == "60"
    try:
        moment = _from_iso(value[:17] + "59" + value[19:] if leap else value)
    except ValueError:
        raise ValueError(f"{show(value)} is not a real date and time") from None
    days = moment.toordinal() - _EPOCH_ORDINAL
    seconds = (
        ((days * 24 + moment.hour) * 60 + moment.minute) * 60 + moment.second + (1 if leap else 0)
    )
    us = seconds * 1_000_000 + moment.microsecond
    if us > _MAX_US:  # 9999-12-31T23:59:60Z: a leap second past the last second there is
        raise ValueError(f"{show(value)} is after the year 9999")
    return us


def format_timestamp(us: int) -> str:
    """Microseconds since the Unix epoch -> 'YYYY-MM-DDTHH:MM:SS.ffffffZ'."""
    if not _MIN_US <= us <= _MAX_US:
        raise ValueError(f"{us} microseconds is outside the years 1 to 9999")
    days, rest = divmod(us, _US_PER_DAY)
    day = date.fromordinal(days + _EPOCH_ORDINAL)
    seconds, micros = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return (
        f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
        f"T{hour:02d}:{minute:02d}:{second:02d}.{micros:06d}Z"
    )


def stamp(moment: datetime) -> str:
    """A UTC datetime as a STIX timestamp to the millisecond: 'YYYY-MM-DDTHH:MM:SS.fffZ'."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
