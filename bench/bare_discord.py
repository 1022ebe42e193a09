"""A bare discord.py client, the yardstick of the end-to-end bench.

`python -m bench.bare_discord`: connects like `dlquiz run discord` (auto-sharded, so it asks
`GET /gateway/bot` on DISCORD_API_BASE, with the same intents) and answers every interaction
with one ephemeral message, and nothing else.
"""

from __future__ import annotations

import asyncio
import os

import discord


class BareClient(discord.AutoShardedClient):
    async def on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message("Recorded: A", ephemeral=True)


async def serve() -> None:
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"].rstrip("/")
    client = BareClient(
        intents=discord.Intents(guilds=True), allowed_mentions=discord.AllowedMentions.none()
    )
    async with client:
        await client.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    asyncio.run(serve())
