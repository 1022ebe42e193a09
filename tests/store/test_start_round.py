"""Opening a round, on every backend: with no round open, over an unanswered one, over an
answered one, and raced by two processes; and the PostgreSQL channel lock's key."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import asyncpg
import pytest

from bot.models import ChannelRef
from bot.store import AnswerStatus, DeliveryKind, Store, open_store
from bot.store.postgres.locks import hashtextextended
from tests.conftest import START, Backend, PgDatabases
from tests.store.test_conformance import BASE, RIGHT, commit_held, deliver, new_round, press

CHANNEL = ChannelRef("test:s1", "c1")


async def start(store: Store, number: int, *, day: bool = True) -> int | None:
    at = START + timedelta(days=number)
    started = await store.start_round(
        channel=CHANNEL,
        new=new_round(number),
        cycle=1,
        day=at.date() if day else None,
        posted_at=at,
        reveal_at=None,
    )
    return started.round.id if started else None


async def test_a_channel_with_no_round_open_gets_its_round_and_question_queued(
    store: Store,
) -> None:
    first = await start(store, 0)
    assert first is not None
    assert await store.deliveries_of(first) == {DeliveryKind.QUESTION: (None, 0)}
    opened = await store.open_round(CHANNEL)
    assert opened is not None
    assert opened.id == first
    # The same day again changes nothing; another day, with the round delivered and closed,
    # opens the next one.
    assert await start(store, 0) is None
    await deliver(store, CHANNEL)
    await store.close_round(CHANNEL, START + timedelta(hours=1))
    second = await start(store, 1)
    assert second is not None
    assert await store.deliveries_of(second) == {DeliveryKind.QUESTION: (None, 0)}


async def test_a_start_over_an_unanswered_round_closes_it_and_queues_its_reveal(
    store: Store,
) -> None:
    first = await start(store, 0)
    assert first is not None
    await deliver(store, CHANNEL)
    started = await store.start_round(
        channel=CHANNEL,
        new=new_round(1),
        cycle=1,
        day=(START + timedelta(days=1)).date(),
        posted_at=START + timedelta(days=1),
        reveal_at=None,
    )
    assert started is not None
    assert started.closed is not None
    assert started.closed.id == first
    assert started.closed.closed_at == START + timedelta(days=1)
    assert (await store.deliveries_of(first))[DeliveryKind.REVEAL] == (None, 0)
    assert await store.tally(first, 4) == (0, 0, 0, 0)
    opened = await store.open_round(CHANNEL)
    assert opened is not None
    assert opened.id == started.round.id


async def test_a_start_over_an_answered_round_scores_it(store: Store) -> None:
    first = await start(store, 0)
    assert first is not None
    await deliver(store, CHANNEL)
    for user, choice in (("ada", RIGHT), ("bob", RIGHT + 1)):
        outcome = await store.submit_answer(press(first, CHANNEL, user, choice))
        assert outcome.status is AnswerStatus.RECORDED
    second = await start(store, 1)
    assert second is not None
    ada = await store.score_of(server=CHANNEL.server, period="all", user_id="ada")
    bob = await store.score_of(server=CHANNEL.server, period="all", user_id="bob")
    assert ada is not None
    assert bob is not None
    assert (ada.points, ada.answered, ada.correct) == (BASE, 1, 1)
    assert (bob.points, bob.answered, bob.correct) == (0, 1, 0)
    assert (await store.deliveries_of(first))[DeliveryKind.REVEAL] == (None, 0)


async def test_two_processes_opening_the_first_round_of_a_day_open_one(backend: Backend) -> None:
    """Many channels with nothing open, each started four times at once from two stores: one
    round and one queued question per channel."""
    location = await backend.new_location()
    channels = [ChannelRef("test:s1", f"c{i}") for i in range(20)]
    async with await open_store(location) as first, await open_store(location) as second:
        results = await asyncio.gather(
            *(
                store.start_round(
                    channel=channel,
                    new=new_round(n),
                    cycle=1,
                    day=START.date(),
                    posted_at=START,
                    reveal_at=None,
                )
                for channel in channels
                for n, store in ((1, first), (2, second), (3, first), (4, second))
            )
        )
    started = [r for r in results if r is not None]
    assert sorted(r.round.channel for r in started) == sorted(c.channel for c in channels)
    assert await backend.query(location, "SELECT count(*) FROM rounds") == [(len(channels),)]
    assert await backend.query(
        location, "SELECT count(*) FROM deliveries WHERE kind = 'question'"
    ) == [(len(channels),)]


async def test_a_start_waits_for_an_answer_batch_and_scores_it(backend: Backend) -> None:
    """The answer/start race: a batch that found the round open commits before the start
    closes and scores it, so the answer is scored once."""
    if backend.name == "sqlite":
        pytest.skip("one SQLite writer per file: a start cannot run inside an answer batch")
    location = await backend.new_location()
    async with await open_store(location) as store, await open_store(location) as starter:
        first = await start(store, 0)
        assert first is not None
        await deliver(store, CHANNEL)
        async with commit_held(store, backend, location) as (held, release):
            answer = asyncio.create_task(store.submit_answer(press(first, CHANNEL, "ada", RIGHT)))
            await held()
            opening = asyncio.create_task(start(starter, 1))
            await asyncio.sleep(0.3)
            assert not opening.done(), "the start did not wait for the answer batch"
            await release()
            outcome = await asyncio.wait_for(answer, 10)
            second = await asyncio.wait_for(opening, 10)
        assert outcome.status is AnswerStatus.RECORDED
        assert second is not None
        score = await store.score_of(server="test:s1", period="all", user_id="ada")
        assert score is not None
        assert (score.points, score.answered, score.correct) == (BASE, 1, 1)


@pytest.mark.postgres
async def test_the_channel_lock_key_is_the_one_the_server_computes(
    pg_databases: PgDatabases,
) -> None:
    """Processes of an older dlquiz ask the server for the key: both must take one lock."""
    picks = random.Random(7)
    letters = "az09:_-\u00e9\u00df\u4e2d\U0001f600"
    texts = [
        "channel:" + "".join(picks.choice(letters) for _ in range(size))
        for size in list(range(30)) + [picks.randrange(30, 200) for _ in range(50)]
    ]
    conn = await asyncpg.connect(await pg_databases.create())
    try:
        rows = await conn.fetch(
            "SELECT t, hashtextextended(t, 0) FROM unnest($1::text[]) AS t", texts
        )
    finally:
        await conn.close()
    assert [(text, hashtextextended(text)) for text in texts] == [tuple(row) for row in rows]
