"""Tests of STIX 2.1 timestamps: the RFC 3339 form, the calendar, the round trip to microseconds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from trustbubble.domain import stix
from trustbubble.domain.timestamps import format_timestamp, parse_timestamp


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000001Z", 1),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("2016-04-06T20:03:48.000Z", 1_459_973_028_000_000),
        ("2016-04-06T20:03:48.1234567891Z", 1_459_973_028_123_456),
        ("2016-04-06T20:03:48.5Z", 1_459_973_028_500_000),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000_000),  # a leap second
    ],
)
def test_parse_timestamp(text: str, micros: int) -> None:
    assert parse_timestamp(text) == micros


@pytest.mark.parametrize(
    "text",
    [
        "2016-04-06T20:03:48.000",
        "2016-04-06T20:03:48+00:00",
        "2016-04-06 20:03:48Z",
        "2016-04-06T20:03Z",
        "2016-04-06T20:03:48.Z",
        "2016-04-06t20:03:48z",
        "16-04-06T20:03:48Z",
        "\uff12\uff10\uff11\uff16-04-06T20:03:48Z",  # full-width digits
        "2016-13-06T20:03:48Z",
        "2016-04-31T20:03:48Z",
        "2016-04-06T24:00:00Z",
        "2016-04-06T20:60:00Z",
        "2016-04-06T20:03:61Z",
        "0000-01-01T00:00:00Z",
    ],
)
def test_parse_timestamp_rejects(text: str) -> None:
    with pytest.raises(
        ValueError, match=r"is not (a STIX timestamp|a real date and time)"
    ) as raised:
        parse_timestamp(text)
    assert json.dumps(text, ensure_ascii=False) in str(raised.value)


def test_format_timestamp() -> None:
    assert format_timestamp(0) == "1970-01-01T00:00:00.000000Z"
    assert format_timestamp(1_459_973_028_000_000) == "2016-04-06T20:03:48.000000Z"
    assert format_timestamp(-1) == "1969-12-31T23:59:59.999999Z"
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        format_timestamp(10**18)


MIN_US = parse_timestamp("0001-01-01T00:00:00Z")
MAX_US = parse_timestamp("9999-12-31T23:59:59.999999Z")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(st.integers(min_value=MIN_US, max_value=MAX_US))
def test_format_then_parse_gives_back_the_same_instant(micros: int) -> None:
    text = format_timestamp(micros)
    assert len(text) == 27
    assert parse_timestamp(text) == micros


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.integers(min_value=0, max_value=6),
    st.text(alphabet="0123456789", max_size=3),
)
def test_parse_agrees_with_datetime(moment: datetime, digits: int, beyond: str) -> None:
    fraction = f"{moment.microsecond:06d}"[:digits] + (beyond if digits == 6 else "")
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
        + (f".{fraction}Z" if fraction else "Z")
    )
    kept = int(fraction[:6].ljust(6, "0")) if fraction else 0
    expected = moment.replace(microsecond=kept, tzinfo=UTC) - EPOCH
    assert parse_timestamp(text) == expected // timedelta(microseconds=1)


def _parsed(text: str) -> int | str:
    """The instant, or the message of the ValueError."""
    try:
        return parse_timestamp(text)
    except ValueError as error:
        return str(error)


@example(moment=datetime(9999, 12, 31, 23, 59, 59), leap=True, fraction="")
@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.booleans(),
    st.text(alphabet="0123456789", max_size=9),
)
def test_what_parses_can_be_written_back(moment: datetime, leap: bool, fraction: str) -> None:
    second = 60 if leap else moment.second
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{second:02d}"
        + (f".{fraction}Z" if fraction else "Z")
    )
    micros = _parsed(text)
    if isinstance(micros, str):
        # Only the leap second after the last second of 9999 has no instant to stand for.
        assert text.startswith("9999-12-31T23:59:60"), micros
        assert micros.endswith("is after the year 9999")
    else:
        assert MIN_US <= micros <= MAX_US
        assert parse_timestamp(format_timestamp(micros)) == micros


@given(st.text(max_size=40) | st.text(alphabet="0123456789-:.TZ", max_size=30))
def test_any_text_is_an_instant_or_a_value_error(text: str) -> None:
    micros = _parsed(text)
    if isinstance(micros, str):
        assert " is not " in micros or micros.endswith("is after the year 9999")
    else:
        assert format_timestamp(micros)


def test_stix_module_still_offers_the_timestamp_functions() -> None:
    assert stix.parse_timestamp is parse_timestamp
    assert stix.format_timestamp is format_timestamp
