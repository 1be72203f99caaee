"""Cron arithmetic: the next run after a time and the latest run at or before one, in a time zone.

Works on the parsed field sets of `pocketkube.api.validation.cron.Schedule`, stepping field by field
(month, day, hour, minute) as robfig/cron's `Next` does, so sparse schedules (`@yearly`) cost a few
steps, not a minute-by-minute scan. Times are walked as wall-clock times in the CronJob's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from pocketkube.api.validation.cron import Schedule

_LIMIT_YEARS = 5


def zone(name: str | None) -> tzinfo:
    return ZoneInfo(name) if name else UTC


def _day_matches(s: Schedule, t: datetime) -> bool:
    dom = t.day in s.days_of_month
    dow = (t.isoweekday() % 7) in s.days_of_week
    if s.dom_star or s.dow_star:
        return dom and dow
    return dom or dow


def next_time(s: Schedule, after: datetime, tz: tzinfo = UTC) -> datetime | None:
    """The first scheduled time strictly after `after` (None if there is none within 5 years)."""
    if s.every_seconds is not None:
        step = max(1.0, s.every_seconds)
        return (after + timedelta(seconds=step)).replace(microsecond=0)
    t = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
    end = t.year + _LIMIT_YEARS
    while t.year <= end:
        if t.month not in s.months:
            t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            continue
        if not _day_matches(s, t):
            t = t.replace(hour=0, minute=0) + timedelta(days=1)
            continue
        if t.hour not in s.hours:
            t = t.replace(minute=0) + timedelta(hours=1)
            continue
        if t.minute not in s.minutes:
            t += timedelta(minutes=1)
            continue
        return t.replace(tzinfo=tz).astimezone(UTC)
    return None


def prev_time(s: Schedule, at: datetime, tz: tzinfo = UTC) -> datetime | None:
    """The latest scheduled time at or before `at` (None if none within 5 years; not for @every)."""
    t = at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    start = t.year - _LIMIT_YEARS
    while t.year >= start:
        if t.month not in s.months:
            t = t.replace(day=1, hour=23, minute=59) - timedelta(days=1)
            continue
        if not _day_matches(s, t):
            t = t.replace(hour=23, minute=59) - timedelta(days=1)
            continue
        if t.hour not in s.hours:
            t = t.replace(minute=59) - timedelta(hours=1)
            continue
        if t.minute not in s.minutes:
            t -= timedelta(minutes=1)
            continue
        return t.replace(tzinfo=tz).astimezone(UTC)
    return None


def most_recent(s: Schedule, earliest: datetime, now: datetime, tz: tzinfo = UTC) -> tuple[datetime | None, int]:
    """(latest scheduled time in (earliest, now], how many were missed there, capped at 101).

    kube's getMostRecentScheduleTime: the caller starts the Job for the latest one only.
    """
    first = next_time(s, earliest, tz)
    if first is None or first > now:
        return None, 0
    if s.every_seconds is not None:
        step = max(1.0, s.every_seconds)
        n = int((now - first).total_seconds() // step)
        return first + timedelta(seconds=n * step), min(n + 1, 101)
    latest = prev_time(s, now, tz)
    count = 0
    t: datetime | None = first
    while t is not None and t <= now and count <= 100:
        count += 1
        t = next_time(s, t, tz)
    return latest, count
