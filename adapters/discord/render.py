"""Pure rendering of what the engine posts and replies, as Discord messages.

Every value becomes a `DiscordMessage`: text, embeds and the specs of its buttons (the views are
built from them where an event loop runs). Names and bank text are escaped so markdown and
mentions in them cannot take effect; timestamps use Discord's `<t:unix:style>` markup so every
reader sees their own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

import discord
from discord.utils import escape_markdown, escape_mentions, format_dt

from adapters.discord import cards
from adapters.discord.cards import (
    NEUTRAL_ACCENT,
    Block,
    Card,
    Gallery,
    Row,
    Rule,
    Text,
    accent_of,
    room,
    rows,
)
from adapters.discord.convert import (
    answer_custom_id,
    page_custom_id,
    practice_custom_id,
    practice_next_custom_id,
)
from bot import insights
from bot.community_render import community_text
from bot.models import (
    LETTERS,
    CodeSnippet,
    InsightsCard,
    ItemCard,
    LeaderboardCard,
    Notice,
    PracticeCard,
    PracticeResult,
    Question,
    QuestionCard,
    QuestionPost,
    Reply,
    RevealPost,
    ReviewCard,
    ScheduleCard,
    ServerQuestionList,
    SettingsCard,
    StatsCard,
    SuggestForm,
    Tone,
    TopicsCard,
)
from bot.practice import TOP_BOX
from bot.question_text import fenced_code
from bot.render import (
    MY_PAGE_LABEL,
    NEXT_LABEL,
    PERIOD_TITLES,
    PREVIOUS_LABEL,
    counted,
    page_line,
    percent,
    reveal_summary,
    tally_lines,
)

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
CONTENT_LIMIT = 2000

QUESTION_COLOUR = discord.Colour(NEUTRAL_ACCENT)
INFO_COLOUR = discord.Colour.dark_grey()
ERROR_COLOUR = discord.Colour.red()

NEXT_PRACTICE_LABEL = "Next question"

# The button spec is the cards' own; the classic views (adapters.discord.buttons) read it here.
ButtonSpec = cards.ButtonSpec
CODE_LANGUAGES = frozenset({"python", "text"})


@dataclass(frozen=True, eq=False)
class DiscordMessage:
    """One message as Discord takes it: text, embeds and buttons, or a layout `card` (components
    v2) alone, which Discord shows instead of content and embeds. Mentions are never allowed when
    it is sent, but for `ping_role`."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()
    buttons: tuple[ButtonSpec, ...] = ()
    image: bytes | None = None  # a PNG attached as IMAGE_NAME, shown by the embed or the card
    # The one role this message may ping (a channel's daily question with `ping` set).
    ping_role: int | None = None
    card: Card | None = None

    def __post_init__(self) -> None:
        if self.card is not None and (self.content or self.embeds or self.buttons):
            # Discord refuses a v2 message with content or embeds; its buttons are in the card.
            raise ValueError("a layout card is the whole message: no content, embeds or buttons")

    @property
    def allowed_mentions(self) -> discord.AllowedMentions:
        """Nobody, or the ping role alone: names and text in a message never ping anyone."""
        if self.ping_role is None:
            return discord.AllowedMentions.none()
        return discord.AllowedMentions(
            everyone=False,
            users=False,
            roles=[discord.Object(id=self.ping_role)],
            replied_user=False,
        )


IMAGE_NAME = "dlquiz-stats.png"


def plain(text: str) -> str:
    """Text shown as it is: markdown and mentions in a name or a question cannot take effect."""
    return escape_mentions(escape_markdown(text))


def timestamp(moment: datetime, style: discord.utils.TimestampStyle = "f") -> str:
    """Discord timestamp markup: every reader sees it in their own zone and language."""
    return format_dt(moment, style)


def answer_buttons(post: QuestionPost) -> tuple[ButtonSpec, ...]:
    return tuple(
        ButtonSpec(custom_id=answer_custom_id(post.round_id, i, post.token), label=LETTERS[i])
        for i in range(len(post.question.choices))
    )


