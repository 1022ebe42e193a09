"""The seam between the engine and its database: the value types and the `Store` protocol.

The engine, the scheduler and the adapters only ever see this module. Each backend (`sqlite/`,
`postgres/`) implements the protocol with the same guarantees, checked by one conformance suite
(`tests/store/`): an answer is acknowledged only after its transaction committed; the first answer
is final and a repeated delivery records nothing; a channel has at most one daily round per local
day; a round is scored exactly once, when it closes, whatever process closes it.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from bot.models import ChannelRef, Period

HANDLED_REQUESTS_KEPT = timedelta(days=1)


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
    # The round's token as the button carries it; '' for buttons from before tokens existed.
    token: str = ""


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
    token: str = ""
    question: str | None = None  # the question as asked (bot.snapshot), None before schema 4

    @property
    def channel_ref(self) -> ChannelRef:
        return ChannelRef(self.server, self.channel)

    @property
    def delivered(self) -> bool:
        """Its question reached the channel (only then can it be answered, closed and scored)."""
        return bool(self.message_ref)


@dataclass(frozen=True, slots=True)
class NewRound:
    question_id: str
    topic: str
    difficulty: str
    choice_count: int
    answer: int
    base_points: int
    token: str
    snapshot: str


class DeliveryKind(StrEnum):
    QUESTION = "question"  # post the round's question
    REVEAL = "reveal"  # post the closed round's reveal
    CLOSE = "close"  # edit the question message so its buttons stop taking answers; best effort
    # open a discussion thread on the question message, once its reveal is marked; best effort
    THREAD = "thread"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One post a channel must receive, claimed by one process until it is marked or released."""

    id: int
    round_id: int
    server: str
    channel: str
    kind: DeliveryKind
    attempts: int
    # An earlier claim ended neither posted nor failed: its process died while posting, so the
    # platform may hold the message already.
    in_doubt: bool = False
    # What posting it needs, read by the claim itself (one trip to the database, not three):
    # its round (None if the round is gone) and the channel's settings (None: the defaults).
    round: RoundRow | None = None
    settings: ChannelSettings | None = None

    @property
    def channel_ref(self) -> ChannelRef:
        return ChannelRef(self.server, self.channel)


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
class Standing:
    """Where one member stands in a period's leaderboard, read at once."""

    score: ScoreRow | None  # None: no score row in the period
    rank: int | None  # shared by equal points; None without points
    ranked: int  # members holding any points
    place: int | None  # 1-based place in `Store.leaderboard`'s order; None without points


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
    # When a process should next look at it; None for a schedule set or changed since the last
    # look (the process that claims it works out the time from the schedule itself).
    next_due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Shards:
    """The Discord shards one process serves, of `count` in all: a guild is on shard
    `(guild_id >> 22) % count`, and only the process serving that shard posts in its channels."""

    count: int
    ids: frozenset[int]

    def shard_of(self, server: str) -> int | None:
        """The shard of a `discord:<guild id>` server key; None for any other key."""
        platform, _, guild = server.partition(":")
        if platform != "discord" or not guild.isdigit():
            return None
        return (int(guild) >> 22) % self.count

    def owns(self, server: str) -> bool:
        return self.shard_of(server) in self.ids


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


@dataclass(frozen=True, slots=True)
class ItemRound:
    """A closed daily round as item analysis needs it: which question, keyed how, kept how."""

    id: int
    server: str
    question_id: str
    topic: str
    difficulty: str
    choice_count: int
    answer: int
    posted_at: datetime
    question: str | None  # the question as asked (bot.snapshot), None before schema 4


class SuggestionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # in the server's own set, drawn by channels that use it
    REJECTED = "rejected"
    REMOVED = "removed"  # taken out of the set by an admin after it was approved


@dataclass(frozen=True, slots=True)
class NewServerQuestion:
    """A question for one server's own set: `key` is its id inside the server, `question` the
    question as `bot.snapshot` writes it."""

    key: str
    question: str
    status: SuggestionStatus
    author_id: str
    author_name: str
    channel: str


@dataclass(frozen=True, slots=True)
class ServerQuestionRow:
    id: int
    server: str
    key: str
    question: str
    status: SuggestionStatus
    author_id: str
    author_name: str
    channel: str
    created_at: datetime
    decided_at: datetime | None
    reason: str | None
    told: bool  # the author has been told the outcome


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """What a channel's daily questions are drawn from, and how they are posted."""

    source: str = "bank"  # bank | server | both
    topics: tuple[str, ...] = ()  # empty: every topic
    difficulty: str | None = None  # None: any
    thread: bool = True  # a discussion thread at the reveal, where the platform has them
    ping: str | None = None  # a platform role id

    @classmethod
    def from_columns(cls, row: Sequence[Any]) -> ChannelSettings:
        """From the stored columns, in SETTINGS_COLUMNS' order (both backends store them alike:
        topics comma-separated)."""
        source, topics, difficulty, thread, ping = row
        return cls(source, tuple(t for t in topics.split(",") if t), difficulty, bool(thread), ping)


