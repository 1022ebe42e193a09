"""The daily round through the memory platform: post, answers, reveal, scores, streaks, stats."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.memory import ManualClock, MemoryPlatform
from bot import commands as cmd
from bot.engine import QuizEngine
from bot.models import (
    ChannelRef,
    Difficulty,
    LeaderboardCard,
    Notice,
    Period,
    QuestionCard,
    StatsCard,
    Tone,
)
from bot.scoring import BASE_POINTS, points_for
from bot.store import Store
from tests.conftest import answer_round, invocation, member

CHANNEL = ChannelRef("test:s1", "c1")
RIGHT, WRONG = 1, 0  # make_bank's questions are all answered B


async def press(engine: QuizEngine, name: str, choice: int, *, round_id: int | None = None) -> str:
    if round_id is None:
        row = await engine.store.open_round(CHANNEL)
        assert row is not None
        round_id = row.id
    notice = await answer_round(
        engine, channel=CHANNEL, member=member(name), round_id=round_id, choice=choice
    )
    return notice.text


async def test_whole_round(engine: QuizEngine, platform: MemoryPlatform) -> None:
    outcome = await engine.post(CHANNEL)
    assert outcome.round_id is not None
    assert outcome.error is None
    [posted] = platform.questions
    assert posted.round_id == outcome.round_id

    assert await press(engine, "ada", RIGHT) == "Recorded: B"
    assert await press(engine, "bob", WRONG) == "Recorded: A"
    assert await press(engine, "cy", RIGHT) == "Recorded: B"
    # A second press is told so and changes nothing; the confirmation never says right or wrong.
    assert "already answered A" in await press(engine, "bob", RIGHT)

    closed, error = await engine.reveal(CHANNEL)
    assert (closed, error) == (outcome.round_id, None)
    [reveal] = platform.reveals
    assert reveal.tally == (1, 2, 0, 0)
    assert (reveal.correct, reveal.answered) == (2, 3)
    assert platform.closed_messages == ["msg-1"]

    late = await press(engine, "dee", RIGHT, round_id=outcome.round_id)
    assert "closed" in late
    assert (await engine.store.tally(outcome.round_id, 4)) == (1, 2, 0, 0)

    board = await engine.leaderboard(server="test:s1", period=Period.ALL, caller=member("bob"))
    assert [(r.rank, r.name) for r in board.rows] == [(1, "ada"), (1, "cy")]
    assert board.caller is None  # bob has no points: not ranked, not listed
    assert board.ranked == 2


async def test_question_command_hides_buttons_after_answering(engine: QuizEngine) -> None:
    await engine.post(CHANNEL)
    card = await engine.handle(cmd.ShowQuestion(), invocation=invocation("ada"))
    assert isinstance(card, QuestionCard)
    assert card.answered_choice is None
    await press(engine, "ada", 2)
    card = await engine.handle(cmd.ShowQuestion(), invocation=invocation("ada"))
    assert isinstance(card, QuestionCard)
    assert card.answered_choice == 2


async def test_no_open_question_says_when_next(engine: QuizEngine) -> None:
    reply = await engine.handle(cmd.ShowQuestion(), invocation=invocation("ada"))
    assert isinstance(reply, Notice)
    assert "no daily time is set" in reply.text
    await engine.handle(
        cmd.parse_command("schedule 10:30 Europe/Berlin"), invocation=invocation("ad", admin=True)
    )
    reply = await engine.handle(cmd.ShowQuestion(), invocation=invocation("ada"))
    assert isinstance(reply, Notice)
    assert "2026-03-02 09:30 UTC" in reply.text  # 10:30 CET


async def test_streaks_and_points_over_days(engine: QuizEngine, clock: ManualClock) -> None:
    history = [RIGHT, RIGHT, RIGHT, WRONG, RIGHT, RIGHT]
    for choice in history:
        await engine.post(CHANNEL)
        await press(engine, "ada", choice)
        clock.advance(timedelta(days=1))
    await engine.reveal(CHANNEL)

    stats = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(stats, StatsCard)
    assert (stats.current_streak, stats.longest_streak) == (2, 3)
    assert (stats.answered, stats.correct) == (6, 5)
    assert stats.rank == 1

    # Recompute the points from the rule, question by question.
    rows = await engine.store._reader.execute_fetchall(
        "SELECT r.difficulty FROM rounds r ORDER BY r.id"
    )
    streak, expected = 0, 0
    for (difficulty,), choice in zip(rows, history, strict=True):
        streak = streak + 1 if choice == RIGHT else 0
        expected += points_for(
            difficulty=Difficulty(difficulty), correct=choice == RIGHT, streak=streak
        )
    assert stats.points == expected


async def test_missing_a_day_breaks_the_streak(engine: QuizEngine, clock: ManualClock) -> None:
    await engine.post(CHANNEL)
    await press(engine, "ada", RIGHT)
    await engine.post(CHANNEL)  # ada skips this one
    await engine.post(CHANNEL)
    stats = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(stats, StatsCard)
    assert stats.current_streak == 0
    await press(engine, "ada", RIGHT)
    await engine.reveal(CHANNEL)
    stats = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(stats, StatsCard)
    assert (stats.current_streak, stats.longest_streak) == (1, 1)


async def test_streak_stays_alive_while_next_question_is_open(engine: QuizEngine) -> None:
    await engine.post(CHANNEL)
    await press(engine, "ada", RIGHT)
    await engine.post(CHANNEL)
    stats = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(stats, StatsCard)
    assert stats.current_streak == 1


async def test_leaderboard_periods_and_ties(engine: QuizEngine, clock: ManualClock) -> None:
    # Early March: ada and bob right; five weeks later, in April: only bob.
    await engine.post(CHANNEL)
    await press(engine, "ada", RIGHT)
    await press(engine, "bob", RIGHT)
    clock.advance(timedelta(days=35))
    await engine.post(CHANNEL)
    await press(engine, "bob", RIGHT)
    await press(engine, "cy", WRONG)
    await engine.reveal(CHANNEL)

    def names(card: LeaderboardCard) -> list[tuple[int, str]]:
        return [(r.rank, r.name) for r in card.rows]

    caller = member("ada")
    all_time = await engine.leaderboard(server="test:s1", period=Period.ALL, caller=caller)
    week = await engine.leaderboard(server="test:s1", period=Period.WEEK, caller=caller)
    month = await engine.leaderboard(server="test:s1", period=Period.MONTH, caller=caller)
    assert names(all_time) == [(1, "bob"), (2, "ada")]
    assert all_time.caller is not None
    assert all_time.caller.rank == 2
    assert names(week) == [(1, "bob")]
    assert week.caller is None
    assert names(month) == [(1, "bob")]


async def test_nothing_readable_tells_a_right_answer_before_the_reveal(
    engine: QuizEngine,
) -> None:
    await engine.post(CHANNEL)
    await press(engine, "ada", RIGHT)
    await engine.reveal(CHANNEL)
    await engine.post(CHANNEL)

    async def visible() -> tuple[object, ...]:
        """Everything members can ask for about ada and the server."""
        views: list[object] = []
        for period in Period:
            views.append(
                await engine.leaderboard(server="test:s1", period=period, caller=member("bob"))
            )
        for viewer in ("ada", "bob"):
            views.append(await engine.handle(cmd.ShowStats("ada"), invocation=invocation(viewer)))
        return tuple(views)

    before = await visible()
    await press(engine, "ada", RIGHT)
    assert await visible() == before
    await engine.reveal(CHANNEL)
    after = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(after, StatsCard)
    assert (after.answered, after.correct, after.current_streak) == (2, 2, 2)
    first, second = await engine.store._reader.execute_fetchall(
        "SELECT difficulty FROM rounds ORDER BY id"
    )
    assert after.points == points_for(
        difficulty=Difficulty(first[0]), correct=True, streak=1
    ) + points_for(difficulty=Difficulty(second[0]), correct=True, streak=2)


async def test_equal_points_share_a_rank_in_caller_line(engine: QuizEngine) -> None:
    await engine.post(CHANNEL)
    for name in ("ada", "bob", "cy"):
        await press(engine, name, RIGHT)
    await engine.reveal(CHANNEL)
    board = await engine.leaderboard(server="test:s1", period=Period.ALL, caller=member("cy"))
    assert {r.rank for r in board.rows} == {1}
    assert board.caller is not None
    assert board.caller.rank == 1


async def test_top_ten_only(engine: QuizEngine) -> None:
    await engine.post(CHANNEL)
    for i in range(12):
        await press(engine, f"p{i:02d}", RIGHT)
    await engine.reveal(CHANNEL)
    board = await engine.leaderboard(server="test:s1", period=Period.ALL, caller=member("p11"))
    assert len(board.rows) == 10
    assert board.ranked == 12


async def test_stats_of_another_member_by_name_or_mention(engine: QuizEngine) -> None:
    await engine.post(CHANNEL)
    await press(engine, "Bob", RIGHT)
    by_name = await engine.handle(cmd.ShowStats("bob"), invocation=invocation("ada"))
    by_id = await engine.handle(cmd.parse_command("stats <@u-Bob>"), invocation=invocation("ada"))
    assert isinstance(by_name, StatsCard)
    assert isinstance(by_id, StatsCard)
    assert by_name == by_id
    unknown = await engine.handle(cmd.ShowStats("nobody"), invocation=invocation("ada"))
    assert isinstance(unknown, Notice)
    assert "nobody" in unknown.text


async def test_stats_per_topic(engine: QuizEngine) -> None:
    for choice in (RIGHT, WRONG, RIGHT):
        await engine.post(CHANNEL)
        await press(engine, "ada", choice)
    await engine.reveal(CHANNEL)
    stats = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(stats, StatsCard)
    assert sum(t.answered for t in stats.topics) == 3
    assert sum(t.correct for t in stats.topics) == 2


async def test_admin_commands_refused_for_members(engine: QuizEngine, store: Store) -> None:
    for text in ("post", "reveal", "schedule 09:00", "schedule off"):
        reply = await engine.handle(cmd.parse_command(text), invocation=invocation("ada"))
        assert isinstance(reply, Notice)
        assert reply.tone is Tone.ERROR
        assert "Only admins" in reply.text
    assert await store.open_round(CHANNEL) is None
    assert await store.schedule(CHANNEL) is None


async def test_post_never_repeats_until_bank_used_up(
    engine: QuizEngine, platform: MemoryPlatform
) -> None:
    count = len(engine.bank.questions)
    for _ in range(count):
        await engine.post(CHANNEL)
    first_cycle = [p.question.id for p in platform.questions]
    assert sorted(first_cycle) == sorted(q.id for q in engine.bank.questions)
    await engine.post(CHANNEL)
    assert platform.questions[-1].question.id != first_cycle[-1]


async def test_daily_post_once_per_day(engine: QuizEngine, platform: MemoryPlatform) -> None:
    day = engine.clock.now().date()
    first = await engine.post(CHANNEL, day=day)
    second = await engine.post(CHANNEL, day=day)
    assert first.round_id is not None
    assert second.already_posted
    assert len(platform.questions) == 1
    # A manual post is not the daily one and does not stop tomorrow's.
    await engine.post(CHANNEL)
    nxt = await engine.post(CHANNEL, day=day + timedelta(days=1))
    assert nxt.round_id is not None


async def test_forged_presses_refused(engine: QuizEngine) -> None:
    outcome = await engine.post(CHANNEL)
    other = ChannelRef("test:s2", "c9")
    await engine.post(other)
    assert outcome.round_id is not None
    rid = outcome.round_id
    foreign = await answer_round(
        engine, channel=CHANNEL, member=member("ada", server="test:s2"), round_id=rid, choice=1
    )
    wrong_channel = await answer_round(
        engine, channel=ChannelRef("test:s1", "c2"), member=member("ada"), round_id=rid, choice=1
    )
    missing = await answer_round(
        engine, channel=CHANNEL, member=member("ada"), round_id=999, choice=1
    )
    out_of_range = await answer_round(
        engine, channel=CHANNEL, member=member("ada"), round_id=rid, choice=7
    )
    for notice in (foreign, wrong_channel, missing, out_of_range):
        assert notice.tone is Tone.ERROR
    assert await engine.store.tally(rid, 4) == (0, 0, 0, 0)


async def test_concurrent_answers_recorded_once(engine: QuizEngine) -> None:
    outcome = await engine.post(CHANNEL)
    assert outcome.round_id is not None
    rid = outcome.round_id
    users = [f"user{i}" for i in range(2000)]
    # Every user presses, and every tenth presses twice at the same time.
    presses = [(u, i % 4) for i, u in enumerate(users)] + [(u, 3) for u in users[::10]]
    notices = await asyncio.gather(
        *(
            answer_round(engine, channel=CHANNEL, member=member(u), round_id=rid, choice=c)
            for u, c in presses
        )
    )
    recorded = [n for n in notices if n.text.startswith("Recorded")]
    assert len(recorded) == 2000
    assert sum("already answered" in n.text for n in notices) == 200
    db = engine.store._reader
    [(count,)] = await db.execute_fetchall("SELECT count(*) FROM answers")
    assert count == 2000
    await engine.reveal(CHANNEL)
    await assert_scores_match_answers(engine.store)


async def assert_scores_match_answers(store: Store) -> None:
    """The maintained totals equal a recomputation from the answers of closed rounds."""
    db = store._reader
    recomputed = await db.execute_fetchall(
        "SELECT r.server, a.user_id, sum(a.points), count(*), sum(a.correct)"
        " FROM answers a JOIN rounds r ON r.id = a.round_id WHERE r.closed_at IS NOT NULL"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    )
    kept = await db.execute_fetchall(
        "SELECT server, user_id, points, answered, correct FROM scores WHERE period = 'all'"
        " ORDER BY 1, 2"
    )
    assert [tuple(r) for r in kept] == [tuple(r) for r in recomputed]
    histogram = await db.execute_fetchall(
        "SELECT server, period, points, members FROM score_counts WHERE members > 0"
        " ORDER BY 1, 2, 3"
    )
    counted = await db.execute_fetchall(
        "SELECT server, period, points, count(*) FROM scores WHERE points > 0"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    assert [tuple(r) for r in histogram] == [tuple(r) for r in counted]


async def test_servers_are_isolated(engine: QuizEngine, platform: MemoryPlatform) -> None:
    one, two = ChannelRef("test:s1", "c1"), ChannelRef("test:s2", "c1")
    await engine.post(one)
    await engine.post(two)
    row_one = await engine.store.open_round(one)
    row_two = await engine.store.open_round(two)
    assert row_one is not None
    assert row_two is not None
    assert row_one.id != row_two.id
    await answer_round(engine, channel=one, member=member("ada"), round_id=row_one.id, choice=RIGHT)
    await answer_round(
        engine,
        channel=two,
        member=member("zed", server="test:s2"),
        round_id=row_two.id,
        choice=RIGHT,
    )
    # Revealing one server's channel leaves the other's question open.
    await engine.reveal(two)
    assert await engine.store.open_round(one) is not None
    assert [r.channel for r in platform.reveals] == [two]
    await engine.reveal(one)
    board_two = await engine.handle(
        cmd.ShowLeaderboard(Period.ALL), invocation=invocation("zed", server="test:s2")
    )
    assert isinstance(board_two, LeaderboardCard)
    assert [r.name for r in board_two.rows] == ["zed"]
    stats = await engine.handle(
        cmd.ShowStats("ada"), invocation=invocation("zed", server="test:s2")
    )
    assert isinstance(stats, Notice)
    await assert_scores_match_answers(engine.store)


async def test_post_failure_is_recorded_and_shown(
    engine: QuizEngine, platform: MemoryPlatform, clock: ManualClock
) -> None:
    await engine.handle(
        cmd.parse_command("schedule 09:00"), invocation=invocation("ad", admin=True)
    )
    platform.failing.add(CHANNEL)
    reply = await engine.handle(cmd.PostNow(), invocation=invocation("ad", admin=True))
    assert isinstance(reply, Notice)
    assert "could not be posted" in reply.text
    card = await engine.schedule_card(CHANNEL)
    assert card.last_error is not None
    assert "missing permission" in card.last_error
    platform.failing.clear()
    clock.advance(timedelta(seconds=31))  # the first retry waits 30 s
    await engine.deliverer.sweep()
    assert len(platform.questions) == 1
    assert (await engine.schedule_card(CHANNEL)).last_error is None


async def test_pending_deliveries_resume_after_restart(
    store: Store, bank: object, clock: ManualClock
) -> None:
    silent = MemoryPlatform(failing={CHANNEL})
    engine = QuizEngine(store=store, bank=bank, platform=silent, clock=clock)  # type: ignore[arg-type]
    await engine.post(CHANNEL)
    assert silent.questions == []
    restarted = MemoryPlatform()
    engine = QuizEngine(store=store, bank=bank, platform=restarted, clock=clock)  # type: ignore[arg-type]
    clock.advance(timedelta(seconds=31))
    await engine.deliverer.sweep()
    assert len(restarted.questions) == 1
    await engine.reveal(CHANNEL)
    assert len(restarted.reveals) == 1


def test_scoring_rule() -> None:
    assert points_for(difficulty=Difficulty.EASY, correct=False, streak=0) == 0
    assert (
        points_for(difficulty=Difficulty.EASY, correct=True, streak=1)
        == BASE_POINTS[Difficulty.EASY]
    )
    hard = [points_for(difficulty=Difficulty.HARD, correct=True, streak=s) for s in (1, 2, 6, 9)]
    assert hard == [20, 21, 25, 25]
