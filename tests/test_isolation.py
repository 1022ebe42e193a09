"""Two servers side by side: nothing of one is visible or changeable from the other."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import commands as cmd
from bot.engine import QuizEngine
from bot.models import (
    ChannelRef,
    Invocation,
    LeaderboardCard,
    Notice,
    PracticeCard,
    QuestionCard,
    ScheduleCard,
    StatsCard,
    TopicsCard,
)
from bot.render import reply_text
from tests.conftest import answer_round, invocation, member

HOME = ChannelRef("discord:1", "general")
AWAY = ChannelRef("discord:2", "general")  # same channel name, another server
RIGHT = 1


async def play_home(engine: QuizEngine) -> int:
    admin = invocation("boss", server=HOME.server, channel=HOME.channel, admin=True)
    await engine.handle(cmd.parse_command("schedule 08:15 Asia/Tokyo"), invocation=admin)
    outcome = await engine.post(HOME)
    assert outcome.round_id is not None
    for name in ("ada", "bob"):
        await answer_round(
            engine,
            channel=HOME,
            member=member(name, server=HOME.server),
            round_id=outcome.round_id,
            choice=RIGHT,
        )
    return outcome.round_id


def away(name: str = "zed", *, admin: bool = False) -> Invocation:
    return invocation(name, server=AWAY.server, channel=AWAY.channel, admin=admin)


async def test_every_read_subcommand_sees_only_its_server(engine: QuizEngine) -> None:
    await play_home(engine)
    question = await engine.handle(cmd.ShowQuestion(), invocation=away())
    assert isinstance(question, Notice)
    assert not isinstance(question, QuestionCard)
    for period in ("week", "month", "all"):
        board = await engine.handle(cmd.parse_command(f"leaderboard {period}"), invocation=away())
        assert isinstance(board, LeaderboardCard)
        assert (board.rows, board.caller, board.ranked) == ((), None, 0)
    for target in ("ada", "u-ada", "<@u-ada>"):
        stats = await engine.handle(cmd.parse_command(f"stats {target}"), invocation=away())
        assert isinstance(stats, Notice), target
    own = await engine.handle(cmd.ShowStats(), invocation=away("ada"))
    assert isinstance(own, Notice)  # the same user id in another server has no history there
    schedule = await engine.handle(cmd.ShowSchedule(), invocation=away())
    assert isinstance(schedule, ScheduleCard)
    assert schedule.time is None
    topics = await engine.handle(cmd.ShowTopics(), invocation=away("ada"))
    assert isinstance(topics, TopicsCard)
    assert topics.mastered == {}


async def test_admin_subcommands_act_only_on_their_server(engine: QuizEngine) -> None:
    round_id = await play_home(engine)
    boss_away = away("boss", admin=True)
    reveal = await engine.handle(cmd.RevealNow(), invocation=boss_away)
    assert isinstance(reveal, Notice)
    assert "No question is open" in reveal.text
    await engine.handle(cmd.ScheduleOff(), invocation=boss_away)
    await engine.handle(cmd.PostNow(), invocation=boss_away)
    home_round = await engine.store.open_round(HOME)
    assert home_round is not None
    assert home_round.id == round_id
    assert (await engine.store.schedule(HOME)) is not None
    assert await engine.store.tally(round_id, 4) == (0, 2, 0, 0)


async def test_a_press_cannot_reach_another_servers_round(engine: QuizEngine) -> None:
    round_id = await play_home(engine)
    notice = await answer_round(
        engine,
        channel=AWAY,
        member=member("zed", server=AWAY.server),
        round_id=round_id,
        choice=RIGHT,
    )
    assert "does not belong" in notice.text
    assert await engine.store.tally(round_id, 4) == (0, 2, 0, 0)


async def test_practice_is_per_server(engine: QuizEngine) -> None:
    await play_home(engine)
    await engine.reveal(HOME)
    card = await engine.handle(cmd.Practice(), invocation=away("ada"))
    assert isinstance(card, PracticeCard)
    assert card.due == 0  # ada's daily answer at home scheduled nothing here


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=700))
def test_command_parser_never_crashes(text: str) -> None:
    try:
        command = cmd.parse_command(text)
    except cmd.CommandError as exc:
        message = str(exc)
        assert message
        assert len(message) < 400
        assert "\n" not in message
        assert all(ch.isprintable() for ch in message)
    else:
        assert command is not None


@pytest.mark.parametrize(
    "name",
    [
        "@everyone",
        "@here",
        "<!channel>",
        "<@U123>",
        "**bold** _x_ `code`",
        "a & <b> > c",
        "x" * 200,
    ],
)
async def test_hostile_names_render_as_text(engine: QuizEngine, name: str) -> None:
    outcome = await engine.post(HOME)
    assert outcome.round_id is not None
    await answer_round(
        engine,
        channel=HOME,
        member=member(name, server=HOME.server),
        round_id=outcome.round_id,
        choice=RIGHT,
    )
    await engine.reveal(HOME)
    board = await engine.handle(
        cmd.ShowLeaderboard(), invocation=invocation("ada", server=HOME.server)
    )
    assert isinstance(board, LeaderboardCard)
    assert board.rows[0].name == name
    assert name in reply_text(board)
    stats = await engine.handle(
        cmd.ShowStats(name), invocation=invocation("ada", server=HOME.server)
    )
    assert isinstance(stats, StatsCard)
