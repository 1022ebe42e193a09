"""Practice mode: Leitner spacing with an injected clock, isolation from the daily game."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory import ManualClock
from bot import commands as cmd
from bot.engine import QuizEngine
from bot.models import (
    ChannelRef,
    Notice,
    Period,
    PracticeCard,
    PracticeResult,
    StatsCard,
    Tone,
    TopicsCard,
)
from bot.practice import BOX_INTERVALS, MASTERED_BOX, next_box
from tests.conftest import answer_round, invocation, make_bank, member

CHANNEL = ChannelRef("test:s1", "c1")
RIGHT, WRONG = 1, 0


async def practise(engine: QuizEngine, name: str = "ada", topic: str | None = None) -> PracticeCard:
    card = await engine.handle(cmd.Practice(topic), invocation=invocation(name))
    assert isinstance(card, PracticeCard), card
    return card


async def answer(
    engine: QuizEngine, question_id: str, choice: int, name: str = "ada"
) -> PracticeResult:
    result = await engine.practice_answer(
        member=member(name), question_id=question_id, choice=choice
    )
    assert isinstance(result, PracticeResult), result
    return result


def test_leitner_boxes() -> None:
    assert next_box(0, correct=True) == 2
    assert next_box(0, correct=False) == 1
    assert next_box(3, correct=True) == 4
    assert next_box(5, correct=True) == 5
    assert next_box(4, correct=False) == 1


async def test_missed_question_comes_back_after_ten_minutes(
    engine: QuizEngine, clock: ManualClock
) -> None:
    card = await practise(engine)
    missed = card.question.id
    result = await answer(engine, missed, WRONG)
    assert not result.correct
    assert result.box == 1
    assert result.next_due_at == clock.now() + BOX_INTERVALS[1]

    clock.advance(timedelta(minutes=9))
    assert (await practise(engine)).question.id != missed  # not due yet: a new one instead
    clock.advance(timedelta(minutes=1))
    again = await practise(engine)
    assert again.question.id == missed  # due questions come before new ones
    assert again.due == 1


async def test_known_question_comes_back_later_and_later(
    engine: QuizEngine, clock: ManualClock
) -> None:
    engine.bank = make_bank(1)
    gaps = []
    for _ in range(5):
        card = await practise(engine)
        result = await answer(engine, card.question.id, RIGHT)
        gaps.append(result.next_due_at - clock.now())
        caught_up = await engine.handle(cmd.Practice(), invocation=invocation("ada"))
        assert isinstance(caught_up, Notice)
        assert "All caught up" in caught_up.text
        clock.set(result.next_due_at)
    assert gaps == [BOX_INTERVALS[b] for b in (2, 3, 4, 5, 5)]


async def test_practice_never_touches_the_leaderboard(engine: QuizEngine) -> None:
    for _ in range(3):
        card = await practise(engine)
        await answer(engine, card.question.id, card.question.answer)
    board = await engine.leaderboard(server="test:s1", period=Period.ALL, caller=member("ada"))
    assert board.rows == ()
    [(answers,)] = await engine.store._reader.execute_fetchall("SELECT count(*) FROM answers")
    assert answers == 0


async def test_practice_never_shows_an_open_daily_question(engine: QuizEngine) -> None:
    engine.bank = make_bank(3)
    await engine.post(CHANNEL)
    other = ChannelRef("test:s1", "c2")
    await engine.post(other)
    open_ids = await engine.store.open_question_ids("test:s1")
    assert len(open_ids) == 2
    seen = set()
    for _ in range(3):
        reply = await engine.handle(cmd.Practice(), invocation=invocation("ada"))
        if isinstance(reply, PracticeCard):
            seen.add(reply.question.id)
            await answer(engine, reply.question.id, RIGHT)
    assert seen
    assert not seen & open_ids


async def test_a_question_that_became_daily_cannot_be_answered_in_practice(
    engine: QuizEngine,
) -> None:
    engine.bank = make_bank(1)
    card = await practise(engine)
    await engine.post(CHANNEL)
    reply = await engine.practice_answer(
        member=member("ada"), question_id=card.question.id, choice=1
    )
    assert isinstance(reply, Notice)
    assert "daily question" in reply.text


async def test_second_press_is_not_marked_twice(engine: QuizEngine) -> None:
    card = await practise(engine)
    await answer(engine, card.question.id, RIGHT)
    again = await engine.practice_answer(
        member=member("ada"), question_id=card.question.id, choice=RIGHT
    )
    assert isinstance(again, Notice)
    assert "already answered" in again.text
    forged = await engine.practice_answer(member=member("ada"), question_id="no-such-id", choice=0)
    assert isinstance(forged, Notice)
    assert forged.tone is Tone.ERROR


async def test_topic_filter_and_prefixes(engine: QuizEngine) -> None:
    engine.bank = make_bank(10)
    for text in ("alpha", "ALPHA", "al", "Alp"):
        card = await practise(engine, topic=text)
        assert card.question.topic == "alpha"
        assert card.topic is not None
        result = await answer(engine, card.question.id, RIGHT)
        assert result.topic == "alpha"
    unknown = await engine.handle(cmd.Practice("gamma"), invocation=invocation("ada"))
    assert isinstance(unknown, Notice)
    assert "Unknown topic 'gamma'" in unknown.text
    assert "alpha, beta" in unknown.text


async def test_ambiguous_prefix_lists_the_candidates(engine: QuizEngine) -> None:
    engine.bank = make_bank(4, topics=("cnn", "cnn-advanced"))
    reply = await engine.handle(cmd.Practice("cnn-a"), invocation=invocation("ada"))
    assert isinstance(reply, PracticeCard)
    ambiguous = await engine.handle(cmd.Practice("cn"), invocation=invocation("ada"))
    assert isinstance(ambiguous, Notice)
    assert "several topics: cnn, cnn-advanced" in ambiguous.text
    exact = await engine.handle(cmd.Practice("cnn"), invocation=invocation("ada"))
    assert isinstance(exact, PracticeCard)
    assert exact.question.topic == "cnn"


async def test_mastery_counts_practice_and_daily(engine: QuizEngine, clock: ManualClock) -> None:
    engine.bank = make_bank(2, topics=("alpha",))
    # A question answered right in two daily rounds, a day apart, is mastered.
    daily_ids = []
    for _ in range(2):
        await engine.post(CHANNEL)
        row = await engine.store.open_round(CHANNEL)
        assert row is not None
        daily_ids.append(row.question_id)
        await answer_round(
            engine, channel=CHANNEL, member=member("ada"), round_id=row.id, choice=RIGHT
        )
        await engine.reveal(CHANNEL)
        clock.advance(timedelta(days=1))
    assert MASTERED_BOX == 3
    topics = await engine.handle(cmd.ShowTopics(), invocation=invocation("ada"))
    assert isinstance(topics, TopicsCard)
    # Each of the two questions was right once in a daily round: box 2, not yet mastered.
    assert topics.mastered.get("alpha", 0) == 0
    # Practising the due ones right moves them to box 3.
    for _ in range(2):
        card = await practise(engine)
        await answer(engine, card.question.id, RIGHT)
    stats = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(stats, StatsCard)
    assert [(m.topic, m.mastered, m.total) for m in stats.mastery] == [("alpha", 2, 2)]


@pytest.mark.parametrize("text", ["practice", "practice Convolutional neural", "PRACTICE rnn"])
def test_practice_command_parses(text: str) -> None:
    command = cmd.parse_command(text)
    assert isinstance(command, cmd.Practice)
