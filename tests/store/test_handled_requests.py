"""`first_time`: a request key is acted on once, across processes, and forgotten after a day."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.store import Store, open_store
from tests.conftest import START, Backend


async def test_a_key_is_new_once(store: Store) -> None:
    assert await store.first_time("slack:v0=aaa", START) is True
    assert await store.first_time("slack:v0=aaa", START + timedelta(minutes=4)) is False
    assert await store.first_time("slack:v0=bbb", START) is True


async def test_keys_are_forgotten_after_a_day(store: Store) -> None:
    assert await store.first_time("old", START) is True
    assert await store.first_time("old", START + timedelta(hours=23)) is False
    # Any later call clears what is older than a day; the old key is new again.
    assert await store.first_time("other", START + timedelta(days=1, minutes=1)) is True
    assert await store.first_time("old", START + timedelta(days=1, minutes=2)) is True


async def test_two_stores_racing_on_one_key_agree(backend: Backend) -> None:
    location = await backend.new_location()
    first, second = await open_store(location), await open_store(location)
    try:
        for n in range(20):
            key = f"race-{n}"
            results = await asyncio.gather(
                first.first_time(key, START), second.first_time(key, START)
            )
            assert sorted(results) == [False, True], key
    finally:
        await first.close()
        await second.close()
