"""Cards next to what came before them: questions posted as embeds before this version are still
answered and closed, and the fake Discord refuses the v2 messages Discord refuses."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest
from discord_harness import ADA, CHANNEL_ID, GRACE, MOD, Harness, buttons_of, click, slash
from fake_discord import IS_COMPONENTS_V2, TOKEN, FakeDiscord, texts

from adapters.discord import platform, render
from adapters.discord.convert import practice_custom_id
from adapters.discord.render import ButtonSpec, DiscordMessage, answer_buttons, question_text
from bot.models import LETTERS, PracticeCard, QuestionPost
from tests.discord.test_discord_round import right_and_wrong

ROLE = "1302999000000000042"


def embed_question(post: QuestionPost) -> DiscordMessage:
    """The daily question as versions before cards posted it: an embed and a row of buttons."""
    embed = discord.Embed(
        title=f"Question #{post.round_id}", description=question_text(post.question)
    )
    return DiscordMessage(embeds=(embed,), buttons=answer_buttons(post))


async def test_a_question_posted_as_an_embed_is_answered_and_closed(
    quiz: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old_version:
        old_version.setattr(platform, "question_message", embed_question)
        await quiz.send(slash("post", MOD))
    message = quiz.question_message()
    assert message["flags"] == 0
    assert message["embeds"][0]["title"] == "Question #1"

    right, wrong = await right_and_wrong(quiz)
    answer = await quiz.send(click(message, wrong, ADA))
    assert answer.content == f"Recorded: {wrong}"
    assert await quiz.client.engine.store.choice_of(1, ADA.user_id) == LETTERS.index(wrong)

    revealed = await quiz.send(slash("reveal", MOD))
    assert revealed.content == "Closed the question and posted its reveal."
    # The close turns the old message into the closed card: Discord takes the v2 flag on an
    # edit that empties the content and embeds (the fake refuses it otherwise, as Discord does).
    [closing] = [r for r in revealed.requests if r.method == "PATCH" and "/channels/" in r.path]
    assert closing.body["flags"] == IS_COMPONENTS_V2
    assert (closing.body["content"], closing.body["embeds"]) == (None, [])
    closed = quiz.fake.messages[message["id"]]
    assert closed["embeds"] == []
    assert "**A)**" in texts(closed)[1]
    assert all(b["disabled"] for b in buttons_of(closed))
    assert [b["style"] for b in buttons_of(closed)] == [
        3 if b["label"] == right else 2 for b in buttons_of(closed)
    ]

    # A member whose client still shows the embed presses it: told it is closed.
    late = await quiz.send(click(message, right, GRACE))
    assert late.content == "This question is closed: its answer has been revealed in the channel."


def embed_practice(card: PracticeCard) -> DiscordMessage:
    """A practice question as versions before cards showed it: an embed and a row of buttons."""
    q = card.question
    embed = discord.Embed(title="Practice", description=question_text(q))
    buttons = tuple(
        ButtonSpec(practice_custom_id(q.id, i), LETTERS[i]) for i in range(len(q.choices))
    )
    return DiscordMessage(embeds=(embed,), buttons=buttons)


async def test_a_practice_question_shown_as_an_embed_turns_into_its_result_card(
    quiz: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old_version:
        old_version.setattr(render, "_practice_card", embed_practice)
        shown = await quiz.send(slash("practice", ADA, topic="gans"))
    assert shown.embeds[0]["title"] == "Practice"
    assert not shown.v2
    # The result replaces the pressed message: as a card, with the embed emptied away.
    marked = await quiz.send(click(shown.message, "A", ADA))
    assert marked.callback_type == 7
    assert (marked.sent["content"], marked.sent["embeds"]) == (None, [])
    assert marked.v2
    assert marked.ephemeral
    assert marked.embeds == []
    assert marked.texts[0].startswith("## Right. The answer is A)")


async def post_raw(
    fake: FakeDiscord, body: dict[str, Any], *, method: str = "POST", path: str = ""
) -> tuple[int, dict[str, Any]]:
    url = f"{fake.api_base}/channels/{CHANNEL_ID}/messages{path}"
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


def card(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"flags": IS_COMPONENTS_V2, "components": [{"type": 17, "components": list(parts)}]}


def text(content: str) -> dict[str, Any]:
    return {"type": 10, "content": content}


async def test_the_fake_refuses_the_v2_messages_discord_refuses(fake: FakeDiscord) -> None:
    status, _ = await post_raw(fake, card(text("fine")))
    assert status == 200

    status, error = await post_raw(fake, {**card(text("x")), "content": "beside"})
    assert (status, error["code"]) == (400, 50035)
    assert "content" in error["errors"]
    status, error = await post_raw(fake, {**card(text("x")), "embeds": [{"title": "t"}]})
    assert status == 400
    assert "embeds" in error["errors"]

    status, _ = await post_raw(fake, card(*(text("x") for _ in range(39))))
    assert status == 200  # 39 and the container: 40
    status, error = await post_raw(fake, card(*(text("x") for _ in range(40))))
    assert status == 400
    assert error["errors"]["components"]["_errors"][0]["code"] == "MESSAGE_COMPONENTS_TOO_MANY"

    status, _ = await post_raw(fake, card(text("x" * 2000), text("y" * 2000)))
    assert status == 200
    status, error = await post_raw(fake, card(text("x" * 2000), text("y" * 2001)))
    assert status == 400

    status, error = await post_raw(fake, {"components": [{"type": 17, "components": [text("x")]}]})
    assert status == 400  # layout components without the flag


async def test_the_fake_keeps_a_card_a_card(fake: FakeDiscord) -> None:
    _, posted = await post_raw(fake, card(text("card")))
    status, _ = await post_raw(
        fake, {"flags": 0, "content": "plain"}, method="PATCH", path=f"/{posted['id']}"
    )
    assert status == 400
    assert fake.messages[posted["id"]]["flags"] == IS_COMPONENTS_V2

    _, old = await post_raw(fake, {"embeds": [{"title": "old question"}]})
    status, _ = await post_raw(fake, card(text("closed")), method="PATCH", path=f"/{old['id']}")
    assert status == 400  # the embed would stay beside the card
    emptied = {**card(text("closed")), "content": None, "embeds": []}
    status, shown = await post_raw(fake, emptied, method="PATCH", path=f"/{old['id']}")
    assert status == 200
    assert shown["flags"] == IS_COMPONENTS_V2
    assert texts(shown) == ["closed"]


async def test_a_mention_in_a_text_display_pings_within_the_allowed_mentions(
    fake: FakeDiscord,
) -> None:
    # What makes the ping test mean something: a card's text pings like content would.
    _, loud = await post_raw(fake, card(text(f"<@&{ROLE}> <@&1302999000000000043>")))
    assert loud["mention_roles"] == [ROLE, "1302999000000000043"]
    limited = {
        **card(text(f"<@&{ROLE}> <@&1302999000000000043>")),
        "allowed_mentions": {"parse": [], "roles": [ROLE]},
    }
    _, shown = await post_raw(fake, limited)
    assert shown["mention_roles"] == [ROLE]
    _, quiet = await post_raw(
        fake, {**card(text(f"<@&{ROLE}>")), "allowed_mentions": {"parse": []}}
    )
    assert quiet["mention_roles"] == []
