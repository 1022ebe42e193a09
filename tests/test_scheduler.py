"""The daily schedule claimed from the database: wiring, restarts, the grace period, fan-out."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.console import ConsolePlatform, ConsoleSession
from adapters.memory import ManualClock, MemoryPlatform
from bot import commands as cmd
from bot.config import Settings
from bot.content import Bank
from bot.engine import PostOutcome, QuizEngine
from bot.models import ChannelRef, Notice, QuestionPost, Tone
from bot.runtime import running
from bot.scheduler import CLAIM_BATCH, DailyScheduler
from bot.store import ScheduleRow, Store
from tests.conftest import invocation

CHANNEL = ChannelRef("test:s1", "c1")
GRACE = timedelta(minutes=120)
DUE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 09:00 UTC on a Monday


async def set_schedule(
    engine: QuizEngine, channel: ChannelRef, text: str = "schedule 09:00"
) -> None:
    reply = await engine.handle(
        cmd.parse_command(text),
        invocation=invocation("admin", server=channel.server, channel=channel.channel, admin=True),
    )
    assert not (isinstance(reply, Notice) and reply.tone is Tone.ERROR), reply


async def days_posted(store: Store) -> list[str | None]:
    rows = await store._reader.execute_fetchall("SELECT day FROM rounds ORDER BY id")
    return [r[0] for r in rows]


async def test_a_due_schedule_is_posted_by_the_poll(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock
) -> None:
    clock.set(DUE - timedelta(minutes=1))
    posted = asyncio.Event()
    post_question = platform.post_question

    async def noted(channel: ChannelRef, post: QuestionPost) -> str:
        ref = await post_question(channel, post)
        posted.set()
        return ref

    platform.post_question = noted  # type: ignore[method-assign]
    scheduler = DailyScheduler(engine, grace=GRACE)
    await scheduler.start(interval=0.02)
    try:
        await set_schedule(engine, CHANNEL)
        clock.set(DUE + timedelta(seconds=1))
        await asyncio.wait_for(posted.wait(), timeout=10)
        await scheduler.shutdown()  # the poll under way hands the schedule back first
        assert len(platform.questions) == 1
        assert await days_posted(engine.store) == ["2026-03-02"]
        assert await scheduler.next_due(CHANNEL) == DUE + timedelta(days=1)
    finally:
        await scheduler.shutdown()


async def test_schedule_changes_take_effect_at_the_next_look(
    engine: QuizEngine, clock: ManualClock
) -> None:
    clock.set(DUE - timedelta(hours=1))
    scheduler = DailyScheduler(engine, grace=GRACE)
    await set_schedule(engine, CHANNEL, "schedule 09:00 UTC")
    await scheduler.poll()
    assert await scheduler.next_due(CHANNEL) == DUE
    # Changed anywhere (here, or on another replica): due for a fresh look by any process.
    await set_schedule(engine, CHANNEL, "schedule 18:30 Europe/Berlin")
    assert await scheduler.next_due(CHANNEL) is None
    await scheduler.poll()
    moved = await scheduler.next_due(CHANNEL)
    assert moved is not None
    assert moved.astimezone(UTC).strftime("%H:%M") == "17:30"
    await set_schedule(engine, CHANNEL, "schedule off")
    assert await engine.store.schedule(CHANNEL) is None
    assert await scheduler.poll() == []


async def test_trigger_firing_twice_posts_once(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock
) -> None:
    await set_schedule(engine, CHANNEL)
    scheduler = DailyScheduler(engine, grace=GRACE)
    clock.set(DUE)
    outcomes = await asyncio.gather(*(scheduler.post_due(channel=CHANNEL) for _ in range(3)))
    assert sum(o is not None and o.round_id is not None for o in outcomes) == 1
    assert len(platform.questions) == 1
    # An admin's manual post the same day is extra; it does not make a second daily post.
    await engine.post(CHANNEL)
    clock.advance(timedelta(minutes=5))
    again = await scheduler.post_due(channel=CHANNEL)
    assert again is not None
    assert again.already_posted
    assert await days_posted(engine.store) == ["2026-03-02", None]


async def restart(
    store: Store, bank: Bank, clock: ManualClock, platform: MemoryPlatform
) -> DailyScheduler:
    engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
    scheduler = DailyScheduler(engine, grace=GRACE)
    await scheduler.start()
    return scheduler


async def test_restart_neither_repeats_nor_loses_the_day(
    store: Store, bank: Bank, clock: ManualClock
) -> None:
    clock.set(DUE - timedelta(days=1))
    first = MemoryPlatform()
    scheduler = await restart(store, bank, clock, first)
    await set_schedule(scheduler.engine, CHANNEL)
    await scheduler.shutdown()

    # Down at 09:00; back at 09:40, within the grace period: posted once, late.
    clock.set(DUE + timedelta(minutes=40))
    second = MemoryPlatform()
    scheduler = await restart(store, bank, clock, second)
    await scheduler.shutdown()
    assert len(second.questions) == 1

    # Another restart the same day: nothing more.
    clock.advance(timedelta(minutes=10))
    third = MemoryPlatform()
    scheduler = await restart(store, bank, clock, third)
    await scheduler.shutdown()
    assert third.questions == []
    assert await days_posted(store) == ["2026-03-02"]


async def test_after_the_grace_period_the_day_is_skipped_and_logged(
    store: Store, bank: Bank, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.set(DUE - timedelta(days=1))
    scheduler = await restart(store, bank, clock, MemoryPlatform())
    await set_schedule(scheduler.engine, CHANNEL)
    await scheduler.shutdown()

    clock.set(DUE + GRACE + timedelta(minutes=1))
    late = MemoryPlatform()
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        scheduler = await restart(store, bank, clock, late)
        await scheduler.shutdown()
    assert late.questions == []
    assert "missed the 2026-03-02 question" in caplog.text
    assert "the next one is at 2026-03-03T09:00:00+00:00" in caplog.text


async def test_schedule_created_after_todays_time_waits_for_tomorrow(
    store: Store, bank: Bank, clock: ManualClock
) -> None:
    clock.set(DUE + timedelta(minutes=30))
    platform = MemoryPlatform()
    scheduler = await restart(store, bank, clock, platform)
    await set_schedule(scheduler.engine, CHANNEL)
    await scheduler.shutdown()
    clock.advance(timedelta(minutes=5))
    scheduler = await restart(store, bank, clock, platform)
    await scheduler.shutdown()
    assert platform.questions == []


async def test_thousand_channels_due_together_one_failing(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock
) -> None:
    channels = [ChannelRef(f"test:s{i % 7}", f"c{i}") for i in range(1000)]
    for channel in channels:
        await engine.store.set_schedule(
            channel, time="09:00", zone="UTC", at=DUE - timedelta(days=1)
        )
    broken = channels[123]
    platform.failing.add(broken)
    clock.set(DUE)
    scheduler = DailyScheduler(engine, grace=GRACE, concurrency=20)
    outcomes = await asyncio.gather(*(scheduler.post_due(channel=c) for c in channels))
    assert sum(1 for o in outcomes if o is not None and o.error is None) == 999
    posted = [q.channel for q in platform.questions]
    assert len(posted) == len(set(posted)) == 999
    assert broken not in posted
    card = await engine.schedule_card(broken)
    assert card.last_error is not None
    assert "missing permission" in card.last_error
    # A second round of triggers for the same minute posts nothing anywhere.
    await asyncio.gather(*(scheduler.post_due(channel=c) for c in channels))
    assert len(platform.questions) == 999


async def test_the_poll_keeps_a_bounded_lead_of_claims_and_survives_a_broken_channel(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock
) -> None:
    """The poll tops its claims up as posts finish (never holding more than CLAIM_BATCH), and
    a channel whose post raises is logged and left to its lease; every other one is posted."""
    channels = [ChannelRef(f"test:s{i % 5}", f"c{i}") for i in range(3 * CLAIM_BATCH + 7)]
    for channel in channels:
        await engine.store.set_schedule(
            channel, time="09:00", zone="UTC", at=DUE - timedelta(days=1)
        )
    broken = channels[CLAIM_BATCH + 3]
    store = engine.store
    held, most, given_up = 0, 0, 0
    claim_due, finish = store.claim_due_schedules, store.finish_schedule

    async def claiming(**kwargs: Any) -> list[ScheduleRow]:
        nonlocal held, most
        rows = await claim_due(**kwargs)
        held += len(rows)
        # A claim given up to its lease is no longer the poll's to work on: it may top up past it.
        most = max(most, held - given_up)
        return rows

    async def handing_back(channel: ChannelRef, **kwargs: Any) -> bool:
        nonlocal held
        held -= 1
        return await finish(channel, **kwargs)

    post = engine.post

    async def post_or_break(channel: ChannelRef, **kwargs: Any) -> PostOutcome:
        nonlocal given_up
        if channel == broken:
            given_up += 1
            raise RuntimeError("the database went away for this one")
        return await post(channel, **kwargs)

    store.claim_due_schedules = claiming  # type: ignore[method-assign]
    store.finish_schedule = handing_back  # type: ignore[method-assign]
    engine.post = post_or_break  # type: ignore[method-assign]
    clock.set(DUE)
    outcomes = await DailyScheduler(engine, grace=GRACE, concurrency=4).poll()
    assert len(outcomes) == len(channels)
    assert sum(o is not None and o.error is None for o in outcomes) == len(channels) - 1
    posted = {q.channel for q in platform.questions}
    assert posted == set(channels) - {broken}
    assert 0 < most <= CLAIM_BATCH
    assert held == 1  # the broken channel's claim runs out with its lease
    assert await store.schedule(broken) is not None


async def test_a_platform_loads_only_its_own_schedules_and_pending_posts(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock
) -> None:
    mine, theirs = ChannelRef("slack:T1", "C1"), ChannelRef("console:local", "terminal")
    for channel in (mine, theirs):
        await engine.store.set_schedule(
            channel, time="09:00", zone="UTC", at=DUE - timedelta(days=1)
        )
    platform.failing.update({mine, theirs})
    await engine.post(mine)
    await engine.post(theirs)
    platform.failing.clear()
    clock.set(DUE + timedelta(minutes=1))
    engine.deliverer.platform_name = "slack"
    await engine.deliverer.sweep()
    assert [q.channel for q in platform.questions] == [mine]
    scheduler = DailyScheduler(engine, grace=GRACE, platform="slack")
    await scheduler.start()
    try:
        assert await scheduler.next_due(mine) is not None
        assert await scheduler.next_due(theirs) is None
    finally:
        await scheduler.shutdown()


async def test_console_honours_its_schedule(tmp_path: Path) -> None:
    """The terminal channel runs the same scheduler: a due schedule posts into the terminal."""
    out = io.StringIO()
    platform = ConsolePlatform(out)
    settings = Settings(db=tmp_path / "console.db")
    async with running(settings, platform, platform_name="console") as runtime:
        # A July day, 07:00 in Paris (summer time); the question is due at 07:30.
        clock = ManualClock(datetime(2026, 7, 1, 5, 0, tzinfo=UTC))
        runtime.engine.clock = clock
        session = ConsoleSession(runtime.engine, platform, user="ada")
        await session.handle_line("/dlquiz schedule 07:30 Europe/Paris")
        await runtime.scheduler.poll()
        assert "Question #1" not in out.getvalue()
        clock.set(datetime(2026, 7, 1, 5, 30, 5, tzinfo=UTC))
        outcomes = await runtime.scheduler.poll()
        assert [o.round_id for o in outcomes if o is not None] == [1]
    assert "Question #1" in out.getvalue()
    assert "Daily question at 07:30 Europe/Paris." in out.getvalue()
