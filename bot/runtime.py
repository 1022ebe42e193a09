"""Wiring shared by every channel: bank, store, engine and daily scheduler, opened and closed
in the right order."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.config import Settings
from bot.content import Bank, default_bank_dir, load_bank
from bot.delivery import SWEEP_INTERVAL
from bot.engine import QuizEngine
from bot.ports import ChatPlatform, Clock, SystemClock
from bot.scheduler import POLL_INTERVAL, DailyScheduler
from bot.store import Shards, open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    engine: QuizEngine
    scheduler: DailyScheduler


def tune_gc() -> None:
    """Set the garbage collector for a long-running bot; call it once start-up is done.

    What start-up made (modules, the chat library) lives as long as the process, so it is frozen
    out of every later collection. A burst of button presses allocates tens of thousands of
    short-lived tasks and futures; a larger young generation lets them die there instead of being
    promoted and walked again by full collections (about a fifth more presses a second in
    `python -m bench`). The collector only ever frees reference cycles, which a bot makes few of,
    so memory stays where it was.
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def configured_bank(settings: Settings) -> Bank:
    """The bank in use: DLQUIZ_CONTENT when set, else the bundled one. Raises BankError."""
    return load_bank([settings.content_dir or default_bank_dir()])


@asynccontextmanager
async def running(
    settings: Settings,
    platform: ChatPlatform,
    *,
    clock: Clock | None = None,
    bank: Bank | None = None,
    platform_name: str | None = None,
    shards: Shards | None = None,
) -> AsyncIterator[Runtime]:
    """The running engine for one platform; `platform_name` is the prefix of its server keys
    (`discord`, `slack`, `console`): only those servers' schedules and pending posts are its,
    and of those only the servers on `shards` when given (one of several Discord processes)."""
    bank = bank or configured_bank(settings)
    store = await open_store(settings.db)
    engine = QuizEngine(
        store=store,
        bank=bank,
        platform=platform,
        clock=clock or SystemClock(),
        platform_name=platform_name,
    )
    engine.deliverer.lease = settings.delivery_lease
    engine.deliverer.shards = shards
    # Schedules are claimed for the same lease as posts: a process that dies holding either
    # loses it as soon.
    scheduler = DailyScheduler(
        engine,
        grace=settings.grace,
        platform=platform_name,
        shards=shards,
        lease=settings.delivery_lease,
    )
    poll = min(POLL_INTERVAL, settings.delivery_lease.total_seconds())
    try:
        await _report_changed_questions(engine, platform_name)
        # What an earlier run recorded but did not post goes out first, then every so often.
        await engine.deliverer.sweep()
        engine.deliverer.start(min(SWEEP_INTERVAL, settings.delivery_lease.total_seconds()))
        await scheduler.start(interval=poll)
        yield Runtime(engine=engine, scheduler=scheduler)
    finally:
        # Daily posts under way finish, then posts in flight; what is left is handed back.
        await scheduler.shutdown()
        await engine.deliverer.stop()
        await store.close()


async def _report_changed_questions(engine: QuizEngine, platform_name: str | None) -> None:
    """Open rounds keep the question they asked; say where the bank no longer agrees."""
    for row in await engine.store.open_rounds(platform=platform_name):
        asked = engine.question_of(row)
        now = engine.bank.get(row.question_id)
        if now is None:
            log.warning(
                "open round %d asks %s, which is no longer in the bank; it keeps the question"
                " as it was asked",
                row.id,
                row.question_id,
            )
        elif asked is not None and asked != now:
            log.warning(
                "open round %d asks %s, which changed in the bank since; it keeps the question"
                " as it was asked",
                row.id,
                row.question_id,
            )
