"""Daily questions, claimed from the database by whichever process looks first.

Every process polls the store for schedules that are due and claims them for a lease (so two
replicas never work on one schedule at once, and a replica that dies holding a claim loses it
when the lease ends), posts the question of the local day, and hands the schedule back with its
next due time. Nothing lives only in one process's memory: a schedule changed on one replica is
due for a fresh look on all of them.

Exactly once per channel per local day is still the database's job, not the scheduler's: every
daily post names its local day and the store refuses a second round for the same (channel, day).
So a restart, a claim taken over after a lease, or two processes racing can only ever produce
one post. The poll only decides when to try.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery import LEASE
from bot.engine import PostOutcome, QuizEngine
from bot.logs import context
from bot.models import ChannelRef
from bot.schedule import (
    DailyTime,
    ScheduleError,
    last_post_time,
    next_post_time,
    parse_time,
    parse_zone,
)
from bot.store import ScheduleRow, Shards

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 20
POLL_INTERVAL = 5.0  # seconds: how late after its minute a question may go out
POLL_JOB = "dlquiz: due daily questions"
CLAIM_BATCH = 50
# A question posted this long after its time is logged as late.
LATE = timedelta(minutes=1)
# A schedule whose zone can no longer be loaded is looked at again this much later.
BROKEN_RETRY = timedelta(hours=1)
# A post that raised (the database away for a moment, say) is tried again this much later.
RETRY_AFTER_ERROR = timedelta(minutes=1)


class DailyScheduler:
    """Daily questions of one platform's servers (all of them when `platform` is None; of
    `shards` only on Discord), so bots sharing a database never post in each other's channels."""

    def __init__(
        self,
        engine: QuizEngine,
        *,
        grace: timedelta,
        concurrency: int = DEFAULT_CONCURRENCY,
        platform: str | None = None,
        shards: Shards | None = None,
        lease: timedelta = LEASE,
        worker: str | None = None,
    ) -> None:
        self.engine = engine
        self.platform = platform
        self.shards = shards
        self.grace = grace
        self.lease = lease
        self.worker = worker or engine.deliverer.worker
        self._slots = asyncio.Semaphore(concurrency)
        # APScheduler only keeps the time: one interval job that looks in the database. Which
        # channel is due, and who posts it, the database decides (see the module's docstring).
        self._timer = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        self._stopping = asyncio.Event()
        self._polls: set[asyncio.Task[Any]] = set()
        self._running: set[asyncio.Task[Any]] = set()

    @property
    def apscheduler(self) -> AsyncIOScheduler:
        return self._timer

    async def start(self, *, interval: float = POLL_INTERVAL) -> None:
        """Post whatever is due (within the grace period) now, then keep looking."""
        self.engine.schedule_listeners.append(self.update)
        await self.poll()
        self._timer.add_job(
            self._poll_job, IntervalTrigger(seconds=interval), id=POLL_JOB, name=POLL_JOB
        )
        self._timer.start()

    async def shutdown(self) -> None:
        """Stop claiming, let the daily posts under way finish, hand back what was not begun.

        APScheduler's own shutdown cancels running jobs whatever `wait` says, which would cut a
        post in the middle of its platform call: the timer is paused and its job awaited first.
        """
        self._stopping.set()
        if self._timer.running:
            self._timer.pause()
        while self._polls or self._running:
            await asyncio.gather(*self._polls, *self._running, return_exceptions=True)
        if self._timer.running:
            self._timer.shutdown(wait=False)
        if self.update in self.engine.schedule_listeners:
            self.engine.schedule_listeners.remove(self.update)

    async def update(self, channel: ChannelRef, daily: DailyTime | None) -> None:
        """A schedule changed here: look at once rather than at the next poll. (The store has
        made it due for a fresh look already; another replica may well be the one to take it.)"""
        if self._serves(channel) and self._timer.running and not self._stopping.is_set():
            self._timer.modify_job(POLL_JOB, next_run_time=datetime.now(UTC))

    def _serves(self, channel: ChannelRef) -> bool:
        if self.platform is not None and not channel.server.startswith(f"{self.platform}:"):
            return False
        return self.shards is None or self.shards.owns(channel.server)

    async def next_due(self, channel: ChannelRef) -> datetime | None:
        """When some process will next look at the channel's schedule (None: not worked out
        yet, or no schedule)."""
        row = await self.engine.store.schedule(channel)
        return row.next_due_at if row is not None else None

    async def poll(self) -> list[PostOutcome | None]:
        """Claim every due schedule, post what each owes, hand each back with its next time.

        Claims stay a little ahead of the posts (at most `CLAIM_BATCH` held at once, topped up
        when half are done), so posting never waits for the slowest channel of a batch, and a
        replica never holds schedules it will not reach before its lease ends."""
        outcomes: list[PostOutcome | None] = []
        looking: set[asyncio.Task[PostOutcome | None]] = set()
        try:
            while not self._stopping.is_set():
                room = CLAIM_BATCH - len(looking)
                if room >= CLAIM_BATCH // 2:
                    now = self.engine.clock.now()
                    rows = await self.engine.store.claim_due_schedules(
                        platform=self.platform,
                        now=now,
                        worker=self.worker,
                        lease=self.lease,
                        limit=room,
                        shards=self.shards,
                    )
                    if not rows:
                        break
                    looking.update(asyncio.create_task(self._look(row, now)) for row in rows)
                done, looking = await asyncio.wait(looking, return_when=asyncio.FIRST_COMPLETED)
                outcomes.extend(_outcomes(done))
        finally:
            if looking:
                done, _ = await asyncio.wait(looking)
                outcomes.extend(_outcomes(done))
        return outcomes

    async def _poll_job(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._polls.add(task)
        try:
            if not self._stopping.is_set():
                await self.poll()
        except Exception:  # a database hiccup must not end the daily questions for good
            log.exception("looking for due daily questions failed")
        finally:
            if task is not None:
                self._polls.discard(task)

    async def _look(self, row: ScheduleRow, now: datetime) -> PostOutcome | None:
        """Post the question a claimed schedule owes, if any; hand the schedule back."""
        channel = ChannelRef(row.server, row.channel)
        try:
            daily = DailyTime(at=parse_time(row.time), zone=parse_zone(row.zone))
        except ScheduleError as exc:
            log.warning("cannot use the schedule: %s", exc, extra=_ctx(channel))
            await self._hand_back(channel, now + BROKEN_RETRY)
            return None
        day, due = last_post_time(daily, at_or_before=now)
        following = next_post_time(daily, after=now)
        # A schedule seen for the first time since it was set owes only what fell due after.
        if row.next_due_at is None and row.updated_at is not None and due <= row.updated_at:
            await self._hand_back(channel, following)
            return None
        if self._stopping.is_set():
            await self._hand_back(channel, due)  # still owed: whoever looks next posts it
            return None
        outcome = None
        try:
            if now - due <= self.grace:
                # No look first for the day's round: the store opens none when the day has one.
                outcome = await self._post_day(channel, day, daily)
                if outcome.round_id is not None and now - due > LATE:
                    log.info(
                        "posted the missed %s question late (due at %s)",
                        day,
                        due.isoformat(),
                        extra=_ctx(channel),
                    )
            elif not await self.engine.store.daily_round_exists(channel, day):
                log.warning(
                    "missed the %s question (due at %s, grace %s); the next one is at %s",
                    day,
                    due.isoformat(),
                    self.grace,
                    following.isoformat(),
                    extra=_ctx(channel),
                )
        except Exception:  # a database hiccup: this channel is looked at again soon, not lost
            log.exception("posting the daily question failed; trying again", extra=_ctx(channel))
            await self._hand_back(channel, now + RETRY_AFTER_ERROR)
            return None
        await self._hand_back(channel, following)
        return outcome

    async def _hand_back(self, channel: ChannelRef, next_due_at: datetime) -> None:
        if not await self.engine.store.finish_schedule(
            channel, worker=self.worker, next_due_at=next_due_at
        ):
            log.info("the schedule changed while it was being posted", extra=_ctx(channel))

    async def post_due(self, *, channel: ChannelRef) -> PostOutcome | None:
        """Post the question due now (or at most `grace` ago) for its local day."""
        daily = await self.engine.daily_time(channel)
        if daily is None:
            return None
        now = self.engine.clock.now()
        day, due = last_post_time(daily, at_or_before=now)
        if now - due > self.grace:
            log.warning(
                "skipping the %s question: due at %s, more than %s ago",
                day,
                due.isoformat(),
                self.grace,
                extra=_ctx(channel),
            )
            return None
        return await self._post_day(channel, day, daily)

    async def _post_day(self, channel: ChannelRef, day: date, daily: DailyTime) -> PostOutcome:
        """Post `day`'s question, at most `concurrency` at a time; a shutdown waits for it."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with self._slots:
                outcome = await self.engine.post(channel, day=day, daily=daily)
        finally:
            if task is not None:
                self._running.discard(task)
        if outcome.error:
            log.warning("daily question failed: %s", outcome.error, extra=_ctx(channel))
        return outcome


def _outcomes(done: set[asyncio.Task[PostOutcome | None]]) -> list[PostOutcome | None]:
    """What the finished looks posted; one that failed is logged (its schedule's claim runs out
    and the schedule is looked at again then), never a reason to stop the others."""
    outcomes: list[PostOutcome | None] = []
    for task in done:
        if task.cancelled():
            outcomes.append(None)
            continue
        error = task.exception()
        if error is not None:
            log.error("posting a daily question failed", exc_info=error)
        outcomes.append(None if error is not None else task.result())
    return outcomes


def _ctx(channel: ChannelRef) -> dict[str, str]:
    return context(channel.server, channel.channel)
