"""`/dlquiz insights` through the real bolt app against the fake Web API."""

from __future__ import annotations

from fake_slack import TEAM
from slack_driver import ANA, BEN, CY, Exchange, SlackDriver


async def play_one_round(slack: SlackDriver) -> str:
    await slack.command(ANA, "post")
    message = slack.posted()
    await slack.press(BEN, message, 0)
    await slack.press(CY, message, 1)
    await slack.command(ANA, "reveal")
    columns = await slack.engine.store.item_columns(f"slack:{TEAM}")
    return columns.rounds[0].question_id


def only_for_caller(exchange: Exchange) -> bool:
    """Admin subcommands are answered through response_url once the rights are checked."""
    answers = [exchange.ack] if exchange.ack else [r.body for r in exchange.replies]
    return bool(answers) and all(a.get("response_type") == "ephemeral" for a in answers)


async def test_overview_then_one_question(slack: SlackDriver) -> None:
    question_id = await play_one_round(slack)
    overview = await slack.command(ANA, "insights")
    assert only_for_caller(overview)
    assert "*Question insights*" in overview.text
    assert "1 answered questions, 2 daily answers" in overview.text

    one = await slack.command(ANA, f"insights {question_id}")
    assert only_for_caller(one)
    assert f"*Insights: {question_id}*" in one.text
    assert "2 answers, 50% right" in one.text
    assert "not enough answers yet (2 of 20)" in one.text
    assert "```" in one.text


async def test_members_are_refused_and_extra_words_named(slack: SlackDriver) -> None:
    await play_one_round(slack)
    refused = await slack.command(BEN, "insights")
    assert "Only admins can see how the questions performed." in refused.text
    extra = await slack.command(ANA, "insights one two")
    assert "too many arguments: use `/dlquiz insights [question id]`" in extra.text
