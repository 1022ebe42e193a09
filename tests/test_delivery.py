"""Posts that survive faults: what a channel must receive is claimed, posted, marked, retried.

Each test drives the engine through the memory platform, failing or holding one step of a post
or a reveal, and checks what the channel received and what was scored.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Awaitable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.memory import ManualClock, MemoryPlatform
from bot import commands as cmd
from bot.config import Settings
from bot.content import Bank
from bot.delivery import CLOSE_ATTEMPTS, Deliverer, backoff
from bot.engine import QuizEngine
from bot.models import ChannelRef, Notice, RevealPost
from bot.runtime import running
from bot.scheduler import POLL_JOB
from bot.store import (
    AnswerOutcome,
    AnswerRequest,
    AnswerStatus,
    DeliveryKind,
    NewRound,
    Store,
    StoreError,
    open_store,
)
from bot.store.sqlite import answers
from tests.conftest import START, answer_round, invocation, make_bank, member

CHANNEL = ChannelRef("test:s1", "c1")
RIGHT = 1  # make_bank's questions are all answered B


async def open_row_id(engine: QuizEngine) -> int:
    row = await engine.store.open_round(CHANNEL)
    assert row is not None
    return row.id


async def test_a_reveal_that_failed_goes_out_at_the_next_post_before_the_new_question(
    engine: QuizEngine, platform: MemoryPlatform
) -> None:
    await engine.post(CHANNEL)
    first = await open_row_id(engine)
    await answer_round(engine, channel=CHANNEL, member=member("ada"), round_id=first, choice=RIGHT)
    platform.failing.add(CHANNEL)
    closed, error = await engine.reveal(CHANNEL)
    assert closed == first
    assert error is not None
    assert platform.reveals == []
    platform.failing.clear()

    # The next post retries at once (no waiting out the backoff), reveal first.
    outcome = await engine.post(CHANNEL)
    assert outcome.error is None
    assert [r.round_id for r in platform.reveals] == [first]
    assert [q.round_id for q in platform.questions] == [first, outcome.round_id]
    assert platform.closed_messages == ["msg-1"]


async def test_a_question_that_never_reached_the_channel_takes_no_answer_and_is_never_scored(
    engine: QuizEngine, platform: MemoryPlatform, store: Store
) -> None:
    platform.failing.add(CHANNEL)
    outcome = await engine.post(CHANNEL)
    assert outcome.error is not None
    assert outcome.round_id is not None
    shown = await engine.handle(cmd.ShowQuestion(), invocation=invocation("ada"))
    assert isinstance(shown, Notice)
    assert "No question is open" in shown.text
    refused = await answer_round(
        engine, channel=CHANNEL, member=member("ada"), round_id=outcome.round_id, choice=RIGHT
    )
    assert "does not belong" in refused.text

    # The next post closes it without a reveal and drops its question for good.
    platform.failing.clear()
    second = await engine.post(CHANNEL)
    assert second.error is None
    assert [q.round_id for q in platform.questions] == [second.round_id]
    assert platform.reveals == []
    kinds = await store.deliveries_of(outcome.round_id)
    assert kinds == {DeliveryKind.QUESTION: ("dropped", 1)}
    assert await store.tally(outcome.round_id, 4) == (0, 0, 0, 0)


async def test_a_failed_post_is_retried_by_the_sweep_with_backoff(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock
) -> None:
    platform.failing.add(CHANNEL)
    await engine.post(CHANNEL)
    platform.failing.clear()
    await engine.deliverer.sweep()
    assert platform.questions == [], "not before the backoff has passed"
    clock.advance(backoff(1))
    await engine.deliverer.sweep()
    assert len(platform.questions) == 1
    card = await engine.schedule_card(CHANNEL)
    assert card.last_error is None


async def test_closing_the_buttons_is_retried_apart_and_never_posts_the_reveal_again(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock, store: Store
) -> None:
    await engine.post(CHANNEL)
    first = await open_row_id(engine)
    await answer_round(engine, channel=CHANNEL, member=member("ada"), round_id=first, choice=RIGHT)
    platform.failing_steps.add("close")
    closed, error = await engine.reveal(CHANNEL)
    assert (closed, error) == (first, None), "the reveal itself went out"
    for attempt in range(1, CLOSE_ATTEMPTS + 2):
        clock.advance(backoff(attempt))
        await engine.deliverer.sweep()
    assert len(platform.reveals) == 1
    assert platform.closed_messages == []
    assert (await store.deliveries_of(first))[DeliveryKind.CLOSE] == ("failed", CLOSE_ATTEMPTS)
    # A given-up edit does not hold up the channel's next question.
    platform.failing_steps.clear()
    assert (await engine.post(CHANNEL)).error is None
    assert len(platform.questions) == 2


async def test_two_processes_post_a_channels_question_once(
    store: Store, bank: Bank, clock: ManualClock, platform: MemoryPlatform
) -> None:
    engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
    other = Deliverer(
        store=store, platform=platform, clock=clock, question_of=engine.question_of, worker="b"
    )
    platform.delay = 0.05
    posting = asyncio.create_task(engine.post(CHANNEL))
    await platform.in_flight.wait()
    assert await other.drain(CHANNEL) is None  # the first process holds the claim
    assert (await posting).error is None
    await other.drain(CHANNEL)
    assert len(platform.questions) == 1


async def test_a_claim_of_a_process_that_died_is_taken_over_after_its_lease(
    store: Store, bank: Bank, clock: ManualClock, platform: MemoryPlatform
) -> None:
    engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
    platform.failing.add(CHANNEL)
    await engine.post(CHANNEL)  # recorded; the post failed
    platform.failing.clear()
    clock.advance(backoff(1))
    dead = await store.claim_delivery(
        CHANNEL, worker="dead", now=clock.now(), lease=engine.deliverer.lease
    )
    assert dead is not None
    await engine.deliverer.sweep()
    assert platform.questions == [], "held by the process that died"
    clock.advance(engine.deliverer.lease + timedelta(seconds=1))
    await engine.deliverer.sweep()
    assert len(platform.questions) == 1


async def test_a_stop_lets_the_post_in_flight_finish_and_hands_back_what_it_holds(
    engine: QuizEngine, platform: MemoryPlatform, store: Store, clock: ManualClock
) -> None:
    platform.delay = 0.05
    posting = asyncio.create_task(engine.post(CHANNEL))
    await platform.in_flight.wait()
    await engine.deliverer.stop()
    assert (await posting).error is None
    assert len(platform.questions) == 1, "the post under way was finished, not cut"
    # A claim this process still held (here: taken by hand) is handed back at the stop.
    await engine.reveal(CHANNEL)  # recorded; this deliverer posts no more
    claimed = await store.claim_delivery(
        CHANNEL, worker=engine.deliverer.worker, now=clock.now(), lease=timedelta(hours=1)
    )
    assert claimed is not None
    assert await store.release_deliveries(worker=engine.deliverer.worker) == 1
    again = await store.claim_delivery(CHANNEL, worker="b", now=clock.now(), lease=timedelta(1))
    assert again is not None
    assert again.kind is DeliveryKind.REVEAL


async def test_a_question_closed_while_its_post_was_in_flight_gets_its_buttons_closed(
    engine: QuizEngine, platform: MemoryPlatform, store: Store
) -> None:
    platform.delay = 0.05
    posting = asyncio.create_task(engine.post(CHANNEL))
    await platform.in_flight.wait()
    round_id = await open_row_id(engine)
    await engine.store.close_round(CHANNEL, engine.clock.now())  # another process's reveal
    await posting
    await engine.deliverer.drain(CHANNEL)
    assert platform.reveals == [], "nobody could answer it: nothing to reveal"
    assert platform.closed_messages == ["msg-1"]
    assert (await store.deliveries_of(round_id))[DeliveryKind.CLOSE] == ("posted", 0)


async def test_a_round_keeps_its_question_when_the_bank_changes(
    store: Store, bank: Bank, clock: ManualClock, platform: MemoryPlatform
) -> None:
    engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
    await engine.post(CHANNEL)
    asked = platform.questions[0].question
    other_bank = Bank(questions=(), topics=())
    restarted = QuizEngine(store=store, bank=other_bank, platform=platform, clock=clock)
    card = await restarted.handle(cmd.ShowQuestion(), invocation=invocation("ada"))
    assert not isinstance(card, Notice), "the open question is still shown"
    round_id = await open_row_id(restarted)
    recorded = await answer_round(
        restarted, channel=CHANNEL, member=member("ada"), round_id=round_id, choice=RIGHT
    )
    assert recorded.text == "Recorded: B"
    await restarted.reveal(CHANNEL)
    assert platform.reveals[0].question == asked
    score = await store.score_of(server=CHANNEL.server, period="all", user_id="u-ada")
    assert score is not None
    assert score.correct == 1


async def test_a_button_from_before_a_restore_does_not_answer_the_round_that_reuses_its_id(
    tmp_path: Path, bank: Bank, clock: ManualClock, platform: MemoryPlatform
) -> None:
    path = tmp_path / "quiz.db"
    backup = tmp_path / "backup.db"
    store = await open_store(path)
    engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
    await engine.post(CHANNEL)
    await store.close()
    # The README's backup: SQLite's online backup of the live file.
    with closing(sqlite3.connect(path)) as live, closing(sqlite3.connect(backup)) as copy:
        live.backup(copy)
    store = await open_store(path)
    engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
    await engine.post(CHANNEL)
    lost = platform.questions[-1]  # round 2, posted after the backup
    await store.close()

    restore(backup, path)
    store = await open_store(path)
    try:
        engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
        await engine.post(CHANNEL)
        reused = await open_row_id(engine)
        assert reused == lost.round_id, "the restore hands the same round id out again"
        old_press = await engine.answer(
            channel=CHANNEL,
            member=member("ada"),
            round_id=lost.round_id,
            choice=RIGHT,
            token=lost.token,
        )
        assert "does not belong" in old_press.text
        assert await store.choice_of(reused, "u-ada") is None
    finally:
        await store.close()


async def test_old_buttons_without_a_token_still_answer_rounds_from_before_tokens(
    tmp_path: Path, bank: Bank, clock: ManualClock, platform: MemoryPlatform
) -> None:
    path = tmp_path / "quiz.db"
    store = await open_store(path)
    try:
        engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
        await engine.post(CHANNEL)
        round_id = await open_row_id(engine)
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as db:  # as migration 4 leaves rounds posted before it
        db.execute("UPDATE rounds SET token = '' WHERE id = ?", (round_id,))
        db.commit()
    store = await open_store(path)
    try:
        engine = QuizEngine(store=store, bank=bank, platform=platform, clock=clock)
        legacy = await engine.answer(
            channel=CHANNEL, member=member("ada"), round_id=round_id, choice=RIGHT
        )
        assert legacy.text == "Recorded: B"
    finally:
        await store.close()


def restore(backup: Path, path: Path) -> None:
    """The restore the operations guide gives: the backup over the file, its WAL files gone."""
    shutil.copyfile(backup, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def test_a_stop_during_the_daily_post_finishes_it_and_posts_no_reveal_twice(
    tmp_path: Path, bank: Bank, platform: MemoryPlatform
) -> None:
    """The graceful stop arrives while the scheduled post is in its platform call: the post is
    finished (not cancelled half-way), and after a restart nothing is posted again."""
    settings = Settings(db=tmp_path / "quiz.db")
    clock = ManualClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    async with running(settings, platform, clock=clock, bank=bank) as runtime:
        engine = runtime.engine
        await engine.store.set_schedule(CHANNEL, time="09:00", zone="UTC", at=clock.now())
        await engine.post(CHANNEL)  # an earlier question, answered
        earlier = await open_row_id(engine)
        await answer_round(
            engine, channel=CHANNEL, member=member("ada"), round_id=earlier, choice=RIGHT
        )
    clock.set(datetime(2026, 3, 2, 8, 59, tzinfo=UTC))
    async with running(settings, platform, clock=clock, bank=bank) as runtime:
        platform.delay = 0.1
        clock.set(datetime(2026, 3, 2, 9, 0, 3, tzinfo=UTC))
        runtime.scheduler.apscheduler.modify_job(POLL_JOB, next_run_time=datetime.now(UTC))
        await platform.in_flight.wait()  # the daily post is in its platform call
    # The stop waited for it: the earlier reveal and today's question are out, once.
    assert [r.round_id for r in platform.reveals] == [earlier]
    assert len(platform.questions) == 2
    platform.delay = 0
    async with running(settings, platform, clock=clock, bank=bank):
        pass
    assert [r.round_id for r in platform.reveals] == [earlier]
    assert len(platform.questions) == 2


async def test_a_hung_post_holds_nobody_up(
    engine: QuizEngine, platform: MemoryPlatform, store: Store
) -> None:
    """While the platform hangs on the channel's question, an admin can still reveal, answer
    commands and see the schedule: the channel's lock covers database work only."""
    await engine.post(CHANNEL)
    first = await open_row_id(engine)
    platform.hold = asyncio.Event()
    posting = asyncio.create_task(engine.post(CHANNEL))  # the reveal of `first` hangs
    await platform.in_flight.wait()
    async with asyncio.timeout(5):  # the hang lasts until the event is set, far longer
        closed, error = await engine.reveal(CHANNEL)
        card = await engine.handle(cmd.ShowSchedule(), invocation=invocation("ada"))
    assert closed is not None
    assert error is None
    assert card is not None
    platform.hold.set()
    await posting
    await engine.deliverer.drain(CHANNEL)
    # The question queued behind the hung reveal was closed before anyone saw it: dropped.
    assert [r.round_id for r in platform.reveals] == [first]
    assert [q.round_id for q in platform.questions] == [first]


