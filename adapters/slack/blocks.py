"""Block Kit rendering of what the engine posts and replies: pure functions, no network.

Every piece of text that comes from a member or from the question bank goes through
`escape` and is clipped to Slack's limits, and every mrkdwn object is `verbatim`, so Slack
parses only the `<...>` tokens written here (dates), never mentions hidden in content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.slack.convert import (
    PAGE_ACTION_PREFIX,
    PRACTICE_BLOCK,
    PRACTICE_NEXT_ACTION,
    answer_action_id,
    answer_block_id,
    answer_value,
    clip,
    escape,
    next_practice_value,
    page_value,
    practice_action_id,
    practice_value,
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
    Standing,
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
    utc_time,
)

Block = dict[str, Any]

# Slack's Block Kit limits (docs: "Block Kit reference"); the tests check every render.
MAX_BLOCKS = 50
MAX_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_TEXT = 2000
MAX_FALLBACK_TEXT = 3000  # the notification text; Slack would accept more, nobody reads it
MEDALS = (":first_place_medal:", ":second_place_medal:", ":third_place_medal:")


@dataclass(frozen=True, slots=True)
class Message:
    """A Slack message: the blocks, and the plain text shown in notifications."""

    text: str
    blocks: list[Block]


# --- building blocks ---------------------------------------------------------------------------


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """A mrkdwn text object; `verbatim` so Slack links nothing the text does not spell out."""
    return {"type": "mrkdwn", "text": clip(text, limit), "verbatim": True}


def section(text: str) -> Block:
    """A section of mrkdwn text, clipped to Slack's limit."""
    return {"type": "section", "text": mrkdwn(text)}


def sections(lines: list[str], *, budget: int = 40) -> list[Block]:
    """Lines spread over as few sections as fit Slack's 3000 characters, at most `budget`."""
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if chunks[-1] and size + len(line) + 1 > MAX_SECTION_TEXT:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return [section("\n".join(chunk)) for chunk in chunks[:budget] if chunk]


def context(text: str) -> Block:
    """A context block: the small grey line under a message."""
    return {"type": "context", "elements": [mrkdwn(text, MAX_CONTEXT_TEXT)]}


def slack_date(moment: datetime) -> str:
    """A date every reader sees in their own time zone; the fallback is UTC."""
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{utc_time(moment)}>"


def _fallback(text: str) -> str:
    return clip(text, MAX_FALLBACK_TEXT)


# --- the daily question and its reveal ---------------------------------------------------------


def code_section(snippet: CodeSnippet) -> Block:
    """The snippet as a preformatted block that always closes within Slack's 3000 characters:
    escaped like any bank text, cut inside the fence if it must be, and with every backtick run
    split so nothing in it can end the block early."""
    opening, closing = "```\n", "\n```"
    body = clip(escape(fenced_code(snippet)), MAX_SECTION_TEXT - len(opening) - len(closing))
    return section(f"{opening}{body}{closing}")


def _prompt_and_choices(q: Question) -> list[Block]:
    choices = "\n".join(f"*{LETTERS[i]})* {escape(text)}" for i, text in enumerate(q.choices))
    code = [code_section(q.code)] if q.code is not None else []
    return [section(escape(q.prompt)), *code, section(choices)]


def _question_body(item: QuestionPost | RevealPost) -> list[Block]:
    q = item.question
    return [
        context(f"*Question #{item.round_id}* · {escape(q.topic_label)} · {q.difficulty.value}"),
        *_prompt_and_choices(q),
    ]


def button(label: str, *, action_id: str, value: str, description: str) -> dict[str, Any]:
    """A plain button; `description` is what screen readers say."""
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(label, MAX_BUTTON_TEXT), "emoji": False},
        "action_id": action_id,
        "value": value,
        "accessibility_label": clip(description, MAX_BUTTON_TEXT),
    }


def answer_buttons(post: QuestionPost) -> Block:
    """One button per choice; the value carries the round so any copy of it can be answered."""
    buttons = [
        button(
            LETTERS[i],
            action_id=answer_action_id(i),
            value=answer_value(post.round_id, i, post.token),
            description=f"Answer {LETTERS[i]}: {text}",
        )
        for i, text in enumerate(post.question.choices)
    ]
    return {"type": "actions", "block_id": answer_block_id(post.round_id), "elements": buttons}


