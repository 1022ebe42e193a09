"""Every `/dlquiz` subcommand through discord.py's command tree, answered only to the caller."""

from __future__ import annotations

import pytest
from discord_harness import (
    ADA,
    CHANNEL_ID,
    EMBED_LINKS,
    GRACE,
    MOD,
    Harness,
    autocomplete,
    buttons_of,
    click,
    click_id,
    slash,
    with_resolved_user,
)
from fake_discord import texts

REFUSAL = "Only admins can change the schedule, post or reveal; nothing was changed."
RIGHT = {"act-relu-dead-units": "A", "act-sigmoid-range": "B", "gan-optimal-discriminator": "A"}


async def test_help(quiz: Harness) -> None:
    answer = await quiz.send(slash("help", ADA))
    assert answer.callback_type == 4
    assert answer.ephemeral
    assert "`/dlquiz question`" in answer.content
    assert answer.sent["allowed_mentions"] == {"parse": []}


async def test_question_when_none_is_open(quiz: Harness) -> None:
    answer = await quiz.send(slash("question", ADA))
    assert answer.ephemeral
    assert answer.content.startswith("No question is open in this channel")


async def test_leaderboard_periods(quiz: Harness) -> None:
    default = await quiz.send(slash("leaderboard", ADA))
    assert default.ephemeral
    assert default.v2
    assert default.texts[:2] == ["## Leaderboard, all time", "Nobody has points yet."]
    week = await quiz.send(slash("leaderboard", ADA, period="week"))
    assert week.texts[0] == "## Leaderboard, this week"


async def test_leaderboard_with_a_forged_period(quiz: Harness) -> None:
    # Discord only offers the three choices, but a payload is not to be trusted.
    answer = await quiz.send(slash("leaderboard", ADA, period="decade"))
    assert answer.ephemeral
    assert "unknown period 'decade'" in answer.content
    assert "leaderboard [week|month|all]" in answer.content


async def test_stats_of_oneself_and_of_another_member(quiz: Harness) -> None:
    none_yet = await quiz.send(slash("stats", ADA))
    assert none_yet.content == "You have not answered a question in this server yet."

    await quiz.send(slash("post", MOD))
    await quiz.send(click(quiz.question_message(), "A", ADA))
    await quiz.send(slash("reveal", MOD))

    mine = await quiz.send(slash("stats", ADA))
    assert mine.v2
    assert mine.texts[0] == "## Stats for Ada"
    assert "**Answered:** 1, " in mine.texts[1]

    theirs = await quiz.send(with_resolved_user(slash("stats", GRACE, user=ADA.user_id), ADA))
    assert theirs.texts[0] == "## Stats for Ada"

    nobody = await quiz.send(with_resolved_user(slash("stats", ADA, user=GRACE.user_id), GRACE))
    assert nobody.content == "Grace has not answered a question in this server yet."


async def test_topics(quiz: Harness) -> None:
    answer = await quiz.send(slash("topics", ADA))
    assert answer.ephemeral
    [embed] = answer.embeds
    assert embed["title"] == "2 topics, 3 questions"
    assert "**Activation functions** · 2 · `activation-functions`" in embed["description"]


async def test_practice_question_marked_at_once(quiz: Harness) -> None:
    card = await quiz.send(slash("practice", ADA, topic="gans"))
    assert card.ephemeral
    assert card.v2
    assert card.texts[0].startswith("## Practice · GANs\n")
    assert "**A)** p\\_data(x) / (p\\_data(x) + p\\_g(x))" in card.texts[1]
    assert card.custom_ids == [f"dlq:p:gan-optimal-discriminator:{x}" for x in "ABCD"]

    marked = await quiz.send(click(card.message, "A", ADA))
    assert marked.callback_type == 7  # the practice message is replaced by its result
    assert marked.v2
    assert marked.texts[0].startswith("## Right. The answer is A)")
    [next_button] = buttons_of(marked.message)
    assert next_button["custom_id"] == "dlq:pn:gans"
    assert next_button["label"] == "Next question"

    again = await quiz.send(click(card.message, "B", ADA))
    # The refusal replaces a card, so it is a card too (Discord keeps a card a card).
    assert again.v2
    assert again.texts == ["You already answered this practice question."]

    # The only GANs question is known now: Next says so in place of the result.
    done = await quiz.send(click_id(marked.message, "dlq:pn:gans", ADA))
    assert done.callback_type == 7
    assert done.v2
    assert done.texts[0].startswith("All caught up in GANs: the next question is due")
    assert done.custom_ids == []


def _question_id(custom_ids: list[str]) -> str:
    [question_id] = {cid.split(":")[2] for cid in custom_ids}
    return question_id


async def test_next_practice_question_keeps_the_topic(quiz: Harness) -> None:
    card = await quiz.send(slash("practice", ADA, topic="activation"))
    first = _question_id(card.custom_ids)
    marked = await quiz.send(click(card.message, RIGHT[first], ADA))
    assert marked.custom_ids == ["dlq:pn:activation-functions"]

    following = await quiz.send(click_id(marked.message, marked.custom_ids[0], ADA))
    assert following.callback_type == 7  # the result is replaced by the next question
    assert following.ephemeral
    assert following.texts[0].startswith("## Practice · Activation functions\n")
    assert "-# Activation functions · " in following.texts[0]
    second = _question_id(following.custom_ids)
    assert second != first
    assert following.custom_ids == [f"dlq:p:{second}:{x}" for x in "ABCD"]

    # Its answer buttons work like the first question's.
    again = await quiz.send(click(following.message, RIGHT[second], ADA))
    assert again.texts[0].startswith("## Right.")
    assert again.custom_ids == ["dlq:pn:activation-functions"]


