"""Sending a member their stats chart where only they see it: their direct messages with the
app. An ephemeral message cannot carry a file, and a file shared in the channel is public."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

FILE_NAME = "dlquiz-stats.png"


async def send_to_dm(client: AsyncWebClient, *, user_id: str, png: bytes, name: str) -> str:
    """Upload the chart into the member's DM with the app; the DM's channel id.

    Raises `SlackApiError` when Slack refuses (a missing `files:write` or `im:write` scope,
    say) and `SlackRequestError`/`OSError` when the upload itself fails.
    """
    opened = await client.conversations_open(users=user_id)
    channel = str(opened["channel"]["id"])
    await client.files_upload_v2(
        channel=channel,
        file=png,
        filename=FILE_NAME,
        title=f"dlquiz stats for {name}",
        alt_txt="Charts: daily answers right per topic, practice questions per box,"
        " daily answers per week",
    )
    return channel
