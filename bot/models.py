"""Neutral values that cross the seam between the engine and a platform adapter.

Everything here is a frozen dataclass with no reference to a chat SDK or a raw payload, so an
adapter can only tell the engine what happened and render what the engine answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

LETTERS = "ABCDE"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class CodeSnippet:
    """A short piece of code a question is about, shown as a code block under the prompt."""

    language: str  # python | text
    text: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    topic: str
    difficulty: Difficulty
    prompt: str
    choices: tuple[str, ...]
    answer: int
    explanation: str
    source: tuple[str, ...] = ()
    topic_title: str = ""
    code: CodeSnippet | None = None

    @property
    def answer_letter(self) -> str:
        return LETTERS[self.answer]

    @property
    def topic_label(self) -> str:
        """How members see the topic: its title, or the slug where none was given."""
        return self.topic_title or self.topic


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    title: str
    count: int


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel inside one server. `server` carries the platform, e.g. `discord:1234`."""

    server: str
    channel: str


@dataclass(frozen=True, slots=True)
class Member:
    """Who pressed or typed: identity inside one server, and the rights the platform granted."""

    server: str
    user_id: str
    name: str
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class Invocation:
    channel: ChannelRef
    member: Member


# --- what the engine posts in a channel -------------------------------------------------------


def post_key(round_id: int, token: str, step: str) -> str:
    """The key of one post of a round (`q` its question, `r` its reveal), the same for every
    attempt: at most 25 characters, Discord's limit for a nonce."""
    return f"dlq{round_id}{token}{step}"[:25]


@dataclass(frozen=True, slots=True)
class QuestionPost:
    round_id: int
    channel: ChannelRef
    question: Question
    posted_at: datetime
    reveal_at: datetime | None
    message_ref: str | None = None
    token: str = ""  # the round's token, carried by its buttons (see bot.store.sqlite migration 4)
    # The role (Discord) or user group (Slack) the channel's settings ping with each question;
    # the post mentions it and nobody else.
    ping: str | None = None

    @property
    def nonce(self) -> str:
        """The same for every attempt to post this question, so a platform that deduplicates
        by nonce (Discord) never shows it twice."""
        return post_key(self.round_id, self.token, "q")


@dataclass(frozen=True, slots=True)
class RevealPost:
    round_id: int
    channel: ChannelRef
    question: Question
    tally: tuple[int, ...]
    message_ref: str | None
    token: str = ""
    # Closed without a reveal: a question whose post got no answer, found in the channel after
    # its round had closed. Its closed form says so and shows no answer.
    withdrawn: bool = False

    @property
    def nonce(self) -> str:
        return post_key(self.round_id, self.token, "r")

    @property
    def answered(self) -> int:
        return sum(self.tally)

    @property
    def correct(self) -> int:
        return self.tally[self.question.answer]


# --- what the engine answers to one caller, only for them --------------------------------------


class Tone(StrEnum):
    INFO = "info"
    OK = "ok"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    tone: Tone = Tone.INFO


@dataclass(frozen=True, slots=True)
class QuestionCard:
    """The open question shown to one member; buttons only while `answered_choice` is None."""

    post: QuestionPost
    answered_choice: int | None


@dataclass(frozen=True, slots=True)
class Standing:
    rank: int
    user_id: str
    name: str
    points: int
    answered: int
    correct: int


LEADERBOARD_PAGE = 10


@dataclass(frozen=True, slots=True)
class LeaderboardCard:
    """One page of a period's leaderboard, made for one member (`viewer`): only they page it."""

    period: Period
    rows: tuple[Standing, ...]
    caller: Standing | None
    ranked: int
    page: int = 0  # 0-based
    viewer: str = ""
    # The caller holds points and is not on this page: "My page" leads somewhere.
    caller_elsewhere: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.ranked // LEADERBOARD_PAGE))


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A press on a leaderboard's paging buttons: a page (0-based) or, with None, the presser's
    own; `owner` is the member the leaderboard was made for."""

    period: Period
    page: int | None
    owner: str


@dataclass(frozen=True, slots=True)
class TopicAccuracy:
    topic: str
    answered: int
    correct: int
    title: str = ""

    @property
    def label(self) -> str:
        return self.title or self.topic


@dataclass(frozen=True, slots=True)
class TopicMastery:
    topic: str
    title: str
    mastered: int
    total: int


@dataclass(frozen=True, slots=True)
class TopicBoxes:
    """How many of a topic's practised questions sit in each spaced-repetition box."""

    topic: str
    title: str
    counts: tuple[int, ...]  # boxes 1 to 5


@dataclass(frozen=True, slots=True)
class WeekActivity:
    """A member's daily answers in one ISO week (UTC) that starts on `monday`."""

    monday: date
    answered: int
    correct: int


