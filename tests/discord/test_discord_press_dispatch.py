"""Presses of dlquiz's buttons go to the client from the raw payload, before discord.py's view
store: old messages stay answerable, and a press nothing can answer is refused in words."""

from __future__ import annotations

import copy
import logging
import sqlite3
from contextlib import closing
from typing import Any

import discord
import pytest
from discord_harness import ADA, GRACE, MOD, Harness, _as, click, click_id, load, slash

from adapters.discord import buttons
from adapters.discord.convert import AnswerPress, NextPracticePress, PracticePress
from bot.config import Settings
from bot.models import PageRequest, Period

DAMAGED_ANSWER = (
    "This button's id is damaged, so nothing was done with it; `/dlquiz question` shows the"
    " open question with buttons that work."
)


@pytest.fixture
def no_view_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py rebuilds a View from the pressed message only to find a DynamicItem; the
    presses of dlquiz's buttons must not need it."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a press rebuilt the pressed message's view")

    monkeypatch.setattr(discord.ui.View, "from_message", classmethod(refuse))


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="adapters.discord.client")
    return caplog


@pytest.mark.usefixtures("no_view_rebuild")
async def test_a_press_is_answered_once_without_rebuilding_the_view(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    payload = click(quiz.question_message(), "B", ADA)
    answer = await quiz.send(payload)
    assert answer.content == "Recorded: B"
    callbacks = [r for r in quiz.fake.requests if f"/interactions/{payload['id']}/" in r.path]
    assert len(callbacks) == 1  # the view store, which knows the buttons since the post, did not


@pytest.mark.usefixtures("no_view_rebuild")
async def test_a_press_on_a_question_message_of_an_older_version_records(
    quiz: Harness, settings: Settings
) -> None:
    await quiz.send(slash("post", MOD))
    # As migration 4 leaves a round posted before rounds had tokens: its buttons carry none.
    with closing(sqlite3.connect(settings.db)) as db:
        db.execute("UPDATE rounds SET token = '' WHERE id = 1")
        db.commit()
    # A press recorded from Discord on a question message such a version posted (`dlq:a:1:B`).
    payload = copy.deepcopy(load("button_click"))
    _as(payload, GRACE)
    assert payload["data"]["custom_id"] == "dlq:a:1:B"
    answer = await quiz.send(payload)
    assert answer.ephemeral
    assert answer.content == "Recorded: B"
    assert await quiz.client.engine.store.choice_of(1, GRACE.user_id) == 1


@pytest.mark.parametrize(
    ("custom_id", "fix"),
    [
        ("dlq:a:1:Z", "`/dlquiz question`"),  # no such letter
        ("dlq:a:one:A", "`/dlquiz question`"),  # no round number
        ("dlq:a:1.XYZ:A", "`/dlquiz question`"),  # not a token
        ("dlq:p:Q:A", "`/dlquiz practice`"),  # not a question id
        ("dlq:pn:", "`/dlquiz practice`"),
        ("dlq:lb:decade:0:1178324519023411221", "`/dlquiz leaderboard`"),
    ],
)
async def test_a_damaged_button_id_is_refused_and_nothing_is_recorded(
    quiz: Harness, warnings: pytest.LogCaptureFixture, custom_id: str, fix: str
) -> None:
    await quiz.send(slash("post", MOD))
    message = copy.deepcopy(quiz.question_message())
    message["components"][0]["components"][0]["custom_id"] = custom_id
    answer = await quiz.send(click_id(message, custom_id, ADA))
    assert answer.ephemeral
    assert answer.content.startswith("This button's id is damaged, so nothing was done with it;")
    assert fix in answer.content
    assert await quiz.client.engine.store.choice_of(1, ADA.user_id) is None
    assert any(custom_id in r.getMessage() for r in warnings.records)
    # The member's real press still counts.
    assert (await quiz.send(click(quiz.question_message(), "A", ADA))).content == "Recorded: A"


async def test_a_button_nothing_knows_is_refused(
    quiz: Harness, warnings: pytest.LogCaptureFixture
) -> None:
    await quiz.send(slash("post", MOD))
    message = copy.deepcopy(quiz.question_message())
    message["components"][0]["components"][0]["custom_id"] = "poll:42:yes"
    answer = await quiz.send(click_id(message, "poll:42:yes", ADA))
    assert answer.ephemeral
    assert answer.content == buttons.UNKNOWN_BUTTON
    assert await quiz.client.engine.store.choice_of(1, ADA.user_id) is None
    assert any("poll:42:yes" in r.getMessage() for r in warnings.records)


class Recorder:
    """A `PressHandler` that notes which handler a press reached, with what."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def handle_press(self, interaction: Any, press: AnswerPress) -> None:
        self.calls.append(("answer", press))

    async def handle_practice_press(self, interaction: Any, press: PracticePress) -> None:
        self.calls.append(("practice", press))

    async def handle_practice_next(self, interaction: Any, press: NextPracticePress) -> None:
        self.calls.append(("next", press))

    async def handle_page(self, interaction: Any, request: PageRequest) -> None:
        self.calls.append(("page", request))

    async def refuse_press(self, interaction: Any, text: str) -> None:
        self.calls.append(("refused", text))


@pytest.mark.parametrize(
    ("custom_id", "call"),
    [
        ("dlq:a:12.0a1b2c3d:C", ("answer", AnswerPress(12, 2, "0a1b2c3d"))),
        ("dlq:a:12:E", ("answer", AnswerPress(12, 4))),
        ("dlq:p:relu-basics:B", ("practice", PracticePress("relu-basics", 1))),
        ("dlq:pn:*", ("next", NextPracticePress(None))),
        ("dlq:pn:gans", ("next", NextPracticePress("gans"))),
        ("dlq:lb:week:me:42", ("page", PageRequest(Period.WEEK, None, "42"))),
        ("dlq:a:12:F", ("refused", DAMAGED_ANSWER)),
        ("dlq:a:" + "1" * 200 + ":A", ("refused", DAMAGED_ANSWER)),
    ],
)
async def test_route_hands_each_id_to_its_handler(custom_id: str, call: tuple[str, Any]) -> None:
    press = buttons.route(custom_id)
    assert press is not None
    handler = Recorder()
    await press(handler, None)  # type: ignore[arg-type]  # the handlers above never look
    assert handler.calls == [call]


@pytest.mark.parametrize("custom_id", ["dlq:rv:approve:3", "dlq:reopen", "poll:42:yes", ""])
def test_route_leaves_other_buttons_to_discord_py(custom_id: str) -> None:
    assert buttons.route(custom_id) is None