async def test_members_whose_answers_an_earlier_wave_committed_are_told_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch where a member pressed twice is written in two waves; when the second fails,
    the first wave's members still learn their answer is recorded."""
    store = await open_store(tmp_path / "quiz.db")
    try:
        engine = QuizEngine(
            store=store, bank=make_bank(), platform=MemoryPlatform(), clock=ManualClock(START)
        )
        await engine.post(CHANNEL)
        row = await store.open_round(CHANNEL)
        assert row is not None
        write_wave = answers._write_wave
        waves = 0

        def second_wave_fails(db: object, rows: object) -> object:
            nonlocal waves
            waves += 1
            if waves == 2:
                raise sqlite3.OperationalError("disk I/O error")
            return write_wave(db, rows)  # type: ignore[arg-type]

        monkeypatch.setattr(answers, "_write_wave", second_wave_fails)

        def press(name: str, choice: int) -> Awaitable[AnswerOutcome]:
            return store.submit_answer(
                AnswerRequest(
                    round_id=row.id,
                    server=CHANNEL.server,
                    channel=CHANNEL.channel,
                    user_id=f"u-{name}",
                    name=name,
                    choice=choice,
                    at=START,
                    token=row.token,
                )
            )

        ada, bob, ada_again = await asyncio.gather(
            press("ada", 1), press("bob", 2), press("ada", 3), return_exceptions=True
        )
        assert ada == AnswerOutcome(AnswerStatus.RECORDED, 1)
        assert bob == AnswerOutcome(AnswerStatus.RECORDED, 2)
        assert isinstance(ada_again, StoreError)
        assert await store.choice_of(row.id, "u-ada") == 1
        assert await store.choice_of(row.id, "u-bob") == 2
    finally:
        await store.close()


