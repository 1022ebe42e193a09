"""Pure time maths of the daily schedule, with fixed "now" values across both DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.commands import CommandError, parse_command
from bot.schedule import (
    DailyTime,
    ScheduleError,
    last_post_time,
    next_post_time,
    parse_time,
    parse_zone,
    post_time_on,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def daily(hh: int, mm: int, zone: ZoneInfo) -> DailyTime:
    return DailyTime(at=time(hh, mm), zone=zone)


@pytest.mark.parametrize(
    ("zone", "before_change", "after_change"),
    [
        # Spring forward: Berlin 2026-03-29, New York 2026-03-08; fall back: 10-25 and 11-01.
        (BERLIN, date(2026, 3, 28), date(2026, 3, 29)),
        (BERLIN, date(2026, 10, 24), date(2026, 10, 25)),
        (NEW_YORK, date(2026, 3, 7), date(2026, 3, 8)),
        (NEW_YORK, date(2026, 10, 31), date(2026, 11, 1)),
    ],
)
def test_nine_oclock_stays_nine_oclock_across_dst(
    zone: ZoneInfo, before_change: date, after_change: date
) -> None:
    nine = daily(9, 0, zone)
    for day in (before_change, after_change):
        due = post_time_on(day, nine)
        local = due.astimezone(zone)
        assert (local.date(), local.hour, local.minute) == (day, 9, 0)
    first = post_time_on(before_change, nine)
    assert next_post_time(nine, after=first) == post_time_on(after_change, nine)


def test_nonexistent_time_posts_at_the_first_minute_after_the_gap() -> None:
    due = post_time_on(date(2026, 3, 29), daily(2, 30, BERLIN))
    assert due == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert due.astimezone(BERLIN).strftime("%H:%M") == "03:00"


def test_repeated_time_posts_once_at_its_first_occurrence() -> None:
    half_past_two = daily(2, 30, BERLIN)
    due = post_time_on(date(2026, 10, 25), half_past_two)
    assert due == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not 02:30 CET
    following = next_post_time(half_past_two, after=due)
    assert following.astimezone(BERLIN).date() == date(2026, 10, 26)


def test_next_and_last_post_time() -> None:
    nine = daily(9, 0, NEW_YORK)
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # 08:00 in New York
    assert next_post_time(nine, after=now) == datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    day, due = last_post_time(nine, at_or_before=now)
    assert (day, due) == (date(2026, 5, 31), datetime(2026, 5, 31, 13, 0, tzinfo=UTC))
    exactly = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    assert last_post_time(nine, at_or_before=exactly) == (date(2026, 6, 1), exactly)


def test_successive_post_times_follow_the_same_rules() -> None:
    half_past_two = daily(2, 30, BERLIN)
    moment = datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)
    fires = []
    for _ in range(3):
        moment = next_post_time(half_past_two, after=moment)
        fires.append(moment.astimezone(BERLIN).strftime("%m-%d %H:%M %Z"))
    # One post on the fall-back day, where a plain cron rule fires twice.
    assert fires == ["10-25 02:30 CEST", "10-26 02:30 CET", "10-27 02:30 CET"]
    fire = next_post_time(half_past_two, after=datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN))
    assert fire.astimezone(BERLIN).strftime("%m-%d %H:%M") == "03-29 03:00"


@pytest.mark.parametrize("text", ["25:99", "24:00", "9", "09:60", "nine", "", "09:00:00", "٠٩:٠٠"])
def test_bad_times_name_the_right_form(text: str) -> None:
    with pytest.raises(ScheduleError, match="HH:MM"):
        parse_time(text)


def test_zones_any_case_and_unknown() -> None:
    assert parse_zone("europe/berlin").key == "Europe/Berlin"
    assert parse_zone("UTC").key == "UTC"
    for bad in ("Mars/Olympus", "../../etc/passwd", "Europe/", "x" * 300):
        with pytest.raises(ScheduleError, match="IANA time zone"):
            parse_zone(bad)


def test_schedule_command_forms() -> None:
    command = parse_command("schedule 7:05 America/New_York")
    assert command == parse_command("SCHEDULE 07:05 america/new_york")
    with pytest.raises(CommandError, match="schedule HH:MM"):
        parse_command("schedule 09:00 Mars/Olympus")
    with pytest.raises(CommandError, match="too many arguments"):
        parse_command("schedule 09:00 UTC extra")
