"""What a delivery's claim and mark return, on every backend: a post needs its round and the
channel's settings from the claim alone, and learns from the mark whether to claim again."""

from __future__ import annotations

from datetime import timedelta

from bot.models import ChannelRef
from bot.store import ChannelSettings, DeliveryKind, Store
from tests.conftest import START
from tests.store.test_conformance import new_round

CHANNEL = ChannelRef("discord:1", "quiz")
LEASE = timedelta(minutes=2)


async def start(store: Store, number: int, *, day_offset: int = 0) -> int:
    started = await store.start_round(
        channel=CHANNEL,
        new=new_round(number),
        cycle=1,
        day=(START + timedelta(days=day_offset)).date(),
        posted_at=START + timedelta(days=day_offset),
        reveal_at=None,
    )
    assert started is not None
    return started.round.id


async def test_a_claim_brings_its_round_and_the_channel_settings(store: Store) -> None:
    round_id = await start(store, 1)
    claimed = await store.claim_delivery(CHANNEL, worker="w", now=START, lease=LEASE)
    assert claimed is not None
    assert claimed.kind is DeliveryKind.QUESTION
    assert claimed.round is not None
    assert (claimed.round.id, claimed.round.question_id) == (round_id, "q-001")
    assert claimed.settings is None  # the channel never changed its settings: the defaults
    await store.fail_delivery(claimed.id, error="boom", retry_at=START, give_up=False, at=START)

    settings = ChannelSettings(topics=("alpha",), thread=False, ping="1234")
    await store.set_channel_settings(CHANNEL, settings, at=START)
    again = await store.claim_delivery(CHANNEL, worker="w", now=START, lease=LEASE)
    assert again is not None
    assert again.settings == settings
    other = ChannelRef(CHANNEL.server, "elsewhere")
    await store.set_channel_settings(other, ChannelSettings(ping="9"), at=START)
    assert (await store.claim_delivery(CHANNEL, worker="w", now=START, lease=LEASE)) is None


async def test_finishing_says_whether_the_channel_has_more_to_post(store: Store) -> None:
    await start(store, 1)
    question = await store.claim_delivery(CHANNEL, worker="w", now=START, lease=LEASE)
    assert question is not None
    assert await store.finish_delivery(question.id, message_ref="m1", at=START) is False

    # The next day's round closes the first: its reveal, then the new question, are queued.
    await start(store, 2, day_offset=1)
    later = START + timedelta(days=1)
    kinds = []
    more = True
    while more:
        claimed = await store.claim_delivery(CHANNEL, worker="w", now=later, lease=LEASE)
        assert claimed is not None
        kinds.append(claimed.kind)
        more = await store.finish_delivery(claimed.id, message_ref="m2", at=later)
    # The reveal queues the edit that closes the first question's buttons and its thread.
    assert kinds == [
        DeliveryKind.REVEAL,
        DeliveryKind.QUESTION,
        DeliveryKind.CLOSE,
        DeliveryKind.THREAD,
    ]
    assert (await store.claim_delivery(CHANNEL, worker="w", now=later, lease=LEASE)) is None


async def test_a_question_that_arrives_after_its_round_closed_gets_its_buttons_closed(
    store: Store,
) -> None:
    round_id = await start(store, 1)
    in_flight = await store.claim_delivery(CHANNEL, worker="w", now=START, lease=LEASE)
    assert in_flight is not None
    closed = await store.close_round(CHANNEL, START + timedelta(minutes=1))
    assert closed is not None
    assert not closed.delivered  # its question was still on its way: dropped, not revealed
    assert await store.finish_delivery(in_flight.id, message_ref="late", at=START) is True
    row = await store.round_by_id(round_id)
    assert row is not None
    assert row.message_ref == "late"
    kinds = await store.deliveries_of(round_id)
    assert kinds[DeliveryKind.QUESTION] == ("dropped", 0)
    assert kinds[DeliveryKind.CLOSE] == (None, 0)
    assert DeliveryKind.REVEAL not in kinds


