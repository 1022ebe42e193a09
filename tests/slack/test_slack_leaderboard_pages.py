"""Leaderboard pages through bolt: Previous, Next and My page replace the ephemeral leaderboard
through its response_url; only the member it was made for can page it."""

from __future__ import annotations

from typing import Any

from fake_slack import TEAM
from slack_driver import ANA, BEN, CY, SlackDriver, buttons_of

from bot.models import Member
from tests.slack.test_slack_http import HERE, open_question, right_answer

# Ids below Ben's: with everyone tied on points, these 14 fill page 1 and push Ben to page 2.
OTHERS = [f"U0AAA00{i:02d}" for i in range(14)]


async def ranked_fifteen(slack: SlackDriver) -> None:
    message = await open_question(slack)
    right = await right_answer(slack)
    row = await slack.engine.store.open_round(HERE)
    assert row is not None
    for user in OTHERS:
        # Straight through the engine: fourteen more signed presses would add nothing here.
        await slack.engine.answer(
            channel=HERE,
            member=Member(f"slack:{TEAM}", user, user.lower()),
            round_id=row.id,
            choice=right,
            token=row.token,
        )
    await slack.press(BEN, message, right)
    await slack.press(CY, message, (right + 1) % len(buttons_of(message)))
    await slack.command(ANA, "reveal")


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in buttons_of(message)]


def standings(message: dict[str, Any]) -> list[str]:
    return str(message["blocks"][1]["text"]["text"]).split("\n")


async def test_paging_through_the_leaderboard(slack: SlackDriver) -> None:
    await ranked_fifteen(slack)
    board = await slack.command(BEN, "leaderboard")
    assert board.ack["response_type"] == "ephemeral"
    assert "Page 1 of 2 · 15 ranked members" in board.text
    assert len(standings(board.ack)) == 10
    assert "ben" not in board.ack["blocks"][1]["text"]["text"]
    assert labels(board.ack) == ["Next", "My page"]
    assert [b["value"] for b in buttons_of(board.ack)] == [f"all:1:{BEN.id}", f"all:me:{BEN.id}"]

    turned = await slack.press(BEN, board.ack, 0)
    [second] = turned.replies
    assert second.body["replace_original"] is True
    assert second.body["response_type"] == "ephemeral"
    assert "Page 2 of 2 · 15 ranked members" in second.text
    rows = standings(second.body)
    assert len(rows) == 5
    # Everyone is tied on points: the rank is the board's, shared across its pages.
    assert all(row.startswith(":first_place_medal:") for row in rows)
    assert "ben" in rows[-1]
    assert labels(second.body) == ["Previous"]

    back = await slack.press(BEN, second.body, 0)
    [first] = back.replies
    assert first.body["replace_original"] is True
    assert "Page 1 of 2" in first.text

    jumped = await slack.press(BEN, first.body, 1)  # My page
    [mine] = jumped.replies
    assert mine.body["replace_original"] is True
    assert "Page 2 of 2" in mine.text
    assert "ben" in standings(mine.body)[-1]


async def test_another_member_cannot_page_a_leaderboard(slack: SlackDriver) -> None:
    await ranked_fifteen(slack)
    board = await slack.command(BEN, "leaderboard")
    for index in range(len(buttons_of(board.ack))):
        refused = await slack.press(CY, board.ack, index)
        [reply] = refused.replies
        assert reply.body["replace_original"] is False, "Ben's leaderboard stays as it was"
        assert reply.body["response_type"] == "ephemeral"
        assert "These buttons page the leaderboard of the member who asked" in reply.text
        assert buttons_of(reply.body) == []


async def test_a_forged_page_value_is_refused(slack: SlackDriver) -> None:
    await ranked_fifteen(slack)
    board = await slack.command(BEN, "leaderboard")
    key, body = slack.press_payload(BEN, board.ack, 0)
    body["actions"][0]["value"] = "decade:1:U0BEN0001"
    refused = await slack.send_interaction(key, body)
    [reply] = refused.replies
    assert reply.body["replace_original"] is False
    assert "not an answer to a dlquiz question" in reply.text
