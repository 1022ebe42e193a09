"""Plain-text rendering of what the engine posts and replies: the terminal uses it as it is, and
the chat adapters reuse its pieces (percentages, tallies, labels) inside their own layouts."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from bot import insights
from bot.community_render import community_text
from bot.models import (
    LETTERS,
    InsightsCard,
    ItemCard,
    LeaderboardCard,
    Notice,
    Period,
    PracticeCard,
    PracticeResult,
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
    TopicsCard,
)
from bot.question_text import choice_lines, code_lines

PERIOD_TITLES = {Period.WEEK: "this week", Period.MONTH: "this month", Period.ALL: "all time"}


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (East Asian, most emoji) characters take two;
    combining marks, joiners, variation selectors and skin tones (which change the emoji
    before them) none."""
    width = 0
    for ch in text:
        if unicodedata.category(ch) in ("Mn", "Me", "Cf") or "\U0001f3fb" <= ch <= "\U0001f3ff":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 topic`, `2 topics`: a number with its noun in the right number."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def utc_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def reveal_when(post: QuestionPost) -> str:
    if post.reveal_at is None:
        return "Revealed when an admin runs /dlquiz reveal or posts the next question."
    return f"Revealed at {utc_time(post.reveal_at)}, just before the next question."


def question_text(post: QuestionPost) -> str:
    q = post.question
    lines = [
        f"Question #{post.round_id} · {q.topic_label} · {q.difficulty.value}",
        q.prompt,
        *code_lines(q.code),
        *choice_lines(q.choices),
        reveal_when(post),
    ]
    return "\n".join(lines)


def tally_lines(reveal: RevealPost) -> list[str]:
    q = reveal.question
    width = max(len(str(n)) for n in reveal.tally)
    lines = []
    for i, count in enumerate(reveal.tally):
        mark = "✓" if i == q.answer else " "
        bar = "█" * round(20 * count / reveal.answered) if reveal.answered else ""
        lines.append(f" {mark} {LETTERS[i]}  {count:>{width}}  {bar}")
    return lines


def reveal_summary(reveal: RevealPost) -> str:
    if not reveal.answered:
        return "Nobody answered this one."
    return (
        f"{reveal.correct} of {reveal.answered} got it right"
        f" ({percent(reveal.correct, reveal.answered)})."
    )


def reveal_text(reveal: RevealPost) -> str:
    q = reveal.question
    lines = [
        f"Answer to question #{reveal.round_id}: {q.answer_letter}) {q.choices[q.answer]}",
        q.explanation,
        *tally_lines(reveal),
        reveal_summary(reveal),
    ]
    return "\n".join(lines)


PREVIOUS_LABEL = "Previous"
NEXT_LABEL = "Next"
MY_PAGE_LABEL = "My page"


def page_line(card: LeaderboardCard) -> str:
    """`Page 2 of 3 · 27 ranked members`: where the page is, and how many hold points."""
    return f"Page {card.page + 1} of {card.pages} · {counted(card.ranked, 'ranked member')}"


def leaderboard_text(card: LeaderboardCard) -> str:
    title = f"Leaderboard, {PERIOD_TITLES[card.period]}"
    if not card.rows:
        return f"{title}: nobody has points yet."
    name_width = max(display_width(row.name) for row in card.rows)
    lines = [f"{title} ({page_line(card)})"]
    for row in card.rows:
        lines.append(
            f"{row.rank:>3}. {pad(row.name, name_width)}  {row.points:>6} pts  {row.correct} right"
        )
    if card.caller is None:
        lines.append("You have no points in this period yet.")
    else:
        lines.append(f"You: rank {card.caller.rank} of {card.ranked}, {card.caller.points} pts")
    return "\n".join(lines)


def stats_text(card: StatsCard) -> str:
    rank = f"rank {card.rank} of {card.ranked}" if card.rank else "unranked"
    lines = [
        f"Stats for {card.name}",
        f"  points    {card.points}  ({rank})",
        f"  answered  {card.answered}, {card.correct} right"
        f" ({percent(card.correct, card.answered)})",
        f"  streak    {card.current_streak} now, {card.longest_streak} longest",
    ]
    if card.topics:
        width = max(len(t.label) for t in card.topics)
        lines.append("  per topic:")
        lines.extend(
            f"    {t.label:<{width}}  {t.correct}/{t.answered}  {percent(t.correct, t.answered)}"
            for t in card.topics
        )
    mastered = mastery_lines(card)
    if mastered:
        lines.append("  mastered:")
        lines.extend(mastered)
    return "\n".join(lines)


def practice_text(card: PracticeCard) -> str:
    q = card.question
    where = card.topic.title if card.topic else f"all topics · {q.topic_label}"
    lines = [
        f"Practice · {where} · {q.difficulty.value}  ({card.due} due, {card.new} new)",
        q.prompt,
        *code_lines(q.code),
        *choice_lines(q.choices),
    ]
    return "\n".join(lines)


def practice_result_text(result: PracticeResult) -> str:
    q = result.question
    verdict = "Right" if result.correct else f"Not quite: you chose {result.choice_letter}"
    return "\n".join(
        [
            f"{verdict}. The answer is {q.answer_letter}) {q.choices[q.answer]}",
            q.explanation,
            f"It comes back {practice_due_text(result)}.",
        ]
    )


def practice_due_text(result: PracticeResult) -> str:
    return f"at {utc_time(result.next_due_at)} (box {result.box} of 5)"


def mastery_lines(card: StatsCard) -> list[str]:
    width = max((len(m.title) for m in card.mastery), default=0)
    return [f"    {m.title:<{width}}  {m.mastered}/{m.total}" for m in card.mastery if m.mastered]


def schedule_text(card: ScheduleCard) -> str:
    if card.time is None:
        return "No daily question in this channel. Admins: /dlquiz schedule HH:MM [Area/City]"
    lines = [f"Daily question at {card.time} {card.zone}."]
    if card.next_post_at is not None:
        lines.append(f"Next one: {utc_time(card.next_post_at)}.")
    if card.last_error:
        when = f" at {utc_time(card.last_error_at)}" if card.last_error_at else ""
        lines.append(f"Last posting failed{when}: {card.last_error}")
    return "\n".join(lines)


def topics_text(card: TopicsCard) -> str:
    width = max((len(t.title) for t in card.topics), default=0)
    total = sum(t.count for t in card.topics)
    lines = [f"{counted(len(card.topics), 'topic')}, {counted(total, 'question')}"]
    for topic in card.topics:
        mastered = card.mastered.get(topic.slug)
        extra = f"  ({mastered} mastered)" if mastered is not None else ""
        lines.append(f"  {topic.title:<{width}}  {topic.count:>3}  [{topic.slug}]{extra}")
    return "\n".join(lines)


def card_question_text(card: QuestionCard) -> str:
    text = question_text(card.post)
    if card.answered_choice is not None:
        text += f"\nYou answered {LETTERS[card.answered_choice]}."
    return text


def reply_text(reply: Reply) -> str:
    """Any reply as plain text."""
    match reply:
        case Notice(text=text):
            return text
        case QuestionCard():
            return card_question_text(reply)
        case LeaderboardCard():
            return leaderboard_text(reply)
        case StatsCard():
            return stats_text(reply)
        case ScheduleCard():
            return schedule_text(reply)
        case TopicsCard():
            return topics_text(reply)
        case PracticeCard():
            return practice_text(reply)
        case PracticeResult():
            return practice_result_text(reply)
        case InsightsCard() | ItemCard():
            return insights.card_text(reply)
        case ReviewCard() | ServerQuestionList() | SettingsCard() | SuggestForm():
            return community_text(reply, lambda text: text)
    raise AssertionError(f"unhandled reply {reply!r}")  # pragma: no cover
