"""Pure rendering: every value the engine posts or replies, as Discord embeds and buttons."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import discord

from adapters.discord import convert, render
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
    Topic,
    TopicAccuracy,
    TopicMastery,
    TopicsCard,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("discord:1302744932918091826", "1302744933496770612")
QUESTION = Question(
    id="act-relu-dead-units",
    topic="activation-functions",
    difficulty=Difficulty.MEDIUM,
    prompt="Why does a *dead* ReLU unit stop learning? @everyone",
    choices=("Its gradient is zero", "It saturates", "It is not zero-centred", "Decay"),
    answer=0,
    explanation="For negative inputs the gradient of max(0, x) is 0, so no_updates reach it.",
)
POST = QuestionPost(
    round_id=12, channel=CHANNEL, question=QUESTION, posted_at=NOW, reveal_at=NOW + timedelta(1)
)
EMBED_TOTAL = 6000


def as_dict(message: render.DiscordMessage) -> list[dict[str, object]]:
    return [embed.to_dict() for embed in message.embeds]  # type: ignore[misc]


def text_of(message: render.DiscordMessage) -> str:
    return (message.content or "") + json.dumps(as_dict(message), ensure_ascii=False)


def test_the_question_message() -> None:
    message = render.question_message(POST)
    [embed] = as_dict(message)
    assert embed["title"] == "Question #12"
    description = str(embed["description"])
    assert "\\*dead\\*" in description  # bank text is plain text, not markdown
    assert "@everyone" not in description
    assert "**A)** Its gradient is zero" in description
    reveal = {f["name"]: f["value"] for f in embed["fields"]}["Answer revealed"]  # type: ignore[index,union-attr]
    unix = int((NOW + timedelta(1)).timestamp())
    assert reveal == f"<t:{unix}:f> (<t:{unix}:R>)"
    assert [b.custom_id for b in message.buttons] == [f"dlq:a:12:{x}" for x in "ABCD"]
    assert [b.label for b in message.buttons] == ["A", "B", "C", "D"]
    assert not any(b.disabled for b in message.buttons)
    assert "right" not in text_of(message).lower().replace("right answer", "")


def test_a_question_without_a_reveal_time() -> None:
    post = QuestionPost(12, CHANNEL, QUESTION, NOW, None)
    assert "/dlquiz reveal" in text_of(render.question_message(post))


def test_the_reveal_and_the_closed_buttons() -> None:
    reveal = RevealPost(12, CHANNEL, QUESTION, tally=(3, 1, 0, 0), message_ref="99")
    [embed] = as_dict(render.reveal_message(reveal))
    assert embed["title"] == "Answer to question #12: A) Its gradient is zero"
    assert "no\\_updates" in str(embed["description"])
    fields = {f["name"]: f["value"] for f in embed["fields"]}  # type: ignore[index,union-attr]
    assert fields["Answers"].startswith("```\n ✓ A  3")  # type: ignore[union-attr]
    assert fields["Result"] == "3 of 4 got it right (75%)."
    closed = render.closed_buttons(reveal)
    assert all(b.disabled for b in closed)
    assert [b.style for b in closed] == [discord.ButtonStyle.success] + [
        discord.ButtonStyle.secondary
    ] * 3


def test_a_notice_is_its_text() -> None:
    message = render.reply_message(Notice("Recorded: B"))
    assert (message.content, message.embeds, message.buttons) == ("Recorded: B", (), ())


def test_the_question_card() -> None:
    open_card = render.reply_message(QuestionCard(POST, answered_choice=None))
    assert len(open_card.buttons) == 4
    answered = render.reply_message(QuestionCard(POST, answered_choice=2))
    assert answered.buttons == ()
    assert "You answered C" in text_of(answered)


def test_the_leaderboard_escapes_names() -> None:
    rows = (
        Standing(1, "1", "**Boss** @everyone", 40, 3, 3),
        Standing(2, "2", "under_score <@112233445566778899>", 15, 2, 1),
    )
    card = LeaderboardCard(Period.WEEK, rows, caller=rows[1], ranked=2)
    [embed] = as_dict(render.reply_message(card))
    assert embed["title"] == "Leaderboard, this week"
    description = str(embed["description"])
    assert "**1.** \\*\\*Boss\\*\\* @\u200beveryone · 40 pts · 3 right" in description
    assert "under\\_score" in description
    assert "<@112233445566778899>" not in description
    assert {"name": "You", "value": "Rank 2 of 2, 15 pts", "inline": False} in embed["fields"]  # type: ignore[operator]


def test_an_empty_leaderboard() -> None:
    text = text_of(render.reply_message(LeaderboardCard(Period.ALL, (), None, 0)))
    assert "Nobody has points yet." in text
    assert "You have no points in this period yet." in text


def test_stats() -> None:
    card = StatsCard(
        user_id="1",
        name="Ada_",
        points=55,
        rank=1,
        ranked=4,
        answered=4,
        correct=3,
        current_streak=2,
        longest_streak=3,
        topics=(TopicAccuracy("gans", 2, 1),),
        mastery=(TopicMastery("gans", "GANs", 2, 9), TopicMastery("rnn", "RNNs", 0, 4)),
    )
    [embed] = as_dict(render.reply_message(card))
    assert embed["title"] == "Stats for Ada\\_"
    fields = {f["name"]: f["value"] for f in embed["fields"]}  # type: ignore[index,union-attr]
    assert fields["Points"] == "55 (rank 1 of 4)"
    assert fields["Answered"] == "4, 3 right (75%)"
    assert fields["Streak"] == "2 now, 3 longest"
    assert fields["Mastered in practice"] == "GANs: 2/9"
    assert "gans: 1/2 (50%)" in str(embed["description"])


def test_schedule_cards() -> None:
    empty = text_of(render.reply_message(ScheduleCard(None, None, None)))
    assert "No daily question in this channel" in empty
    failing = ScheduleCard("09:00", "Europe/Berlin", NOW, "Forbidden: 403 Forbidden", NOW)
    [embed] = as_dict(render.reply_message(failing))
    assert embed["description"] == "Every day at 09:00 Europe/Berlin."
    fields = {f["name"]: f["value"] for f in embed["fields"]}  # type: ignore[index,union-attr]
    assert fields["Last posting failed"].startswith("Forbidden: 403 Forbidden <t:")  # type: ignore[union-attr]


def test_topics() -> None:
    card = TopicsCard((Topic("gans", "GANs", 3), Topic("rnn", "RNNs", 4)), mastered={"gans": 1})
    [embed] = as_dict(render.reply_message(card))
    assert embed["title"] == "2 topics, 7 questions"
    assert embed["description"] == "**GANs** · 3, 1 mastered · `gans`\n**RNNs** · 4 · `rnn`"


def test_practice_card_and_result() -> None:
    card = PracticeCard(QUESTION, Topic("activation-functions", "Activation functions", 9), 1, 5)
    message = render.reply_message(card)
    assert [b.custom_id for b in message.buttons] == [
        f"dlq:p:act-relu-dead-units:{x}" for x in "ABCD"
    ]
    assert "Practice · Activation functions" in text_of(message)
    result = PracticeResult(QUESTION, 1, False, 1, NOW + timedelta(minutes=10), "gans")
    marked = render.reply_message(result)
    [embed] = as_dict(marked)
    assert embed["title"] == "Not quite: you chose B. The answer is A) Its gradient is zero"
    assert marked.buttons == (
        render.ButtonSpec("dlq:pn:gans", "Next question", discord.ButtonStyle.primary),
    )
    anywhere = render.reply_message(PracticeResult(QUESTION, 0, True, 2, NOW, None))
    assert [b.custom_id for b in anywhere.buttons] == ["dlq:pn:*"]


def test_the_largest_question_fits_discords_limits() -> None:
    big = Question(
        id="q-big",
        topic="t" * 64,
        difficulty=Difficulty.HARD,
        prompt="*" * 300,
        choices=tuple("_" * 150 for _ in range(5)),
        answer=4,
        explanation="`" * 400,
    )
    post = QuestionPost(10**17, CHANNEL, big, NOW, NOW)
    for message in (
        render.question_message(post),
        render.reveal_message(RevealPost(10**17, CHANNEL, big, (9999,) * 5, "1")),
    ):
        for embed in message.embeds:
            assert len(embed) <= EMBED_TOTAL
            assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
            assert all(len(f.value or "") <= render.FIELD_LIMIT for f in embed.fields)
        assert all(len(b.custom_id) <= convert.CUSTOM_ID_LIMIT for b in message.buttons)


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


def test_a_code_snippet_is_a_python_block_in_the_description() -> None:
    post = QuestionPost(3, CHANNEL, CODED, NOW, None)
    for message in (
        render.question_message(post),
        render.reply_message(PracticeCard(CODED, None, 0, 1)),
    ):
        description = str(as_dict(message)[0]["description"])
        assert description == (
            "What does this print?\n\n"
            "```python\nx = torch.randn(8, 3, 32, 32)  # *not* bold\nprint(x.shape)\n```\n\n"
            "**A)** (8, 3, 32, 32)\n**B)** (8, 32, 32, 3)\n**C)** (3, 32, 32)"
        )


def test_a_snippet_cannot_leave_its_code_block() -> None:
    sneaky = CodeSnippet("python\n@everyone", "a = 1\n```\n**loud** ````\n``")
    question = replace(CODED, code=sneaky)
    description = render.question_text(question)
    block = description.split("\n\n")[1]
    assert block.startswith("```\n")  # an unknown language is left out, not written
    assert block.endswith("\n```")
    assert "``" not in block[3:-3]  # no run of two backticks inside: nothing closes early
    assert "a = 1\n`\u200b`\u200b`\n**loud** `\u200b`\u200b`\u200b`" in block


def test_the_largest_question_with_code_fits_and_closes_its_block() -> None:
    big = Question(
        id="q-big",
        topic="t" * 64,
        difficulty=Difficulty.HARD,
        prompt="*" * 300,
        choices=tuple("_" * 150 for _ in range(5)),
        answer=4,
        explanation="x",
        code=CodeSnippet("python", "\n".join("`" * 80 for _ in range(40))),
    )
    description = render.question_text(big)
    assert len(description) <= render.DESCRIPTION_LIMIT
    assert description.count("```") == 2  # the opening and the closing fence, nothing else
    assert description.endswith("\\_" * 150)  # the choices are never cut for the code


def test_stats_and_schedule_replies() -> None:
    missing = render.stats_reply(Notice("Nobody called '123' has answered"), user_label="Grace*")
    assert missing.content == "Grace\\* has not answered a question in this server yet."
    card = ScheduleCard("09:00", "UTC", NOW)
    warned = render.schedule_reply(card, missing=["Embed Links"])
    assert warned.content is not None
    assert "I need Embed Links here" in warned.content
    assert render.schedule_reply(card, missing=[]).content is None
    refusal = Notice("Only admins")
    assert render.schedule_reply(refusal, missing=["Embed Links"]).content == "Only admins"
