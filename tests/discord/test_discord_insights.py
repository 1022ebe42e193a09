"""`/dlquiz insights` through discord.py: admins see how the questions performed, others not."""

from __future__ import annotations

from discord_harness import ADA, GRACE, GUILD_ID, MOD, Harness, click, slash


async def play_one_round(quiz: Harness) -> str:
    await quiz.send(slash("post", MOD))
    message = quiz.question_message()
    await quiz.send(click(message, "A", ADA))
    await quiz.send(click(message, "B", GRACE))
    await quiz.send(slash("reveal", MOD))
    columns = await quiz.client.engine.store.item_columns(f"discord:{GUILD_ID}")
    return columns.rounds[0].question_id


async def test_overview_then_one_question(quiz: Harness) -> None:
    question_id = await play_one_round(quiz)
    overview = await quiz.send(slash("insights", MOD))
    assert overview.ephemeral
    [embed] = overview.embeds
    assert embed["title"] == "Question insights"
    assert "1 answered questions, 2 daily answers" in embed["description"]
    # Two answers are far from the minimum: nothing is flagged on so little.
    assert "Nothing needs attention." in embed["description"]

    one = await quiz.send(slash("insights", MOD, question=question_id))
    assert one.ephemeral
    [embed] = one.embeds
    assert embed["title"] == f"Insights: {question_id}"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Answers"] == "2"
    assert fields["Right"] == "50%"
    assert fields["Flags"].startswith("not enough answers yet (2 of 20)")
    table = fields["Choices (all, top group, bottom group)"]
    assert table.startswith("```\n")
    assert "50%" in table


async def test_members_are_refused_and_unknown_ids_named(quiz: Harness) -> None:
    await play_one_round(quiz)
    refused = await quiz.send(slash("insights", ADA))
    assert refused.ephemeral
    assert refused.content == "Only admins can see how the questions performed."
    unknown = await quiz.send(slash("insights", MOD, question="no-such-question"))
    assert unknown.ephemeral
    assert "No daily question 'no-such-question'" in unknown.content
    assert "`/dlquiz insights [question id]`" in unknown.content
