"""When the schedule says the next daily question comes: one question per local day, so a
day that already had its question is skipped whatever the time was moved to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.memory import ManualClock, MemoryPlatform
from bot import commands as cmd
from bot.engine import QuizEngine
from bot.models import ChannelRef, Notice, ScheduleCard
from bot.render import schedule_text
from bot.scheduler import DailyScheduler
from tests.conftest import invocation

CHANNEL = ChannelRef("test:s1", "c1")
ADMIN = invocation("admin", admin=True)
DUE = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


async def run(engine: QuizEngine, text: str) -> ScheduleCard | Notice:
    reply = await engine.handle(cmd.parse_command(text), invocation=ADMIN)
    assert isinstance(reply, ScheduleCard | Notice)
    return reply


async def post_todays_question(engine: QuizEngine, clock: ManualClock) -> None:
    await run(engine, "schedule 03:00")
    clock.set(DUE + timedelta(seconds=5))
    outcome = await DailyScheduler(engine, grace=timedelta(hours=2)).post_due(channel=CHANNEL)
    assert outcome is not None
    assert outcome.round_id is not None


async def test_moving_the_time_later_today_names_tomorrow(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock
) -> None:
    await post_todays_question(engine, clock)
    card = await run(engine, "schedule 03:13")
    assert isinstance(card, ScheduleCard)
    assert card.next_post_at == datetime(2026, 3, 3, 3, 13, tzinfo=UTC)
    assert "Next one: 2026-03-03 03:13 UTC." in schedule_text(card)
    # and the schedule shown later says the same
    shown = await run(engine, "schedule")
    assert isinstance(shown, ScheduleCard)
    assert shown.next_post_at == datetime(2026, 3, 3, 3, 13, tzinfo=UTC)


async def test_a_day_in_another_zone_counts_by_its_own_date(
    engine: QuizEngine, clock: ManualClock
) -> None:
    await post_todays_question(engine, clock)
    # 03:00 UTC on 2 March is 22:00 on 1 March in New York: that local day has no question yet.
    card = await run(engine, "schedule 23:30 America/New_York")
    assert isinstance(card, ScheduleCard)
    assert card.next_post_at == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


async def test_no_question_today_yet_keeps_today(engine: QuizEngine, clock: ManualClock) -> None:
    clock.set(DUE)
    card = await run(engine, "schedule 03:13")
    assert isinstance(card, ScheduleCard)
    assert card.next_post_at == datetime(2026, 3, 2, 3, 13, tzinfo=UTC)


async def test_the_open_question_says_when_the_next_comes(
    engine: QuizEngine, clock: ManualClock
) -> None:
    await post_todays_question(engine, clock)
    await run(engine, "reveal")
    await run(engine, "schedule 03:13")
    reply = await engine.handle(cmd.ShowQuestion(), invocation=ADMIN)
    assert isinstance(reply, Notice)
    assert "at 2026-03-03 03:13 UTC" in reply.text
