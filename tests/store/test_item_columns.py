"""`item_columns`: closed daily rounds and their answers, per server or across every server."""

from __future__ import annotations

from datetime import timedelta

from bot.models import ChannelRef
from bot.store import Store
from tests.conftest import START
from tests.store.test_conformance import RIGHT, play, post, press


async def test_closed_rounds_of_one_server_or_all(store: Store) -> None:
    one, other = ChannelRef("test:a", "c1"), ChannelRef("test:b", "c9")
    first = await play(store, one, 1, {"u1": RIGHT, "u2": 0})
    second = await play(store, other, 2, {"u1": 3})
    # An open round's answers would tell whether they are right before the reveal.
    still_open = await post(store, one, 3)
    await store.submit_answer(press(still_open, one, "u3", RIGHT))

    mine = await store.item_columns("test:a")
    assert [(r.id, r.server, r.question_id, r.answer, r.choice_count) for r in mine.rounds] == [
        (first, "test:a", "q-001", RIGHT, 4)
    ]
    assert mine.rounds[0].difficulty == "easy"
    assert mine.rounds[0].topic == "alpha"
    assert mine.rounds[0].question == "{}"
    assert mine.rounds[0].posted_at == START + timedelta(days=1)
    # u1 is member 0 and u2 member 1: (round, member, choice, right) per answer.
    answers = zip(mine.round_ids, mine.members, mine.choices, mine.correct, strict=True)
    assert list(answers) == [(first, 0, RIGHT, 1), (first, 1, 0, 0)]
    assert mine.days == [(START.date(), 2)]

    every = await store.item_columns(None)
    assert [r.id for r in every.rounds] == [first, second]
    # u1 of test:b is another member than u1 of test:a.
    assert list(zip(every.round_ids, every.members, strict=True)) == [
        (first, 0),
        (first, 1),
        (second, 2),
    ]
    nobody = await store.item_columns("test:none")
    assert (nobody.rounds, len(nobody), nobody.days) == ([], 0, [])


async def test_members_are_numbered_by_first_answer(store: Store) -> None:
    one, other = ChannelRef("test:a", "c1"), ChannelRef("test:b", "c9")
    first = await play(store, one, 1, {"u2": RIGHT, "u1": 0})
    second = await play(store, other, 2, {"u1": 3})
    third = await play(store, one, 3, {"u3": RIGHT, "u1": RIGHT})
    still_open = await post(store, one, 4)
    await store.submit_answer(press(still_open, one, "u3", RIGHT))

    every = await store.item_columns(None)
    assert [r.id for r in every.rounds] == [first, second, third]
    assert len(every) == 5
    # By round, then user id; a member is one user of one server: u1 of test:b is another.
    assert list(every.round_ids) == [first, first, second, third, third]
    assert list(every.members) == [0, 1, 2, 0, 3]
    assert list(every.choices) == [0, RIGHT, 3, RIGHT, RIGHT]
    assert list(every.correct) == [0, 1, 0, 1, 1]
    assert every.days == [(START.date(), 5)]

    mine = await store.item_columns("test:a")
    assert [r.id for r in mine.rounds] == [first, third]
    assert list(mine.round_ids) == [first, first, third, third]
    assert list(mine.members) == [0, 1, 0, 2]
    assert (await store.item_columns("test:none")).days == []
