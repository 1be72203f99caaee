from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocketkube.api.validation.cron import parse_schedule
from pocketkube.controllers.cronjob.schedule import most_recent, next_time, prev_time, zone


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("spec,after,expected", [
    ("*/5 * * * *", "2024-01-01T00:00:00", "2024-01-01T00:05:00"),
    ("*/5 * * * *", "2024-01-01T00:03:59", "2024-01-01T00:05:00"),
    ("0 * * * *", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
    ("30 2 * * *", "2024-01-01T03:00:00", "2024-01-02T02:30:00"),
    ("@yearly", "2024-03-01T00:00:00", "2025-01-01T00:00:00"),
    ("0 0 29 2 *", "2024-03-01T00:00:00", "2028-02-29T00:00:00"),
    ("0 9 * * mon", "2024-01-01T09:00:00", "2024-01-08T09:00:00"),  # 2024-01-01 is a Monday
    ("0 0 1 * 0", "2024-01-01T00:00:00", "2024-01-07T00:00:00"),  # day-of-month OR day-of-week
    ("0 0 31 * *", "2024-01-31T00:00:00", "2024-03-31T00:00:00"),
    ("@every 90s", "2024-01-01T00:00:00", "2024-01-01T00:01:30"),
])
def test_next_time(spec: str, after: str, expected: str) -> None:
    assert next_time(parse_schedule(spec), at(after)) == at(expected)


def test_next_time_in_a_time_zone() -> None:
    # 09:00 in New York in January is 14:00 UTC
    got = next_time(parse_schedule("0 9 * * *"), at("2024-01-01T00:00:00"), zone("America/New_York"))
    assert got == at("2024-01-01T14:00:00")


@pytest.mark.parametrize("spec,when,expected", [
    ("*/5 * * * *", "2024-01-01T00:07:30", "2024-01-01T00:05:00"),
    ("*/5 * * * *", "2024-01-01T00:05:00", "2024-01-01T00:05:00"),
    ("@yearly", "2024-03-01T00:00:00", "2024-01-01T00:00:00"),
    ("30 2 * * *", "2024-01-01T02:29:00", "2023-12-31T02:30:00"),
])
def test_prev_time(spec: str, when: str, expected: str) -> None:
    assert prev_time(parse_schedule(spec), at(when)) == at(expected)


@pytest.mark.parametrize("earliest,now,expected,count", [
    ("2024-01-01T00:00:00", "2024-01-01T00:00:30", None, 0),
    ("2024-01-01T00:00:00", "2024-01-01T00:01:00", "2024-01-01T00:01:00", 1),
    ("2024-01-01T00:00:00", "2024-01-01T00:03:10", "2024-01-01T00:03:00", 3),
    ("2024-01-01T00:00:00", "2024-01-02T00:00:00", "2024-01-02T00:00:00", 101),
])
def test_most_recent(earliest: str, now: str, expected: str | None, count: int) -> None:
    got, missed = most_recent(parse_schedule("* * * * *"), at(earliest), at(now))
    assert got == (at(expected) if expected else None) and missed == count
