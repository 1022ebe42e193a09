"""Layout cards (components v2): Discord's limits, checked on the worst cases the bank and a full
leaderboard page allow on the components discord.py actually sends, and each reply card as the
fake Discord stores it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from discord.http import handle_message_parameters
from discord_harness import ADA, MOD, Harness, click, container_of, layout_types, slash
from fake_discord import (
    ACTION_ROW,
    BUTTON,
    IS_COMPONENTS_V2,
    MEDIA_GALLERY,
    SEPARATOR,
    TEXT_DISPLAY,
    walk,
)

from adapters.discord import layouts, render
from adapters.discord.cards import (
    COMPONENT_LIMIT,
    NEUTRAL_ACCENT,
    TEXT_LIMIT,
    TOPIC_ACCENTS,
    ButtonSpec,
    Card,
    CardTooLarge,
    Row,
    Text,
)
from adapters.discord.convert import BUTTONS_PER_ROW, CUSTOM_ID_LIMIT
from bot.content import MAX_CHOICE, MAX_CHOICES, MAX_EXPLANATION, MAX_PROMPT, load_bank
from bot.content import default_bank_dir as bank_dir
from bot.models import (
    LEADERBOARD_PAGE,
    ChannelRef,
    CodeSnippet,
    Difficulty,
    LeaderboardCard,
    Period,
    PracticeCard,
    PracticeResult,
    Question,
    QuestionCard,
    QuestionPost,
    RevealPost,
    Standing,
    StatsCard,
    Topic,
    TopicAccuracy,
    TopicMastery,
)
from tests.discord.test_discord_round import right_and_wrong

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("discord:1302744932918091826", "1302744933496770612")
BIG_ROUND = 10**17  # far more rounds than any server will see: the longest custom_ids
ROLE = "1302999000000000042"
TOKEN = "0123abcd"
# Markdown characters double when escaped: the longest text a field's limit lets through.
LOUD = "*_"


def loud(length: int) -> str:
    return (LOUD * length)[:length]


# The largest question the bank's rules let in: every field at its limit, all of it escaped.
LARGEST = Question(
    id="q-" + "x" * 62,
    topic="t" * 64,
    topic_title="T" * 80,
    difficulty=Difficulty.MEDIUM,
    prompt=loud(MAX_PROMPT),
    choices=tuple(loud(MAX_CHOICE) for _ in range(MAX_CHOICES)),
    answer=MAX_CHOICES - 1,
    explanation=loud(MAX_EXPLANATION),
    code=CodeSnippet("python", "\n".join("`" * 40 for _ in range(15))),
)


def longest_of_the_bank() -> list[Question]:
    """The bank's question with the longest text, and the one with the longest explanation."""
    questions = load_bank([bank_dir()]).questions
    return [
        max(questions, key=lambda q: len(render.question_text(q, 10**6))),
        max(questions, key=lambda q: len(q.explanation) + len(q.choices[q.answer])),
    ]


def full_page() -> LeaderboardCard:
    rows = tuple(
        Standing(i + 1, str(10**18 + i), loud(100), 10**9, 10**6, 10**6)
        for i in range(LEADERBOARD_PAGE)
    )
    return LeaderboardCard(
        Period.MONTH, rows, rows[0], ranked=10**6, page=5, viewer=str(10**19), caller_elsewhere=True
    )


def busy_stats() -> StatsCard:
    topics = load_bank([bank_dir()]).topics
    return StatsCard(
        user_id="1",
        name=loud(100),
        points=10**9,
        rank=10**6,
        ranked=10**6,
        answered=10**6,
        correct=10**6,
        current_streak=10**4,
        longest_streak=10**4,
        topics=tuple(TopicAccuracy(t.slug, 10**6, 10**6, loud(80)) for t in topics),
        mastery=tuple(TopicMastery(t.slug, loud(80), 10**3, 10**3) for t in topics),
        chart=b"\x89PNG",
    )


def every_card(question: Question) -> list[render.DiscordMessage]:
    post = QuestionPost(BIG_ROUND, CHANNEL, question, NOW, NOW, token=TOKEN, ping=ROLE)
    reveal = RevealPost(BIG_ROUND, CHANNEL, question, (10**6,) * len(question.choices), "1", TOKEN)
    topic = Topic(question.topic, loud(80), 10**4)
    return [
        render.question_message(post),
        render.closed_question_message(reveal),
        render.reveal_message(reveal),
        render.reply_message(QuestionCard(post, None)),
        render.reply_message(QuestionCard(post, 0)),
        render.reply_message(PracticeCard(question, topic, 10**4, 10**4)),
        render.reply_message(PracticeResult(question, 0, False, 5, NOW, question.topic)),
    ]


def sent_components(message: render.DiscordMessage) -> list[dict[str, Any]]:
    """The components discord.py sends for the message."""
    view = layouts.view_of(message)
    assert view is not None
    assert view.has_components_v2()
    return view.to_components()


