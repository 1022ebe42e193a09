"""Two real `dlquiz run discord` processes of two shards each, on one PostgreSQL database, with
guilds on all four shards, every one scheduled at the same minute.

Each channel gets exactly one question, also when one process is SIGKILLed with its posts on
their way and restarted; the restarted process records its guilds' presses; and the four logins
of the two processes keep Discord's identify spacing per bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from discord_harness import ADA, GRACE, click
from fake_discord import TOKEN, FakeDiscord, Request
from reliability_kit import bot_process, discord_env, is_final_answer, say

from bot.models import ChannelRef
from bot.store import open_store
from tests.conftest import PgDatabases

pytestmark = pytest.mark.postgres

SHARDS = 4
CLUSTERS = {"a": "0-1", "b": "2-3"}
CONNECTED_WITHIN = 40.0
IDENTIFY_WINDOW = 5.0


def guild_on(shard: int) -> int:
    """A guild id on `shard`: Discord puts a guild on shard (guild_id >> 22) % count."""
    high = 1_302_744_932 // SHARDS * SHARDS + shard
    return high << 22 | 77


GUILDS = {shard: guild_on(shard) for shard in range(SHARDS)}
CHANNELS = {shard: str(9_000_000_000_000_000 + shard) for shard in range(SHARDS)}


async def schedule_every_guild_now(url: str) -> None:
    """Every channel's daily time is the current minute, set a day ago: due at once."""
    now = datetime.now(UTC)
    store = await open_store(url)
    try:
        for shard in range(SHARDS):
            await store.set_schedule(
                ChannelRef(f"discord:{GUILDS[shard]}", CHANNELS[shard]),
                time=f"{now:%H:%M}",
                zone="UTC",
                at=now - timedelta(days=1),
            )
    finally:
        await store.close()


def questions(fake: FakeDiscord) -> Counter[str]:
    """Question messages per channel, as the channel shows them (a repeated nonce is one)."""
    return Counter(
        m["channel_id"] for m in fake.messages.values() if m.get("components") and m.get("nonce")
    )


def posts_received(fake: FakeDiscord) -> set[str]:
    return {
        r.path.split("/")[2]
        for r in fake.requests
        if r.method == "POST" and r.path.startswith("/channels/")
    }


async def until(fake: FakeDiscord, done: Callable[[], bool]) -> None:
    """Wait, request by request, until `done()`; fail after CONNECTED_WITHIN seconds."""
    async with asyncio.timeout(CONNECTED_WITHIN):
        while not done():
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(lambda r: True, after=fake.last_seq)


async def press(fake: FakeDiscord, shard: int, message: dict[str, Any], who: Any) -> str:
    """A member presses A on the question, through the gateway of the guild's shard."""
    payload = click(message, "A", who)
    payload["guild_id"] = str(GUILDS[shard])
    payload["channel"]["guild_id"] = str(GUILDS[shard])
    payload["channel_id"] = payload["channel"]["id"] = CHANNELS[shard]
    after = fake.last_seq
    await fake.gateway_of(GUILDS[shard]).dispatch("INTERACTION_CREATE", payload)
    final: Request = await fake.wait_for(lambda r: is_final_answer(r, payload), after=after)
    body = final.body or {}
    return str((body.get("data") or body).get("content"))


async def test_two_shard_clusters_post_once_per_channel_through_a_kill(
    fake_discord: FakeDiscord, pg_databases: PgDatabases, tmp_path: Path
) -> None:
    fake_discord.shard_count = SHARDS
    fake_discord.max_concurrency = 2
    url = await pg_databases.create()
    await schedule_every_guild_now(url)
    held = fake_discord.hold_channel_posts()

    def env(cluster: str) -> dict[str, str]:
        return discord_env(
            fake_discord,
            url,  # type: ignore[arg-type]  # a PostgreSQL URL where the kit expects a file
            TOKEN,
            DISCORD_SHARD_COUNT=str(SHARDS),
            DISCORD_SHARD_IDS=CLUSTERS[cluster],
            DLQUIZ_DELIVERY_LEASE="1",
        )

    def connected(text: str) -> bool:
        return "connected to Discord as" in text

    async with (
        bot_process(["run", "discord"], env("a"), tmp_path, "cluster-a") as first,
        bot_process(["run", "discord"], env("b"), tmp_path, "cluster-b") as second,
    ):
        # Both processes claim their guilds' schedules and post; every post hangs at Discord.
        await until(fake_discord, lambda: posts_received(fake_discord) == set(CHANNELS.values()))
        first.kill()  # SIGKILL with its two posts on their way
        held.set()
        await second.wait_for_output(connected, within=CONNECTED_WITHIN)
        async with bot_process(["run", "discord"], env("a"), tmp_path, "cluster-a2") as again:
            await again.wait_for_output(connected, within=CONNECTED_WITHIN)
            await until(fake_discord, lambda: len(questions(fake_discord)) == SHARDS)
            # The restarted process serves its guilds' presses.
            messages = {
                m["channel_id"]: m for m in fake_discord.messages.values() if m.get("nonce")
            }
            answers = [
                await press(fake_discord, 0, messages[CHANNELS[0]], ADA),
                await press(fake_discord, 1, messages[CHANNELS[1]], GRACE),
                await press(fake_discord, 2, messages[CHANNELS[2]], ADA),
            ]
            again.send_signal(signal.SIGTERM)
            assert await again.wait_exit(within=20) == 0, again.describe()
        second.send_signal(signal.SIGTERM)
        assert await second.wait_exit(within=20) == 0, second.describe()

    assert questions(fake_discord) == Counter(CHANNELS.values())
    assert answers == ["Recorded: A"] * 3
    conn = await asyncpg.connect(url)
    try:
        rounds = await conn.fetch("SELECT channel, day FROM rounds ORDER BY channel")
        recorded = await conn.fetch("SELECT user_id FROM answers ORDER BY user_id")
    finally:
        await conn.close()
    assert [r["channel"] for r in rounds] == sorted(CHANNELS.values())
    assert len({r["day"] for r in rounds}) == 1
    assert sorted(r["user_id"] for r in recorded) == sorted(
        [ADA.user_id, GRACE.user_id, ADA.user_id]
    )

    # Logins: at most one per identify bucket in any 5 s, across both processes.
    logins = sorted(fake_discord.identifies)
    by_bucket: dict[int, list[float]] = {}
    for at, shard, total in logins:
        assert total == SHARDS
        by_bucket.setdefault(shard % fake_discord.max_concurrency, []).append(at)
    gaps = [b - a for times in by_bucket.values() for a, b in itertools.pairwise(times)]
    say(f"identify gaps within a bucket: {', '.join(f'{g:.2f}s' for g in gaps)}")
    assert gaps
    assert min(gaps) >= IDENTIFY_WINDOW - 0.1
