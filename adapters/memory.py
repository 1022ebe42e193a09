"""An in-memory chat platform: it implements the port and records what the engine posted.

Engine tests read like a conversation: post, press, reveal, then look at `posts`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.models import ChannelRef, QuestionPost, RevealPost


class PlatformFailure(Exception):
    """What the fake raises for a channel told to fail, like a missing permission would."""


@dataclass
class MemoryPlatform:
    questions: list[QuestionPost] = field(default_factory=list)
    reveals: list[RevealPost] = field(default_factory=list)
    closed_messages: list[str] = field(default_factory=list)
    failing: set[ChannelRef] = field(default_factory=set)
    # What fails everywhere: "question", "reveal" or "close" (editing the buttons away).
    failing_steps: set[str] = field(default_factory=set)
    delay: float = 0.0
    # When set, every post waits until the event is set: a platform that hangs.
    hold: asyncio.Event | None = None
    # Set while a post is in flight, cleared when it returns: tests stop or race it there.
    in_flight: asyncio.Event = field(default_factory=asyncio.Event)
    # Private messages to members (server, user id, text); members in `unreachable` refuse them.
    notes: list[tuple[str, str, str]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    _next_ref: int = 0

    async def post_question(self, channel: ChannelRef, post: QuestionPost) -> str:
        await self._act(channel, "question")
        self._next_ref += 1
        self.questions.append(post)
        return f"msg-{self._next_ref}"

    async def post_reveal(self, channel: ChannelRef, reveal: RevealPost) -> None:
        await self._act(channel, "reveal")
        self.reveals.append(reveal)

    async def close_question(self, channel: ChannelRef, reveal: RevealPost) -> None:
        await self._act(channel, "close")
        if reveal.message_ref:
            self.closed_messages.append(reveal.message_ref)

    async def notify_member(self, *, server: str, user_id: str, channel: str, text: str) -> bool:
        if user_id in self.unreachable:
            return False
        self.notes.append((server, user_id, text))
        return True

    async def _act(self, channel: ChannelRef, step: str) -> None:
        self.in_flight.set()
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.hold is not None:
                await self.hold.wait()
        finally:
            self.in_flight.clear()
        if channel in self.failing:
            raise PlatformFailure(f"missing permission to post in {channel.channel}")
        if step in self.failing_steps:
            raise PlatformFailure(f"the platform refused the {step}")

    def questions_in(self, channel: ChannelRef) -> list[QuestionPost]:
        return [q for q in self.questions if q.channel == channel]


class ManualClock:
    """A clock that moves only when told, for tests that span days without sleeping."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment
