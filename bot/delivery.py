"""What a channel must receive, delivered: claimed from the database, posted, marked, retried.

The store records each question, reveal and closing edit in the transaction that makes it due.
A `Deliverer` claims a channel's oldest due delivery for a lease, posts it, and marks it done as
soon as the platform accepted it; a failure releases it with a backoff. A periodic sweep retries
what is due, in order per channel, while the process runs, and also picks up what a process that
died was holding once its lease ran out. A graceful stop lets posts in flight finish and hands
back every claim this process still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import aiohttp

from bot.inflight import InFlight
from bot.logs import context
from bot.models import ChannelRef, Question, QuestionPost, RevealPost, post_key
from bot.ports import ChatPlatform, Clock, PostFinder, Refused, ThreadOpener
from bot.store import ChannelSettings, Delivery, DeliveryKind, RoundRow, Shards, Store

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
SWEEP_INTERVAL = 30.0  # seconds
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# Closing a question's buttons is best effort: a late press is told the question is closed.
# So is the discussion thread: the reveal is what matters. Both give up after a few tries.
CLOSE_ATTEMPTS = 5
BEST_EFFORT = frozenset({DeliveryKind.CLOSE, DeliveryKind.THREAD})
# Tallies of recently closed rounds, kept by the deliverer: a closed round's tally never changes
# (no answer is recorded once it closed), and its reveal, the edit that closes its buttons and
# its thread each show it. Enough for every channel a fan-out has in flight many times over.
TALLIES_KEPT = 1024

QuestionOf = Callable[[RoundRow], Question | None]


def worker_id() -> str:
    """Names this process in claims, unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def backoff(attempts: int) -> timedelta:
    """The wait before retry number `attempts` (1 = the first retry)."""
    doublings = min(max(attempts - 1, 0), 16)
    return min(FIRST_RETRY * (1 << doublings), LONGEST_RETRY)


