"""What a channel's daily draw reads, in one query: its settings and its current cycle."""

from __future__ import annotations

from bot.models import ChannelRef
from bot.store import ChannelSettings, DrawState, Store
from tests.conftest import START
from tests.store.test_start_round import CHANNEL, start


async def test_a_new_channel_draws_from_the_first_cycle_with_default_settings(
    store: Store,
) -> None:
    assert await store.draw_state(CHANNEL) == DrawState(
        settings=None, cycle=1, posted=set(), last=None
    )


async def test_only_the_current_cycle_of_this_channel_counts(store: Store) -> None:
    assert await start(store, 1, day=False, channel=CHANNEL, cycle=1)
    assert await start(store, 2, day=False, channel=CHANNEL, cycle=1)
    assert await start(store, 3, day=False, channel=CHANNEL, cycle=2)
    assert await start(store, 4, day=False, channel=CHANNEL, cycle=2)
    # The same channel id in another server, and another channel here, in a later cycle.
    assert await start(store, 5, day=False, channel=ChannelRef("test:s2", "c1"), cycle=3)
    assert await start(store, 6, day=False, channel=ChannelRef("test:s1", "c2"), cycle=3)
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
    assert await start(store, 1, day=False, channel=CHANNEL, cycle=1)
    assert await start(store, 2, day=False, channel=CHANNEL, cycle=1)
    found = await store.draw_state(CHANNEL)
    assert found == DrawState(settings=settings, cycle=1, posted={"q-001", "q-002"}, last="q-002")
    assert found.settings == await store.channel_settings(CHANNEL)
