"""Daily questions on APScheduler 3: one job per scheduled channel, in the channel's zone.

Exactly once per channel per local day is the database's job, not the scheduler's: every daily
post names its local day and the store refuses a second round for the same (channel, day). So a
restart, a trigger that fires twice (a fall-back hour) or a catch-up racing a trigger can only
ever produce one post. APScheduler only decides when to try.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.engine import PostOutcome, QuizEngine
from bot.logs import context
from bot.models import ChannelRef
from bot.schedule import DailyTime, last_post_time, next_post_time, parse_time, parse_zone

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 20


class DailyTrigger(CronTrigger):  # type: ignore[misc]
    """A CronTrigger at one local time a day that follows the documented DST rules.

    APScheduler 3.11's CronTrigger fires twice on a fall-back day when the time falls in the
    repeated hour, and shifts a time inside a spring-forward gap by the gap's length; this one
    fires once, and at the first minute after the gap.
    """

    def __init__(self, daily: DailyTime) -> None:
        super().__init__(hour=daily.at.hour, minute=daily.at.minute, timezone=daily.zone)
        self.daily = daily

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = previous_fire_time or (now - timedelta(microseconds=1))
        return next_post_time(self.daily, after=after).astimezone(self.daily.zone)


def job_id(channel: ChannelRef) -> str:
    return f"daily:{channel.server}:{channel.channel}"


class DailyScheduler:
    """Daily jobs for the schedules of one platform's servers (all of them when `platform` is
    None), so two bots sharing a database never post in each other's channels."""

    def __init__(
        self,
        engine: QuizEngine,
        *,
        grace: timedelta,
        concurrency: int = DEFAULT_CONCURRENCY,
        platform: str | None = None,
    ) -> None:
        self.engine = engine
        self.platform = platform
        self.grace = grace
        self._slots = asyncio.Semaphore(concurrency)
        self._scheduler = AsyncIOScheduler(
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(grace.total_seconds()) or 1,
            }
        )
        self._catch_up: list[asyncio.Task[PostOutcome | None]] = []
        self._running: set[asyncio.Task[Any]] = set()

    @property
    def apscheduler(self) -> AsyncIOScheduler:
        return self._scheduler

    async def start(self) -> None:
        """Load every schedule, post any question missed within the grace period, start."""
        self._scheduler.start()
        self.engine.schedule_listeners.append(self.update)
        now = self.engine.clock.now()
        for row in await self.engine.store.schedules(platform=self.platform):
            channel = ChannelRef(row.server, row.channel)
            daily = DailyTime(at=parse_time(row.time), zone=parse_zone(row.zone))
            self._add_job(channel, daily)
            await self._catch_up_missed(channel, daily, now, since=row.updated_at)

    async def shutdown(self) -> None:
        """Stop firing, let the daily posts under way finish, then stop.

        APScheduler's own shutdown cancels running jobs whatever `wait` says, which would cut a
        post in the middle of its platform call: they are awaited here first.
        """
        if self._scheduler.running:
            self._scheduler.pause()
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for task in self._catch_up:
            await asyncio.gather(task, return_exceptions=True)
        if self.update in self.engine.schedule_listeners:
            self.engine.schedule_listeners.remove(self.update)

    async def update(self, channel: ChannelRef, daily: DailyTime | None) -> None:
        """Follow a schedule change at once."""
        if self.platform is not None and not channel.server.startswith(f"{self.platform}:"):
            return
        if daily is None:
            if self._scheduler.get_job(job_id(channel)) is not None:
                self._scheduler.remove_job(job_id(channel))
            return
        self._add_job(channel, daily)

    def _add_job(self, channel: ChannelRef, daily: DailyTime) -> None:
        self._scheduler.add_job(
            self.post_due,
            trigger=DailyTrigger(daily),
            id=job_id(channel),
            replace_existing=True,
            kwargs={"channel": channel},
            name=f"daily question for {channel.server}/{channel.channel} at {daily.text}",
        )

    def next_run_time(self, channel: ChannelRef) -> datetime | None:
        job: Any = self._scheduler.get_job(job_id(channel))
        return job.next_run_time if job is not None else None

    async def post_due(self, *, channel: ChannelRef) -> PostOutcome | None:
        """Post the question due now (or at most `grace` ago) for its local day."""
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always called from a task
            return await self._post_due(channel)
        self._running.add(task)
        try:
            return await self._post_due(channel)
        finally:
            self._running.discard(task)

    async def _post_due(self, channel: ChannelRef) -> PostOutcome | None:
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
                extra=context(channel.server, channel.channel),
            )
            return None
        async with self._slots:
            outcome = await self.engine.post(channel, day=day, daily=daily)
        if outcome.error:
            log.warning(
                "daily question failed: %s",
                outcome.error,
                extra=context(channel.server, channel.channel),
            )
        return outcome

    async def _catch_up_missed(
        self, channel: ChannelRef, daily: DailyTime, now: datetime, *, since: datetime | None
    ) -> None:
        day, due = last_post_time(daily, at_or_before=now)
        if since is not None and due < since:
            return  # the schedule did not exist yet when that question was due
        if await self.engine.store.daily_round_exists(channel, day):
            return
        if now - due <= self.grace:
            log.info(
                "posting the missed %s question late (due at %s)",
                day,
                due.isoformat(),
                extra=context(channel.server, channel.channel),
            )
            self._catch_up.append(asyncio.create_task(self.post_due(channel=channel)))
        else:
            log.warning(
                "missed the %s question (due at %s, grace %s); the next one is at %s",
                day,
                due.isoformat(),
                self.grace,
                next_post_time(daily, after=now).isoformat(),
                extra=context(channel.server, channel.channel),
            )