def closed_buttons(reveal: RevealPost) -> tuple[ButtonSpec, ...]:
    """The question's buttons after the reveal: disabled, the right one green."""
    return tuple(
        ButtonSpec(
            custom_id=answer_custom_id(reveal.round_id, i, reveal.token),
            label=LETTERS[i],
            style=discord.ButtonStyle.success
            if i == reveal.question.answer
            else discord.ButtonStyle.secondary,
            disabled=True,
        )
        for i in range(len(reveal.question.choices))
    )


def question_text(question: Question, limit: int = DESCRIPTION_LIMIT) -> str:
    """The prompt, its code block if any, and the lettered choices, in at most `limit`
    characters; a code block is cut inside, never left open."""
    prompt = plain(question.prompt)
    choices = "\n".join(
        f"**{LETTERS[i]})** {plain(text)}" for i, text in enumerate(question.choices)
    )
    if question.code is None:
        return _clip(f"{prompt}\n\n{choices}", limit)
    room_left = limit - len(prompt) - len(choices) - 4  # the blank lines around the block
    block = code_block(question.code, room_left)
    return _clip(f"{prompt}\n\n{block}\n\n{choices}", limit)


def code_block(snippet: CodeSnippet, limit: int) -> str:
    """A fenced code block of at most `limit` characters that always closes: the text inside is
    cut, never the fence, and no backtick run in it can end the block early. Markdown and
    mentions do nothing inside a code block, so the text is otherwise shown as it is."""
    language = snippet.language if snippet.language in CODE_LANGUAGES else ""
    opening, closing = f"```{language}\n", "\n```"
    body = fenced_code(snippet)
    room = max(limit - len(opening) - len(closing), 1)
    return f"{opening}{_clip(body, room)}{closing}"


def _question_head(title: str, question: Question, *extra: str) -> Text:
    facts = " · ".join((plain(question.topic_label), question.difficulty.value, *extra))
    return Text(f"## {title}\n-# {facts}")


def _question_card_of(
    post: QuestionPost | RevealPost,
    buttons: tuple[ButtonSpec, ...],
    footer: str,
    *,
    ping: int | None = None,
) -> Card:
    """A question as a card: its title and facts, the question with its lettered choices (so it
    reads whole without the buttons), the buttons, and a footer."""
    q = post.question
    head: tuple[Text, ...] = (Text(f"<@&{ping}>"),) if ping is not None else ()
    head += (_question_head(f"Question #{post.round_id}", q),)
    tail: tuple[Block, ...] = (Rule(), *rows(buttons), Text(footer))
    body = Text(question_text(q, room(*head, *tail)))
    return Card(accent_of(q.topic), (*head, Rule(), body, *tail))


def _reveal_when(post: QuestionPost) -> str:
    if post.reveal_at is None:
        return (
            "The answer is revealed when an admin runs `/dlquiz reveal` or posts the next question."
        )
    when = f"{timestamp(post.reveal_at, 'f')} ({timestamp(post.reveal_at, 'R')})"
    return f"The answer is revealed {when}."


ANSWER_HINT = "Press a button to answer. Only you see your answer; the first is final."
CLOSED_NOTE = "Closed: the answer and the tally are in the reveal."


def question_message(post: QuestionPost) -> DiscordMessage:
    """The daily question as posted in the channel, with the channel's ping role mentioned at
    its top: a mention in a text display pings, as in a message's content, within the allowed
    mentions (which name that role alone)."""
    role = int(post.ping) if post.ping and post.ping.isdigit() else None
    footer = f"{_reveal_when(post)}\n-# {ANSWER_HINT}"
    card = _question_card_of(post, answer_buttons(post), footer, ping=role)
    return DiscordMessage(card=card, ping_role=role)


def closed_question_message(reveal: RevealPost) -> DiscordMessage:
    """The question message once closed: the same card, its buttons disabled, the right one
    green. A message posted as a card stays one (Discord cannot turn it back)."""
    return DiscordMessage(card=_question_card_of(reveal, closed_buttons(reveal), CLOSED_NOTE))