async def test_next_practice_question_over_all_topics(quiz: Harness) -> None:
    card = await quiz.send(slash("practice", GRACE))
    first = _question_id(card.custom_ids)
    marked = await quiz.send(click(card.message, "D", GRACE))
    assert marked.texts[0].startswith("## Not quite: you chose D.")
    assert marked.custom_ids == ["dlq:pn:*"]

    following = await quiz.send(click_id(marked.message, "dlq:pn:*", GRACE))
    assert following.texts[0].startswith("## Practice · all topics\n")
    second = _question_id(following.custom_ids)
    assert second != first  # the missed one is due again later, not at once
    assert following.custom_ids == [f"dlq:p:{second}:{x}" for x in "ABCD"]


async def test_practice_with_an_unknown_topic(quiz: Harness) -> None:
    answer = await quiz.send(slash("practice", ADA, topic="astrology"))
    assert answer.ephemeral
    assert answer.content.startswith("Unknown topic 'astrology'")


async def test_practice_topic_autocomplete(quiz: Harness) -> None:
    payload = autocomplete("practice", ADA, "topic", topic="act")
    after = quiz.fake.last_seq
    quiz.feed(payload)
    callback = await quiz.fake.wait_for(lambda r: r.path.endswith("/callback"), after=after)
    assert callback.body == {
        "type": 8,
        "data": {"choices": [{"name": "Activation functions", "value": "activation-functions"}]},
    }


async def test_schedule_show_set_and_off(quiz: Harness) -> None:
    empty = await quiz.send(slash("schedule", ADA))
    assert empty.ephemeral
    assert "No daily question in this channel" in empty.text

    set_ = await quiz.send(slash("schedule", MOD, time="09:00", zone="Europe/Berlin"))
    assert set_.ephemeral
    assert "Every day at 09:00 Europe/Berlin." in set_.text
    next_field = {f["name"]: f["value"] for f in set_.embeds[0]["fields"]}["Next question"]
    assert next_field.startswith("<t:")
    assert next_field.endswith(":R>)")

    shown = await quiz.send(slash("schedule", ADA))
    assert "Every day at 09:00 Europe/Berlin." in shown.text

    off = await quiz.send(slash("schedule", MOD, time="off"))
    assert off.content == "The daily question is stopped in this channel."
    assert "No daily question" in (await quiz.send(slash("schedule", ADA))).text


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"time": "25:99"}, "'25:99' is not a valid time: use HH:MM in 24-hour time"),
        ({"time": "9am"}, "'9am' is not a time: use HH:MM"),
        ({"time": "09:00", "zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"zone": "Europe/Berlin"}, "a zone needs a time"),
        ({"time": "off", "zone": "UTC"}, "`schedule off` takes no zone"),
    ],
)
async def test_schedule_bad_arguments(quiz: Harness, options: dict[str, str], problem: str) -> None:
    answer = await quiz.send(slash("schedule", MOD, **options))
    assert answer.ephemeral
    assert problem in answer.content
    assert "No daily question" in (await quiz.send(slash("schedule", ADA))).text


async def test_schedule_zone_autocomplete(quiz: Harness) -> None:
    payload = autocomplete("schedule", ADA, "zone", time="09:00", zone="europe/ber")
    after = quiz.fake.last_seq
    quiz.feed(payload)
    callback = await quiz.fake.wait_for(lambda r: r.path.endswith("/callback"), after=after)
    assert callback.body["type"] == 8
    assert callback.body["data"]["choices"][0] == {
        "name": "Europe/Berlin",
        "value": "Europe/Berlin",
    }


async def test_schedule_warns_when_the_bot_cannot_post_here(quiz: Harness) -> None:
    payload = slash("schedule", MOD, time="07:30")
    payload["app_permissions"] = str(int(payload["app_permissions"]) & ~EMBED_LINKS)
    answer = await quiz.send(payload)
    assert answer.content.startswith("Note: I cannot post the question in this channel yet.")
    assert "Embed Links" in answer.content
    assert "Every day at 07:30 UTC." in answer.text


@pytest.mark.parametrize(
    "options", [{"time": "09:00"}, {"time": "off"}, {"time": "09:00", "zone": "Europe/Paris"}]
)
async def test_non_admins_cannot_change_the_schedule(
    quiz: Harness, options: dict[str, str]
) -> None:
    await quiz.send(slash("schedule", MOD, time="06:00"))
    answer = await quiz.send(slash("schedule", ADA, **options))
    assert answer.ephemeral
    assert answer.content == REFUSAL
    assert "Every day at 06:00 UTC." in (await quiz.send(slash("schedule", ADA))).text


@pytest.mark.parametrize("sub", ["post", "reveal"])
async def test_non_admins_cannot_post_or_reveal(quiz: Harness, sub: str) -> None:
    answer = await quiz.send(slash(sub, ADA))
    assert answer.ephemeral
    assert answer.content == REFUSAL
    assert quiz.channel_posts() == []
    still = await quiz.send(slash("question", ADA))
    assert still.content.startswith("No question is open")


async def test_reveal_with_nothing_open(quiz: Harness) -> None:
    answer = await quiz.send(slash("reveal", MOD))
    assert answer.content == "No question is open in this channel."
    assert quiz.channel_posts() == []


async def test_post_twice_reveals_the_first_question(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    first = quiz.question_message()
    await quiz.send(slash("post", MOD))
    posts = quiz.channel_posts()
    assert len(posts) == 3  # question 1, its reveal, question 2
    assert posts[1].body["message_reference"]["message_id"] == int(first["id"])
    assert texts(posts[2].body)[0].startswith("## Question #2\n")
    assert all(r.path.startswith(f"/channels/{CHANNEL_ID}/") for r in posts)
