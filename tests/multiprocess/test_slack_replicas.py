"""Three real `dlquiz run slack` replicas (HTTP mode) on one database, any replica taking any
request, as behind a load balancer.

Presses go round-robin and one replica is SIGKILLed mid-burst: no acknowledged answer is lost and
none is counted twice. Channels scheduled for the same minute get one question each, whichever
replica claims them; and when the replica holding a schedule's claim is killed while it posts,
another finishes the day's post: still exactly one question.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from fake_slack import TEAM, FakeSlack
from reliability_kit import (
    ADMIN,
    BotProcess,
    Burst,
    bot_process,
    burst,
    command_body,
    member_presses,
    open_question,
    post_signed,
    say,
    slack_env,
    slack_process,
    user_ids,
)
from slack_driver import CHANNEL, buttons_of

from bot.models import ChannelRef
from bot.store import open_store

FAST = {"DLQUIZ_DELIVERY_LEASE": "1"}
SETTLED_WITHIN = 20.0
PRESSES = 900


async def replicas(
    stack: AsyncExitStack, fake: FakeSlack, db: str, folder: Path, count: int
) -> list[BotProcess]:
    """`count` replicas started together, each serving once this returns."""
    starting = [
        stack.enter_async_context(slack_process(fake, db, folder, f"replica-{n}", **FAST))  # type: ignore[arg-type]
        for n in range(count)
    ]
    return list(await asyncio.gather(*starting))


async def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql`, read on a connection of its own, as another process would."""
    if db.startswith("postgresql://"):
        conn = await asyncpg.connect(db)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()
    return await asyncio.to_thread(_sqlite_rows, db, sql)


def _sqlite_rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=5) as conn:
        return list(conn.execute(sql))


async def until(check: Callable[[], Any], *, within: float = SETTLED_WITHIN) -> None:
    """Poll an asynchronous condition (a database read) until it holds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled within {within}s")
        await asyncio.sleep(0.05)


def questions_in(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages if m.get("channel") == channel and buttons_of(m)]


async def schedule_now(db: str, channels: list[str]) -> None:
    """Each channel's daily time is the current minute, set a day ago: due at once."""
    now = datetime.now(UTC)
    store = await open_store(db)
    try:
        for channel in channels:
            await store.set_schedule(
                ChannelRef(f"slack:{TEAM}", channel),
                time=f"{now:%H:%M}",
                zone="UTC",
                at=now - timedelta(days=1),
            )
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """One database for every replica: a SQLite file (one machine) or PostgreSQL."""
    if request.param == "postgres":
        yield await request.getfixturevalue("pg_databases").create()
    else:
        yield str(tmp_path / "quiz.db")


@pytest.mark.postgres
async def test_presses_round_robin_with_a_replica_killed_mid_burst(
    fake_slack: FakeSlack, pg_databases: Any, tmp_path: Path
) -> None:
    url = await pg_databases.create()
    async with AsyncExitStack() as stack, aiohttp.ClientSession() as session:
        bots = await replicas(stack, fake_slack, url, tmp_path, 3)
        message = await open_question(fake_slack, session, bots[0].url)
        presses = member_presses(fake_slack, message, user_ids(PRESSES), tag="burst")
        shares = [presses[n::3] for n in range(3)]
        victim = bots[1]

        def kill_midway(result: Burst) -> None:
            if len(result.acknowledged) == len(shares[1]) // 3:
                victim.kill()

        results = await asyncio.gather(
            burst(bots[0].url, shares[0], concurrency=30),
            burst(victim.url, shares[1], concurrency=30, on_ack=kill_midway),
            burst(bots[2].url, shares[2], concurrency=30),
        )
        acknowledged = {user: choice for r in results for user, choice in r.acknowledged.items()}
        unanswered = [p for p in shares[1] if p.user_id not in acknowledged]
        # Members whose press got no answer press again, on a replica that is up; members who
        # were answered press again too: they are told their first answer is final.
        retry = await burst(bots[0].url, unanswered, concurrency=30)
        again = await burst(bots[2].url, [p for p in shares[1] if p.user_id in acknowledged])
        body = command_body(fake_slack, ADMIN, "reveal", "reveal")
        assert await post_signed(session, bots[2].url, body) == 200
        await fake_slack.wait_for(lambda: bool(fake_slack.replies_to("reveal")))

    say(
        f"3 replicas, {PRESSES} presses round-robin, one SIGKILLed: "
        f"{len(acknowledged)} acknowledged in the burst, {len(retry.acknowledged)} on retry; "
        f"failed {dict(results[1].failed)}"
    )
    assert results[1].failed, "the kill came after the burst"
    assert len(acknowledged) + len(retry.acknowledged) == PRESSES
    assert len(again.acknowledged) == len(shares[1]) - len(unanswered)
    recorded = dict(await rows(url, "SELECT user_id, choice FROM answers"))
    assert {**acknowledged, **retry.acknowledged}.items() <= recorded.items()
    assert len(recorded) == PRESSES
    scored = await rows(
        url, "SELECT answered, count(*) FROM scores WHERE period = 'all' GROUP BY 1"
    )
    assert scored == [(1, PRESSES)]


@pytest.mark.postgres
async def test_channels_due_together_get_one_question_each_across_replicas(
    fake_slack: FakeSlack, pg_databases: Any, tmp_path: Path
) -> None:
    url = await pg_databases.create()
    channels = [f"C0DUE{n:04d}" for n in range(30)]
    await schedule_now(url, channels)
    async with AsyncExitStack() as stack:
        await replicas(stack, fake_slack, url, tmp_path, 3)

        async def settled() -> bool:
            return all(questions_in(fake_slack, c) for c in channels) and not await rows(
                url, "SELECT 1 FROM schedules WHERE claimed_by IS NOT NULL OR next_due_at IS NULL"
            )

        await until(settled)
    posted = Counter(m["channel"] for m in fake_slack.messages if buttons_of(m))
    say(f"30 channels due at once on 3 replicas: questions per channel {set(posted.values())}")
    assert posted == Counter(dict.fromkeys(channels, 1))
    assert await rows(url, "SELECT count(*), count(DISTINCT channel) FROM rounds") == [(30, 30)]


async def test_a_schedule_fires_once_when_the_replica_holding_it_is_killed_posting(
    fake_slack: FakeSlack, database: str, tmp_path: Path
) -> None:
    await schedule_now(database, [CHANNEL])
    fake_slack.gates["chat.postMessage"] = asyncio.Event()
    env = slack_env(fake_slack, database, **FAST)  # type: ignore[arg-type]
    # The first replica claims the due schedule and hangs inside chat.postMessage: killed there.
    async with bot_process(["run", "slack", "--port", "0"], env, tmp_path, "holder") as holder:
        await fake_slack.wait_for(lambda: bool(fake_slack.api("chat.postMessage")))
        holder.kill()
    fake_slack.gates.pop("chat.postMessage").set()
    async with AsyncExitStack() as stack:
        await replicas(stack, fake_slack, database, tmp_path, 2)

        async def settled() -> bool:
            return not await rows(
                database,
                "SELECT 1 FROM deliveries WHERE done_at IS NULL UNION ALL"
                " SELECT 1 FROM schedules WHERE claimed_by IS NOT NULL OR next_due_at IS NULL",
            )

        await until(settled)
    posted = questions_in(fake_slack, CHANNEL)
    say(f"schedule holder killed while posting: {len(posted)} question(s) in the channel")
    assert len(posted) == 1
    assert await rows(database, "SELECT count(*) FROM rounds WHERE day IS NOT NULL") == [(1,)]