def reveal_message(reveal: RevealPost) -> DiscordMessage:
    q = reveal.question
    title = Text(
        _clip(
            f"## Answer to question #{reveal.round_id}: {q.answer_letter})"
            f" {plain(q.choices[q.answer])}",
            TITLE_LIMIT,
        )
    )
    # A code block keeps the bars aligned; the tally holds no user text, so nothing to escape.
    tally = "\n".join(tally_lines(reveal))
    tail = (Rule(), Text(f"**Answers**\n```\n{tally}\n```"), Text(reveal_summary(reveal)))
    explanation = Text(_clip(plain(q.explanation), room(title, *tail)))
    return DiscordMessage(card=Card(accent_of(q.topic), (title, explanation, *tail)))


def reply_message(reply: Reply) -> DiscordMessage:
    """Any reply of the engine to one member, as the ephemeral message that shows it."""
    match reply:
        case Notice():
            return notice_message(reply)
        case QuestionCard():
            return _question_card(reply)
        case LeaderboardCard():
            return DiscordMessage(card=_leaderboard_card(reply))
        case StatsCard():
            return DiscordMessage(card=_stats_card(reply), image=reply.chart)
        case ScheduleCard():
            return DiscordMessage(embeds=(_schedule_embed(reply),))
        case TopicsCard():
            return DiscordMessage(embeds=(_topics_embed(reply),))
        case PracticeCard():
            return _practice_card(reply)
        case PracticeResult():
            return _practice_result(reply)
        case InsightsCard():
            return DiscordMessage(embeds=(_insights_embed(reply),))
        case ItemCard():
            return DiscordMessage(embeds=(_item_embed(reply),))
        case ReviewCard() | ServerQuestionList() | SettingsCard() | SuggestForm():
            return DiscordMessage(content=_clip(community_text(reply, plain), CONTENT_LIMIT))
        case _:  # pragma: no cover - mypy reports a reply type added to the engine but not here
            assert_never(reply)


def _insights_embed(card: InsightsCard) -> discord.Embed:
    # Question ids and flag reasons are the bank's and the engine's text, never a member's.
    text = "\n".join(plain(line) for line in insights.overview_lines(card))
    return discord.Embed(
        title="Question insights",
        description=_clip(text, DESCRIPTION_LIMIT),
        colour=INFO_COLOUR,
    )


def _item_embed(card: ItemCard) -> discord.Embed:
    item = card.item
    embed = discord.Embed(
        title=_clip(f"Insights: {item.question_id}", TITLE_LIMIT),
        description=_clip(plain(item.prompt), DESCRIPTION_LIMIT) if item.prompt else None,
        colour=INFO_COLOUR,
    )
    embed.add_field(name="Answers", value=str(item.answers))
    embed.add_field(name="Right", value=f"{item.share_right:.0%}")
    embed.add_field(name="Discrimination", value=insights.discrimination_text(item))
    # A code block keeps the columns aligned; a backquote in a choice cannot close it.
    table = "\n".join(insights.choice_table(item)).replace("`", "'")
    embed.add_field(
        name="Choices (all, top group, bottom group)",
        value=_clip(f"```\n{table}\n```", FIELD_LIMIT),
        inline=False,
    )
    embed.add_field(
        name="Flags",
        value=_clip("\n".join(plain(line) for line in insights.flag_lines(item)), FIELD_LIMIT),
        inline=False,
    )
    return embed


def notice_message(notice: Notice) -> DiscordMessage:
    # Notices are the engine's own sentences, written with markdown (`/dlquiz …`): kept as they are.
    return DiscordMessage(content=_clip(notice.text, CONTENT_LIMIT))


def error_message(text: str) -> DiscordMessage:
    return notice_message(Notice(text, Tone.ERROR))


def _question_card(card: QuestionCard) -> DiscordMessage:
    post = card.post
    if card.answered_choice is not None:
        note = f"You answered {LETTERS[card.answered_choice]}; the first is final."
        return DiscordMessage(card=_question_card_of(post, (), f"{_reveal_when(post)}\n-# {note}"))
    footer = f"{_reveal_when(post)}\n-# {ANSWER_HINT}"
    return DiscordMessage(card=_question_card_of(post, answer_buttons(post), footer))