# The columns of a channel's settings, `s` being channel_settings, as from_columns reads them.
SETTINGS_COLUMNS = "s.source, s.topics, s.difficulty, s.thread, s.ping"


@dataclass(frozen=True, slots=True)
class DrawState:
    """What a channel's daily draw depends on: its settings (None: never set) and the questions
    asked in its current cycle (a cycle ends once every question in its pool was asked)."""

    settings: ChannelSettings | None
    cycle: int
    posted: set[str]
    last: str | None  # the question asked last

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> DrawState:
        """From at least one row of (cycle, question_id, *SETTINGS_COLUMNS), ordered by round:
        the settings on every row (NULL when never set), a round on each (NULL when none)."""
        first = rows[0]
        settings = ChannelSettings.from_columns(first[2:]) if first[2] is not None else None
        posted = [row[1] for row in rows if row[1] is not None]
        return cls(
            settings=settings,
            cycle=first[0] if posted else 1,
            posted=set(posted),
            last=posted[-1] if posted else None,
        )


@dataclass(frozen=True, slots=True)
class ItemColumns:
    """The closed rounds and their answers as columns, one entry per answer: what item analysis
    reads, for one server or for the report's millions, without a Python object (or a parsed
    time) for each answer.

    Members are numbered from 0 per (server, user id), in the order of their first answer as
    read (by round, then user id): item analysis breaks ties between members by that order.
    """

    rounds: list[ItemRound]
    round_ids: array[int] = field(default_factory=lambda: array("q"))
    members: array[int] = field(default_factory=lambda: array("q"))
    choices: array[int] = field(default_factory=lambda: array("q"))
    correct: array[int] = field(default_factory=lambda: array("b"))  # 1 right, 0 wrong
    days: list[tuple[date, int]] = field(default_factory=list)  # answers per UTC day, oldest first

    def __len__(self) -> int:
        return len(self.round_ids)


# Every table that holds a server's rows, and which of its rows are that server's (`{p}` is the
# server key's placeholder), in an order that deletes what refers to a round before the round.
SERVER_ROWS: tuple[tuple[str, str], ...] = (
    ("answers", "round_id IN (SELECT id FROM rounds WHERE server = {p})"),
    ("deliveries", "server = {p}"),
    ("rounds", "server = {p}"),
    ("members", "server = {p}"),
    ("scores", "server = {p}"),
    ("score_counts", "server = {p}"),
    ("schedules", "server = {p}"),
    ("practice", "server = {p}"),
    ("server_questions", "server = {p}"),
    ("channel_settings", "server = {p}"),
    ("home_views", "server = {p}"),
)

# The tables slack-sdk's stores make where one Slack app serves many workspaces, and which of
# their rows are a workspace's (`{p}` is its team id). Elsewhere they do not exist.
INSTALLATION_ROWS: tuple[tuple[str, str], ...] = (
    ("slack_installations", "team_id = {p}"),
    ("slack_bots", "team_id = {p}"),
)
SLACK_SERVER_PREFIX = "slack:"


def installation_team(server: str) -> str | None:
    """The team id whose installation rows a server key owns: Slack workspaces only."""
    if server.startswith(SLACK_SERVER_PREFIX):
        return server.removeprefix(SLACK_SERVER_PREFIX) or None
    return None


MEMBER_KEY_SEPARATOR = "\x1f"  # joins server and user id in SQL: no server key contains it