def reveal_note(post: QuestionPost) -> str:
    """When the question closes, in the reader's own time zone."""
    if post.reveal_at is None:
        return "The answer comes when an admin runs `/dlquiz reveal` or posts the next question."
    return f"The answer comes {slack_date(post.reveal_at)}, just before the next question."


def question_message(post: QuestionPost) -> Message:
    """The daily question as posted in the channel, with its answer buttons."""
    blocks = [
        *_question_body(post),
        answer_buttons(post),
        context(f"Only you see your answer. {reveal_note(post)}"),
    ]
    text = f"Question #{post.round_id}: {escape(post.question.prompt)}"
    group = ping_mention(post.ping)
    if group is not None:
        # In the text (what the notification shows) and above the question; everything else in
        # the message is escaped, so this is the only mention it makes.
        text = f"{group} {text}"
        blocks.insert(0, section(f"{group} today's question is here."))
    return Message(text=_fallback(text), blocks=blocks)


USER_GROUP_ID = re.compile(r"S[A-Z0-9]{2,30}")


def ping_mention(ping: str | None) -> str | None:
    """The mention of a channel's ping user group, or None (no ping, or not a group id)."""
    if ping is None or not USER_GROUP_ID.fullmatch(ping):
        return None
    return f"<!subteam^{ping}>"


def closed_question_message(reveal: RevealPost) -> Message:
    """The question message once revealed: the same text, no buttons, and where the answer is."""
    q = reveal.question
    where = f"Closed. The answer is *{q.answer_letter}*: see the reveal in the thread."
    if reveal.withdrawn:
        where = "Closed without a reveal: Slack confirmed this question too late to count it."
    blocks = [*_question_body(reveal), context(where)]
    text = f"Question #{reveal.round_id} (closed): {escape(q.prompt)}"
    return Message(text=_fallback(text), blocks=blocks)


def reveal_message(reveal: RevealPost) -> Message:
    """Right answer, explanation, how many chose each option and how many got it right."""
    q = reveal.question
    right = f"{q.answer_letter}) {escape(q.choices[q.answer])}"
    tally = "\n".join(tally_lines(reveal))
    blocks = [
        section(f":white_check_mark: *Answer to question #{reveal.round_id}:* {right}"),
        section(escape(q.explanation)),
        section(f"```\n{tally}\n```"),
        context(reveal_summary(reveal)),
    ]
    text = f"Answer to question #{reveal.round_id}: {right}"
    return Message(text=_fallback(text), blocks=blocks)


# --- replies to one member ---------------------------------------------------------------------


def notice_message(notice: Notice) -> Message:
    """A short notice; errors get a warning sign."""
    text = escape(notice.text)
    if notice.tone is Tone.ERROR:
        text = f":warning: {text}"
    return Message(text=_fallback(text), blocks=[section(text)])


def question_card_message(card: QuestionCard) -> Message:
    """The open question for one member: buttons only if they have not answered."""
    post = card.post
    blocks = _question_body(post)
    if card.answered_choice is None:
        blocks += [answer_buttons(post), context(f"Only you see your answer. {reveal_note(post)}")]
    else:
        letter = LETTERS[card.answered_choice]
        blocks.append(context(f"You answered *{letter}*. {reveal_note(post)}"))
    return Message(text=_fallback(f"Question #{post.round_id}"), blocks=blocks)


def standing_line(row: Standing) -> str:
    """One row of a leaderboard: the medal or rank, the name, the points."""
    rank = MEDALS[row.rank - 1] if 1 <= row.rank <= len(MEDALS) else f"*{row.rank}.*"
    name = clip(escape(row.name), 120)
    return f"{rank} {name} · *{row.points}* pts · {row.correct} right"


