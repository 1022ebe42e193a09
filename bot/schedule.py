"""Pure time maths of the daily schedule: parsing, zones, and when the next question is due.

Rules, documented in docs/round.md (the daily schedule):
- A schedule is a local wall-clock time in an IANA zone; each local day gets one question.
- A time that does not exist on a spring-forward day (02:30 in Europe/Berlin on the last Sunday of
  March) is posted at the first valid minute after the gap (03:00) that day.
- A time that happens twice on a fall-back day is posted at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

TIME_PATTERN = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
TIME_FORM = "HH:MM in 24-hour time, such as 09:00 or 18:30"
ZONE_FORM = "an IANA time zone such as Europe/Berlin, America/New_York or UTC"


class ScheduleError(ValueError):
    """A time or zone the schedule cannot use; the message names the right form."""


@dataclass(frozen=True, slots=True)
class DailyTime:
    at: time
    zone: ZoneInfo

    @property
    def text(self) -> str:
        return f"{self.at:%H:%M} {self.zone.key}"


def parse_time(text: str) -> time:
    match = TIME_PATTERN.match(text.strip())
    if not match:
        raise ScheduleError(f"'{_clip(text)}' is not a time: use {TIME_FORM}")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ScheduleError(f"'{_clip(text)}' is not a valid time: use {TIME_FORM}")
    return time(hour, minute)


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def zone_names() -> list[str]:
    return sorted(_zone_names().values())


def parse_zone(text: str) -> ZoneInfo:
    """The IANA zone named by `text`, in any case (`europe/berlin` is Europe/Berlin)."""
    name = _zone_names().get(text.strip().lower())
    if name is None:
        raise ScheduleError(f"unknown time zone '{_clip(text)}': use {ZONE_FORM}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - tz database broken
        raise ScheduleError(f"time zone '{name}' cannot be loaded: {exc}") from exc


def _clip(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


# A day's due time depends on nothing else, and channels share schedules (the same hour in the
# same zone), so a fan-out of thousands works each one out once instead of eight times a post.
@lru_cache(maxsize=4096)
def post_time_on(day: date, daily: DailyTime) -> datetime:
    """When the question for local `day` is due, as an aware UTC datetime."""
    naive = datetime.combine(day, daily.at)
    step = 0
    # Gaps are at most a few hours; walk to the first minute that exists.
    while not _exists(naive + timedelta(minutes=step), daily.zone) and step < 24 * 60:
        step += 1
    local = (naive + timedelta(minutes=step)).replace(tzinfo=daily.zone, fold=0)
    return local.astimezone(UTC)


def next_post_time(daily: DailyTime, *, after: datetime) -> datetime:
    """The first due time strictly after `after`."""
    day = after.astimezone(daily.zone).date() - timedelta(days=1)
    while True:
        due = post_time_on(day, daily)
        if due > after:
            return due
        day += timedelta(days=1)


def last_post_time(daily: DailyTime, *, at_or_before: datetime) -> tuple[date, datetime]:
    """The latest due time not after `at_or_before`, with the local day it belongs to."""
    day = at_or_before.astimezone(daily.zone).date() + timedelta(days=1)
    while True:
        due = post_time_on(day, daily)
        if due <= at_or_before:
            return day, due
        day -= timedelta(days=1)
