"""The guarantees of the `Store` protocol, pinned on every backend.

Each test drives the store directly (no engine), so a backend that breaks a rule fails here with
the rule's name: the streak bonus cap, every query scoped to its server, the first answer final
within a batch and across processes, one daily round per channel and day, and an answer
acknowledged only after its transaction committed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.models import ChannelRef
from bot.scoring import STREAK_BONUS_CAP
from bot.store import (
    AnswerOutcome,
    AnswerRequest,
    AnswerStatus,
    NewRound,
    RoundRow,
    Store,
    open_store,
)
from tests.conftest import START, Backend

BASE = 10
RIGHT = 1


def new_round(number: int, *, topic: str = "alpha") -> NewRound:
    return NewRound(
        question_id=f"q-{number:03d}",
        topic=topic,
        difficulty="easy",
        choice_count=4,
        answer=RIGHT,
        base_points=BASE,
        token="",
        snapshot="{}",
    )


async def post(store: Store, channel: ChannelRef, number: int, *, day: date | None = None) -> int:
    started = await store.start_round(
        channel=channel,
        new=new_round(number),
        cycle=1,
        day=day,
        posted_at=START + timedelta(days=number),
        reveal_at=None,
    )
    assert started is not None
    await deliver(store, channel)
    return started.round.id


async def deliver(store: Store, channel: ChannelRef) -> None:
    """Post what the channel has due, as the deliverer would: only a question that reached its
    channel takes answers."""
    at = START + timedelta(days=400)
    while (
        claimed := await store.claim_delivery(
            channel, worker="test", now=at, lease=timedelta(minutes=1)
        )
    ) is not None:
        await store.finish_delivery(claimed.id, message_ref=f"msg-{claimed.round_id}", at=at)


def press(
    round_id: int, channel: ChannelRef, user: str, choice: int, *, name: str | None = None
) -> AnswerRequest:
    return AnswerRequest(
        round_id=round_id,
        server=channel.server,
        channel=channel.channel,
        user_id=user,
        name=name or user,
        choice=choice,
        at=START,
    )


async def play(
    store: Store, channel: ChannelRef, number: int, choices: dict[str, int], **names: str
) -> int:
    """One round: post, everyone presses, close."""
    rid = await post(store, channel, number)
    for user, choice in choices.items():
        outcome = await store.submit_answer(press(rid, channel, user, choice, name=names.get(user)))
        assert outcome.status is AnswerStatus.RECORDED
    await store.close_round(channel, START + timedelta(days=number, hours=23))
    return rid


def expected_points(history: list[bool]) -> int:
    """The rule, recomputed: a right answer earns BASE plus one per right answer in a row
    before it, at most STREAK_BONUS_CAP."""
    total, streak = 0, 0
    for right in history:
        if right:
            total += BASE + min(streak, STREAK_BONUS_CAP)
            streak += 1
        else:
            streak = 0
    return total


async def test_streak_bonus_is_capped(store: Store) -> None:
    channel = ChannelRef("test:s1", "c1")
    rounds = STREAK_BONUS_CAP + 3
    for number in range(rounds):
        await play(store, channel, number, {"ada": RIGHT})
    score = await store.score_of(server="test:s1", period="all", user_id="ada")
    assert score is not None
    assert score.points == expected_points([True] * rounds)
    assert score.points == rounds * BASE + sum(min(n, STREAK_BONUS_CAP) for n in range(rounds))
    assert (score.answered, score.correct) == (rounds, rounds)
    member = await store.member(server="test:s1", user_id="ada")
    assert member is not None
    assert (member.current_streak, member.longest_streak) == (rounds, rounds)


async def test_every_query_is_scoped_to_its_server(store: Store) -> None:
    """Two servers with the same channel id and the same member ids, played on the same days."""
    one, two = ChannelRef("test:one", "general"), ChannelRef("test:two", "general")
    plays = {
        one: {"u1": [1, 1, 1], "u2": [1, 0, 1]},
        two: {"u1": [0, 0, 1], "u2": [1, 1, 1], "u3": [None, None, 1]},
    }
    names = {one: {"u1": "ada", "u2": "bob"}, two: {"u1": "cy", "u2": "di", "u3": "ed"}}
    ids: dict[ChannelRef, list[int]] = {one: [], two: []}
    for number in range(3):
        day = (START + timedelta(days=number)).date()
        for channel in (one, two):
            # The daily key is (server, channel, day): the same channel id in another server
            # has its own round that day.
            started = await store.start_round(
                channel=channel,
                new=new_round(number, topic="alpha" if number < 2 else "beta"),
                cycle=1,
                day=day,
                posted_at=START + timedelta(days=number),
                reveal_at=None,
            )
            assert started is not None
            await deliver(store, channel)
            rid = started.round.id
            ids[channel].append(rid)
            for user, history in plays[channel].items():
                choice = history[number]
                if choice is not None:
                    await store.submit_answer(
                        press(rid, channel, user, RIGHT if choice else 0, name=names[channel][user])
                    )
        for channel in (one, two):
            assert await store.daily_round_exists(channel, day)
    assert await store.open_question_ids("test:one") == {"q-002"}
    for channel in (one, two):
        await store.close_round(channel, START + timedelta(days=3))

    for channel, members in plays.items():
        server = channel.server
        totals = {
            user: expected_points([c == 1 for c in history if c is not None])
            for user, history in members.items()
        }
        board = await store.leaderboard(server=server, period="all")
        ranked = sorted((u for u in totals if totals[u] > 0), key=lambda u: (-totals[u], u))
        assert [(row.user_id, row.points, row.name) for _, row in board] == [
            (u, totals[u], names[channel][u]) for u in ranked
        ]
        for user, history in members.items():
            answered = [c for c in history if c is not None]
            score = await store.score_of(server=server, period="all", user_id=user)
            assert score is not None
            assert (score.points, score.answered, score.correct) == (
                totals[user],
                len(answered),
                sum(answered),
            )
            rank, count = await store.rank_of(server=server, period="all", points=totals[user])
            assert count == len(ranked)
            assert rank == 1 + sum(totals[u] > totals[user] for u in ranked)
            member = await store.member(server=server, user_id=user)
            assert member is not None
            run = 0
            for c in answered:
                run = run + 1 if c else 0
            assert member.current_streak == run
            assert await store.find_member(server=server, text=names[channel][user]) == user
            accuracy = await store.topic_accuracy(server=server, user_id=user)
            assert sum(n for _, n, _ in accuracy) == len(answered)
            assert sum(c for _, _, c in accuracy) == sum(answered)
        # Names of the other server are unknown here.
        other = two if channel == one else one
        for user in plays[other]:
            if names[other][user] not in names[channel].values():
                assert await store.find_member(server=server, text=names[other][user]) is None
        for rid, number in zip(ids[channel], range(3), strict=True):
            tally = await store.tally(rid, 4)
            presses = [h[number] for h in members.values() if h[number] is not None]
            assert tally == (presses.count(0), presses.count(1), 0, 0)
    # u3 never answered in server one.
    assert await store.score_of(server="test:one", period="all", user_id="u3") is None
    assert await store.member(server="test:one", user_id="u3") is None
    assert await store.practice_rows(server="test:one", user_id="u3") == {}


async def test_one_member_pressing_twice_in_one_batch(store: Store) -> None:
    """Presses queued together are written in one batch: the first press of a member is final,
    the rest of the batch is recorded, and a member answering two channels is recorded in both."""
    c1, c2 = ChannelRef("test:s1", "c1"), ChannelRef("test:s1", "c2")
    r1 = await post(store, c1, 0)
    r2 = await post(store, c2, 1)
    presses = [
        press(r1, c1, "ada", 0),
        press(r1, c1, "bob", 1),
        press(r1, c1, "ada", 2),  # ada again, another choice
        press(r1, c1, "cy", 3),
        press(r1, c1, "ada", 0),  # the same press delivered twice
        press(r2, c2, "bob", 2, name="Bob"),  # bob in a second channel, renamed
        press(r1, c1, "di", 9),  # no such choice: refused, the rest goes on
    ]
    # Started in one loop iteration, so the writer finds them all queued together.
    outcomes = await asyncio.gather(*(store.submit_answer(p) for p in presses))
    assert outcomes == [
        AnswerOutcome(AnswerStatus.RECORDED, 0),
        AnswerOutcome(AnswerStatus.RECORDED, 1),
        AnswerOutcome(AnswerStatus.DUPLICATE, 0),
        AnswerOutcome(AnswerStatus.RECORDED, 3),
        AnswerOutcome(AnswerStatus.DUPLICATE, 0),
        AnswerOutcome(AnswerStatus.RECORDED, 2),
        AnswerOutcome(AnswerStatus.BAD_CHOICE, None),
    ]
    assert [await store.choice_of(r1, u) for u in ("ada", "bob", "cy", "di")] == [0, 1, 3, None]
    assert await store.choice_of(r2, "bob") == 2
    assert await store.tally(r1, 4) == (1, 1, 0, 1)
    assert await store.find_member(server="test:s1", text="Bob") == "bob"


async def test_a_member_is_named_by_their_latest_valid_press(store: Store) -> None:
    """The leaderboard shows the name of a member's latest press of an open question, a repeated
    one too (they were renamed since answering); a refused press names nobody."""
    channel = ChannelRef("test:s1", "c1")
    r1 = await post(store, channel, 0)

    async def name() -> str | None:
        found = await store.member(server="test:s1", user_id="ada")
        return found.name if found else None

    await store.submit_answer(press(r1, channel, "ada", 0, name="Ada"))
    assert await name() == "Ada"
    repeated = await store.submit_answer(press(r1, channel, "ada", 1, name="Ada L."))
    assert repeated == AnswerOutcome(AnswerStatus.DUPLICATE, 0)
    assert await name() == "Ada L."
    refused = await store.submit_answer(press(r1, channel, "ada", 9, name="Nobody"))
    assert refused.status is AnswerStatus.BAD_CHOICE
    assert await name() == "Ada L."


async def test_first_answer_is_final_across_processes(backend: Backend) -> None:
    """Two stores on one database (as two processes would be) get the same members' presses
    with different choices at once: each member has one answer, and both are told which."""
    location = await backend.new_location()
    channel = ChannelRef("test:s1", "c1")
    async with await open_store(location) as first, await open_store(location) as second:
        rid = await post(first, channel, 0)
        users = [f"u{i}" for i in range(100)]
        outcomes = await asyncio.gather(
            *(first.submit_answer(press(rid, channel, u, 0)) for u in users),
            *(second.submit_answer(press(rid, channel, u, 2)) for u in users),
        )
        for i, user in enumerate(users):
            pair = (outcomes[i], outcomes[len(users) + i])
            statuses = sorted(o.status.value for o in pair)
            assert statuses == ["duplicate", "recorded"], (user, pair)
            kept = await first.choice_of(rid, user)
            assert all(o.choice == kept for o in pair)
        assert await backend.query(location, "SELECT count(*) FROM answers") == [(100,)]


async def test_one_daily_round_per_channel_and_day_across_processes(backend: Backend) -> None:
    location = await backend.new_location()
    channel = ChannelRef("test:s1", "c1")
    day = START.date()
    async with await open_store(location) as first, await open_store(location) as second:
        rid = await post(first, channel, 0)
        await first.submit_answer(press(rid, channel, "ada", RIGHT))
        results = await asyncio.gather(
            *(
                store.start_round(
                    channel=channel,
                    new=new_round(n),
                    cycle=1,
                    day=day,
                    posted_at=START,
                    reveal_at=None,
                )
                for n, store in ((1, first), (2, second), (3, first), (4, second))
            )
        )
        started = [r for r in results if r is not None]
        assert len(started) == 1
        assert started[0].closed is not None
        assert started[0].closed.id == rid
        rows = await backend.query(
            location, "SELECT count(*) FROM rounds WHERE day = ?", day.isoformat()
        )
        assert rows == [(1,)]
        # The round the winner closed was scored once.
        score = await first.score_of(server="test:s1", period="all", user_id="ada")
        assert score is not None
        assert (score.points, score.answered) == (BASE, 1)


# --- acknowledged only after commit -------------------------------------------------------------


@asynccontextmanager
async def commit_held(
    store: Store, backend: Backend, location: str | Path
) -> AsyncIterator[tuple[Callable[[], Any], Callable[[], Any]]]:
    """Holds the next answer batch before its transaction commits, until `release()`; `held()`
    waits until the writer is held there."""
    if backend.name == "postgres":
        # A deferred constraint trigger runs inside COMMIT; it waits on a lock the test holds.
        admin = await asyncpg.connect(str(location))
        await admin.execute(
            "CREATE FUNCTION hold_commit() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NULL; END $$;"
            " CREATE CONSTRAINT TRIGGER hold_commit AFTER INSERT ON answers"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hold_commit()"
        )
        await admin.execute("SELECT pg_advisory_lock(4242)")

        async def held() -> None:
            for _ in range(400):
                waiting = await admin.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND objid = 4242 AND NOT granted"
                )
                if waiting:
                    return
                await asyncio.sleep(0.01)
            raise AssertionError("the writer never reached its commit")

        async def release() -> None:
            await admin.execute("SELECT pg_advisory_unlock(4242)")

        try:
            yield held, release
        finally:
            await admin.close()
        return
    # SQLite: a trigger of the writer's connection stops the batch's transaction at its insert
    # into answers, on the database thread, until the test lets it go on to its COMMIT.
    db = store._writer._db  # type: ignore[attr-defined]
    loop = asyncio.get_running_loop()
    inside, go = asyncio.Event(), threading.Event()

    def hold() -> None:
        loop.call_soon_threadsafe(inside.set)
        go.wait(10)

    await db.create_function("hold_commit", 0, hold)
    await db.execute(
        "CREATE TEMP TRIGGER hold_commit AFTER INSERT ON main.answers"
        " BEGIN SELECT hold_commit(); END"
    )

    async def sqlite_held() -> None:
        await asyncio.wait_for(inside.wait(), 10)

    async def sqlite_release() -> None:
        go.set()

    try:
        yield sqlite_held, sqlite_release
    finally:
        go.set()
        await db.execute("DROP TRIGGER temp.hold_commit")


async def count_answers(backend: Backend, location: str | Path) -> int:
    [(count,)] = await backend.query(location, "SELECT count(*) FROM answers")
    return int(count)


async def test_an_answer_is_acknowledged_only_after_commit(backend: Backend) -> None:
    location = await backend.new_location()
    channel = ChannelRef("test:s1", "c1")
    async with await open_store(location) as store:
        rid = await post(store, channel, 0)
        async with commit_held(store, backend, location) as (held, release):
            pending = asyncio.create_task(store.submit_answer(press(rid, channel, "ada", RIGHT)))
            await held()
            await asyncio.sleep(0.2)  # time enough for an early acknowledgement to show
            assert not pending.done()
            assert await count_answers(backend, location) == 0
            await release()
            outcome = await asyncio.wait_for(pending, 10)
        assert outcome == AnswerOutcome(AnswerStatus.RECORDED, RIGHT)
        assert await count_answers(backend, location) == 1


async def test_a_close_waits_for_an_answer_batch_and_scores_it(backend: Backend) -> None:
    """The answer/close race: a batch that found its round open commits before the close
    scores the round, so every acknowledged answer is scored exactly once."""
    if backend.name == "sqlite":
        pytest.skip("one SQLite writer per file: a close cannot run inside an answer batch")
    location = await backend.new_location()
    channel = ChannelRef("test:s1", "c1")
    async with await open_store(location) as store, await open_store(location) as closer:
        rid = await post(store, channel, 0)
        async with commit_held(store, backend, location) as (held, release):
            answer = asyncio.create_task(store.submit_answer(press(rid, channel, "ada", RIGHT)))
            await held()
            close = asyncio.create_task(closer.close_round(channel, START + timedelta(hours=1)))
            await asyncio.sleep(0.3)
            assert not close.done(), "the close did not wait for the answer batch"
            await release()
            outcome = await asyncio.wait_for(answer, 10)
            closed: RoundRow | None = await asyncio.wait_for(close, 10)
        assert outcome.status is AnswerStatus.RECORDED
        assert closed is not None
        assert closed.id == rid
        score = await store.score_of(server="test:s1", period="all", user_id="ada")
        assert score is not None
        assert (score.points, score.answered, score.correct) == (BASE, 1, 1)
