"""The plain-text rendering the terminal shows: columns that line up, words in the right number."""

from __future__ import annotations

import unicodedata

from bot import commands as cmd
from bot import render
from bot.content import Bank
from bot.engine import QuizEngine
from bot.models import LeaderboardCard, Period, Standing, Topic, TopicsCard
from bot.render import topics_text
from tests.conftest import invocation


def columns(text: str) -> int:
    """Terminal columns, measured independently of the code under test."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def standing(rank: int, name: str, points: int) -> Standing:
    return Standing(rank=rank, user_id=name, name=name, points=points, answered=3, correct=2)


def test_display_width_counts_terminal_columns() -> None:
    assert render.display_width("ada") == 3
    assert render.display_width("🦊") == 2
    assert render.display_width("李雷") == 4
    assert render.display_width("e\u0301") == 1  # e and a combining acute accent
    assert render.display_width("👍🏽") == 2  # the skin tone changes the emoji before it


def test_leaderboard_columns_line_up_with_emoji_and_wide_names() -> None:
    card = LeaderboardCard(
        period=Period.ALL,
        rows=(
            standing(1, "🦊 fox", 30),
            standing(2, "李雷", 20),
            standing(3, "José", 10),
            standing(4, "bob", 5),
        ),
        caller=None,
        ranked=4,
    )
    rows = render.leaderboard_text(card).splitlines()[1:5]
    ends = {columns(row[: row.index(" pts")]) for row in rows}
    assert len(ends) == 1, rows


def test_one_topic_one_question_in_the_singular() -> None:
    card = TopicsCard(topics=(Topic("only", "Only", 1),), mastered={})
    assert topics_text(card).splitlines()[0] == "1 topic, 1 question"
    two = TopicsCard(topics=(Topic("a", "A", 1), Topic("b", "B", 2)), mastered={})
    assert topics_text(two).splitlines()[0] == "2 topics, 3 questions"


async def test_topics_are_listed_by_title(engine: QuizEngine) -> None:
    engine.bank = Bank(
        questions=engine.bank.questions,
        topics=(Topic("zz", "Attention", 1), Topic("aa", "Word vectors", 1), Topic("m", "cnn", 1)),
    )
    card = await engine.handle(cmd.ShowTopics(), invocation=invocation("ada"))
    assert isinstance(card, TopicsCard)
    assert [t.title for t in card.topics] == ["Attention", "cnn", "Word vectors"]