def leaderboard_message(card: LeaderboardCard) -> Message:
    """The top 10 of the period, medals for the podium, and the caller's own rank."""
    title = f"Leaderboard, {PERIOD_TITLES[card.period]}"
    if not card.rows:
        text = f"*{title}*: nobody has points yet."
        return Message(text=_fallback(text), blocks=[section(text)])
    if card.caller is None:
        own = "You have no points in this period yet."
    else:
        own = f"You: rank {card.caller.rank} of {card.ranked}, {card.caller.points} pts."
    blocks = [
        section(f"*{title}*"),
        section("\n".join(standing_line(row) for row in card.rows)),
        context(f"{own} {page_line(card)}."),
    ]
    paging = page_buttons(card)
    if paging:
        blocks.append({"type": "actions", "block_id": PAGE_BLOCK, "elements": paging})
    return Message(text=_fallback(title), blocks=blocks)


PAGE_BLOCK = "dlq_pages"


def page_buttons(card: LeaderboardCard) -> list[Block]:
    """Previous, Next and My page, each only where it leads somewhere: Slack buttons cannot be
    shown disabled."""
    if not card.viewer:
        return []
    wanted: list[tuple[str, str, int | None]] = []
    if card.page > 0:
        wanted.append(("prev", PREVIOUS_LABEL, card.page - 1))
    if card.page + 1 < card.pages:
        wanted.append(("next", NEXT_LABEL, card.page + 1))
    if card.caller_elsewhere:
        wanted.append(("me", MY_PAGE_LABEL, None))
    return [
        button(
            label,
            action_id=f"{PAGE_ACTION_PREFIX}{kind}",
            value=page_value(card.period, page, card.viewer),
            description=f"{label} of the leaderboard",
        )
        for kind, label, page in wanted
    ]


def stats_message(card: StatsCard) -> Message:
    """One member's points, rank, accuracy, streaks, and per-topic numbers."""
    name = clip(escape(card.name), 120)
    rank = f"{card.rank} of {card.ranked}" if card.rank else "unranked"
    fields = [
        ("Points", str(card.points)),
        ("Rank", rank),
        ("Answered", f"{card.answered}, {card.correct} right"),
        ("Accuracy", percent(card.correct, card.answered)),
        ("Streak", f"{card.current_streak} now"),
        ("Longest streak", str(card.longest_streak)),
    ]
    blocks = [
        section(f"*Stats for {name}*"),
        {
            "type": "section",
            "fields": [mrkdwn(f"*{label}*\n{value}", MAX_FIELD_TEXT) for label, value in fields],
        },
    ]
    if card.topics:
        lines = [
            f"{escape(t.label)}: {t.correct}/{t.answered} ({percent(t.correct, t.answered)})"
            for t in card.topics
        ]
        blocks += sections(["*Per topic*", *lines])
    mastered = [f"{escape(m.title)}: {m.mastered}/{m.total}" for m in card.mastery if m.mastered]
    if mastered:
        blocks += sections(["*Mastered in practice*", *mastered])
    if card.chart is not None:
        blocks.append(context(CHART_NOTE))
    return Message(text=_fallback(f"Stats for {name}"), blocks=blocks)


# A file shared in a channel is visible to everyone there; the chart goes to the member's DM.
CHART_NOTE = "A chart of these stats is on its way to your direct messages with dlquiz."


def schedule_message(card: ScheduleCard) -> Message:
    """The channel's daily time, the next post and the last posting error."""
    if card.time is None:
        text = (
            "No daily question in this channel."
            " Admins: `/dlquiz schedule HH:MM [Area/City]` to start one."
        )
        return Message(text=text, blocks=[section(text)])
    lines = [f"Daily question at *{escape(card.time)}* {escape(card.zone or 'UTC')}."]
    if card.next_post_at is not None:
        lines.append(f"Next one: {slack_date(card.next_post_at)}.")
    if card.last_error:
        when = f" {slack_date(card.last_error_at)}" if card.last_error_at else ""
        lines.append(f":warning: Last posting failed{when}: {escape(card.last_error)}")
    text = "\n".join(lines)
    return Message(text=_fallback(lines[0]), blocks=[section(text)])


