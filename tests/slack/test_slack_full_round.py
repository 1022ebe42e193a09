"""A whole daily round on Slack, through the real bolt app against the fake: the Home tab, the
question pinging the channel's user group, private confirmations, the reveal in the question's
thread, the closed question, and the Home tab published again. The Web API calls are pinned:
this is what a workspace sees of one round."""

from __future__ import annotations

import re

from fake_slack import TEAM, all_text
from slack_driver import ANA, BEN, CHANNEL, CY, START, SlackDriver, buttons_of

from bot.models import ChannelRef
from bot.store import ChannelSettings

GROUP = "S0QUIZ0042"
HERE = ChannelRef(f"slack:{TEAM}", CHANNEL)


async def test_a_full_round_with_its_ping_thread_and_home_tab(slack: SlackDriver) -> None:
    fake = slack.fake
    await slack.engine.store.set_channel_settings(HERE, ChannelSettings(ping=GROUP), at=START)
    assert await slack.open_home(BEN) == 200
    await fake.wait_for(lambda: len(fake.homes_of(BEN.id)) == 1)
    assert "Welcome to dlquiz" in fake.homes_of(BEN.id)[0].text
    start = len(fake.calls)

    posted = await slack.command(ANA, "post")
    assert "Posted a new question" in posted.text
    question = slack.posted()
    assert question["text"].startswith(f"<!subteam^{GROUP}> ")
    assert set(re.findall(r"<[!@][^>]*>", all_text(question))) == {f"<!subteam^{GROUP}>"}
    row = await slack.engine.store.open_round(HERE)
    assert row is not None
    recorded = await slack.press(BEN, question, row.answer)
    assert recorded.text.startswith("Recorded")
    await slack.press(CY, question, (row.answer + 1) % row.choice_count)

    revealed = await slack.command(ANA, "reveal")
    assert "posted its reveal" in revealed.text
    assert slack.home is not None
    await slack.home.idle()

    reveal = slack.posted()
    assert reveal["thread_ts"] == question["ts"]  # the discussion goes on in the thread
    assert "subteam" not in all_text(reveal)
    closed = fake.edited[str(question["ts"])]
    assert buttons_of(closed) == []
    again = fake.homes_of(BEN.id)[-1]
    assert "*Rank*\n1 of 1" in again.text
    assert fake.homes_of(CY.id) == [], "never opened Home"

    methods = [c.method for c in fake.calls[start:]]
    assert methods[:3] == [
        "users.info",  # is Ana an admin? (then cached: the reveal asks no more)
        "chat.postMessage",  # the question, mentioning the user group
        "chat.postMessage",  # the reveal, in the question's thread
    ]
    # Then, side by side: the question closed (no buttons; where the answer is) and Ben's Home
    # published again with his points and rank.
    assert sorted(methods[3:]) == ["chat.update", "views.publish"]
