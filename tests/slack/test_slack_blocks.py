"""Block Kit rendering: layout, escaping, and Slack's limits for every question of the bank."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fake_slack import all_text
from hypothesis import given
from hypothesis import strategies as st
from slack_driver import nasty_bank

from adapters.slack import blocks as bk
from adapters.slack import convert
from bot.content import default_bank_dir, load_bank
from bot.models import (
    ChannelRef,
    CodeSnippet,
    Difficulty,
    LeaderboardCard,
    Notice,
    Period,
    PracticeCard,
    PracticeResult,
    Question,
    QuestionCard,
    QuestionPost,
    RevealPost,
    ScheduleCard,
    Standing,
    StatsCard,
    Tone,
    Topic,
    TopicAccuracy,
    TopicMastery,
    TopicsCard,
)

HERE = ChannelRef("slack:T0TEAM001", "C0QUIZ001")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DATE_TOKEN = re.compile(r"<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>]+>")


def limit_problems(message: bk.Message) -> list[str]:
    """Everything in a message that Slack would refuse (Block Kit reference limits)."""
    problems = []
    if not message.text:
        problems.append("no notification text")
    if len(message.blocks) > bk.MAX_BLOCKS:
        problems.append(f"{len(message.blocks)} blocks")
    block_ids = [b["block_id"] for b in message.blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        problems.append("duplicate block_id")
    for block in message.blocks:
        if len(block.get("block_id", "")) > convert.MAX_BLOCK_ID:
            problems.append("block_id too long")
        text = block.get("text")
        if text is not None and len(text["text"]) > bk.MAX_SECTION_TEXT:
            problems.append("section text too long")
        for fld in block.get("fields", []):
            if len(fld["text"]) > bk.MAX_FIELD_TEXT:
                problems.append("field too long")
        if block["type"] == "context" and len(block["elements"]) > 10:
            problems.append("context with more than 10 elements")
        if block["type"] == "actions":
            elements = block["elements"]
            if len(elements) > bk.MAX_ACTIONS:
                problems.append(f"{len(elements)} elements in an actions block")
            action_ids = [e["action_id"] for e in elements]
            if len(action_ids) != len(set(action_ids)):
                problems.append("duplicate action_id")
            for e in elements:
                if len(e["text"]["text"]) > bk.MAX_BUTTON_TEXT:
                    problems.append("button text too long")
                if len(e.get("accessibility_label", "")) > bk.MAX_BUTTON_TEXT:
                    problems.append("accessibility label too long")
                if len(e["value"]) > convert.MAX_VALUE:
                    problems.append("button value too long")
                if len(e["action_id"]) > convert.MAX_ACTION_ID:
                    problems.append("action_id too long")
    return problems


def live_tokens(message: bk.Message) -> list[str]:
    """Every `<...>` token Slack would parse, apart from the dates this app writes."""
    return re.findall(r"<[^>]*>", DATE_TOKEN.sub("", all_text(vars_of(message))))


def vars_of(message: bk.Message) -> dict[str, Any]:
    return {"text": message.text, "blocks": message.blocks}


def post_of(question: Question, round_id: int = 42) -> QuestionPost:
    return QuestionPost(
        round_id=round_id,
        channel=HERE,
        question=question,
        posted_at=NOW,
        reveal_at=NOW + timedelta(days=1),
        message_ref="1772442000.000001",
    )


def reveal_of(question: Question, round_id: int = 42) -> RevealPost:
    tally = tuple(range(1, len(question.choices) + 1))
    return RevealPost(
        round_id=round_id, channel=HERE, question=question, tally=tally, message_ref="1.1"
    )


def every_rendering(question: Question) -> list[bk.Message]:
    post = post_of(question, round_id=2**63 - 1)
    return [
        bk.question_message(post),
        bk.closed_question_message(reveal_of(question)),
        bk.reveal_message(reveal_of(question)),
        bk.question_card_message(QuestionCard(post=post, answered_choice=None)),
        bk.question_card_message(QuestionCard(post=post, answered_choice=0)),
        bk.practice_card_message(PracticeCard(question=question, topic=None, due=3, new=200)),
        bk.practice_result_message(
            PracticeResult(
                question=question,
                choice=0,
                correct=question.answer == 0,
                box=2,
                next_due_at=NOW,
                topic=question.topic,
            )
        ),
    ]


def test_every_question_of_the_bundled_bank_fits_slack() -> None:
    if not any(default_bank_dir().glob("*.yaml")):
        pytest.skip("the bundled bank is not there yet")
    bank = load_bank([default_bank_dir()])
    for question in bank.questions:
        for message in every_rendering(question):
            assert limit_problems(message) == [], question.id
            assert live_tokens(message) == [], question.id


def test_hostile_questions_are_escaped() -> None:
    for question in nasty_bank().questions:
        for message in every_rendering(question):
            assert limit_problems(message) == []
            assert live_tokens(message) == []


def test_question_message_layout() -> None:
    question = nasty_bank().questions[2]
    message = bk.question_message(post_of(question))
    [actions] = [b for b in message.blocks if b["type"] == "actions"]
    assert actions["block_id"] == "dlq_answers_42"
    assert [e["text"]["text"] for e in actions["elements"]] == ["A", "B", "C", "D", "E"]
    assert [e["value"] for e in actions["elements"]] == [f"42:{i}" for i in range(5)]
    assert [e["action_id"] for e in actions["elements"]] == [f"dlq_answer_{i}" for i in range(5)]
    text = all_text(vars_of(message))
    assert "*A)* SGD" in text
    assert "*E)* None needed" in text
    stamp = int((NOW + timedelta(days=1)).timestamp())
    assert f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|2026-03-03 09:00 UTC>" in text
    assert all(
        o["verbatim"] is True
        for b in message.blocks
        for o in [b.get("text"), *b.get("elements", [])]
        if isinstance(o, dict) and o.get("type") == "mrkdwn"
    )


def test_question_without_a_reveal_time() -> None:
    post = QuestionPost(42, HERE, nasty_bank().questions[1], NOW, None)
    assert "/dlquiz reveal" in all_text(vars_of(bk.question_message(post)))


def test_reveal_layout() -> None:
    question = nasty_bank().questions[1]  # answer A, three choices
    reveal = RevealPost(
        round_id=5, channel=HERE, question=question, tally=(2, 1, 0), message_ref=""
    )
    text = all_text(vars_of(bk.reveal_message(reveal)))
    assert "*Answer to question #5:* A) Zero" in text
    assert "max(0, x) is 0 for x &lt; 0." in text
    assert "✓ A  2" in text
    assert "2 of 3 got it right (67%)" in text
    closed = bk.closed_question_message(reveal)
    assert not [b for b in closed.blocks if b["type"] == "actions"]
    assert "The answer is *A*" in all_text(vars_of(closed))


def test_nobody_answered() -> None:
    question = nasty_bank().questions[1]
    reveal = RevealPost(
        round_id=5, channel=HERE, question=question, tally=(0, 0, 0), message_ref=""
    )
    assert "Nobody answered" in all_text(vars_of(bk.reveal_message(reveal)))


def test_notices() -> None:
    info = bk.reply_message(Notice("Recorded: B", Tone.OK))
    assert info.text == "Recorded: B"
    error = bk.reply_message(Notice("bad <!here>", Tone.ERROR))
    assert error.text == ":warning: bad &lt;!here&gt;"


names = st.text(min_size=1, max_size=200)


@given(st.lists(names, min_size=1, max_size=10))
def test_leaderboard_of_any_names(people: list[str]) -> None:
    rows = tuple(
        Standing(rank=i + 1, user_id=f"U{i}", name=n, points=100 - i, answered=9, correct=5)
        for i, n in enumerate(people)
    )
    card = LeaderboardCard(period=Period.WEEK, rows=rows, caller=rows[0], ranked=len(rows))
    message = bk.reply_message(card)
    assert limit_problems(message) == []
    assert live_tokens(message) == []
    text = all_text(vars_of(message))
    assert "Leaderboard, this week" in text
    assert ":first_place_medal:" in text
    assert "You: rank 1 of" in text


def test_empty_leaderboard() -> None:
    card = LeaderboardCard(period=Period.ALL, rows=(), caller=None, ranked=0)
    assert "nobody has points yet" in bk.reply_message(card).text


@given(names, st.lists(st.text(max_size=70), max_size=60))
def test_stats_of_anyone(name: str, topics: list[str]) -> None:
    card = StatsCard(
        user_id="U1",
        name=name,
        points=120,
        rank=None,
        ranked=3,
        answered=4,
        correct=3,
        current_streak=2,
        longest_streak=3,
        topics=tuple(TopicAccuracy(t, 4, 3) for t in topics),
        mastery=tuple(TopicMastery(t, t, 2, 9) for t in topics),
    )
    message = bk.reply_message(card)
    assert limit_problems(message) == []
    assert live_tokens(message) == []
    assert "unranked" in all_text(vars_of(message))


def test_schedule_cards() -> None:
    none = bk.reply_message(ScheduleCard(time=None, zone=None, next_post_at=None))
    assert "No daily question" in none.text
    card = ScheduleCard(
        time="09:30",
        zone="Europe/Berlin",
        next_post_at=NOW,
        last_error="SlackError: chat.postMessage failed: <!channel>",
        last_error_at=NOW,
    )
    message = bk.reply_message(card)
    text = all_text(vars_of(message))
    assert "Daily question at *09:30* Europe/Berlin." in text
    assert "Last posting failed" in text
    assert live_tokens(message) == []


def test_topics_card() -> None:
    topics = tuple(Topic(f"topic-{i}", f"Topic <{i}> & more", i) for i in range(40))
    message = bk.reply_message(TopicsCard(topics=topics, mastered={"topic-3": 2}))
    assert limit_problems(message) == []
    assert live_tokens(message) == []
    text = all_text(vars_of(message))
    assert "40 topics, 780 questions" in text
    assert "Topic &lt;3&gt; &amp; more: 3, 2 mastered (`topic-3`)" in text


def test_sections_split_long_lists() -> None:
    lines = [f"line {i} " + "x" * 200 for i in range(100)]
    parts = bk.sections(lines)
    assert len(parts) > 1
    assert all(len(p["text"]["text"]) <= bk.MAX_SECTION_TEXT for p in parts)
    assert "\n".join(p["text"]["text"] for p in parts) == "\n".join(lines)


CODED = Question(
    id="tg-shape",
    topic="tensors-and-graphs",
    difficulty=Difficulty.EASY,
    prompt="What does this print?",
    choices=("(8, 3, 32, 32)", "(8, 32, 32, 3)", "(3, 32, 32)"),
    answer=0,
    explanation="randn takes the shape as given.",
    code=CodeSnippet("python", "x = torch.randn(8, 3, 32, 32)  # *not* bold\nprint(x.shape)"),
)


def test_a_code_snippet_is_a_preformatted_section_between_prompt_and_choices() -> None:
    for message in (
        bk.question_message(post_of(CODED)),
        bk.practice_card_message(PracticeCard(question=CODED, topic=None, due=0, new=1)),
    ):
        texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
        assert texts[:3] == [
            "What does this print?",
            "```\nx = torch.randn(8, 3, 32, 32)  # *not* bold\nprint(x.shape)\n```",
            "*A)* (8, 3, 32, 32)\n*B)* (8, 32, 32, 3)\n*C)* (3, 32, 32)",
        ]
        assert limit_problems(message) == []


def test_a_snippet_cannot_leave_its_block_or_ping() -> None:
    sneaky = replace(CODED, code=CodeSnippet("python", "a = 1\n```\n<!channel> & <@U1> ````"))
    message = bk.question_message(post_of(sneaky))
    block = message.blocks[2]["text"]["text"]
    assert block.startswith("```\n")
    assert block.endswith("\n```")
    assert "``" not in block[3:-3]
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in block
    assert live_tokens(message) == []


def test_the_largest_snippet_fits_a_section_and_closes() -> None:
    huge = replace(CODED, code=CodeSnippet("python", "\n".join("&<>`" * 20 for _ in range(60))))
    for message in every_rendering(huge):
        assert limit_problems(message) == []
        assert live_tokens(message) == []
    block = bk.question_message(post_of(huge)).blocks[2]["text"]["text"]
    assert len(block) <= bk.MAX_SECTION_TEXT
    assert block.endswith("…\n```")
    assert block.count("```") == 2
