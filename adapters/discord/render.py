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

QUESTION_COLOUR = discord.Colour.blurple()
REVEAL_COLOUR = discord.Colour.green()
INFO_COLOUR = discord.Colour.dark_grey()
ERROR_COLOUR = discord.Colour.red()

NEXT_PRACTICE_LABEL = "Next question"
CODE_LANGUAGES = frozenset({"python", "text"})


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    custom_id: str
    label: str
    style: discord.ButtonStyle = discord.ButtonStyle.secondary
    disabled: bool = False


@dataclass(frozen=True, eq=False)
class DiscordMessage:
    """One message as Discord takes it; mentions are never allowed when it is sent."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()
    buttons: tuple[ButtonSpec, ...] = ()
    image: bytes | None = None  # a PNG attached as IMAGE_NAME, shown inside the first embed
    # The one role this message may ping (a channel's daily question with `ping` set).
    ping_role: int | None = None

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


def question_text(question: Question) -> str:
    """The prompt, its code block if any, and the lettered choices, within an embed description."""
    prompt = plain(question.prompt)
    choices = "\n".join(
        f"**{LETTERS[i]})** {plain(text)}" for i, text in enumerate(question.choices)
    )
    if question.code is None:
        return _clip(f"{prompt}\n\n{choices}", DESCRIPTION_LIMIT)
    room = DESCRIPTION_LIMIT - len(prompt) - len(choices) - 4  # the blank lines around the block
    block = code_block(question.code, room)
    return _clip(f"{prompt}\n\n{block}\n\n{choices}", DESCRIPTION_LIMIT)


def code_block(snippet: CodeSnippet, limit: int) -> str:
    """A fenced code block of at most `limit` characters that always closes: the text inside is
    cut, never the fence, and no backtick run in it can end the block early. Markdown and
    mentions do nothing inside a code block, so the text is otherwise shown as it is."""
    language = snippet.language if snippet.language in CODE_LANGUAGES else ""
    opening, closing = f"```{language}\n", "\n```"
    body = fenced_code(snippet)
    room = max(limit - len(opening) - len(closing), 1)
    return f"{opening}{_clip(body, room)}{closing}"


def question_embed(post: QuestionPost) -> discord.Embed:
    q = post.question
    embed = discord.Embed(
        title=_clip(f"Question #{post.round_id}", TITLE_LIMIT),
        description=question_text(q),
        colour=QUESTION_COLOUR,
    )
    embed.add_field(name="Topic", value=plain(q.topic_label), inline=True)
    embed.add_field(name="Difficulty", value=q.difficulty.value, inline=True)
    if post.reveal_at is None:
        reveal = "when an admin runs `/dlquiz reveal` or posts the next question"
    else:
        reveal = f"{timestamp(post.reveal_at, 'f')} ({timestamp(post.reveal_at, 'R')})"
    embed.add_field(name="Answer revealed", value=reveal, inline=False)
    embed.set_footer(text="Press a button to answer. Only you see your answer; the first is final.")
    return embed


def question_message(post: QuestionPost) -> DiscordMessage:
    """The daily question as posted in the channel: embed plus one button per choice, and the
    channel's ping role mentioned above it (a mention inside an embed pings nobody)."""
    role = int(post.ping) if post.ping and post.ping.isdigit() else None
    return DiscordMessage(
        content=f"<@&{role}>" if role is not None else None,
        embeds=(question_embed(post),),
        buttons=answer_buttons(post),
        ping_role=role,
    )


def reveal_message(reveal: RevealPost) -> DiscordMessage:
    q = reveal.question
    embed = discord.Embed(
        title=_clip(
            f"Answer to question #{reveal.round_id}: {q.answer_letter})"
            f" {plain(q.choices[q.answer])}",
            TITLE_LIMIT,
        ),
        description=_clip(plain(q.explanation), DESCRIPTION_LIMIT),
        colour=REVEAL_COLOUR,
    )
    # A code block keeps the bars aligned; the tally holds no user text, so nothing to escape.
    tally = "\n".join(tally_lines(reveal))
    embed.add_field(name="Answers", value=_clip(f"```\n{tally}\n```", FIELD_LIMIT), inline=False)
    embed.add_field(name="Result", value=reveal_summary(reveal), inline=False)
    return DiscordMessage(embeds=(embed,))


def reply_message(reply: Reply) -> DiscordMessage:
    """Any reply of the engine to one member, as the ephemeral message that shows it."""
    match reply:
        case Notice():
            return notice_message(reply)
        case QuestionCard():
            return _question_card(reply)
        case LeaderboardCard():
            return DiscordMessage(embeds=(_leaderboard_embed(reply),), buttons=page_buttons(reply))
        case StatsCard():
            embed = _stats_embed(reply)
            if reply.chart is not None:
                embed.set_image(url=f"attachment://{IMAGE_NAME}")
            return DiscordMessage(embeds=(embed,), image=reply.chart)
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
    embed = question_embed(card.post)
    if card.answered_choice is not None:
        embed.set_footer(text=f"You answered {LETTERS[card.answered_choice]}; the first is final.")
        return DiscordMessage(embeds=(embed,))
    return DiscordMessage(embeds=(embed,), buttons=answer_buttons(card.post))


