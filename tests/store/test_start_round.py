"""Opening a round, on every backend: with no round open, over an unanswered one, over an
answered one, and raced by two processes; and the PostgreSQL channel lock's key."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.models import ChannelRef
from bot.store import AnswerStatus, DeliveryKind, StartedRound, Store, open_store
from tests.conftest import START, Backend, PgDatabases
from tests.store.test_conformance import BASE, RIGHT, commit_held, deliver, new_round, press

CHANNEL = ChannelRef("test:s1", "c1")


async def start(
    store: Store,
    number: int,
    *,
    day: bool = True,
    channel: ChannelRef = CHANNEL,
    cycle: int = 1,
) -> int | None:
    at = START + timedelta(days=number)
    started = await store.start_round(
        channel=channel,
        new=new_round(number),
        cycle=cycle,
        day=at.date() if day else None,
        posted_at=at,
        reveal_at=None,
    )
    return started.round.id if started else None


async def start_everywhere_at_once(
    location: str | Path, channels: list[ChannelRef], *, day: bool
) -> list[StartedRound | None]:
    """Each channel started four times at once, from two stores on one database."""
    async with await open_store(location) as first, await open_store(location) as second:
        return await asyncio.gather(
            *(
                store.start_round(
                    channel=channel,
                    new=new_round(n),
                    cycle=1,
                    day=START.date() if day else None,
                    posted_at=START,
                    reveal_at=None,
                )
                for channel in channels
                for n, store in ((1, first), (2, second), (3, first), (4, second))
            )
        )


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
    results = await start_everywhere_at_once(location, channels, day=True)
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


async def test_two_processes_opening_rounds_of_no_day_at_once_all_open(backend: Backend) -> None:
    """Posts outside the schedule (an admin's `post`) have no day to share: each one started at
    once from two stores opens its round, closing the one before; one stays open."""
    location = await backend.new_location()
    channels = [ChannelRef("test:s1", f"c{i}") for i in range(20)]
    results = await start_everywhere_at_once(location, channels, day=False)
    assert None not in results
    assert await backend.query(location, "SELECT count(*) FROM rounds") == [(4 * len(channels),)]
    assert await backend.query(location, "SELECT count(*) FROM rounds WHERE closed_at IS NULL") == [
        (len(channels),)
    ]


async def waiting_on(admin: asyncpg.Connection, key: int) -> bool:
    for _ in range(400):
        if await admin.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND ((classid::bigint << 32) | objid::bigint) = $1",
            key & 0xFFFFFFFFFFFFFFFF,
        ):
            return True
        await asyncio.sleep(0.01)
    return False


@pytest.mark.postgres
async def test_a_start_raced_by_an_unlocked_one_closes_its_round_in_turn(
    pg_databases: PgDatabases,
) -> None:
    """One start goes the locked way (a round was open when it looked); while it waits for the
    channel's lock the round is revealed, and a second start opens one in a statement that has
    not committed when the first checks. The first's insert waits for it, then it goes round
    again: it closes that round and opens its own, instead of finding nothing to do."""
    url = await pg_databases.create()
    admin = await asyncpg.connect(url)
    channel_key = await admin.fetchval(
        "SELECT hashtextextended($1, 0)", f"channel:{CHANNEL.server}:{CHANNEL.channel}"
    )
    try:
        await admin.execute(
            "CREATE FUNCTION hold_insert() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4343); RETURN NULL; END $$;"
            " CREATE TRIGGER hold_insert AFTER INSERT ON rounds FOR EACH ROW"
            " WHEN (NEW.question_id = 'q-009') EXECUTE FUNCTION hold_insert()"
        )
        async with await open_store(url) as store, await open_store(url) as other:
            before = await start(store, 0, day=False)
            assert before is not None
            await admin.execute("SELECT pg_advisory_lock($1)", channel_key)
            locked_way = asyncio.create_task(start(store, 1, day=False))
            assert await waiting_on(admin, channel_key)
            await admin.execute("UPDATE rounds SET closed_at = now() WHERE id = $1", before)
            await admin.execute("SELECT pg_advisory_lock(4343)")
            unlocked_way = asyncio.create_task(start(other, 9, day=False))
            assert await waiting_on(admin, 4343)
            await admin.execute("SELECT pg_advisory_unlock($1)", channel_key)
            await asyncio.sleep(0.3)  # the locked start checks, then its insert waits
            assert not locked_way.done()
            await admin.execute("SELECT pg_advisory_unlock(4343)")
            raced = await asyncio.wait_for(unlocked_way, 10)
            opened = await asyncio.wait_for(locked_way, 10)
        assert raced is not None
        assert opened is not None
        rows = await admin.fetch(
            "SELECT id FROM rounds WHERE closed_at IS NULL AND server = $1 AND channel = $2",
            CHANNEL.server,
            CHANNEL.channel,
        )
        assert [row[0] for row in rows] == [opened]
    finally:
        await admin.close()