async def test_a_question_that_cannot_be_shown_is_given_up_not_reported_posted(
    engine: QuizEngine, platform: MemoryPlatform, store: Store
) -> None:
    """A round whose kept question is unreadable and whose bank no longer has it: its post is
    given up, and the drain does not count it among the questions it posted."""
    started = await store.start_round(
        channel=CHANNEL,
        new=NewRound(
            question_id="removed-from-the-bank",
            topic="alpha",
            difficulty="easy",
            choice_count=4,
            answer=RIGHT,
            base_points=10,
            token="t0",
            snapshot="{not json",
        ),
        cycle=1,
        day=None,
        posted_at=START,
        reveal_at=None,
    )
    assert started is not None
    posted: set[int] = set()
    assert await engine.deliverer.drain(CHANNEL, posted=posted) is None
    assert posted == set()
    assert platform.questions == []
    assert (await store.deliveries_of(started.round.id))[DeliveryKind.QUESTION] == ("failed", 1)


async def test_a_reveal_and_its_closing_edit_show_one_tally_read_once(
    engine: QuizEngine, platform: MemoryPlatform, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed round's tally never changes: its reveal and the edit that closes its buttons
    show the same one, read from the database once."""
    await engine.post(CHANNEL)
    first = await open_row_id(engine)
    await answer_round(engine, channel=CHANNEL, member=member("ada"), round_id=first, choice=RIGHT)
    await answer_round(engine, channel=CHANNEL, member=member("bob"), round_id=first, choice=0)
    reads: list[int] = []
    read_tally = store.tally

    async def counted(round_id: int, choice_count: int) -> tuple[int, ...]:
        reads.append(round_id)
        return await read_tally(round_id, choice_count)

    monkeypatch.setattr(store, "tally", counted)
    shown_closed: list[tuple[int, ...]] = []
    close_question = platform.close_question

    async def close(channel: ChannelRef, reveal: RevealPost) -> None:
        shown_closed.append(reveal.tally)
        await close_question(channel, reveal)

    monkeypatch.setattr(platform, "close_question", close)
    closed, error = await engine.reveal(CHANNEL)
    assert (closed, error) == (first, None)
    assert [r.tally for r in platform.reveals] == [(1, 1, 0, 0)]
    assert shown_closed == [(1, 1, 0, 0)]
    assert reads == [first]
