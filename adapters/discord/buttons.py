"""The buttons dlquiz puts under its messages, and which press goes to which handler.

A press is understood from its custom_id alone, so buttons posted before a restart keep working
and nothing is kept per message. The client hands every press of these buttons to `route` straight
from the gateway's payload, before discord.py's view store: the store would rebuild a View from
the pressed message's components on every press only to find the DynamicItem, a fifth of what a
press costs. The DynamicItem classes remain what the views are built of (`build_view`); their
templates are the custom_id patterns. Every handler is a method of `PressHandler`, which the
client implements, so this module never imports the client (which imports it).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import discord

from adapters.discord.convert import (
    ANSWER_ID_PATTERN,
    ANSWER_ID_PREFIX,
    BUTTON_LABEL_LIMIT,
    BUTTONS_PER_ROW,
    PAGE_ID_PATTERN,
    PAGE_ID_PREFIX,
    PRACTICE_ID_PATTERN,
    PRACTICE_ID_PREFIX,
    PRACTICE_NEXT_ID_PATTERN,
    PRACTICE_NEXT_ID_PREFIX,
    AnswerPress,
    NextPracticePress,
    PracticePress,
    parse_answer_custom_id,
    parse_page_custom_id,
    parse_practice_custom_id,
    parse_practice_next_custom_id,
)
from adapters.discord.render import ButtonSpec
from bot.models import PageRequest

Button = discord.ui.Button[discord.ui.View]


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

    async def refuse_press(self, interaction: discord.Interaction[Any], text: str) -> None:
        """A press nothing can answer: tell the member why, only them."""
        ...


Press = Callable[[PressHandler, discord.Interaction[Any]], Coroutine[Any, Any, None]]

# A damaged id is refused in words the member can act on: which command gives working buttons.
DAMAGED = "This button's id is damaged, so nothing was done with it; {fix}."
UNKNOWN_BUTTON = (
    "This button has expired or is not one of dlquiz's, so nothing was done with it;"
    " run the `/dlquiz` command again for buttons that work."
)


def _refusal(text: str) -> Press:
    async def refuse(handler: PressHandler, interaction: discord.Interaction[Any]) -> None:
        await handler.refuse_press(interaction, text)

    return refuse


_DAMAGED_ANSWER = _refusal(
    DAMAGED.format(fix="`/dlquiz question` shows the open question with buttons that work")
)
_DAMAGED_PRACTICE = _refusal(DAMAGED.format(fix="`/dlquiz practice` gives a new practice question"))
_DAMAGED_PAGE = _refusal(DAMAGED.format(fix="`/dlquiz leaderboard` shows the leaderboard again"))
refuse_unknown = _refusal(UNKNOWN_BUTTON)


def route(custom_id: str) -> Press | None:
    """What answers a press of `custom_id`: the handler of its kind of button; a refusal when it
    starts like one of them but is not its shape; None when it is none of them (a review button
    or a form's, which discord.py's view store dispatches)."""
    # Answers first: they are nearly every press.
    if custom_id.startswith(ANSWER_ID_PREFIX):
        answer = parse_answer_custom_id(custom_id)
        if answer is None:
            return _DAMAGED_ANSWER
        return lambda handler, interaction: handler.handle_press(interaction, answer)
    if custom_id.startswith(PRACTICE_NEXT_ID_PREFIX):
        following = parse_practice_next_custom_id(custom_id)
        if following is None:
            return _DAMAGED_PRACTICE
        return lambda handler, interaction: handler.handle_practice_next(interaction, following)
    if custom_id.startswith(PRACTICE_ID_PREFIX):
        practice = parse_practice_custom_id(custom_id)
        if practice is None:
            return _DAMAGED_PRACTICE
        return lambda handler, interaction: handler.handle_practice_press(interaction, practice)
    if custom_id.startswith(PAGE_ID_PREFIX):
        page = parse_page_custom_id(custom_id)
        if page is None:
            return _DAMAGED_PAGE
        return lambda handler, interaction: handler.handle_page(interaction, page)
    return None


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


class PracticeButton(discord.ui.DynamicItem[Button], template=PRACTICE_ID_PATTERN):
    """A choice of a practice question: `dlq:p:<question id>:<letter>`."""

    def __init__(self, press: PracticePress, spec: ButtonSpec) -> None:
        super().__init__(_button(spec, row=press.choice // BUTTONS_PER_ROW))
        self.press = press


class NextPracticeButton(discord.ui.DynamicItem[Button], template=PRACTICE_NEXT_ID_PATTERN):
    """The next practice question under a result: `dlq:pn:<topic slug>`, or `dlq:pn:*`."""

    def __init__(self, press: NextPracticePress, spec: ButtonSpec) -> None:
        super().__init__(_button(spec))
        self.press = press


class PageButton(discord.ui.DynamicItem[Button], template=PAGE_ID_PATTERN):
    """A leaderboard's paging button: `dlq:lb:<period>:<page or me>:<owner's user id>`."""

    def __init__(self, request: PageRequest, spec: ButtonSpec) -> None:
        super().__init__(_button(spec))
        self.request = request


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
