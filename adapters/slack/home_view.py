"""The member's Home tab as a Block Kit view: pure rendering, no network.

Their points, rank, streaks and practice mastery per topic, a Practice button, and the
workspace's top 10. Text from members (names) and from the bank (topic titles) is escaped and
clipped as everywhere on Slack, and the whole view stays inside Slack's 100 blocks whatever the
bank holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.slack.blocks import (
    MAX_FIELD_TEXT,
    Block,
    button,
    context,
    mrkdwn,
    section,
    sections,
    slack_date,
    standing_line,
)
from adapters.slack.convert import clip, escape
from bot.models import LeaderboardCard, Notice, StatsCard, Tone

HOME_PRACTICE_ACTION = "dlq_home_practice"
HOME_BLOCK = "dlq_home"
MAX_VIEW_BLOCKS = 100  # Slack's limit for a Home tab view
MAX_HEADER_TEXT = 150
# Sections the mastery list may take: far more than any bank needs (each holds 3000 characters),
# and few enough that the view never nears 100 blocks.
MASTERY_SECTIONS = 20

WELCOME = (
    "*Welcome to dlquiz!* Every day a deep-learning question is posted in the channels where an"
    " admin scheduled one: press a button to answer. Once a question is revealed, your points,"
    " rank and streak show up here. You can practice right now, too."
)
PRACTICE_NOTE = (
    "A practice question arrives in the Messages tab, next to this one, marked at once with"
    " the explanation; practice never touches the leaderboard."
)


@dataclass(frozen=True, slots=True)
class HomePage:
    """What a member's Home shows; `stats` is None until they answer a daily question."""

    stats: StatsCard | None
    board: LeaderboardCard
    updated_at: datetime
    notice: Notice | None = None  # one line above everything (why a practice could not start)


def home_view(page: HomePage) -> dict[str, Any]:
    """The `view` argument of `views.publish` for the member's Home tab."""
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip("Your dlquiz", MAX_HEADER_TEXT)},
        }
    ]
    if page.notice is not None:
        sign = ":warning: " if page.notice.tone is Tone.ERROR else ""
        blocks.append(section(f"{sign}{escape(page.notice.text)}"))
    if page.stats is None:
        blocks.append(section(WELCOME))
    else:
        blocks += _standing(page.stats)
    blocks += [
        {
            "type": "actions",
            "block_id": HOME_BLOCK,
            "elements": [
                {
                    **button(
                        "Practice",
                        action_id=HOME_PRACTICE_ACTION,
                        value="all",
                        description="Start a practice question",
                    ),
                    "style": "primary",
                }
            ],
        },
        context(PRACTICE_NOTE),
        {"type": "divider"},
        *_top_ten(page.board),
        context(f"Updated {slack_date(page.updated_at)}."),
    ]
    return {"type": "home", "blocks": blocks}


def _standing(card: StatsCard) -> list[Block]:
    rank = f"{card.rank} of {card.ranked}" if card.rank else "unranked"
    fields = [
        ("Points", str(card.points)),
        ("Rank", rank),
        ("Streak", f"{card.current_streak} now"),
        ("Best streak", str(card.longest_streak)),
    ]
    blocks: list[Block] = [
        {
            "type": "section",
            "fields": [mrkdwn(f"*{label}*\n{value}", MAX_FIELD_TEXT) for label, value in fields],
        }
    ]
    if card.mastery:
        lines = [
            f"{escape(m.title)}: {m.mastered} of {m.total} mastered"
            for m in sorted(card.mastery, key=lambda m: m.title.casefold())
        ]
        blocks += sections(["*Practice mastery per topic*", *lines], budget=MASTERY_SECTIONS)
    return blocks


def _top_ten(board: LeaderboardCard) -> list[Block]:
    if not board.rows:
        return [section("*Top 10 of this workspace*\nNobody has points yet.")]
    return [
        section("*Top 10 of this workspace*"),
        section("\n".join(standing_line(row) for row in board.rows)),
    ]
