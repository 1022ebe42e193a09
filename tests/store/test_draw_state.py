"""What a channel's daily draw reads, in one query: its settings and its current cycle."""

from __future__ import annotations

from datetime import timedelta

from bot.models import ChannelRef
from bot.store import ChannelSettings, DrawState, Store
from tests.conftest import START
from tests.store.test_conformance import new_round

CHANNEL = ChannelRef("test:s1", "c1")


async def start(store: Store, channel: ChannelRef, number: int, *, cycle: int) -> None:
    started = await store.start_round(
        channel=channel,
        new=new_round(number),
        cycle=cycle,
        day=None,
        posted_at=START + timedelta(days=number),
        reveal_at=None,
    )
    assert started is not None


async def test_a_new_channel_draws_from_the_first_cycle_with_default_settings(
    store: Store,
) -> None:
    assert await store.draw_state(CHANNEL) == DrawState(
        settings=None, cycle=1, posted=set(), last=None
    )


async def test_only_the_current_cycle_of_this_channel_counts(store: Store) -> None:
    await start(store, CHANNEL, 1, cycle=1)
    await start(store, CHANNEL, 2, cycle=1)
    await start(store, CHANNEL, 3, cycle=2)
    await start(store, CHANNEL, 4, cycle=2)
    # The same channel id in another server, and another channel here, in a later cycle.
    await start(store, ChannelRef("test:s2", "c1"), 5, cycle=3)
    await start(store, ChannelRef("test:s1", "c2"), 6, cycle=3)
    assert await store.draw_state(CHANNEL) == DrawState(
        settings=None, cycle=2, posted={"q-003", "q-004"}, last="q-004"
    )


async def test_the_settings_come_with_the_rounds(store: Store) -> None:
    settings = ChannelSettings(
        source="both", topics=("cnn", "rnn"), difficulty="hard", thread=False, ping="42"
    )
    await store.set_channel_settings(CHANNEL, settings, at=START)
    await store.set_channel_settings(ChannelRef("test:s2", "c1"), ChannelSettings(), at=START)
    assert await store.draw_state(CHANNEL) == DrawState(
        settings=settings, cycle=1, posted=set(), last=None
    )
    await start(store, CHANNEL, 1, cycle=1)
    await start(store, CHANNEL, 2, cycle=1)
    found = await store.draw_state(CHANNEL)
    assert found == DrawState(settings=settings, cycle=1, posted={"q-001", "q-002"}, last="q-002")
    assert found.settings == await store.channel_settings(CHANNEL)
