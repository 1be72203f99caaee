"""duration.HumanDuration boundaries and timestamp ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pocketkube.api.tables.format import human_duration, since

S, M, H, D = 1, 60, 3600, 86400


@pytest.mark.parametrize("seconds, text", [
    (-3, "<invalid>"),
    (-2, "<invalid>"),
    (-1.5, "0s"),  # truncation toward zero: up to 2s of clock skew reads as now
    (-1, "0s"),
    (0, "0s"),
    (0.9, "0s"),
    (5, "5s"),
    (119, "119s"),
    (120, "2m"),
    (182, "3m2s"),
    (599, "9m59s"),
    (600, "10m"),
    (601, "10m"),
    (3 * H - 1, "179m"),
    (3 * H, "3h"),
    (3 * H + 5 * M, "3h5m"),
    (8 * H - 1, "7h59m"),
    (8 * H, "8h"),
    (47 * H + 59 * M, "47h"),
    (48 * H, "2d"),
    (2 * D + 3 * H, "2d3h"),
    (8 * D - 1, "7d23h"),
    (8 * D, "8d"),
    (365 * 2 * D - 1, "729d"),
    (365 * 2 * D, "2y"),
    (365 * 2 * D + 30 * D, "2y30d"),
    (365 * 8 * D - D, "7y364d"),
    (365 * 8 * D, "8y"),
    (365 * 20 * D + 100 * D, "20y"),
])
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == text


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("stamp, text", [
    (None, "<unknown>"),
    ("", "<unknown>"),
    ("garbage", "<unknown>"),
    ("2024-05-01T11:59:55Z", "5s"),
    ("2024-05-01T11:59:55.500000Z", "4s"),  # MicroTime
    ("2024-04-29T09:00:00Z", "2d3h"),
    ("2024-05-01T12:00:10Z", "<invalid>"),
])
def test_since(stamp: str | None, text: str) -> None:
    assert since(stamp, NOW) == text


def test_since_accepts_naive_now_as_utc() -> None:
    assert since("2024-05-01T11:59:00Z", NOW.replace(tzinfo=None)) == "60s"
