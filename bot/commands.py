"""The `/dlquiz` subcommands as neutral values, and the parser for their text form.

Slack and the terminal hand the engine the text after `/dlquiz`; Discord builds the same values
from typed options. Either way the engine sees one of the dataclasses below, or a CommandError
whose message names what is wrong and the right form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from bot.models import Period
from bot.schedule import ScheduleError, parse_time, parse_zone

MAX_COMMAND_TEXT = 500


class CommandError(ValueError):
    """Bad subcommand or arguments; the message is shown to the caller as it is."""


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class ShowQuestion:
    pass


@dataclass(frozen=True, slots=True)
class ShowLeaderboard:
    period: Period = Period.ALL


@dataclass(frozen=True, slots=True)
class ShowStats:
    user: str | None = None  # a platform user id, or a display name to look up


@dataclass(frozen=True, slots=True)
class ShowTopics:
    pass


@dataclass(frozen=True, slots=True)
class Practice:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class ShowSchedule:
    pass


@dataclass(frozen=True, slots=True)
class SetSchedule:
    at: time
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class ScheduleOff:
    pass


@dataclass(frozen=True, slots=True)
class PostNow:
    pass


@dataclass(frozen=True, slots=True)
class RevealNow:
    pass


@dataclass(frozen=True, slots=True)
class ShowInsights:
    question_id: str | None = None


class Suggest:
    pass


@dataclass(frozen=True, slots=True)
class Review:
    """`review` alone: the oldest pending suggestion; else one action on question `id`."""

    action: str = "next"  # next | list | show | approve | edit | reject | remove
    id: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """Bare `settings` shows them; each given field changes, the others stay."""

    source: str | None = None
    topics: tuple[str, ...] | None = None  # () is all
    difficulty: str | None = None  # "any" clears it
    thread: bool | None = None
    ping: str | None = None  # "off" clears it

    @property
    def changes(self) -> bool:
        return any(
            v is not None
            for v in (self.source, self.topics, self.difficulty, self.thread, self.ping)
        )


Command = (
    Help
    | ShowQuestion
    | ShowLeaderboard
    | ShowStats
    | ShowTopics
    | Practice
    | ShowSchedule
    | SetSchedule
    | ScheduleOff
    | PostNow
    | RevealNow
    | ShowInsights
    | Suggest
    | Review
    | Settings
)

ADMIN_COMMANDS = (SetSchedule, ScheduleOff, PostNow, RevealNow, ShowInsights)

USAGE = {
    "help": "help",
    "question": "question",
    "leaderboard": "leaderboard [week|month|all]",
    "stats": "stats [user]",
    "practice": "practice [topic]",
    "topics": "topics",
    "schedule": "schedule | schedule HH:MM [Area/City] | schedule off",
    "post": "post",
    "reveal": "reveal",
    "insights": "insights [question id]",
    "suggest": "suggest",
    "review": "review [list|show ID|approve ID|edit ID|reject ID [REASON]|remove ID]",
    "settings": "settings [source bank|server|both] [topics LIST|all]"
    " [difficulty easy|medium|hard|any] [thread on|off] [ping ROLE|off]",
}

# Slack writes a mention as <@U123> or <@U123|name>; Discord as <@123> or <@!123>.
_MENTION = re.compile(r"^<@!?([\w.-]+)(?:\|[^>]*)?>$")


def _shown(text: str, limit: int = 40) -> str:
    flat = "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _no_more(sub: str, rest: list[str]) -> None:
    if rest:
        raise CommandError(
            f"`{sub}` takes no argument '{_shown(' '.join(rest))}': use `/dlquiz {USAGE[sub]}`"
        )


def parse_period(text: str) -> Period:
    try:
        return Period(text.strip().lower())
    except ValueError:
        raise CommandError(
            f"unknown period '{_shown(text)}': use `/dlquiz {USAGE['leaderboard']}`"
        ) from None


def parse_schedule(words: list[str]) -> SetSchedule:
    if len(words) > 2:
        raise CommandError(f"too many arguments: use `/dlquiz {USAGE['schedule']}`")
    try:
        at = parse_time(words[0])
        zone = parse_zone(words[1]) if len(words) > 1 else ZoneInfo("UTC")
    except ScheduleError as exc:
        raise CommandError(f"{exc} (`/dlquiz {USAGE['schedule']}`)") from None
    return SetSchedule(at=at, zone=zone)


def parse_user(text: str) -> str:
    mention = _MENTION.match(text.strip())
    return mention[1] if mention else text.strip().lstrip("@")


def parse_command(text: str) -> Command:
    """Parse the text after `/dlquiz`; an empty text is `help`."""
    if len(text) > MAX_COMMAND_TEXT:
        raise CommandError(
            f"that command is {len(text)} characters long; type `/dlquiz help` for the usage"
        )
    words = text.split()
    if not words:
        return Help()
    sub, rest = words[0].lower(), words[1:]
    if sub == "help":
        return Help()
    if sub == "question":
        _no_more(sub, rest)
        return ShowQuestion()
    if sub == "leaderboard":
        if len(rest) > 1:
            raise CommandError(f"too many arguments: use `/dlquiz {USAGE[sub]}`")
        return ShowLeaderboard(parse_period(rest[0]) if rest else Period.ALL)
    if sub == "stats":
        return ShowStats(parse_user(" ".join(rest)) if rest else None)
    if sub == "topics":
        _no_more(sub, rest)
        return ShowTopics()
    if sub == "practice":
        return Practice(" ".join(rest) if rest else None)
    if sub == "schedule":
        if not rest:
            return ShowSchedule()
        if len(rest) == 1 and rest[0].lower() == "off":
            return ScheduleOff()
        return parse_schedule(rest)
    if sub == "post":
        _no_more(sub, rest)
        return PostNow()
    if sub == "reveal":
        _no_more(sub, rest)
        return RevealNow()
    if sub == "insights":
        if len(rest) > 1:
            raise CommandError(f"too many arguments: use `/dlquiz {USAGE[sub]}`")
        return ShowInsights(rest[0] if rest else None)
    if sub == "suggest":
        _no_more(sub, rest)
        return Suggest()
    if sub == "review":
        return parse_review(rest)
    if sub == "settings":
        return parse_settings(rest)
    known = ", ".join(USAGE)
    raise CommandError(f"unknown subcommand '{_shown(sub)}': use one of {known}")


REVIEW_ACTIONS = ("list", "show", "approve", "edit", "reject", "remove")


def parse_review(words: list[str]) -> Review:
    if not words:
        return Review()
    action = words[0].lower()
    usage = f"use `/dlquiz {USAGE['review']}`"
    if action not in REVIEW_ACTIONS:
        raise CommandError(f"unknown review action '{_shown(words[0])}': {usage}")
    if action == "list":
        _no_more("review", words[1:])
        return Review("list")
    if len(words) < 2 or not words[1].lstrip("#").isdigit():
        raise CommandError(f"`review {action}` needs the number of a question: {usage}")
    reason = " ".join(words[2:])
    if reason and action != "reject":
        raise CommandError(f"only `review reject` takes a reason: {usage}")
    return Review(action, int(words[1].lstrip("#")), reason)


SOURCES = ("bank", "server", "both")
DIFFICULTY_WORDS = ("easy", "medium", "hard", "any")
ON_OFF = {"on": True, "off": False}


def parse_settings(words: list[str]) -> Settings:
    usage = f"use `/dlquiz {USAGE['settings']}`"
    found: dict[str, object] = {}
    i = 0
    while i < len(words):
        name = words[i].lower()
        if name not in ("source", "topics", "difficulty", "thread", "ping"):
            raise CommandError(f"unknown setting '{_shown(words[i])}': {usage}")
        if name in found:
            raise CommandError(f"`{name}` is given twice: {usage}")
        if i + 1 >= len(words):
            raise CommandError(f"`{name}` needs a value: {usage}")
        value = words[i + 1]
        lower = value.lower()
        if name == "source" and lower not in SOURCES:
            raise CommandError(f"unknown source '{_shown(value)}': write bank, server or both")
        if name == "difficulty" and lower not in DIFFICULTY_WORDS:
            raise CommandError(
                f"unknown difficulty '{_shown(value)}': write easy, medium, hard or any"
            )
        if name == "thread" and lower not in ON_OFF:
            raise CommandError(f"`thread` is on or off, not '{_shown(value)}'")
        if name == "topics":
            found[name] = (
                () if lower == "all" else tuple(t for t in lower.replace(",", " ").split() if t)
            )
        elif name == "thread":
            found[name] = ON_OFF[lower]
        elif name == "ping":
            found[name] = "off" if lower == "off" else parse_role(value)
        else:
            found[name] = lower
        i += 2
    return Settings(**found)  # type: ignore[arg-type]


# Discord writes a role as <@&123>; Slack a user group as <!subteam^S123> or <!subteam^S123|@x>.
_ROLE = re.compile(r"^<(?:@&|!subteam\^)([\w.-]+)(?:\|[^>]*)?>$")
# A bare id: a Discord role's number, or a Slack user group's id (S followed by letters/digits).
_ROLE_ID = re.compile(r"^(?:\d{1,20}|S[A-Z0-9]{2,20})$")


def parse_role(text: str) -> str:
    """The role's id from a mention or a bare id; a plain `@name` is refused, since only the
    chat's own mention (picked from its list) says which role is meant."""
    role = _ROLE.match(text.strip())
    if role:
        return role[1]
    if _ROLE_ID.match(text.strip()):
        return text.strip()
    raise CommandError(
        f"'{_shown(text)}' is not a role: type @ and pick the role (Discord) or user group"
        " (Slack) from the list so it becomes a mention, give its id, or write off"
    )
