"""Pure rendering: every value the engine posts or replies, as Discord cards, embeds and buttons."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import discord

from adapters.discord import cards, render
from adapters.discord.cards import TOPIC_ACCENTS, Gallery, Text
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


def as_dict(message: render.DiscordMessage) -> list[dict[str, object]]:
    return [embed.to_dict() for embed in message.embeds]  # type: ignore[misc]


def card_of(message: render.DiscordMessage) -> cards.Card:
    assert message.card is not None, "not a card"
    assert (message.content, message.embeds, message.buttons) == (None, (), ())
    return message.card


def texts(message: render.DiscordMessage) -> list[str]:
    return [b.content for b in card_of(message).blocks if isinstance(b, Text)]


def text_of(message: render.DiscordMessage) -> str:
    shown = "\n".join(texts(message)) if message.card is not None else ""
    return (message.content or "") + json.dumps(as_dict(message), ensure_ascii=False) + shown


def buttons(message: render.DiscordMessage) -> tuple[render.ButtonSpec, ...]:
    return message.card.buttons if message.card is not None else message.buttons


def kinds(message: render.DiscordMessage) -> list[str]:
    return [type(b).__name__ for b in card_of(message).blocks]


def test_the_question_message() -> None:
    message = render.question_message(POST)
    card = card_of(message)
    assert card.accent == TOPIC_ACCENTS["activation-functions"]
    assert kinds(message) == ["Text", "Rule", "Text", "Rule", "Row", "Text"]
    title, body, footer = texts(message)
    assert title == "## Question #12\n-# activation-functions · medium"
    assert "\\*dead\\*" in body  # bank text is plain text, not markdown
    assert "@everyone" not in body
    # The choices read whole as text, without the buttons.
    assert "**A)** Its gradient is zero\n**B)** It saturates" in body
    unix = int((NOW + timedelta(1)).timestamp())
    assert footer.startswith(f"The answer is revealed <t:{unix}:f> (<t:{unix}:R>).")
    assert [b.custom_id for b in buttons(message)] == [f"dlq:a:12:{x}" for x in "ABCD"]
    assert [b.label for b in buttons(message)] == ["A", "B", "C", "D"]
    assert not any(b.disabled for b in buttons(message))
    assert "right" not in text_of(message).lower().replace("right answer", "")
    assert message.ping_role is None
    assert message.allowed_mentions.to_dict()["parse"] == []


def test_the_question_pings_its_role_from_the_card() -> None:
    message = render.question_message(replace(POST, ping="445566778899001122"))
    # A v2 message has no content: the mention is the card's first text.
    assert texts(message)[0] == "<@&445566778899001122>"
    assert message.allowed_mentions.to_dict() == {"parse": [], "roles": [445566778899001122]}


def test_a_question_without_a_reveal_time() -> None:
    post = QuestionPost(12, CHANNEL, QUESTION, NOW, None)
    assert "/dlquiz reveal" in text_of(render.question_message(post))


def test_the_reveal_and_the_closed_question() -> None:
    reveal = RevealPost(12, CHANNEL, QUESTION, tally=(3, 1, 0, 0), message_ref="99")
    message = render.reveal_message(reveal)
    assert card_of(message).accent == TOPIC_ACCENTS["activation-functions"]
    assert kinds(message) == ["Text", "Text", "Rule", "Text", "Text"]
    title, explanation, tally, result = texts(message)
    assert title == "## Answer to question #12: A) Its gradient is zero"
    assert "no\\_updates" in explanation
    assert tally.startswith("**Answers**\n```\n ✓ A  3")
    assert result == "3 of 4 got it right (75%)."
    closed = render.closed_question_message(reveal)
    assert kinds(closed) == ["Text", "Rule", "Text", "Rule", "Row", "Text"]
    assert "**A)** Its gradient is zero" in texts(closed)[1]
    assert texts(closed)[-1] == render.CLOSED_NOTE
    assert all(b.disabled for b in buttons(closed))
    assert [b.custom_id for b in buttons(closed)] == [f"dlq:a:12:{x}" for x in "ABCD"]
    assert [b.style for b in buttons(closed)] == [discord.ButtonStyle.success] + [
        discord.ButtonStyle.secondary
    ] * 3
    assert render.closed_buttons(reveal) == buttons(closed)


def test_a_notice_is_its_text() -> None:
    message = render.reply_message(Notice("Recorded: B"))
    assert (message.content, message.embeds, message.buttons) == ("Recorded: B", (), ())


def test_the_question_card() -> None:
    open_card = render.reply_message(QuestionCard(POST, answered_choice=None))
    assert len(buttons(open_card)) == 4
    answered = render.reply_message(QuestionCard(POST, answered_choice=2))
    assert buttons(answered) == ()
    assert "Row" not in kinds(answered)
    assert "You answered C" in text_of(answered)


def test_the_leaderboard_escapes_names() -> None:
    rows = (
        Standing(1, "1", "**Boss** @everyone", 40, 3, 3),
        Standing(2, "2", "under_score <@112233445566778899>", 15, 2, 1),
    )
    card = LeaderboardCard(Period.WEEK, rows, caller=rows[1], ranked=2)
    message = render.reply_message(card)
    assert card_of(message).accent == cards.NEUTRAL_ACCENT
    assert kinds(message) == ["Text", "Text", "Rule", "Text", "Text"]
    title, listed, you, page = texts(message)
    assert title == "## Leaderboard, this week"
    assert "**1.** \\*\\*Boss\\*\\* @\u200beveryone · 40 pts · 3 right" in listed
    assert "under\\_score" in listed
    assert "<@112233445566778899>" not in listed
    assert you == "**You:** rank 2 of 2, 15 pts"
    assert page.startswith("-# ")


def test_the_leaderboard_page_buttons_sit_in_the_card() -> None:
    rows = tuple(Standing(i, str(i), f"m{i}", 100 - i, 3, 3) for i in range(1, 11))
    card = LeaderboardCard(
        Period.ALL, rows, caller=rows[0], ranked=25, page=1, viewer="42", caller_elsewhere=True
    )
    message = render.reply_message(card)
    assert kinds(message)[-1] == "Row"
    assert [b.custom_id for b in buttons(message)] == [
        "dlq:lb:all:0:42",
        "dlq:lb:all:2:42",
        "dlq:lb:all:me:42",
    ]


def test_an_empty_leaderboard() -> None:
    text = text_of(render.reply_message(LeaderboardCard(Period.ALL, (), None, 0)))
    assert "Nobody has points yet." in text
    assert "no points in this period yet." in text


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
        chart=b"\x89PNG fake",
    )
    message = render.reply_message(card)
    assert card_of(message).accent == cards.NEUTRAL_ACCENT
    assert kinds(message) == ["Text", "Text", "Rule", "Text", "Text", "Gallery"]
    title, facts, topics, mastered = texts(message)
    assert title == "## Stats for Ada\\_"
    assert "**Points:** 55 (rank 1 of 4)" in facts
    assert "**Answered:** 4, 3 right (75%)" in facts
    assert "**Streak:** 2 now, 3 longest" in facts
    assert mastered == "**Mastered in practice**\nGANs: 2/9"
    assert "gans: 1/2 (50%)" in topics
    gallery = card_of(message).blocks[-1]
    assert isinstance(gallery, Gallery)
    assert gallery.url == f"attachment://{render.IMAGE_NAME}"
    assert message.image == b"\x89PNG fake"
    without = render.reply_message(replace(card, chart=None))
    assert "Gallery" not in kinds(without)


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
    assert card_of(message).accent == TOPIC_ACCENTS["activation-functions"]
    assert [b.custom_id for b in buttons(message)] == [
        f"dlq:p:act-relu-dead-units:{x}" for x in "ABCD"
    ]
    assert texts(message)[0].startswith("## Practice · Activation functions\n")
    assert "**A)** Its gradient is zero" in texts(message)[1]
    result = PracticeResult(QUESTION, 1, False, 1, NOW + timedelta(minutes=10), "gans")
    marked = render.reply_message(result)
    assert card_of(marked).accent == TOPIC_ACCENTS["activation-functions"]
    assert texts(marked)[0] == "## Not quite: you chose B. The answer is A) Its gradient is zero"
    assert buttons(marked) == (
        render.ButtonSpec("dlq:pn:gans", "Next question", discord.ButtonStyle.primary),
    )
    anywhere = render.reply_message(PracticeResult(QUESTION, 0, True, 2, NOW, None))
    assert [b.custom_id for b in buttons(anywhere)] == ["dlq:pn:*"]


def test_every_bank_topic_has_its_own_accent() -> None:
    bank = load_bank([default_bank_dir()])
    assert {q.topic for q in bank.questions} <= set(TOPIC_ACCENTS)
    assert len(set(TOPIC_ACCENTS.values())) == len(TOPIC_ACCENTS)
    assert cards.accent_of("a-servers-own-topic") == cards.NEUTRAL_ACCENT


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


def test_a_code_snippet_is_a_python_block_in_the_question_text() -> None:
    post = QuestionPost(3, CHANNEL, CODED, NOW, None)
    for message in (
        render.question_message(post),
        render.reply_message(PracticeCard(CODED, None, 0, 1)),
    ):
        assert texts(message)[1] == (
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
