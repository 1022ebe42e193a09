"""The answer buttons, as DynamicItems: a press is understood from its custom_id alone.

discord.py matches every component press against the templates and rebuilds the button from the
clicked message, so buttons posted before a restart keep working and no view is kept per message.
Daily questions, practice questions and the "Next question" under a practice result have one
class each; all of them hand the press to the client through `PressHandler`, which the client
implements, so this module never imports the client (which imports it).
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Self, runtime_checkable

import discord

from adapters.discord.convert import (
    ANSWER_ID_PATTERN,
    BUTTON_LABEL_LIMIT,
    BUTTONS_PER_ROW,
    PAGE_ID_PATTERN,
    PRACTICE_ID_PATTERN,
    PRACTICE_NEXT_ID_PATTERN,
    AnswerPress,
    NextPracticePress,
    PracticePress,
    parse_answer_custom_id,
    parse_page_custom_id,
    parse_practice_custom_id,
    parse_practice_next_custom_id,
)
from adapters.discord.render import NEXT_PRACTICE_LABEL, ButtonSpec
from bot.models import PageRequest

Button = discord.ui.Button[discord.ui.View]


@runtime_checkable
class PressHandler(Protocol):
    """What answers a press: the discord.py client the interaction arrived on."""

    async def handle_press(self, interaction: discord.Interaction[Any], press: AnswerPress) -> None:
        """A choice of a daily question."""
        ...

    async def handle_practice_press(
        self, interaction: discord.Interaction[Any], press: PracticePress
    ) -> None:
        """A choice of a practice question."""
        ...

    async def handle_practice_next(
        self, interaction: discord.Interaction[Any], press: NextPracticePress
    ) -> None:
        """The next practice question under a result."""
        ...

    async def handle_page(
        self, interaction: discord.Interaction[Any], request: PageRequest
    ) -> None:
        """A leaderboard's Previous, Next or My page."""
        ...


def handler_of(interaction: discord.Interaction[Any]) -> PressHandler:
    client = interaction.client
    if not isinstance(client, PressHandler):
        raise TypeError(f"{type(client).__name__} cannot answer dlquiz buttons")
    return client


def _button(spec: ButtonSpec, *, row: int = 0) -> Button:
    return discord.ui.Button(
        label=spec.label[:BUTTON_LABEL_LIMIT],
        custom_id=spec.custom_id,
        style=spec.style,
        disabled=spec.disabled,
        row=row,
    )


class AnswerButton(discord.ui.DynamicItem[Button], template=ANSWER_ID_PATTERN):
    """A choice of a daily question: `dlq:a:<round>:<letter>`."""

    def __init__(self, press: AnswerPress, spec: ButtonSpec) -> None:
        super().__init__(_button(spec, row=press.choice // BUTTONS_PER_ROW))
        self.press = press

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        press = parse_answer_custom_id(match.string)
        if press is None:  # pragma: no cover - the template and the parser share one pattern
            raise ValueError(f"not an answer button: {match.string!r}")
        return cls(press, ButtonSpec(custom_id=match.string, label="?"))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await handler_of(interaction).handle_press(interaction, self.press)


class PracticeButton(discord.ui.DynamicItem[Button], template=PRACTICE_ID_PATTERN):
    """A choice of a practice question: `dlq:p:<question id>:<letter>`."""

    def __init__(self, press: PracticePress, spec: ButtonSpec) -> None:
        super().__init__(_button(spec, row=press.choice // BUTTONS_PER_ROW))
        self.press = press

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        press = parse_practice_custom_id(match.string)
        if press is None:  # pragma: no cover - the template and the parser share one pattern
            raise ValueError(f"not a practice button: {match.string!r}")
        return cls(press, ButtonSpec(custom_id=match.string, label="?"))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await handler_of(interaction).handle_practice_press(interaction, self.press)


class NextPracticeButton(discord.ui.DynamicItem[Button], template=PRACTICE_NEXT_ID_PATTERN):
    """The next practice question under a result: `dlq:pn:<topic slug>`, or `dlq:pn:*`."""

    def __init__(self, press: NextPracticePress, spec: ButtonSpec) -> None:
        super().__init__(_button(spec))
        self.press = press

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        press = parse_practice_next_custom_id(match.string)
        if press is None:  # pragma: no cover - the template and the parser share one pattern
            raise ValueError(f"not a next-practice button: {match.string!r}")
        return cls(press, ButtonSpec(custom_id=match.string, label=NEXT_PRACTICE_LABEL))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await handler_of(interaction).handle_practice_next(interaction, self.press)


class PageButton(discord.ui.DynamicItem[Button], template=PAGE_ID_PATTERN):
    """A leaderboard's paging button: `dlq:lb:<period>:<page or me>:<owner's user id>`."""

    def __init__(self, request: PageRequest, spec: ButtonSpec) -> None:
        super().__init__(_button(spec))
        self.request = request

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        request = parse_page_custom_id(match.string)
        if request is None:  # pragma: no cover - the template and the parser share one pattern
            raise ValueError(f"not a paging button: {match.string!r}")
        return cls(request, ButtonSpec(custom_id=match.string, label="?"))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await handler_of(interaction).handle_page(interaction, self.request)


DYNAMIC_ITEMS = (AnswerButton, PracticeButton, NextPracticeButton, PageButton)


def build_view(buttons: tuple[ButtonSpec, ...]) -> discord.ui.View | None:
    """A view holding the given buttons; None when there are none."""
    if not buttons:
        return None
    # No timeout: the buttons are dynamic, so nothing is stored per message and nothing expires.
    view = discord.ui.View(timeout=None)
    for spec in buttons:
        view.add_item(_item(spec))
    return view


def _item(spec: ButtonSpec) -> AnswerButton | PracticeButton | NextPracticeButton | PageButton:
    answer = parse_answer_custom_id(spec.custom_id)
    if answer is not None:
        return AnswerButton(answer, spec)
    practice = parse_practice_custom_id(spec.custom_id)
    if practice is not None:
        return PracticeButton(practice, spec)
    next_practice = parse_practice_next_custom_id(spec.custom_id)
    if next_practice is not None:
        return NextPracticeButton(next_practice, spec)
    page = parse_page_custom_id(spec.custom_id)
    if page is not None:
        return PageButton(page, spec)
    raise ValueError(f"not a dlquiz button: {spec.custom_id!r}")
