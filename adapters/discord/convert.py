"""Pure conversions from Discord to the engine's neutral values (the way back is `render`).

A button's custom_id, the caller and the typed options of a slash command become `AnswerPress`,
`Member`, `Invocation` and `bot.commands` values. Nothing here does I/O or needs an event loop,
so all of it is unit-tested on plain values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import discord

from bot import commands as cmd
from bot.models import LETTERS, ChannelRef, Invocation, Member, PageRequest, Period, Topic
from bot.names import clean_name

# Discord's limits for components and autocomplete (discord.py does not check all of them).
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
BUTTONS_PER_ROW = 5
AUTOCOMPLETE_LIMIT = 25
CHOICE_NAME_LIMIT = 100

SERVER_PREFIX = "discord:"
ANSWER_ID_PREFIX = "dlq:a:"
# The custom_id is the whole state of an answer button: which round, which choice. A press after
# a restart is understood from it alone, so no message needs to be remembered. The pattern is the
# DynamicItem template too: an id either matches it exactly or is not ours.
# The round's token (after the dot) tells it from a round that reuses its id after a restore;
# buttons posted before tokens existed have none.
ANSWER_ID_PATTERN = (
    rf"{re.escape(ANSWER_ID_PREFIX)}(?P<round>[1-9][0-9]{{0,17}})(?:\.(?P<token>[0-9a-f]{{8}}))?"
    r":(?P<choice>[A-E])"
)
_ANSWER_ID = re.compile(ANSWER_ID_PATTERN)
# A practice button names the question (ids are `^[a-z0-9][a-z0-9-]{2,63}$` in the bank) and the
# choice: at most 72 characters.
PRACTICE_ID_PREFIX = "dlq:p:"
PRACTICE_ID_PATTERN = (
    rf"{re.escape(PRACTICE_ID_PREFIX)}(?P<question>[a-z0-9][a-z0-9-]{{2,63}}):(?P<choice>[A-E])"
)
_PRACTICE_ID = re.compile(PRACTICE_ID_PATTERN)
# The "Next question" button under a practice result keeps the topic filter: a topic slug (same
# shape as question ids) or `*` for all topics.
PRACTICE_NEXT_ID_PREFIX = "dlq:pn:"
ALL_TOPICS = "*"
PRACTICE_NEXT_ID_PATTERN = (
    rf"{re.escape(PRACTICE_NEXT_ID_PREFIX)}(?P<topic>\*|[a-z0-9][a-z0-9-]{{2,63}})"
)
_PRACTICE_NEXT_ID = re.compile(PRACTICE_NEXT_ID_PATTERN)
# A leaderboard's paging button: the period, the page (0-based, or `me` for the presser's own)
# and the member the leaderboard was made for, who alone may page it.
PAGE_ID_PREFIX = "dlq:lb:"
PAGE_ID_PATTERN = (
    rf"{re.escape(PAGE_ID_PREFIX)}(?P<period>week|month|all):(?P<page>me|[0-9]{{1,6}})"
    r":(?P<owner>[1-9][0-9]{0,19})"
)
_PAGE_ID = re.compile(PAGE_ID_PATTERN)
MY_PAGE = "me"

# What the bot needs in a channel to post the question (embed + buttons) and reply with its reveal.
NEEDED_PERMISSIONS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "read_message_history": "Read Message History",
}

NOT_IN_SERVER = "dlquiz works in server channels, not in direct messages."


def _match(pattern: re.Pattern[str], custom_id: str) -> re.Match[str] | None:
    """The whole custom_id matched by one of our patterns; None if it is not ours or too long."""
    return None if len(custom_id) > CUSTOM_ID_LIMIT else pattern.fullmatch(custom_id)


@dataclass(frozen=True, slots=True)
class AnswerPress:
    round_id: int
    choice: int
    token: str = ""


def answer_custom_id(round_id: int, choice: int, token: str = "") -> str:
    """The custom_id of the button for `choice` (0 = A) of round `round_id`."""
    if not 0 <= choice < len(LETTERS):
        raise ValueError(f"choice {choice} is not one of {LETTERS}")
    key = f"{round_id}.{token}" if token else str(round_id)
    custom_id = f"{ANSWER_ID_PREFIX}{key}:{LETTERS[choice]}"
    if _match(_ANSWER_ID, custom_id) is None:
        raise ValueError(f"round id {round_id} does not fit an answer button's custom_id")
    return custom_id


def parse_answer_custom_id(custom_id: str) -> AnswerPress | None:
    """The press a custom_id stands for; None for anything not made by `answer_custom_id`."""
    match = _match(_ANSWER_ID, custom_id)
    if match is None:
        return None
    return AnswerPress(
        round_id=int(match["round"]),
        choice=LETTERS.index(match["choice"]),
        token=match["token"] or "",
    )


@dataclass(frozen=True, slots=True)
class PracticePress:
    question_id: str
    choice: int


def practice_custom_id(question_id: str, choice: int) -> str:
    """The custom_id of the practice button for `choice` of question `question_id`."""
    if not 0 <= choice < len(LETTERS):
        raise ValueError(f"choice {choice} is not one of {LETTERS}")
    custom_id = f"{PRACTICE_ID_PREFIX}{question_id}:{LETTERS[choice]}"
    if _match(_PRACTICE_ID, custom_id) is None:
        raise ValueError(f"question id {question_id!r} does not fit a practice button's custom_id")
    return custom_id


def parse_practice_custom_id(custom_id: str) -> PracticePress | None:
    match = _match(_PRACTICE_ID, custom_id)
    if match is None:
        return None
    return PracticePress(question_id=match["question"], choice=LETTERS.index(match["choice"]))


@dataclass(frozen=True, slots=True)
class NextPracticePress:
    topic: str | None  # the topic slug the practice is narrowed to; None for all topics


def practice_next_custom_id(topic: str | None) -> str:
    """The custom_id of the "Next question" button, keeping the topic filter (None: all)."""
    custom_id = f"{PRACTICE_NEXT_ID_PREFIX}{ALL_TOPICS if topic is None else topic}"
    if topic == ALL_TOPICS or _match(_PRACTICE_NEXT_ID, custom_id) is None:
        raise ValueError(f"topic {topic!r} does not fit a next-practice button's custom_id")
    return custom_id


def parse_practice_next_custom_id(custom_id: str) -> NextPracticePress | None:
    match = _match(_PRACTICE_NEXT_ID, custom_id)
    if match is None:
        return None
    topic = match["topic"]
    return NextPracticePress(topic=None if topic == ALL_TOPICS else topic)


def page_custom_id(period: Period, page: int | None, owner: str) -> str:
    """The custom_id of a paging button: to `page` (None: the presser's own page)."""
    custom_id = f"{PAGE_ID_PREFIX}{period.value}:{MY_PAGE if page is None else page}:{owner}"
    if _match(_PAGE_ID, custom_id) is None:
        raise ValueError(f"page {page!r} of {owner!r} does not fit a paging button's custom_id")
    return custom_id


def parse_page_custom_id(custom_id: str) -> PageRequest | None:
    match = _match(_PAGE_ID, custom_id)
    if match is None:
        return None
    page = None if match["page"] == MY_PAGE else int(match["page"])
    return PageRequest(period=Period(match["period"]), page=page, owner=match["owner"])


def server_key(guild_id: int) -> str:
    return f"{SERVER_PREFIX}{guild_id}"


def channel_ref(*, guild_id: int, channel_id: int) -> ChannelRef:
    return ChannelRef(server=server_key(guild_id), channel=str(channel_id))


def is_admin(permissions: discord.Permissions) -> bool:
    """Manage Server makes an admin; Administrator implies every permission, that one included."""
    return permissions.manage_guild or permissions.administrator


def to_member(
    *, guild_id: int, user_id: int, display_name: str, permissions: discord.Permissions
) -> Member:
    return Member(
        server=server_key(guild_id),
        user_id=str(user_id),
        name=clean_name(display_name, fallback=str(user_id)),
        is_admin=is_admin(permissions),
    )


class _Caller(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def display_name(self) -> str: ...


class InteractionLike(Protocol):
    """The few attributes of a `discord.Interaction` that say who acted where."""

    @property
    def guild_id(self) -> int | None: ...

    @property
    def channel_id(self) -> int | None: ...

    @property
    def user(self) -> _Caller: ...

    @property
    def permissions(self) -> discord.Permissions: ...


def invocation_of(interaction: InteractionLike) -> Invocation | None:
    """Who acted in which channel; None outside a server (a DM), where the quiz does not run."""
    guild_id, channel_id = interaction.guild_id, interaction.channel_id
    if guild_id is None or channel_id is None:
        return None
    user = interaction.user
    member = to_member(
        guild_id=guild_id,
        user_id=user.id,
        display_name=user.display_name,
        permissions=interaction.permissions,
    )
    return Invocation(channel=channel_ref(guild_id=guild_id, channel_id=channel_id), member=member)


def leaderboard_command(period: str | None) -> cmd.ShowLeaderboard:
    """Discord offers the periods as choices; the value is still checked, as a payload can lie."""
    return cmd.ShowLeaderboard(cmd.parse_period(period)) if period else cmd.ShowLeaderboard()


def stats_command(user_id: int | None) -> cmd.ShowStats:
    # The engine looks a member up by id first, and Discord hands us the picked user's id.
    return cmd.ShowStats(user=str(user_id) if user_id is not None else None)


def practice_command(topic: str | None) -> cmd.Practice:
    return cmd.Practice((topic.strip() or None) if topic else None)


def schedule_command(time: str | None, zone: str | None) -> cmd.Command:
    """`schedule` with no option shows it, `off` stops it, `HH:MM [zone]` sets it."""
    time = time.strip() if time else None
    zone = zone.strip() if zone else None
    if not time:
        if zone:
            raise cmd.CommandError(
                f"a zone needs a time: use `/dlquiz {cmd.USAGE['schedule']}`"
                " (for example time 09:00 zone Europe/Berlin)"
            )
        return cmd.ShowSchedule()
    if time.lower() == "off":
        if zone:
            raise cmd.CommandError("`schedule off` takes no zone: use `/dlquiz schedule off`")
        return cmd.ScheduleOff()
    return cmd.parse_schedule([time, zone] if zone else [time])


def zone_choices(current: str, names: Sequence[str]) -> list[str]:
    """Zone names for autocomplete: names starting with what was typed first, then the rest
    containing it, at most Discord's 25."""
    typed = current.strip().lower().replace(" ", "_")
    starts = [n for n in names if n.lower().startswith(typed)]
    if len(starts) >= AUTOCOMPLETE_LIMIT:
        return starts[:AUTOCOMPLETE_LIMIT]
    inside = [n for n in names if typed in n.lower() and not n.lower().startswith(typed)]
    return (starts + inside)[:AUTOCOMPLETE_LIMIT]


def topic_choices(current: str, topics: Iterable[Topic]) -> list[tuple[str, str]]:
    """(shown name, value) pairs for the practice topic autocomplete."""
    typed = current.strip().lower()
    hits = [
        (t.title[:CHOICE_NAME_LIMIT], t.slug)
        for t in topics
        if typed in t.slug or typed in t.title.lower()
    ]
    return hits[:AUTOCOMPLETE_LIMIT]


def missing_permissions(app_permissions: discord.Permissions) -> list[str]:
    """What the bot lacks in a channel to post there, by the names Discord's settings show."""
    if app_permissions.administrator:
        return []
    return [
        label for flag, label in NEEDED_PERMISSIONS.items() if not getattr(app_permissions, flag)
    ]
