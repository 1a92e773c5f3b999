"""Sizes and dates as the user reads them: "1,2 Go" and "1er janvier 2024" in French."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from hdh_wizard.i18n.catalogue import Lang
from hdh_wizard.i18n.formatting import (
    format_date,
    format_datetime,
    format_duration,
    format_size,
)

# --- sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num_bytes", "french"),
    [
        (999, "999 octets"),
        (1_000, "1 ko"),
        (1_500, "1,5 ko"),
        (12_345_678, "12,3 Mo"),
        (123_456_789, "123 Mo"),
        (10**9, "1 Go"),
        (1_200_000_000, "1,2 Go"),
        (2_700_000_000, "2,7 Go"),
        (2**30, "1,1 Go"),  # decimal units, as the guide's 1 Go threshold
        (10**12, "1 To"),
        (5 * 10**15, "5000 To"),  # no unit past the terabyte
    ],
)
def test_french_sizes(num_bytes: int, french: str) -> None:
    assert format_size(num_bytes, Lang.FR) == french
    assert format_size(num_bytes) == french  # French by default


@pytest.mark.parametrize(
    ("num_bytes", "english"),
    [
        (999, "999 bytes"),
        (1_500, "1.5 kB"),
        (10**9, "1 GB"),
        (1_200_000_000, "1.2 GB"),
        (2_700_000_000, "2.7 GB"),
    ],
)
def test_english_sizes(num_bytes: int, english: str) -> None:
    assert format_size(num_bytes, Lang.EN) == english


@pytest.mark.parametrize(
    ("num_bytes", "french", "english"),
    [
        (999_999, "1 Mo", "1 MB"),
        (999_950_000, "1 Go", "1 GB"),
    ],
)
def test_rounding_up_to_a_thousand_moves_to_the_next_unit(
    num_bytes: int, french: str, english: str
) -> None:
    assert format_size(num_bytes, Lang.FR) == french
    assert format_size(num_bytes, Lang.EN) == english


def test_one_byte_is_singular() -> None:
    assert format_size(1, Lang.FR) == "1 octet"
    assert format_size(1, Lang.EN) == "1 byte"


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "french", "english"),
    [
        (date(2024, 1, 1), "1er janvier 2024", "1 January 2024"),
        (date(2026, 11, 28), "28 novembre 2026", "28 November 2026"),
        (date(2026, 2, 2), "2 février 2026", "2 February 2026"),
        (date(2026, 8, 15), "15 août 2026", "15 August 2026"),
        (date(2026, 12, 31), "31 décembre 2026", "31 December 2026"),
        (date(2026, 3, 1), "1er mars 2026", "1 March 2026"),
    ],
)
def test_dates(day: date, french: str, english: str) -> None:
    assert format_date(day, Lang.FR) == french
    assert format_date(day) == french
    assert format_date(day, Lang.EN) == english


def test_a_datetime_is_formatted_as_its_date() -> None:
    moment = datetime(2026, 11, 28, 14, 5, tzinfo=UTC)
    assert format_date(moment, Lang.FR) == "28 novembre 2026"


@pytest.fixture
def local_zone() -> Iterator[None]:
    """Lets a test set the machine's time zone (TZ), restored afterwards."""
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def _set_zone(name: str) -> None:
    os.environ["TZ"] = name
    time.tzset()


def test_a_moment_is_shown_in_the_local_time_of_the_machine(local_zone: None) -> None:
    _set_zone("UTC")
    moment = datetime(2026, 11, 28, 14, 5, tzinfo=UTC)
    assert format_datetime(moment, Lang.FR) == "28 novembre 2026 à 14:05"
    assert format_datetime(moment, Lang.EN) == "28 November 2026 at 14:05"


def test_a_utc_moment_is_converted_to_the_local_day_and_hour(local_zone: None) -> None:
    _set_zone("Europe/Paris")
    new_year_in_paris = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert format_datetime(new_year_in_paris, Lang.FR) == "1er janvier 2027 à 00:30"
    summer = datetime(2026, 7, 14, 8, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert format_datetime(summer, Lang.EN) == "14 July 2026 at 14:00"


def test_a_naive_moment_is_shown_as_it_is(local_zone: None) -> None:
    _set_zone("Europe/Paris")
    assert format_datetime(datetime(2024, 1, 1, 9, 7)) == "1er janvier 2024 à 09:07"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (44.6, "45 s"), (200, "3 min 20 s"), (7500, "2 h 05 min"), (-3, "0 s")],
)
def test_time_left_is_written_as_people_say_it(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