def assert_within_limits(components: list[dict[str, Any]]) -> None:
    everything = walk(components)
    assert len(everything) <= COMPONENT_LIMIT
    texts = [c["content"] for c in everything if c["type"] == TEXT_DISPLAY]
    assert sum(len(t) for t in texts) <= TEXT_LIMIT
    assert all(t for t in texts)
    for component in everything:
        if component["type"] == 1:
            assert 1 <= len(component["components"]) <= BUTTONS_PER_ROW
        if component["type"] == BUTTON:
            assert len(component["custom_id"]) <= CUSTOM_ID_LIMIT


@pytest.mark.parametrize("which", ["largest allowed", "longest question", "longest answer"])
async def test_the_worst_questions_fit_every_card(which: str) -> None:
    question = {"largest allowed": LARGEST}.get(which) or longest_of_the_bank()[
        ["longest question", "longest answer"].index(which)
    ]
    for message in every_card(question):
        assert_within_limits(sent_components(message))
    # However long the rest, the choices are never cut: they read whole as text.
    question_card = walk(sent_components(every_card(question)[0]))
    shown = "\n".join(c["content"] for c in question_card if c["type"] == TEXT_DISPLAY)
    for letter, choice in zip("ABCDE", question.choices, strict=False):
        assert f"**{letter})** {render.plain(choice)}" in shown


async def test_a_full_leaderboard_page_and_busy_stats_fit() -> None:
    board = render.reply_message(full_page())
    assert board.card is not None
    assert len(board.card.buttons) == 3  # Previous, Next, My page
    assert_within_limits(sent_components(board))
    stats = render.reply_message(busy_stats())
    assert_within_limits(sent_components(stats))


def test_a_card_past_a_limit_is_refused_when_made() -> None:
    button = ButtonSpec("dlq:a:1:A", "A")
    with pytest.raises(CardTooLarge, match="41 components"):
        Card(0, tuple(Text("x") for _ in range(COMPONENT_LIMIT)))
    with pytest.raises(CardTooLarge, match="4001 characters"):
        Card(0, (Text("x" * 4000), Text("y")))
    with pytest.raises(CardTooLarge, match="a row of 6 buttons"):
        Card(0, (Row((button,) * 6),))
    with pytest.raises(CardTooLarge, match="over 100 characters"):
        Card(0, (Row((ButtonSpec("dlq:a:" + "1" * 95, "A"),)),))
    with pytest.raises(CardTooLarge, match="empty text display"):
        Card(0, (Text(""),))
    Card(0, (*(Text("x") for _ in range(COMPONENT_LIMIT - 1)),))  # 39 and the container: fine


def test_a_card_is_the_whole_message() -> None:
    card = Card(0, (Text("x"),))
    with pytest.raises(ValueError, match="no content, embeds or buttons"):
        render.DiscordMessage(content="hello", card=card)


async def test_a_card_is_sent_with_the_v2_flag_and_nothing_beside() -> None:
    message = render.reply_message(full_page())
    sent = handle_message_parameters(**layouts.body(message)).payload
    assert sent is not None
    assert sent["flags"] == IS_COMPONENTS_V2
    assert "content" not in sent
    assert "embeds" not in sent
    # An edit empties content and embeds: how a message posted with them becomes a card.
    edited = handle_message_parameters(**layouts.body(message, edit=True)).payload
    assert edited is not None
    assert (edited["content"], edited["embeds"], edited["flags"]) == (None, [], IS_COMPONENTS_V2)


async def test_each_reply_card_as_discord_stores_it(quiz: Harness) -> None:
    practice = await quiz.send(slash("practice", ADA, topic="gans"))
    assert container_of(practice.message)["accent_color"] == TOPIC_ACCENTS["gans"]
    assert layout_types(practice.message) == [
        TEXT_DISPLAY,
        SEPARATOR,
        TEXT_DISPLAY,
        SEPARATOR,
        ACTION_ROW,
        TEXT_DISPLAY,
    ]
    result = await quiz.send(click(practice.message, "B", ADA))
    assert container_of(result.message)["accent_color"] == TOPIC_ACCENTS["gans"]
    assert layout_types(result.message) == [
        TEXT_DISPLAY,
        TEXT_DISPLAY,
        SEPARATOR,
        TEXT_DISPLAY,
        ACTION_ROW,
    ]

    await quiz.send(slash("post", MOD))
    right, _ = await right_and_wrong(quiz)
    await quiz.send(click(quiz.question_message(), right, ADA))
    await quiz.send(slash("reveal", MOD))

    board = await quiz.send(slash("leaderboard", ADA))
    assert container_of(board.message)["accent_color"] == NEUTRAL_ACCENT
    # Title, the ranked members, your rank, the page (one page: no page buttons).
    assert layout_types(board.message) == [
        TEXT_DISPLAY,
        TEXT_DISPLAY,
        SEPARATOR,
        TEXT_DISPLAY,
        TEXT_DISPLAY,
    ]
    assert board.texts[0] == "## Leaderboard, all time"

    stats = await quiz.send(slash("stats", ADA))
    assert container_of(stats.message)["accent_color"] == NEUTRAL_ACCENT
    assert layout_types(stats.message)[:2] == [TEXT_DISPLAY, TEXT_DISPLAY]
    assert layout_types(stats.message)[-1] == MEDIA_GALLERY
