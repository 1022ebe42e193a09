"""The PostgreSQL server dies just after a fan-out of daily posts.

Opening a round on its own and handing a schedule back commit without waiting for the disk: only
what nobody has seen may be lost. Every question a channel received must still be recorded as
posted after the server's crash recovery, and a schedule whose hand-back was lost must not post
its day again.
"""

from __future__ import annotations

import random
from datetime import timedelta

import asyncpg
import pytest

from adapters.memory import ManualClock, MemoryPlatform
from bot.delivery import LEASE
from bot.engine import QuizEngine
from bot.models import ChannelRef
from bot.scheduler import DailyScheduler
from bot.store import open_store
from tests.conftest import START, make_bank
from tests.pg_server import PgServer, ServerUnavailable

pytestmark = pytest.mark.postgres

CHANNELS = [ChannelRef(f"test:s{i // 5}", f"c{i}") for i in range(40)]


async def test_what_was_posted_survives_the_server_dying_right_after(tmp_path: object) -> None:
    try:
        server = PgServer.start()  # its own server: this test kills it
    except ServerUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        admin = await asyncpg.connect(server.url())
        await admin.execute("CREATE DATABASE crash")
        await admin.close()
        url = server.url("crash")
        bank = make_bank()
        platform, clock = MemoryPlatform(), ManualClock(START)
        async with await open_store(url) as store:
            for channel in CHANNELS:
                await store.set_schedule(
                    channel, time=f"{START:%H:%M}", zone="UTC", at=START - timedelta(days=1)
                )
            engine = QuizEngine(
                store=store, bank=bank, platform=platform, clock=clock, rng=random.Random(7)
            )
            outcomes = await DailyScheduler(engine, grace=timedelta(minutes=5)).poll()
            assert len(outcomes) == len(CHANNELS)
            # The server dies at once: commits still in its WAL buffers are gone.
            server._run("pg_ctl", "-D", str(server.data), "-m", "immediate", "-w", "stop")
        assert server._start(), server._log_tail()

        async with await open_store(url) as store:
            for post in platform.questions:
                row = await store.round_by_id(post.round_id)
                assert row is not None, f"round {post.round_id} was posted, then lost"
                assert row.delivered
            again = MemoryPlatform()
            later = ManualClock(START + LEASE + timedelta(seconds=1))
            engine = QuizEngine(
                store=store, bank=bank, platform=again, clock=later, rng=random.Random(7)
            )
            await DailyScheduler(engine, grace=timedelta(minutes=5)).poll()
            assert again.questions == []
        assert len({post.channel for post in platform.questions}) == len(CHANNELS)
    finally:
        server.stop()