@dataclass(frozen=True, slots=True)
class StatsCard:
    user_id: str
    name: str
    points: int
    rank: int | None
    ranked: int
    answered: int
    correct: int
    current_streak: int
    longest_streak: int
    topics: tuple[TopicAccuracy, ...] = ()
    mastery: tuple[TopicMastery, ...] = ()
    boxes: tuple[TopicBoxes, ...] = ()
    weeks: tuple[WeekActivity, ...] = ()
    # The card drawn as a PNG, None when drawing failed: the numbers above still go out.
    chart: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True, slots=True)
class ScheduleCard:
    time: str | None
    zone: str | None
    next_post_at: datetime | None
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TopicsCard:
    topics: tuple[Topic, ...]
    mastered: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PracticeCard:
    """A practice question for one member; `topic` is the filter it was drawn under."""

    question: Question
    topic: Topic | None
    due: int
    new: int


@dataclass(frozen=True, slots=True)
class PracticeResult:
    question: Question
    choice: int
    correct: bool
    box: int
    next_due_at: datetime
    topic: str | None

    @property
    def choice_letter(self) -> str:
        return LETTERS[self.choice]


# --- item analysis (bot/insights.py works these out) ---------------------------------------------


class Flag(StrEnum):
    MISKEYED = "likely miskeyed or ambiguous"
    TOO_EASY = "too easy"
    TOO_HARD = "too hard"
    UNUSED_CHOICE = "a choice almost nobody picks"
    LABEL = "difficulty label contradicted"


@dataclass(frozen=True, slots=True)
class FlagNote:
    flag: Flag
    reason: str


@dataclass(frozen=True, slots=True)
class ItemStats:
    """One question's analysis, over one server's answers or (server None) every server's."""

    question_id: str
    server: str | None
    topic: str
    difficulty: str
    prompt: str
    choices: tuple[str, ...]
    answer: int
    answers: int
    right: int
    counts: tuple[int, ...]  # per choice, every answer
    top: tuple[int, ...]  # per choice, the top group
    bottom: tuple[int, ...]  # per choice, the bottom group
    discrimination: float | None
    flags: tuple[FlagNote, ...]
    min_answers: int  # below this many answers no flag is raised

    @property
    def share_right(self) -> float:
        """The difficulty index: the share of answers that were right."""
        return self.right / self.answers if self.answers else 0.0

    @property
    def enough(self) -> bool:
        return self.answers >= self.min_answers

    @property
    def answer_letter(self) -> str:
        return LETTERS[self.answer]

    def share(self, choice: int) -> float:
        return self.counts[choice] / self.answers if self.answers else 0.0


@dataclass(frozen=True, slots=True)
class InsightsCard:
    """How a server's questions performed, for an admin: what needs attention, then the best
    and worst discriminating questions."""

    attention: tuple[ItemStats, ...]
    best: tuple[ItemStats, ...]
    worst: tuple[ItemStats, ...]
    questions: int  # answered questions analysed
    answers: int
    min_answers: int


@dataclass(frozen=True, slots=True)
class ItemCard:
    """One question's full analysis in one server."""

    item: ItemStats


# --- a server's own questions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    """A suggested question as typed into the form: five texts, which fit a Discord modal."""

    prompt: str = ""
    choices: str = ""  # one per line, the right one starting with `*`
    explanation: str = ""
    topic: str = ""  # "TOPIC DIFFICULTY", e.g. "optimisation medium"
    code: str = ""  # optional Python


@dataclass(frozen=True, slots=True)
class SuggestForm:
    """Open the suggestion form for the caller: empty, or an admin's edit of question `edit_of`
    (pre-filled), or a form sent back with what is wrong in each field (`problems`)."""

    draft: Draft = Draft()
    edit_of: int | None = None
    problems: tuple[tuple[str, str], ...] = ()  # (field, reason)


@dataclass(frozen=True, slots=True)
class ReviewCard:
    """One of the server's questions for an admin: a pending one with Approve, Edit and Reject;
    an approved one with Edit and Remove."""

    id: int
    question: Question
    author_name: str
    status: str
    pending: int


@dataclass(frozen=True, slots=True)
class ServerQuestionItem:
    id: int
    status: str
    topic: str
    difficulty: str
    prompt: str
    author_name: str


@dataclass(frozen=True, slots=True)
class ServerQuestionList:
    items: tuple[ServerQuestionItem, ...]


@dataclass(frozen=True, slots=True)
class SettingsCard:
    source: str
    topics: tuple[str, ...]
    difficulty: str | None
    thread: bool
    ping: str | None
    pool: int  # how many questions the draw can choose from now


Reply = (
    Notice
    | QuestionCard
    | LeaderboardCard
    | StatsCard
    | ScheduleCard
    | TopicsCard
    | PracticeCard
    | PracticeResult
    | InsightsCard
    | ItemCard
    | SuggestForm
    | ReviewCard
    | ServerQuestionList
    | SettingsCard
)