class ItemColumnsBuilder:
    """Appends answers read in batches to `ItemColumns`, numbering members as they come."""

    def __init__(self, rounds: list[ItemRound]) -> None:
        self.columns = ItemColumns(rounds=rounds)
        self._members: dict[str, int] = {}
        self._days: Counter[str] = Counter()

    def add(
        self,
        round_ids: Sequence[int],
        member_keys: Sequence[str],
        choices: Sequence[int],
        correct: Sequence[int],
    ) -> None:
        """One batch; `member_keys` are server and user id joined by MEMBER_KEY_SEPARATOR."""
        c, numbers = self.columns, self._members
        c.round_ids.extend(round_ids)
        c.choices.extend(choices)
        c.correct.extend(correct)
        # Loops in C where it matters: only a batch's distinct members pass through Python.
        for key in dict.fromkeys(member_keys):
            if key not in numbers:
                numbers[key] = len(numbers)
        c.members.extend(map(numbers.__getitem__, member_keys))

    def add_days(self, days: Iterable[str] | Mapping[str, int]) -> None:
        """UTC days as ISO text (`2026-03-02`), one per answer or already counted."""
        self._days.update(days)

    def finish(self) -> ItemColumns:
        self.columns.days.extend(
            sorted((date.fromisoformat(day), count) for day, count in self._days.items())
        )
        return self.columns


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

        Returns None, opening nothing, when `day` already has its daily round in this channel.
        Either way the channel's waiting deliveries (a reveal that failed earlier, say) become
        due at once: the new question queues behind them.
        """
        ...

    async def close_round(self, channel: ChannelRef, at: datetime) -> RoundRow | None:
        """Close (and score) the channel's open round; it, or None when none was open.

        Closing a delivered round queues its reveal; closing one whose question never reached
        the channel drops that question's delivery: it was never seen, so nothing is revealed.
        The channel's waiting deliveries become due at once, whether or not a round was open.
        """
        ...

    async def round_by_id(self, round_id: int) -> RoundRow | None: ...

    async def open_round(self, channel: ChannelRef) -> RoundRow | None: ...

    async def open_rounds(self, *, platform: str | None = None) -> list[RoundRow]:
        """Every open round (of one platform's servers), oldest first."""
        ...

    # --- deliveries: recorded with the round, claimed, posted, marked, retried ---

    async def claim_delivery(
        self, channel: ChannelRef, *, worker: str, now: datetime, lease: timedelta
    ) -> Delivery | None:
        """Claim the channel's oldest undone delivery for `lease`, if it is due and nobody holds
        it; None otherwise (a later delivery never overtakes an earlier one). The delivery
        comes with its round and the channel's settings."""
        ...

    async def finish_delivery(
        self, delivery_id: int, *, message_ref: str | None, at: datetime
    ) -> bool:
        """Mark a delivery done once the platform accepted it. A question's message is kept
        (and clears the channel's posting error); a reveal queues the edit that closes the
        question's buttons. True when the channel has undone deliveries left (due or not)."""
        ...

    async def fail_delivery(
        self,
        delivery_id: int,
        *,
        error: str,
        retry_at: datetime,
        give_up: bool,
        at: datetime,
        ambiguous: bool = False,
    ) -> None:
        """Release a failed delivery for a retry at `retry_at`, or end it when `give_up`. An
        `ambiguous` failure (a timeout, a dropped connection) may have posted all the same: the
        retry then looks for the post first, as after a crash (`Delivery.in_doubt`)."""
        ...

    async def abandon_deliveries(self, *, server: str, reason: str, at: datetime) -> int:
        """End every undone delivery of `server` as failed with `reason` (a workspace that
        removed the app: nothing can be posted there any more); how many."""
        ...

    async def release_deliveries(self, *, worker: str) -> int:
        """Hand back every undone delivery `worker` holds (at a graceful stop); how many."""
        ...

    async def due_delivery_channels(
        self, *, platform: str | None, now: datetime, limit: int = 100, shards: Shards | None = None
    ) -> list[ChannelRef]:
        """Channels with an undone delivery that is due and unclaimed (of `shards` only, when
        given: a Discord process leaves other shards' channels to the processes serving them)."""
        ...

    async def deliveries_of(self, round_id: int) -> dict[DeliveryKind, tuple[str | None, int]]:
        """The round's deliveries: kind -> (outcome, attempts); outcome None while undone."""
        ...

    async def draw_state(self, channel: ChannelRef) -> DrawState:
        """What the channel's next daily draw reads, in one query: its settings and its
        current cycle of questions."""
        ...

    async def tally(self, round_id: int, choice_count: int) -> tuple[int, ...]: ...

    async def choice_of(self, round_id: int, user_id: str) -> int | None: ...

    async def daily_round_exists(self, channel: ChannelRef, day: date) -> bool: ...

    # --- scores ---

    async def leaderboard(
        self, *, server: str, period: str, limit: int = 10, offset: int = 0
    ) -> list[tuple[int, ScoreRow]]:
        """`limit` members with points from place `offset` on (ordered by points, then user id),
        ranked; members with equal points share a rank, on whatever page each of them falls."""
        ...

    async def position_of(self, *, server: str, period: str, user_id: str) -> int | None:
        """The member's 1-based place in `leaderboard`'s order; None without points."""
        ...

    async def score_of(self, *, server: str, period: str, user_id: str) -> ScoreRow | None: ...

    async def standing(
        self, *, server: str, period: str, user_id: str, with_place: bool = True
    ) -> Standing:
        """The member's score, rank and place, and how many members are ranked: what a
        leaderboard card needs besides its page, in one read. The place (which counts the
        members tied with them who sort first: the one part whose cost grows with the board)
        is left None without `with_place`."""
        ...

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

    # --- requests ---

    async def first_time(self, key: str, at: datetime) -> bool:
        """True for the first call with `key`, False for every later one, in any process.

        For requests a platform may deliver twice (a replayed signed request): the caller
        acts only on True. Keys are kept a day (HANDLED_REQUESTS_KEPT), longer than any platform
        accepts a replay, then forgotten.
        """
        ...

    async def answer_days(
        self, *, server: str, user_id: str, since: date
    ) -> list[tuple[date, int, int]]:
        """(UTC day, answered, correct) of the member's answers to closed rounds, from `since`
        on, oldest first; days without an answer are left out."""
        ...

    # --- members who keep a view of their standing (Slack's Home tab) ---

    async def record_home_opened(self, *, server: str, user_id: str, at: datetime) -> None:
        """Remember that the member opened their Home view (the latest time is kept)."""
        ...

    async def home_viewers(self, round_id: int) -> list[str]:
        """The user ids, in order, of the members who answered the round and have opened their
        Home view in the round's server: whose Home its scoring changed."""
        ...

    # --- schedules ---

    async def set_schedule(
        self, channel: ChannelRef, *, time: str, zone: str, at: datetime
    ) -> None: ...

    async def delete_schedule(self, channel: ChannelRef) -> bool: ...

    async def forget_server(self, server: str) -> dict[str, int]:
        """Delete every row of one server in one transaction (after an uninstall, or on its
        request): rows deleted per table of `SERVER_ROWS`, in its order, then, for a Slack
        workspace, per table of `INSTALLATION_ROWS` that the database has."""
        ...

    async def record_post_error(self, channel: ChannelRef, *, error: str, at: datetime) -> None:
        """Keep why posting failed, for `/dlquiz schedule`; a later delivery clears it."""
        ...

    async def schedule(self, channel: ChannelRef) -> ScheduleRow | None: ...

    async def schedules(self, *, platform: str | None = None) -> list[ScheduleRow]:
        """Every schedule, or those of one platform's servers."""
        ...

    async def claim_due_schedules(
        self,
        *,
        platform: str | None,
        now: datetime,
        worker: str,
        lease: timedelta,
        limit: int = 50,
        shards: Shards | None = None,
    ) -> list[ScheduleRow]:
        """Claim for `lease` the schedules that are due (`next_due_at` reached, or not worked out
        yet) and that no other process holds; earliest first. Two processes never get the same
        schedule while its lease runs."""
        ...

    async def finish_schedule(
        self, channel: ChannelRef, *, worker: str, next_due_at: datetime
    ) -> bool:
        """Hand back a claimed schedule with its next due time; False (changing nothing) when
        `worker` no longer holds it: it was changed, removed or taken over meanwhile."""
        ...

    # --- Discord logins ---

    async def reserve_identify(self, *, bucket: int, now: datetime, spacing: timedelta) -> datetime:
        """Reserve the next login slot of an identify bucket, across every process on the
        database: the moment this login may start, at least `spacing` after the one before."""
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

    async def practice_boxes(self, *, server: str, user_id: str) -> list[tuple[str, int, int]]:
        """(topic, box, questions) of the member's practice, by topic then box; questions shown
        but never answered (box 0) are left out."""
        ...

    # --- item analysis ---

    async def item_columns(self, server: str | None) -> ItemColumns:
        """Every closed round of one server (of every server when None) and its answers, from
        one snapshot, as columns. Open rounds are left out: their answers must not tell anyone
        what is right before the reveal."""
        ...

    # --- a server's own questions and channel settings ---

    async def add_server_questions(
        self, *, server: str, questions: list[NewServerQuestion], at: datetime
    ) -> list[int]:
        """Add every question in one transaction (all or none); a `key` the server already
        uses replaces that question. Returns their ids."""
        ...

    async def server_questions(
        self, *, server: str, status: SuggestionStatus | None = None
    ) -> list[ServerQuestionRow]:
        """The server's questions (of one status), oldest first."""
        ...

    async def server_question(self, *, server: str, id: int) -> ServerQuestionRow | None: ...

    async def decide_server_question(
        self,
        *,
        server: str,
        id: int,
        status: SuggestionStatus,
        question: str | None,
        reason: str | None,
        at: datetime,
    ) -> bool:
        """Set the question's status (and its text, when given); its author has yet to be told.
        False when the server has no such question."""
        ...

    async def untold_outcomes(self, *, server: str, author_id: str) -> list[ServerQuestionRow]:
        """The author's approved or rejected suggestions they have not been told about."""
        ...

    async def mark_told(self, *, server: str, ids: list[int]) -> None: ...

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings | None: ...

    async def set_channel_settings(
        self, channel: ChannelRef, settings: ChannelSettings, *, at: datetime
    ) -> None: ...
