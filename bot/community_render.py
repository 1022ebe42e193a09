"""The community replies (suggestion form, review card, question list, channel settings) as
text. Each platform passes the escaping it uses for display names, so whatever a member typed
shows as typed words: no ping, no markup that breaks the layout."""

from __future__ import annotations

from collections.abc import Callable

from bot.models import (
    ReviewCard,
    ServerQuestionList,
    SettingsCard,
    SuggestForm,
)
from bot.question_text import choice_lines, code_lines

Escape = Callable[[str], str]

FIELD_LABELS = {
    "prompt": "Question",
    "choices": "Choices, one per line; start the right one with *",
    "explanation": "Explanation (why the right choice is right)",
    "topic": "Topic and difficulty, e.g. optimisation medium",
    "code": "Code (optional, Python)",
}
REVIEW_HINT = (
    "`/dlquiz review approve {id}` · `/dlquiz review edit {id}` ·"
    " `/dlquiz review reject {id} [REASON]`"
)
APPROVED_HINT = "`/dlquiz review edit {id}` · `/dlquiz review remove {id}`"


def review_text(card: ReviewCard, escape: Escape) -> str:
    q = card.question
    head = (
        f"Suggestion #{card.id} by {escape(card.author_name)} ({card.pending} waiting for review)"
        if card.status == "pending"
        else f"Question #{card.id} of this server, by {escape(card.author_name)}"
    )
    lines = [
        head,
        f"{escape(q.topic_label)} · {q.difficulty.value}",
        escape(q.prompt),
        *code_lines(q.code),
        *[escape(line) for line in choice_lines(q.choices)],
        f"Right: {q.answer_letter}. {escape(q.explanation)}",
        (REVIEW_HINT if card.status == "pending" else APPROVED_HINT).format(id=card.id),
    ]
    return "\n".join(lines)


def list_text(reply: ServerQuestionList, escape: Escape) -> str:
    if not reply.items:
        return "This server has no questions of its own yet: `/dlquiz suggest` adds one."
    lines = ["This server's questions (`/dlquiz review show ID` opens one):"]
    for item in reply.items:
        prompt = item.prompt if len(item.prompt) <= 70 else item.prompt[:69] + "…"
        lines.append(
            f"#{item.id} [{item.status}] {escape(item.topic)} · {item.difficulty}:"
            f" {escape(prompt)} (by {escape(item.author_name)})"
        )
    return "\n".join(lines)


def settings_text(card: SettingsCard, escape: Escape) -> str:
    return "\n".join(
        [
            "This channel's daily question:",
            f"source: {card.source}",
            f"topics: {escape(','.join(card.topics)) if card.topics else 'all'}",
            f"difficulty: {card.difficulty or 'any'}",
            f"thread: {'on' if card.thread else 'off'}",
            f"ping: {escape(card.ping) if card.ping else 'off'}",
            f"questions to draw from: {card.pool}",
        ]
    )


def form_text(form: SuggestForm, escape: Escape) -> str:
    """The form as a message, where it cannot be shown as a form: what was wrong, field by
    field, and the fields as they were typed, so nothing typed is lost."""
    lines = ["Your suggestion needs changes:" if form.problems else "Suggest a question:"]
    lines += [f"- {FIELD_LABELS[field]}: {escape(reason)}" for field, reason in form.problems]
    draft = form.draft
    for field, label in FIELD_LABELS.items():
        value = getattr(draft, field)
        if value:
            lines.append(f"{label}:\n{escape(value)}")
    return "\n".join(lines)


def community_text(
    reply: ReviewCard | ServerQuestionList | SettingsCard | SuggestForm, escape: Escape
) -> str:
    match reply:
        case ReviewCard():
            return review_text(reply, escape)
        case ServerQuestionList():
            return list_text(reply, escape)
        case SettingsCard():
            return settings_text(reply, escape)
        case SuggestForm():
            return form_text(reply, escape)
