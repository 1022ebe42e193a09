"""`answer_days` and `practice_boxes`: what a member's stats chart is drawn from."""

from __future__ import annotations

from datetime import timedelta

from bot.models import ChannelRef
from bot.store import AnswerStatus, Store
from tests.conftest import START
from tests.store.test_conformance import RIGHT, post, press


async def answer_on(
    store: Store, channel: ChannelRef, rid: int, user: str, *, choice: int, day: int
) -> None:
    request = press(rid, channel, user, choice)._replace(at=START + timedelta(days=day, hours=2))
    assert (await store.submit_answer(request)).status is AnswerStatus.RECORDED


async def test_answer_days_per_utc_day_closed_rounds_only(store: Store) -> None:
    here, elsewhere = ChannelRef("test:a", "c1"), ChannelRef("test:b", "c1")
    for number, (day, choice) in enumerate([(0, RIGHT), (0, 0), (3, RIGHT), (9, 2)], start=1):
        rid = await post(store, here, number)
        await answer_on(store, here, rid, "u1", choice=choice, day=day)
        await answer_on(store, here, rid, "u2", choice=RIGHT, day=day)
        await store.close_round(here, START + timedelta(days=20 + number))
    other = await post(store, elsewhere, 1)
    await answer_on(store, elsewhere, other, "u1", choice=RIGHT, day=3)
    await store.close_round(elsewhere, START + timedelta(days=30))
    # An open round's answer would tell whether it is right before the reveal.
    still_open = await post(store, here, 5)
    await answer_on(store, here, still_open, "u1", choice=RIGHT, day=9)

    days = await store.answer_days(server="test:a", user_id="u1", since=START.date())
    first = START.date()
    assert days == [
        (first, 2, 1),
        (first + timedelta(days=3), 1, 1),
        (first + timedelta(days=9), 1, 0),
    ]
    later = await store.answer_days(server="test:a", user_id="u1", since=first + timedelta(days=1))
    assert later == days[1:]
    assert await store.answer_days(server="test:a", user_id="nobody", since=first) == []


async def test_practice_boxes_per_topic_and_box(store: Store) -> None:
    at = START
    for question, topic in (("q1", "alpha"), ("q2", "alpha"), ("q3", "beta"), ("q4", "beta")):
        await store.ask_practice(
            server="test:a", user_id="u1", question_id=question, topic=topic, filter=None, at=at
        )
    # q1 right twice (box 3), q2 right once (box 2), q3 wrong (box 1); q4 shown, not answered.
    for question, correct in (("q1", True), ("q1", True), ("q2", True), ("q3", False)):
        at += timedelta(days=2)
        await store.ask_practice(
            server="test:a", user_id="u1", question_id=question, topic="x", filter=None, at=at
        )
        await store.mark_practice(
            server="test:a", user_id="u1", question_id=question, correct=correct, at=at
        )
    await store.ask_practice(
        server="test:b", user_id="u1", question_id="q9", topic="alpha", filter=None, at=at
    )
    await store.mark_practice(server="test:b", user_id="u1", question_id="q9", correct=True, at=at)

    boxes = await store.practice_boxes(server="test:a", user_id="u1")
    assert boxes == [("alpha", 2, 1), ("alpha", 3, 1), ("beta", 1, 1)]
    assert await store.practice_boxes(server="test:a", user_id="u2") == []