def _leaderboard_card(card: LeaderboardCard) -> Card:
    title = Text(f"## Leaderboard, {PERIOD_TITLES[card.period]}")
    if card.caller is None:
        you = "**You:** no points in this period yet."
    else:
        you = f"**You:** rank {card.caller.rank} of {card.ranked}, {card.caller.points} pts"
    tail: tuple[Text | Rule | Row, ...] = (Rule(), Text(you))
    if card.rows:
        tail += (Text(f"-# {page_line(card)}"),)
    tail += rows(page_buttons(card))
    if not card.rows:
        return Card(NEUTRAL_ACCENT, (title, Text("Nobody has points yet."), *tail))
    lines = "\n".join(
        f"**{row.rank}.** {plain(row.name)} · {row.points} pts · {row.correct} right"
        for row in card.rows
    )
    return Card(NEUTRAL_ACCENT, (title, Text(_clip(lines, room(title, *tail))), *tail))


def page_buttons(card: LeaderboardCard) -> tuple[ButtonSpec, ...]:
    """Previous, Next and My page, for the member the card was made for; none when there is
    nothing to page (a single page, or a card made for nobody in particular)."""
    if not card.viewer or not card.viewer.isdigit() or card.pages <= 1:
        return ()
    return (
        ButtonSpec(
            custom_id=page_custom_id(card.period, max(card.page - 1, 0), card.viewer),
            label=PREVIOUS_LABEL,
            disabled=card.page == 0,
        ),
        ButtonSpec(
            custom_id=page_custom_id(card.period, card.page + 1, card.viewer),
            label=NEXT_LABEL,
            disabled=card.page + 1 >= card.pages,
        ),
        ButtonSpec(
            custom_id=page_custom_id(card.period, None, card.viewer),
            label=MY_PAGE_LABEL,
            style=discord.ButtonStyle.primary,
            disabled=not card.caller_elsewhere,
        ),
    )


STATS_CHART_TEXT = "Chart of the stats above: accuracy per topic and answers per week."


def _stats_card(card: StatsCard) -> Card:
    title = Text(_clip(f"## Stats for {plain(card.name)}", TITLE_LIMIT))
    rank = f"rank {card.rank} of {card.ranked}" if card.rank else "unranked"
    answered = f"{card.answered}, {card.correct} right ({percent(card.correct, card.answered)})"
    facts = Text(
        f"**Points:** {card.points} ({rank})\n**Answered:** {answered}\n"
        f"**Streak:** {card.current_streak} now, {card.longest_streak} longest"
    )
    blocks: list[Text | Rule | Gallery] = [title, facts]
    mastered = [m for m in card.mastery if m.mastered]
    tail: tuple[Text | Gallery, ...] = ()
    if mastered:
        lines = "\n".join(f"{plain(m.title)}: {m.mastered}/{m.total}" for m in mastered)
        tail += (Text(_clip(f"**Mastered in practice**\n{lines}", FIELD_LIMIT)),)
    if card.chart is not None:
        tail += (Gallery(f"attachment://{IMAGE_NAME}", STATS_CHART_TEXT),)
    if card.topics:
        lines = "\n".join(
            f"{plain(t.label)}: {t.correct}/{t.answered} ({percent(t.correct, t.answered)})"
            for t in card.topics
        )
        text = _clip(f"**Accuracy per topic**\n{lines}", room(title, facts, *tail))
        blocks += [Rule(), Text(text)]
    return Card(NEUTRAL_ACCENT, (*blocks, *tail))


