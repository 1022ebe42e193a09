"""Leaderboard pages through discord.py: Previous, Next and My page replace the ephemeral
leaderboard (type 7); only the member it was made for can page it."""

from __future__ import annotations

from discord_harness import (
    ADA,
    GRACE,
    MOD,
    Answer,
    Harness,
    Person,
    buttons_of,
    click,
    click_id,
    slash,
)

from adapters.discord.convert import page_custom_id
from bot.models import LETTERS, Member, Period
from tests.discord.test_discord_round import GUILD_CHANNEL, right_and_wrong

# Ids below Ada's: with everyone tied on points, these 14 fill page 1 and push Ada to page 2.
OTHERS = [Person(f"Member {i:02d}", f"11000000000000000{i:02d}") for i in range(14)]


async def ranked_fifteen(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    right, wrong = await right_and_wrong(quiz)
    row = await quiz.client.engine.store.open_round(GUILD_CHANNEL)
    assert row is not None
    for person in OTHERS:
        # Straight through the engine: fifteen Discord round trips would add nothing here.
        await quiz.client.engine.answer(
            channel=GUILD_CHANNEL,
            member=Member(GUILD_CHANNEL.server, person.user_id, person.name),
            round_id=row.id,
            choice=LETTERS.index(right),
            token=row.token,
        )
    await quiz.send(click(quiz.question_message(), right, ADA))
    await quiz.send(click(quiz.question_message(), wrong, GRACE))
    await quiz.send(slash("reveal", MOD))


def footer(answer: Answer) -> str:
    """The page line under the list."""
    [line] = [t for t in answer.texts if t.startswith("-# ")]
    return line.removeprefix("-# ")


def listed(answer: Answer) -> str:
    return answer.texts[1]


def disabled(answer: Answer) -> dict[str, bool]:
    return {b["label"]: bool(b.get("disabled")) for b in buttons_of(answer.message)}


async def test_paging_through_the_leaderboard(quiz: Harness) -> None:
    await ranked_fifteen(quiz)
    first = await quiz.send(slash("leaderboard", ADA))
    assert first.ephemeral
    assert footer(first) == "Page 1 of 2 · 15 ranked members"
    assert listed(first).count("\n") == 9  # ten rows
    assert "Ada" not in listed(first)
    assert first.custom_ids == [
        page_custom_id(Period.ALL, 0, ADA.user_id),
        page_custom_id(Period.ALL, 1, ADA.user_id),
        page_custom_id(Period.ALL, None, ADA.user_id),
    ]
    assert disabled(first) == {"Previous": True, "Next": False, "My page": False}

    second = await quiz.send(click_id(first.message, first.custom_ids[1], ADA))
    assert second.callback_type == 7  # the leaderboard itself turns its page
    assert footer(second) == "Page 2 of 2 · 15 ranked members"
    rows = listed(second).split("\n")
    assert len(rows) == 5
    # Everyone is tied: the rank is the board's, not the page's.
    assert all(row.startswith("**1.**") for row in rows)
    assert "**1.** Ada" in rows[-1]
    assert disabled(second) == {"Previous": False, "Next": True, "My page": True}

    back = await quiz.send(click_id(second.message, second.custom_ids[0], ADA))
    assert back.callback_type == 7
    assert footer(back) == "Page 1 of 2 · 15 ranked members"

    mine = await quiz.send(click_id(back.message, back.custom_ids[2], ADA))
    assert mine.callback_type == 7
    assert footer(mine) == "Page 2 of 2 · 15 ranked members"
    assert "Ada" in listed(mine)


async def test_another_member_cannot_page_a_leaderboard(quiz: Harness) -> None:
    await ranked_fifteen(quiz)
    board = await quiz.send(slash("leaderboard", ADA))
    for custom_id in board.custom_ids:
        refused = await quiz.send(click_id(board.message, custom_id, GRACE))
        assert refused.callback_type == 4  # a message of its own: Ada's page stays as it was
        assert refused.ephemeral
        assert refused.content.startswith("These buttons page the leaderboard of the member")
        assert refused.custom_ids == []


async def test_my_page_without_points_stays_on_the_first_page(quiz: Harness) -> None:
    await ranked_fifteen(quiz)
    board = await quiz.send(slash("leaderboard", GRACE))
    assert disabled(board)["My page"]
    forged = page_custom_id(Period.ALL, None, GRACE.user_id)
    shown = await quiz.send(click_id(board.message, forged, GRACE))
    assert shown.callback_type == 7
    assert footer(shown) == "Page 1 of 2 · 15 ranked members"
    assert "no points in this period" in shown.text
