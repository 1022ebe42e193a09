"""The seam between the engine and its database: the value types and the `Store` protocol.

The engine, the scheduler and the adapters only ever see this module. Each backend (`sqlite/`,
`postgres/`) implements the protocol with the same guarantees, checked by one conformance suite
(`tests/store/`): an answer is acknowledged only after its transaction committed; the first answer
is final and a repeated delivery records nothing; a channel has at most one daily round per local
day; a round is scored exactly once, when it closes, whatever process closes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import NamedTuple, Protocol

from bot.models import ChannelRef, Period


class StoreError(Exception):
    """The database cannot be used; the message says why in one line."""


def period_key(period: Period, moment: datetime) -> str:
    """The key of the calendar period (UTC) that `moment` falls in."""
    moment = moment.astimezone(UTC)
    if period is Period.WEEK:
        iso = moment.isocalendar()
        return f"w{iso.year}-{iso.week:02d}"
    if period is Period.MONTH:
        return f"m{moment.year}-{moment.month:02d}"
    return "all"


def platform_of(server: str) -> str:
    """The platform part of a server key (`discord:123` -> `discord`)."""
    return server.partition(":")[0]


class AnswerStatus(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    CLOSED = "closed"
    UNKNOWN = "unknown"
    BAD_CHOICE = "bad_choice"


class AnswerRequest(NamedTuple):
    """One button press on its way to the writer (a tuple: built once per press, so cheap)."""

    round_id: int
    server: str
    channel: str
    user_id: str
    name: str
    choice: int
    at: datetime


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    status: AnswerStatus
    choice: int | None = None  # the recorded choice: this one, or the earlier one on a duplicate


@dataclass(frozen=True, slots=True)
class RoundRow:
    id: int
    server: str
    channel: str
    question_id: str
    choice_count: int
    answer: int
    day: str | None
    posted_at: datetime
    reveal_at: datetime | None
    closed_at: datetime | None
    message_ref: str | None
    reveal_posted: bool

    @property
    def channel_ref(self) -> ChannelRef:
        return ChannelRef(self.server, self.channel)

    @property
    def undelivered(self) -> bool:
        """Its question (while open) or its reveal (once closed) has not reached the channel."""
        if self.closed_at is None:
            return self.message_ref is None
        return not self.reveal_posted


@dataclass(frozen=True, slots=True)
class NewRound:
    question_id: str
    topic: str
    difficulty: str
    choice_count: int
    answer: int
    base_points: int


@dataclass(frozen=True, slots=True)
class StartedRound:
    round: RoundRow
    closed: RoundRow | None


@dataclass(frozen=True, slots=True)
class ScoreRow:
    user_id: str
    name: str
    points: int
    answered: int
    correct: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    user_id: str
    name: str
    current_streak: int
    longest_streak: int


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    server: str
    channel: str
    time: str
    zone: str
    last_error: str | None
    last_error_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class PracticeRow:
    question_id: str
    box: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class PracticeMark:
    box: int
    due_at: datetime
    filter: str | None


class Store(Protocol):
    """What the engine asks of a database. Every method is a coroutine and safe to call from
    many tasks at once; writes are atomic, and the rules hold across processes."""

    @property
    def location(self) -> str:
        """Where the data lives, for messages (a file path, or a URL without its password)."""
        ...

    async def close(self) -> None:
        """Finish every queued write, then release the connections."""
        ...

    # --- answers ---

    async def submit_answer(self, request: AnswerRequest) -> AnswerOutcome:
        """Record one answer; returns once it is committed (or why it was not recorded)."""
        ...

    # --- rounds ---

    async def start_round(
        self,
        *,
        channel: ChannelRef,
        new: NewRound,
        cycle: int,
        day: date | None,
        posted_at: datetime,
        reveal_at: datetime | None,
    ) -> StartedRound | None:
        """Close the channel's open round (scoring it) and open a new one, atomically.

        Returns None, changing nothing, when `day` already has its daily round in this channel.
        """
        ...

    async def close_round(self, channel: ChannelRef, at: datetime) -> RoundRow | None:
        """Close (and score) the channel's open round; it, or None when none was open."""
        ...

    async def mark_delivered(self, round_id: int, message_ref: str) -> None:
        """Record the question's message; this also clears the channel's last posting error."""
        ...

    async def mark_reveal_posted(self, round_id: int) -> None: ...

    async def round_by_id(self, round_id: int) -> RoundRow | None: ...

    async def open_round(self, channel: ChannelRef) -> RoundRow | None: ...

    async def undelivered_rounds(
        self, channel: ChannelRef | None = None, *, platform: str | None = None
    ) -> list[RoundRow]:
        """Rounds whose question or reveal was committed but not (yet) posted, oldest first:
        of one channel, of one platform's servers, or all."""
        ...

    async def posted_questions(self, channel: ChannelRef) -> tuple[int, set[str], str | None]:
        """The channel's current cycle, the questions posted in it, and the last one posted."""
        ...

    async def tally(self, round_id: int, choice_count: int) -> tuple[int, ...]: ...

    async def choice_of(self, round_id: int, user_id: str) -> int | None: ...

    async def daily_round_exists(self, channel: ChannelRef, day: date) -> bool: ...

    # --- scores ---

    async def leaderboard(
        self, *, server: str, period: str, limit: int = 10
    ) -> list[tuple[int, ScoreRow]]:
        """The top `limit` members with points, ranked; members with equal points share a rank."""
        ...

    async def score_of(self, *, server: str, period: str, user_id: str) -> ScoreRow | None: ...

    async def rank_of(self, *, server: str, period: str, points: int) -> tuple[int | None, int]:
        """The rank a member with `points` holds, and how many members hold any points."""
        ...

    async def member(self, *, server: str, user_id: str) -> MemberRow | None: ...

    async def find_member(self, *, server: str, text: str) -> str | None:
        """The user id of the member named `text` (an id, or a name in any case)."""
        ...

    async def topic_accuracy(self, *, server: str, user_id: str) -> list[tuple[str, int, int]]:
        """(topic, answered, correct) over the member's answers to closed rounds."""
        ...

    # --- schedules ---

    async def set_schedule(
        self, channel: ChannelRef, *, time: str, zone: str, at: datetime
    ) -> None: ...

    async def delete_schedule(self, channel: ChannelRef) -> bool: ...

    async def record_post_error(self, channel: ChannelRef, *, error: str, at: datetime) -> None:
        """Keep why posting failed, for `/dlquiz schedule`; a later delivery clears it."""
        ...

    async def schedule(self, channel: ChannelRef) -> ScheduleRow | None: ...

    async def schedules(self, *, platform: str | None = None) -> list[ScheduleRow]:
        """Every schedule, or those of one platform's servers."""
        ...

    # --- practice ---

    async def practice_rows(self, *, server: str, user_id: str) -> dict[str, PracticeRow]: ...

    async def open_question_ids(self, server: str) -> set[str]:
        """Questions open as a daily question anywhere in the server."""
        ...

    async def ask_practice(
        self,
        *,
        server: str,
        user_id: str,
        question_id: str,
        topic: str,
        filter: str | None,
        at: datetime,
    ) -> None:
        """Remember that the question was shown, so its first press (only) is marked."""
        ...

    async def mark_practice(
        self, *, server: str, user_id: str, question_id: str, correct: bool, at: datetime
    ) -> PracticeMark | None:
        """Move the question to its next box; None when it was not waiting for an answer."""
        ...

    async def mastery(self, *, server: str, user_id: str) -> dict[str, int]: ...