async def test_a_new_round_or_a_close_makes_waiting_posts_due_at_once(store: Store) -> None:
    await start(store, 1)
    claimed = await store.claim_delivery(CHANNEL, worker="w", now=START, lease=LEASE)
    assert claimed is not None
    far = START + timedelta(hours=1)
    await store.fail_delivery(claimed.id, error="429", retry_at=far, give_up=False, at=START)
    soon = START + timedelta(minutes=1)
    assert (await store.claim_delivery(CHANNEL, worker="w", now=soon, lease=LEASE)) is None

    # The same day again: no round is opened, but the failed post is due now all the same.
    again = await store.start_round(
        channel=CHANNEL,
        new=new_round(2),
        cycle=1,
        day=START.date(),
        posted_at=soon,
        reveal_at=None,
    )
    assert again is None
    retried = await store.claim_delivery(CHANNEL, worker="w", now=soon, lease=LEASE)
    assert retried is not None
    assert retried.id == claimed.id

    await store.finish_delivery(retried.id, message_ref="m1", at=soon)

    # A reveal that failed waits for its backoff, unless a close comes (even one that finds
    # no round open, as an admin's reveal may).
    await store.close_round(CHANNEL, soon)
    reveal = await store.claim_delivery(CHANNEL, worker="w", now=soon, lease=LEASE)
    assert reveal is not None
    assert reveal.kind is DeliveryKind.REVEAL
    await store.fail_delivery(reveal.id, error="500", retry_at=far, give_up=False, at=soon)
    later = soon + timedelta(minutes=1)
    assert (await store.claim_delivery(CHANNEL, worker="w", now=later, lease=LEASE)) is None
    assert await store.close_round(CHANNEL, later) is None
    retried_reveal = await store.claim_delivery(CHANNEL, worker="w", now=later, lease=LEASE)
    assert retried_reveal is not None
    assert retried_reveal.id == reveal.id


async def test_a_server_that_removed_the_app_has_its_waiting_posts_given_up(
    store: Store,
) -> None:
    round_id = await start(store, 1)
    other = ChannelRef("discord:2", "quiz")
    started = await store.start_round(
        channel=other, new=new_round(1), cycle=1, day=None, posted_at=START, reveal_at=None
    )
    assert started is not None
    gone = await store.abandon_deliveries(
        server=CHANNEL.server, reason="the workspace removed the app", at=START
    )
    assert gone == 1
    assert (await store.deliveries_of(round_id))[DeliveryKind.QUESTION] == ("failed", 0)
    assert (await store.claim_delivery(CHANNEL, worker="w", now=START, lease=LEASE)) is None
    # Another server's posts are untouched.
    assert (await store.claim_delivery(other, worker="w", now=START, lease=LEASE)) is not None
    assert await store.abandon_deliveries(server=CHANNEL.server, reason="again", at=START) == 0


async def test_closing_a_round_whose_post_is_in_doubt_queues_a_look_for_its_message(
    store: Store,
) -> None:
    """A question whose post got no answer may be in the channel: dropping it queues the edit
    that finds and closes it. One refused outright, or one still in flight, queues nothing
    (the finish of a post in flight closes it once its message is known)."""
    refused = await start(store, 1)
    claimed = await store.claim_delivery(CHANNEL, worker="w", now=START, lease=LEASE)
    assert claimed is not None
    await store.fail_delivery(claimed.id, error="403", retry_at=START, give_up=False, at=START)
    await store.close_round(CHANNEL, START)
    assert DeliveryKind.CLOSE not in await store.deliveries_of(refused)

    timed_out = await start(store, 2, day_offset=1)
    later = START + timedelta(days=1)
    claimed = await store.claim_delivery(CHANNEL, worker="w", now=later, lease=LEASE)
    assert claimed is not None
    await store.fail_delivery(
        claimed.id, error="timeout", retry_at=later, give_up=False, at=later, ambiguous=True
    )
    await store.close_round(CHANNEL, later)
    assert (await store.deliveries_of(timed_out))[DeliveryKind.CLOSE] == (None, 0)
    close = await store.claim_delivery(CHANNEL, worker="w", now=later, lease=LEASE)
    assert close is not None
    assert close.kind is DeliveryKind.CLOSE
    assert close.round is not None
    assert close.round.message_ref is None  # the deliverer looks for the message first
    await store.finish_delivery(close.id, message_ref=None, at=later)

    in_flight = await start(store, 3, day_offset=2)
    latest = START + timedelta(days=2)
    assert await store.claim_delivery(CHANNEL, worker="w", now=latest, lease=LEASE) is not None
    await store.close_round(CHANNEL, latest)
    assert DeliveryKind.CLOSE not in await store.deliveries_of(in_flight)
