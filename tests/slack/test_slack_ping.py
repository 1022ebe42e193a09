"""The channel settings on Slack: `ping` mentions the user group with the daily question, and
only it; `thread` needs nothing more, the reveal being in the question's thread already."""

from __future__ import annotations

import re

from fake_slack import TEAM, all_text
from slack_driver import ANA, BEN, CHANNEL, START, SlackDriver

from bot.models import ChannelRef
from bot.store import ChannelSettings, DeliveryKind

GROUP = "S0QUIZ0042"
HERE = ChannelRef(f"slack:{TEAM}", CHANNEL)


async def ping(slack: SlackDriver, group: str | None) -> None:
    # Stored as `/dlquiz settings ping` stores it (the engine's tests cover the command).
    await slack.engine.store.set_channel_settings(HERE, ChannelSettings(ping=group), at=START)


async def test_the_question_mentions_the_channel_user_group_only(slack: SlackDriver) -> None:
    await ping(slack, GROUP)

    await slack.command(ANA, "post")
    message = slack.posted()
    assert message["text"].startswith(f"<!subteam^{GROUP}> ")
    assert message["blocks"][0]["text"]["text"].startswith(f"<!subteam^{GROUP}>")
    mentions = re.findall(r"<[!@][^>]*>", all_text(message))
    assert set(mentions) == {f"<!subteam^{GROUP}>"}

    await slack.press(BEN, message, 0)
    await slack.command(ANA, "reveal")
    reveal = slack.posted()
    assert "subteam" not in all_text(reveal)  # the reveal pings nobody


async def test_no_ping_no_mention(slack: SlackDriver) -> None:
    await ping(slack, None)
    await slack.command(ANA, "post")
    assert re.findall(r"<[!@][^>]*>", all_text(slack.posted())) == []


async def test_the_reveal_is_the_thread_so_nothing_more_is_opened(slack: SlackDriver) -> None:
    await slack.command(ANA, "post")
    question = slack.posted()
    await slack.command(ANA, "reveal")
    assert slack.posted()["thread_ts"] == question["ts"]
    row = await slack.engine.store.open_round(HERE)
    assert row is None
    # The thread step is marked done without a call: Slack has no thread to open.
    done = await slack.engine.store.deliveries_of(1)
    assert done[DeliveryKind.THREAD] == ("posted", 0)
    assert len(slack.fake.api("chat.postMessage")) == 2
