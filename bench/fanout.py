"""Fan-out: many channels due at the same minute, posted the way a running bot posts them: the
scheduler's poll claims the due schedules from the database, posts each channel's question
(bounded by its semaphore) on the memory platform, and hands each schedule back."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from adapters.memory import ManualClock, MemoryPlatform
from bench.common import START, bench_bank
from bot.engine import PostOutcome, QuizEngine
from bot.models import ChannelRef, Member
from bot.scheduler import DEFAULT_CONCURRENCY, DailyScheduler
from bot.store import Store, is_postgres_url, open_store
from bot.store.sqlite.connection import to_text

CHANNELS_PER_SERVER = 10
# Members answering each channel's first question before the next day (choices A, B, C...).
ANSWERS_PER_ROUND = 3


@dataclass(frozen=True, slots=True)
class FanoutResult:
    channels: int
    seconds: float
    posted: int
    concurrency: int
    # The next day: every round answered, closed, scored and revealed, then the new question.
    next_day_seconds: float
    next_day_revealed: int
    next_day_posted: int


async def run(channels: int, location: str | Path) -> FanoutResult:
    store = await open_store(location)
    try:
        platform = MemoryPlatform()
        clock = ManualClock(START)  # exactly the minute every channel is due
        engine = QuizEngine(store=store, bank=bench_bank(), platform=platform, clock=clock)
        refs = [
            ChannelRef(f"bench:fan{i // CHANNELS_PER_SERVER}", f"c{i}") for i in range(channels)
        ]
        since = START - timedelta(1)
        if is_postgres_url(location):
            from bench import pg

            pairs = [(ref.server, ref.channel) for ref in refs]
            await pg.schedule_all(str(location), pairs, at=f"{START:%H:%M}", since=since)
        else:
            await _schedule_all(store, refs, at=f"{START:%H:%M}", since=to_text(since))
        scheduler = DailyScheduler(engine, grace=timedelta(minutes=5))
        started = time.perf_counter()
        outcomes = await scheduler.poll()
        seconds = time.perf_counter() - started
        _check(outcomes, channels, "first")
        posted = len({post.channel for post in platform.questions})

        await _answer_every_question(engine, platform)
        clock.set(START + timedelta(days=1))
        started = time.perf_counter()
        outcomes = await scheduler.poll()
        next_day_seconds = time.perf_counter() - started
        _check(outcomes, channels, "next day's")
    finally:
        await store.close()
    revealed = len({reveal.channel for reveal in platform.reveals})
    if revealed != channels:
        raise RuntimeError(f"{channels - revealed} of {channels} channels got no reveal")
    return FanoutResult(
        channels=channels,
        seconds=seconds,
        posted=posted,
        concurrency=DEFAULT_CONCURRENCY,
        next_day_seconds=next_day_seconds,
        next_day_revealed=revealed,
        next_day_posted=len({post.channel for post in platform.questions[channels:]}),
    )


def _check(outcomes: list[PostOutcome | None], channels: int, which: str) -> None:
    failed = [o for o in outcomes if o is None or o.round_id is None or o.error]
    if failed or len(outcomes) != channels:
        example = f", e.g. {failed[0]}" if failed else ""
        raise RuntimeError(
            f"{channels - len(outcomes) + len(failed)} of {channels} channels did not get their"
            f" {which} question{example}"
        )


async def _answer_every_question(engine: QuizEngine, platform: MemoryPlatform) -> None:
    """Members answer each posted question (set-up, not timed)."""
    presses = [
        engine.answer(
            channel=post.channel,
            member=Member(post.channel.server, f"u{n}", f"Member {n}"),
            round_id=post.round_id,
            choice=n % len(post.question.choices),
            token=post.token,
        )
        for post in platform.questions
        for n in range(ANSWERS_PER_ROUND)
    ]
    for start in range(0, len(presses), 2000):
        await asyncio.gather(*presses[start : start + 2000])


async def _schedule_all(store: Store, refs: list[ChannelRef], *, at: str, since: str) -> None:
    """Schedules made a day ago, in one transaction (the set-up is not what is measured)."""

    def work(db: sqlite3.Connection) -> None:  # the SQLite store's own writer
        db.executemany(
            "INSERT INTO schedules (server, channel, time, zone, updated_at)"
            " VALUES (?, ?, ?, 'UTC', ?)",
            [(ref.server, ref.channel, at, since) for ref in refs],
        )

    await store.write(work)
