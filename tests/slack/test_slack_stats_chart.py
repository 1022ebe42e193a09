"""`/dlquiz stats` on Slack: the card for the caller, and its chart in their DM with the app."""

from __future__ import annotations

from fake_slack import FakeSlack, all_text
from slack_driver import ANA, BEN, SlackDriver

PNG = b"\x89PNG\r\n\x1a\n"


async def play(slack: SlackDriver) -> None:
    await slack.command(ANA, "post")
    await slack.press(BEN, slack.posted(), 1)
    await slack.command(ANA, "reveal")


async def test_chart_goes_to_the_callers_dm_never_the_channel(slack: SlackDriver) -> None:
    await play(slack)
    before = len(slack.fake.calls)
    stats = await slack.command(BEN, "stats")
    assert stats.ack["response_type"] == "ephemeral"
    assert "*Stats for ben*" in stats.text
    assert "on its way to your direct messages with dlquiz" in stats.text
    calls = [c.method for c in slack.fake.calls[before:]]
    assert calls == [
        "conversations.open",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert slack.fake.api("conversations.open")[-1].args["users"] == BEN.id
    [shared] = slack.fake.shared
    assert shared.channel == f"D{BEN.id}"
    assert shared.filename == "dlquiz-stats.png"
    assert shared.content.startswith(PNG)
    assert int.from_bytes(shared.content[16:20], "big") == 800
    # Nothing but the card itself reached the member, and nothing the channel.
    assert stats.replies == []


async def test_a_refused_upload_is_named_and_the_card_stays(slack: SlackDriver) -> None:
    await play(slack)
    fake: FakeSlack = slack.fake
    fake.errors["files.getUploadURLExternal"] = "missing_scope"
    stats = await slack.command(BEN, "stats")
    assert "*Stats for ben*" in all_text(stats.ack)
    [reply] = stats.replies
    assert reply.body["response_type"] == "ephemeral"
    assert "Slack refused your stats chart (missing_scope)" in reply.text
    assert "files:write and im:write" in reply.text
    assert fake.shared == []