class Deliverer:
    def __init__(
        self,
        *,
        store: Store,
        platform: ChatPlatform,
        clock: Clock,
        question_of: QuestionOf,
        platform_name: str | None = None,
        worker: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.platform = platform
        self.clock = clock
        self.question_of = question_of
        self.platform_name = platform_name
        self.worker = worker or worker_id()
        self.lease = lease
        # On Discord, the shards this process serves: other shards' channels are not its own.
        self.shards: Shards | None = None
        self.inflight = InFlight()
        self._tallies: dict[int, tuple[int, ...]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def drain(self, channel: ChannelRef, *, posted: set[int] | None = None) -> str | None:
        """Post what the channel has due, oldest first, until nothing is due or a post fails;
        the failure's reason, or None. Another process's claim ends it at once. The rounds
        whose question this drain posted are added to `posted`."""
        async with self.inflight.track():
            while not self._stopping.is_set():
                delivery = await self.store.claim_delivery(
                    channel, worker=self.worker, now=self.clock.now(), lease=self.lease
                )
                if delivery is None:
                    return None
                done = await self._deliver(delivery)
                if done.error is not None and delivery.kind not in BEST_EFFORT:
                    return done.error
                if done.posted and posted is not None and delivery.kind is DeliveryKind.QUESTION:
                    posted.add(delivery.round_id)
                if not done.more:
                    return None
            return None

    async def sweep(self) -> None:
        """Deliver whatever is due in this platform's channels."""
        channels = await self.store.due_delivery_channels(
            platform=self.platform_name, now=self.clock.now(), shards=self.shards
        )
        for channel in channels:
            if self._stopping.is_set():
                return
            await self.drain(channel)

    def start(self, interval: float = SWEEP_INTERVAL) -> None:
        self._sweeper = asyncio.create_task(self._sweep_loop(interval), name="dlquiz-deliveries")

    async def stop(self) -> None:
        """Let posts in flight finish, start no new one, and hand back every claim held."""
        self._stopping.set()
        if self._sweeper is not None:
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.inflight.wait_idle()
        released = await self.store.release_deliveries(worker=self.worker)
        if released:
            log.info("handed back %d deliveries for another process to post", released)

    async def _sweep_loop(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                await self.sweep()
            except Exception:  # a database hiccup must not end the retries for good
                log.exception("delivery sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)

    async def _deliver(self, delivery: Delivery) -> _Done:
        """Post one claimed delivery."""
        channel = delivery.channel_ref
        row = delivery.round
        question = self.question_of(row) if row is not None else None
        now = self.clock.now()
        if row is None or question is None:
            log.warning(
                "round %d has no question to post (%s dropped)",
                delivery.round_id,
                delivery.kind.value,
                extra=_ctx(channel),
            )
            await self.store.fail_delivery(
                delivery.id, error="question missing", retry_at=now, give_up=True, at=now
            )
            return _Done(error=None, more=True, posted=False)
        try:
            message_ref = await self._find_in_doubt(delivery, row, question)
            if message_ref is None:
                message_ref = await self._post(delivery, row, question)
        except Exception as exc:  # the platform failed: keep the bot and other channels going
            # Adapters raise errors whose text is meant for admins; the type is for the log.
            reason = " ".join(str(exc).split()) or type(exc).__name__
            attempts = delivery.attempts + 1
            give_up = delivery.kind in BEST_EFFORT and (
                attempts >= CLOSE_ATTEMPTS or isinstance(exc, Refused)
            )
            log.warning(
                "could not post the %s of round %d (attempt %d): %s: %s",
                delivery.kind.value,
                row.id,
                attempts,
                type(exc).__name__,
                reason,
                extra=_ctx(channel),
            )
            await self.store.fail_delivery(
                delivery.id,
                error=reason,
                retry_at=now + backoff(attempts),
                give_up=give_up,
                at=now,
                # No answer is not a no: the platform may have taken the post.
                ambiguous=isinstance(exc, TimeoutError | OSError | aiohttp.ClientError),
            )
            if delivery.kind is not DeliveryKind.CLOSE:
                # A thread that cannot be opened is shown to admins like a failed post.
                await self.store.record_post_error(channel, error=reason, at=now)
            return _Done(error=reason, more=True, posted=False)
        try:
            more = await self.store.finish_delivery(
                delivery.id, message_ref=message_ref, at=self.clock.now()
            )
        except Exception as exc:  # the post is out, the mark is not: the claim runs out and
            # the retry finds the post first (the claim has become one in doubt)
            log.exception(
                "posted the %s of round %d but could not mark it",
                delivery.kind.value,
                row.id,
                extra=_ctx(channel),
            )
            return _Done(error=f"the post went out but was not recorded: {exc}", more=False)
        return _Done(error=None, more=more, posted=True)

    async def _find_in_doubt(
        self, delivery: Delivery, row: RoundRow, question: Question
    ) -> str | None:
        """The message a dead process may have posted already, where the platform can tell."""
        if not delivery.in_doubt or not isinstance(self.platform, PostFinder):
            return None
        if delivery.kind is DeliveryKind.QUESTION:
            key, thread = question_post(row, question).nonce, None
        elif delivery.kind is DeliveryKind.REVEAL:
            key, thread = post_key(row.id, row.token, "r"), row.message_ref or None
        else:
            return None  # closing the buttons again is harmless
        found = await self.platform.find_post(delivery.channel_ref, key, thread=thread)
        if found is not None:
            log.info(
                "the %s of round %d was posted before a restart (%s): not posting it again",
                delivery.kind.value,
                row.id,
                found,
                extra=_ctx(delivery.channel_ref),
            )
            return found
        return None

    async def _post(self, delivery: Delivery, row: RoundRow, question: Question) -> str | None:
        channel = delivery.channel_ref
        if delivery.kind is DeliveryKind.QUESTION:
            # Read by the claim, so a ping set between the schedule and the post is honoured.
            settings = delivery.settings
            post = replace(question_post(row, question), ping=settings.ping if settings else None)
            return await self.platform.post_question(channel, post)
        reveal = RevealPost(
            round_id=row.id,
            channel=channel,
            question=question,
            tally=await self._tally(row),
            message_ref=row.message_ref or None,
            token=row.token,
        )
        if delivery.kind is DeliveryKind.REVEAL:
            await self.platform.post_reveal(channel, reveal)
        elif delivery.kind is DeliveryKind.THREAD:
            await self._open_thread(channel, reveal, delivery.settings or ChannelSettings())
        elif reveal.message_ref is not None:
            await self.platform.close_question(channel, reveal)
        else:
            # The question was dropped while its post was in doubt: close it where it is found.
            found = None
            if isinstance(self.platform, PostFinder):
                key = question_post(row, question).nonce
                found = await self.platform.find_post(channel, key, thread=None)
            if found is not None:
                log.info(
                    "the question of round %d reached the channel after its round closed (%s):"
                    " closing its buttons",
                    row.id,
                    found,
                    extra=_ctx(channel),
                )
                await self.platform.close_question(
                    channel, replace(reveal, message_ref=found, withdrawn=True)
                )
        return None

    async def _tally(self, row: RoundRow) -> tuple[int, ...]:
        """The closed round's tally, read once for its reveal, its closing edit and its thread."""
        tally = self._tallies.get(row.id)
        if tally is None:
            tally = await self.store.tally(row.id, row.choice_count)
            if row.closed_at is not None:
                if len(self._tallies) >= TALLIES_KEPT:
                    del self._tallies[next(iter(self._tallies))]  # the oldest
                self._tallies[row.id] = tally
        return tally

    async def _open_thread(
        self, channel: ChannelRef, reveal: RevealPost, settings: ChannelSettings
    ) -> None:
        if not isinstance(self.platform, ThreadOpener) or not reveal.message_ref:
            return  # a platform without threads (Slack's reveal is in the question's thread)
        if settings.thread:
            await self.platform.open_thread(channel, reveal)


@dataclass(frozen=True, slots=True)
class _Done:
    """How one delivery went: why it failed (None: posted, or given up), whether the channel
    may have more to post, and whether this drain posted it."""

    error: str | None
    more: bool
    posted: bool = False


def question_post(row: RoundRow, question: Question) -> QuestionPost:
    return QuestionPost(
        round_id=row.id,
        channel=row.channel_ref,
        question=question,
        posted_at=row.posted_at,
        reveal_at=row.reveal_at,
        message_ref=row.message_ref,
        token=row.token,
    )


def _ctx(channel: ChannelRef) -> dict[str, str]:
    return context(channel.server, channel.channel)