def _schedule_embed(card: ScheduleCard) -> discord.Embed:
    embed = discord.Embed(title="Daily question", colour=INFO_COLOUR)
    if card.time is None:
        embed.description = (
            "No daily question in this channel."
            " Admins: `/dlquiz schedule time:HH:MM zone:Area/City`"
        )
        return embed
    embed.description = f"Every day at {card.time} {card.zone}."
    if card.next_post_at is not None:
        embed.add_field(
            name="Next question",
            value=f"{timestamp(card.next_post_at, 'f')} ({timestamp(card.next_post_at, 'R')})",
            inline=False,
        )
    if card.last_error:
        when = f" {timestamp(card.last_error_at, 'R')}" if card.last_error_at else ""
        embed.add_field(
            name="Last posting failed",
            value=_clip(f"{plain(card.last_error)}{when}", FIELD_LIMIT),
            inline=False,
        )
        embed.colour = ERROR_COLOUR
    return embed


def _topics_embed(card: TopicsCard) -> discord.Embed:
    total = sum(t.count for t in card.topics)
    embed = discord.Embed(
        title=f"{counted(len(card.topics), 'topic')}, {counted(total, 'question')}",
        colour=QUESTION_COLOUR,
    )
    lines = []
    for topic in card.topics:
        mastered = card.mastered.get(topic.slug)
        extra = f", {mastered} mastered" if mastered is not None else ""
        lines.append(f"**{plain(topic.title)}** · {topic.count}{extra} · `{topic.slug}`")
    embed.description = _clip("\n".join(lines) or "The question bank is empty.", DESCRIPTION_LIMIT)
    return embed


PRACTICE_NOTE = "Only you see this; practice never counts on the leaderboard."


def _practice_card(card: PracticeCard) -> DiscordMessage:
    q = card.question
    where = card.topic.title if card.topic else "all topics"
    head = _question_head(
        _clip(f"Practice · {plain(where)}", TITLE_LIMIT), q, f"{card.due} due, {card.new} new"
    )
    buttons = tuple(
        ButtonSpec(custom_id=practice_custom_id(q.id, i), label=LETTERS[i])
        for i in range(len(q.choices))
    )
    tail: tuple[Block, ...] = (Rule(), *rows(buttons), Text(f"-# {PRACTICE_NOTE}"))
    body = Text(question_text(q, room(head, *tail)))
    return DiscordMessage(card=Card(accent_of(q.topic), (head, Rule(), body, *tail)))


def _practice_result(result: PracticeResult) -> DiscordMessage:
    """The marked practice press, with a button for the next question under the same filter."""
    q = result.question
    verdict = "Right" if result.correct else f"Not quite: you chose {result.choice_letter}"
    title = Text(
        _clip(
            f"## {verdict}. The answer is {q.answer_letter}) {plain(q.choices[q.answer])}",
            TITLE_LIMIT,
        )
    )
    next_button = ButtonSpec(
        custom_id=practice_next_custom_id(result.topic),
        label=NEXT_PRACTICE_LABEL,
        style=discord.ButtonStyle.primary,
    )
    comes_back = f"**Comes back** {timestamp(result.next_due_at, 'R')}"
    tail = (Rule(), Text(f"{comes_back} (box {result.box} of {TOP_BOX})"), Row((next_button,)))
    explanation = Text(_clip(plain(q.explanation), room(title, *tail)))
    return DiscordMessage(card=Card(accent_of(q.topic), (title, explanation, *tail)))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stats_reply(reply: Reply, *, user_label: str | None) -> DiscordMessage:
    """The stats reply; for a picked member without answers, name them rather than their id."""
    if user_label is not None and isinstance(reply, Notice):
        # The engine echoes what it looked up, which on Discord is a numeric user id.
        return notice_message(
            Notice(f"{plain(user_label)} has not answered a question in this server yet.")
        )
    return reply_message(reply)


def schedule_reply(reply: Reply, *, missing: list[str]) -> DiscordMessage:
    """The schedule reply, warning when the bot could not post in this channel when it is due."""
    message = reply_message(reply)
    if not missing or not isinstance(reply, ScheduleCard) or reply.time is None:
        return message
    warning = (
        f"Note: I cannot post the question in this channel yet. I need {', '.join(missing)} here"
        " (channel settings, Permissions)."
    )
    return DiscordMessage(content=warning, embeds=message.embeds, buttons=message.buttons)