def _leaderboard_embed(card: LeaderboardCard) -> discord.Embed:
    embed = discord.Embed(
        title=f"Leaderboard, {PERIOD_TITLES[card.period]}", colour=QUESTION_COLOUR
    )
    if not card.rows:
        embed.description = "Nobody has points yet."
    else:
        embed.description = _clip(
            "\n".join(
                f"**{row.rank}.** {plain(row.name)} · {row.points} pts · {row.correct} right"
                for row in card.rows
            ),
            DESCRIPTION_LIMIT,
        )
    if card.caller is None:
        you = "You have no points in this period yet."
    else:
        you = f"Rank {card.caller.rank} of {card.ranked}, {card.caller.points} pts"
    embed.add_field(name="You", value=you, inline=False)
    if card.rows:
        embed.set_footer(text=page_line(card))
    return embed


def page_buttons(card: LeaderboardCard) -> tuple[ButtonSpec, ...]:
    """Previous, Next and My page, for the member the card was made for; none when there is
    nothing to page (a single page, or a card made for nobody in particular)."""
    if not card.viewer or not card.viewer.isdigit() or card.pages <= 1:
        return ()
    mine = card.caller_page
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
            disabled=mine is None or mine == card.page,
        ),
    )


def _stats_embed(card: StatsCard) -> discord.Embed:
    embed = discord.Embed(title=_clip(f"Stats for {plain(card.name)}", TITLE_LIMIT))
    embed.colour = QUESTION_COLOUR
    rank = f"rank {card.rank} of {card.ranked}" if card.rank else "unranked"
    embed.add_field(name="Points", value=f"{card.points} ({rank})", inline=True)
    embed.add_field(
        name="Answered",
        value=f"{card.answered}, {card.correct} right ({percent(card.correct, card.answered)})",
        inline=True,
    )
    embed.add_field(
        name="Streak",
        value=f"{card.current_streak} now, {card.longest_streak} longest",
        inline=True,
    )
    if card.topics:
        lines = (
            f"{plain(t.label)}: {t.correct}/{t.answered} ({percent(t.correct, t.answered)})"
            for t in card.topics
        )
        embed.description = _clip("**Accuracy per topic**\n" + "\n".join(lines), DESCRIPTION_LIMIT)
    mastered = [m for m in card.mastery if m.mastered]
    if mastered:
        embed.add_field(
            name="Mastered in practice",
            value=_clip(
                "\n".join(f"{plain(m.title)}: {m.mastered}/{m.total}" for m in mastered),
                FIELD_LIMIT,
            ),
            inline=False,
        )
    return embed


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


def _practice_card(card: PracticeCard) -> DiscordMessage:
    q = card.question
    where = card.topic.title if card.topic else "all topics"
    embed = discord.Embed(
        title=_clip(f"Practice · {plain(where)}", TITLE_LIMIT),
        description=question_text(q),
        colour=INFO_COLOUR,
    )
    embed.add_field(name="Topic", value=plain(q.topic_label), inline=True)
    embed.add_field(name="Difficulty", value=q.difficulty.value, inline=True)
    embed.add_field(name="Queue", value=f"{card.due} due, {card.new} new", inline=True)
    embed.set_footer(text="Only you see this; practice never counts on the leaderboard.")
    buttons = tuple(
        ButtonSpec(custom_id=practice_custom_id(q.id, i), label=LETTERS[i])
        for i in range(len(q.choices))
    )
    return DiscordMessage(embeds=(embed,), buttons=buttons)


def _practice_result(result: PracticeResult) -> DiscordMessage:
    """The marked practice press, with a button for the next question under the same filter."""
    q = result.question
    verdict = "Right" if result.correct else f"Not quite: you chose {result.choice_letter}"
    embed = discord.Embed(
        title=_clip(
            f"{verdict}. The answer is {q.answer_letter}) {plain(q.choices[q.answer])}",
            TITLE_LIMIT,
        ),
        description=_clip(plain(q.explanation), DESCRIPTION_LIMIT),
        colour=REVEAL_COLOUR if result.correct else ERROR_COLOUR,
    )
    embed.add_field(
        name="Comes back",
        value=f"{timestamp(result.next_due_at, 'R')} (box {result.box} of {TOP_BOX})",
        inline=False,
    )
    next_button = ButtonSpec(
        custom_id=practice_next_custom_id(result.topic),
        label=NEXT_PRACTICE_LABEL,
        style=discord.ButtonStyle.primary,
    )
    return DiscordMessage(embeds=(embed,), buttons=(next_button,))


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
