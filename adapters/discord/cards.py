"""The Discord cards as plain data: what a layout message (components v2) holds, and its limits.

A card is one `Container` with an accent colour, holding text, separators, an image gallery and
rows of buttons. It is built where there is no event loop (rendering is pure), so it holds no
discord.py objects; `adapters.discord.layouts` turns it into a `LayoutView` to send. Discord
refuses a v2 message past its limits with a 400, and a refused daily question never reaches the
channel, so every card is checked against them when it is made (`check`) and the renderer fits
the long text (a question, an explanation) into what the rest leaves (`room`).
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from adapters.discord.convert import BUTTONS_PER_ROW, CUSTOM_ID_LIMIT

COMPONENT_LIMIT = 40  # every component of a message, nested ones included
TEXT_LIMIT = 4000  # the characters of all the text displays of a message together
MEDIA_DESCRIPTION_LIMIT = 1024

# The accent of the cards that belong to no one topic (leaderboard, stats): Discord's blurple.
NEUTRAL_ACCENT = 0x5865F2

# One colour per topic of the bundled bank, so a channel's cards are told apart at a glance. A
# server's own topic that is not here gets the neutral accent.
TOPIC_ACCENTS: dict[str, int] = {
    "activation-functions": 0xE6194B,
    "autoencoders": 0x3CB44B,
    "backpropagation": 0xFFB000,
    "boltzmann-machines": 0x4363D8,
    "cnn": 0xF58231,
    "code-reading": 0x911EB4,
    "data-preprocessing": 0x42D4F4,
    "deep-reinforcement-learning": 0xF032E6,
    "diffusion-models": 0xBFEF45,
    "efficient-inference": 0xFABED4,
    "efficient-training": 0x469990,
    "ensembles": 0xDCBEFF,
    "evaluation": 0x9A6324,
    "foundations": 0xFFFAC8,
    "frameworks": 0x800000,
    "gans": 0xAAFFC3,
    "generative-model-evaluation": 0x808000,
    "generative-vs-discriminative": 0xFFD8B1,
    "gradient-descent": 0x000075,
    "graph-neural-networks": 0xA9A9A9,
    "hyperparameters": 0x1ABC9C,
    "imbalanced-data": 0xE67E22,
    "initialisation": 0x9B59B6,
    "large-language-models": 0x2ECC71,
    "loss-functions": 0xC0392B,
    "normalisation": 0x2980B9,
    "optimisation": 0xF1C40F,
    "parameter-efficient-fine-tuning": 0x8E44AD,
    "regularisation": 0x16A085,
    "rnn": 0xD35400,
    "self-supervised-learning": 0x7F8C8D,
    "tensors-and-graphs": 0x34495E,
    "transfer-learning": 0xE84393,
    "transformers": 0x00CEC9,
    "vanishing-gradients": 0x6C5CE7,
}


def accent_of(topic: str) -> int:
    return TOPIC_ACCENTS.get(topic, NEUTRAL_ACCENT)


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    custom_id: str
    label: str
    style: discord.ButtonStyle = discord.ButtonStyle.secondary
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Text:
    """A text display: markdown, mentions included (they ping unless allowed mentions say no)."""

    content: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A separator: a thin line between the parts of a card."""


@dataclass(frozen=True, slots=True)
class Gallery:
    """One picture, by URL; `attachment://NAME` shows a file sent with the message."""

    url: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    """One action row of buttons."""

    buttons: tuple[ButtonSpec, ...]


Block = Text | Rule | Gallery | Row


class CardTooLarge(ValueError):
    """A card Discord would refuse: a bug in the renderer, never a member's doing."""


@dataclass(frozen=True, slots=True)
class Card:
    accent: int
    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        check(self)

    @property
    def components(self) -> int:
        """What Discord counts: the container, each block, and each button of a row."""
        return 1 + sum(1 + (len(b.buttons) if isinstance(b, Row) else 0) for b in self.blocks)

    @property
    def text_length(self) -> int:
        return sum(len(b.content) for b in self.blocks if isinstance(b, Text))

    @property
    def buttons(self) -> tuple[ButtonSpec, ...]:
        return tuple(s for b in self.blocks if isinstance(b, Row) for s in b.buttons)


def check(card: Card) -> None:
    """Raise CardTooLarge when Discord would refuse the card."""
    if card.components > COMPONENT_LIMIT:
        raise CardTooLarge(f"{card.components} components; Discord takes {COMPONENT_LIMIT}")
    if card.text_length > TEXT_LIMIT:
        raise CardTooLarge(f"{card.text_length} characters of text; Discord takes {TEXT_LIMIT}")
    for block in card.blocks:
        if isinstance(block, Text) and not block.content:
            raise CardTooLarge("an empty text display; Discord refuses it")
        if isinstance(block, Row) and not 1 <= len(block.buttons) <= BUTTONS_PER_ROW:
            raise CardTooLarge(
                f"a row of {len(block.buttons)} buttons; Discord takes 1 to {BUTTONS_PER_ROW}"
            )
        if isinstance(block, Gallery) and len(block.description) > MEDIA_DESCRIPTION_LIMIT:
            raise CardTooLarge(f"an image description over {MEDIA_DESCRIPTION_LIMIT} characters")
    for spec in card.buttons:
        if len(spec.custom_id) > CUSTOM_ID_LIMIT:
            raise CardTooLarge(f"custom_id {spec.custom_id!r} is over {CUSTOM_ID_LIMIT} characters")


def rows(buttons: tuple[ButtonSpec, ...]) -> tuple[Row, ...]:
    """The buttons in rows of at most BUTTONS_PER_ROW, in order."""
    return tuple(
        Row(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW)
    )


def room(*blocks: Block) -> int:
    """What Discord's text limit leaves for one more text block beside `blocks`."""
    return TEXT_LIMIT - sum(len(b.content) for b in blocks if isinstance(b, Text))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