def topics_message(card: TopicsCard) -> Message:
    """The bank's topics with their question counts and the member's mastery."""
    total = sum(t.count for t in card.topics)
    title = f"*{counted(len(card.topics), 'topic')}, {counted(total, 'question')}*"
    lines = []
    for topic in card.topics:
        mastered = card.mastered.get(topic.slug)
        extra = f", {mastered} mastered" if mastered is not None else ""
        lines.append(f"• {escape(topic.title)}: {topic.count}{extra} (`{escape(topic.slug)}`)")
    blocks = [section(title), *sections(lines)]
    return Message(text=_fallback(title), blocks=blocks)


def practice_card_message(card: PracticeCard) -> Message:
    """A practice question only the member sees, with practice buttons."""
    q = card.question
    where = escape(card.topic.title) if card.topic else "all topics"
    buttons = [
        button(
            LETTERS[i],
            action_id=practice_action_id(i),
            value=practice_value(q.id, i),
            description=f"Practice answer {LETTERS[i]}: {text}",
        )
        for i, text in enumerate(q.choices)
    ]
    blocks = [
        context(
            f"*Practice* · {where} · {escape(q.topic_label)} · {q.difficulty.value}"
            f" · {card.due} due, {card.new} new"
        ),
        *_prompt_and_choices(q),
        {"type": "actions", "block_id": PRACTICE_BLOCK, "elements": buttons},
        context("Marked at once; practice never touches the leaderboard."),
    ]
    return Message(text=_fallback(f"Practice: {escape(q.prompt)}"), blocks=blocks)


def practice_result_message(result: PracticeResult) -> Message:
    """The practice question marked: verdict, right answer, explanation, when it comes back."""
    q = result.question
    if result.correct:
        verdict = ":white_check_mark: *Right.*"
    else:
        verdict = f":x: *Not quite:* you chose {result.choice_letter}."
    right = f"The answer is *{q.answer_letter})* {escape(q.choices[q.answer])}"
    again = button(
        "Next practice question",
        action_id=PRACTICE_NEXT_ACTION,
        value=next_practice_value(result.topic),
        description="Another practice question",
    )
    blocks = [
        section(f"{verdict} {right}"),
        section(escape(q.explanation)),
        context(f"It comes back {slack_date(result.next_due_at)} (box {result.box} of {TOP_BOX})."),
        {"type": "actions", "block_id": PRACTICE_BLOCK, "elements": [again]},
    ]
    text = f"{'Right' if result.correct else 'Not quite'}: the answer is {q.answer_letter}"
    return Message(text=_fallback(text), blocks=blocks)


def insights_message(card: InsightsCard) -> Message:
    """How the server's questions performed, for an admin."""
    lines = [escape(line) for line in insights.overview_lines(card)]
    return Message(
        text=_fallback("Question insights"), blocks=sections(["*Question insights*", *lines])
    )


def item_message(card: ItemCard) -> Message:
    item = card.item
    table = "\n".join(insights.choice_table(item)).replace("`", "'")
    blocks = [
        section(
            f"*Insights: {escape(item.question_id)}* ({escape(item.topic)},"
            f" labelled {escape(item.difficulty)})"
        ),
        *([section(escape(item.prompt))] if item.prompt else []),
        section(escape(insights.item_headline(item))),
        section(clip(f"```{escape(table)}```", MAX_SECTION_TEXT)),
        *sections([escape(line) for line in insights.flag_lines(item)]),
    ]
    return Message(text=_fallback(f"Insights: {item.question_id}"), blocks=blocks)


def reply_message(reply: Reply) -> Message:
    """Any reply of the engine, rendered for one member."""
    match reply:
        case Notice():
            return notice_message(reply)
        case QuestionCard():
            return question_card_message(reply)
        case LeaderboardCard():
            return leaderboard_message(reply)
        case StatsCard():
            return stats_message(reply)
        case ScheduleCard():
            return schedule_message(reply)
        case TopicsCard():
            return topics_message(reply)
        case PracticeCard():
            return practice_card_message(reply)
        case PracticeResult():
            return practice_result_message(reply)
        case InsightsCard():
            return insights_message(reply)
        case ItemCard():
            return item_message(reply)
        case ReviewCard() | ServerQuestionList() | SettingsCard() | SuggestForm():
            text = community_text(reply, escape)
            return Message(text=_fallback(text), blocks=sections(text.split("\n")))
    raise AssertionError(f"unhandled reply {reply!r}")  # pragma: no cover
