"""Schedule claims, shard filters and Discord login slots, on every backend and across two
processes sharing one database (two stores opened on one location)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.models import ChannelRef
from bot.store import Shards, Store, open_store
from tests.conftest import START, Backend
from tests.store.test_conformance import new_round

LEASE = timedelta(minutes=2)


def guild_on(shard: int, count: int, n: int = 0) -> str:
    """A Discord server key whose guild is on `shard` of `count`."""
    return f"discord:{((1000 + n * count + shard) << 22) | 12345}"


async def schedule_all(store: Store, channels: list[ChannelRef]) -> None:
    for channel in channels:
        await store.set_schedule(channel, time="09:00", zone="UTC", at=START)


async def test_a_due_schedule_is_claimed_by_one_worker_until_its_lease_ends(
    store: Store,
) -> None:
    channel = ChannelRef("slack:T1", "C1")
    await schedule_all(store, [channel])
    first = await store.claim_due_schedules(platform="slack", now=START, worker="a", lease=LEASE)
    assert [(r.server, r.channel, r.next_due_at) for r in first] == [("slack:T1", "C1", None)]
    assert (
        await store.claim_due_schedules(platform="slack", now=START, worker="b", lease=LEASE) == []
    )
    # The holder died: once its lease is over, another worker takes the schedule.
    later = START + LEASE + timedelta(seconds=1)
    taken = await store.claim_due_schedules(platform="slack", now=later, worker="b", lease=LEASE)
    assert [r.channel for r in taken] == ["C1"]
    # The first worker's late hand-back changes nothing; the holder's does.
    assert not await store.finish_schedule(channel, worker="a", next_due_at=later)
    tomorrow = START + timedelta(days=1)
    assert await store.finish_schedule(channel, worker="b", next_due_at=tomorrow)
    row = await store.schedule(channel)
    assert row is not None
    assert row.next_due_at == tomorrow
    assert (
        await store.claim_due_schedules(platform="slack", now=later, worker="c", lease=LEASE) == []
    )
    due = await store.claim_due_schedules(platform="slack", now=tomorrow, worker="c", lease=LEASE)
    assert [r.next_due_at for r in due] == [tomorrow]


async def test_changing_a_schedule_makes_it_due_for_a_new_look_and_ends_the_claim(
    store: Store,
) -> None:
    channel = ChannelRef("slack:T1", "C1")
    await schedule_all(store, [channel])
    await store.claim_due_schedules(platform="slack", now=START, worker="a", lease=LEASE)
    await store.set_schedule(channel, time="10:00", zone="UTC", at=START)
    row = await store.schedule(channel)
    assert row is not None
    assert row.next_due_at is None
    claimed = await store.claim_due_schedules(platform="slack", now=START, worker="b", lease=LEASE)
    assert [r.time for r in claimed] == ["10:00"]
    # The worker that held the old time cannot overwrite what the new one works out.
    assert not await store.finish_schedule(channel, worker="a", next_due_at=START)


async def test_claims_keep_to_their_platform_and_shards(store: Store) -> None:
    count = 4
    discord = [
        ChannelRef(guild_on(shard, count, n), f"c{shard}-{n}")
        for shard in range(count)
        for n in range(2)
    ]
    slack = ChannelRef("slack:T1", "C1")
    await schedule_all(store, [*discord, slack])
    mine = Shards(count=count, ids=frozenset({1, 3}))
    claimed = await store.claim_due_schedules(
        platform="discord", now=START, worker="a", lease=LEASE, shards=mine
    )
    assert sorted(r.channel for r in claimed) == ["c1-0", "c1-1", "c3-0", "c3-1"]
    assert all(mine.owns(r.server) for r in claimed)
    theirs = Shards(count=count, ids=frozenset({0, 2}))
    rest = await store.claim_due_schedules(
        platform="discord", now=START, worker="b", lease=LEASE, shards=theirs
    )
    assert sorted(r.channel for r in rest) == ["c0-0", "c0-1", "c2-0", "c2-1"]
    left = await store.claim_due_schedules(platform=None, now=START, worker="c", lease=LEASE)
    assert [r.server for r in left] == ["slack:T1"]


async def test_the_delivery_sweep_sees_only_its_shards_channels(store: Store) -> None:
    count = 2
    channels = [ChannelRef(guild_on(shard, count), f"c{shard}") for shard in range(count)]
    for number, channel in enumerate(channels):
        await store.start_round(
            channel=channel,
            new=new_round(number),
            cycle=1,
            day=None,
            posted_at=START,
            reveal_at=None,
        )
    now = START + timedelta(seconds=1)
    for shard, channel in enumerate(channels):
        found = await store.due_delivery_channels(
            platform="discord", now=now, shards=Shards(count=count, ids=frozenset({shard}))
        )
        assert found == [channel]
    assert set(await store.due_delivery_channels(platform="discord", now=now)) == set(channels)


async def test_two_processes_never_claim_the_same_schedule(backend: Backend) -> None:
    location = await backend.new_location()
    channels = [ChannelRef("slack:T1", f"C{n:03d}") for n in range(120)]
    async with await open_store(location) as first, await open_store(location) as second:
        await schedule_all(first, channels)

        async def drain(store: Store, worker: str) -> list[str]:
            got: list[str] = []
            while batch := await store.claim_due_schedules(
                platform="slack", now=START, worker=worker, lease=LEASE, limit=7
            ):
                got.extend(r.channel for r in batch)
            return got

        one, two = await asyncio.gather(drain(first, "a"), drain(second, "b"))
    assert not set(one) & set(two)
    assert sorted(one + two) == sorted(c.channel for c in channels)


async def test_login_slots_are_spaced_per_bucket_across_processes(backend: Backend) -> None:
    location = await backend.new_location()
    spacing = timedelta(seconds=5)
    async with await open_store(location) as first, await open_store(location) as second:
        slots = await asyncio.gather(
            *(
                store.reserve_identify(bucket=0, now=START, spacing=spacing)
                for store in (first, second, first, second)
            )
        )
        other = await second.reserve_identify(bucket=1, now=START, spacing=spacing)
    assert sorted(slots) == [START + spacing * n for n in range(4)]
    assert other == START
