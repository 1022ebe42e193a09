"""Item analysis of the daily questions: how hard each one is, whether it tells members who know
from members who do not, how each choice was picked, and what looks wrong with it.

Pure functions over the closed rounds and their answers as columns (`bot.store.ItemColumns`),
read the same way for one server's admins and for the report across every server. Only daily
answers count: practice keeps no single presses, only Leitner boxes, and a practice press is a
repeat made after seeing the explanation, which would make every question look easier and blur
who knows what. Arrays (numpy) carry the work, with no Python object per answer, since the
report may see millions of answers.

Discrimination is the point-biserial correlation between being right on the question and the
member's share right on the *other* questions they answered (the "rest score"): it uses every
answer, not only the top and bottom 27%, and a share rather than a count, because members join
at different times and answer different numbers of questions. Members with no other answer have
no rest score and are left out of discrimination and of the groups. The top and bottom groups
(27% each of the members with a rest score, ties broken by who answered first) are still used
to show how each choice was picked by those who know and those who do not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot import snapshot
from bot.models import (
    LETTERS,
    Flag,
    FlagNote,
    InsightsCard,
    ItemCard,
    ItemStats,
    Notice,
    Reply,
    Tone,
)
from bot.store.api import ItemColumns, ItemRound, Store

MIN_ANSWERS = 20  # below this no flag is raised: a handful of answers proves nothing
GROUP_SHARE = 0.27
TOO_EASY = 0.90  # share right above which a question teaches nothing
TOO_HARD = 0.25  # share right below which members do no better than a guess among four
RARE_CHOICE = 0.05  # a wrong choice picked by fewer than this share does no work
# The share right each difficulty label is consistent with; outside it the label is contradicted.
LABEL_BANDS = {"easy": (0.50, 1.0), "medium": (0.30, 0.90), "hard": (0.0, 0.80)}
NOT_ENOUGH = "not enough answers yet"


# Most serious first: what an admin should look at before anything else.
SEVERITY = tuple(Flag)


def analyse(
    columns: ItemColumns, *, per_server: bool, min_answers: int = MIN_ANSWERS
) -> list[ItemStats]:
    """Every answered question's statistics, per (server, question) or per question."""
    return _analyse_arrays(
        columns.rounds,
        np.frombuffer(columns.round_ids, dtype=np.int64),
        np.frombuffer(columns.members, dtype=np.int64),
        np.frombuffer(columns.choices, dtype=np.int64),
        np.frombuffer(columns.correct, dtype=np.int8).astype(np.float64),
        per_server=per_server,
        min_answers=min_answers,
    )


def _analyse_arrays(
    rounds: Sequence[ItemRound],
    round_ids: npt.NDArray[np.int64],
    members: npt.NDArray[np.int64],
    choices: npt.NDArray[np.int64],
    rights: npt.NDArray[np.float64],
    *,
    per_server: bool,
    min_answers: int,
) -> list[ItemStats]:
    item_of: dict[int, int] = {}
    item_keys: dict[tuple[str | None, str], int] = {}
    latest: list[ItemRound] = []
    for row in sorted(rounds, key=lambda r: r.id):
        key = (row.server if per_server else None, row.question_id)
        index = item_keys.setdefault(key, len(item_keys))
        if index == len(latest):
            latest.append(row)
        else:
            latest[index] = row  # the latest round tells the question as it is asked now
        item_of[row.id] = index
    # Each answer's question, by its round; an answer to a round not read (-1) is left out.
    lookup = np.full(max(item_of, default=0) + 1, -1, dtype=np.int64)
    lookup[list(item_of)] = list(item_of.values())
    known = (round_ids >= 0) & (round_ids < len(lookup))
    items = np.full(len(round_ids), -1, dtype=np.int64)
    items[known] = lookup[round_ids[known]]
    kept = items >= 0
    if not kept.all():
        items, members, choices, rights = items[kept], members[kept], choices[kept], rights[kept]
    width = max([len(LETTERS), *(r.choice_count for r in latest)])
    tables = _tables(items, members, choices, rights, items=len(latest), width=width)
    result = []
    for index, ((server, question_id), row) in enumerate(zip(item_keys, latest, strict=True)):
        count = max(row.choice_count, 1)
        prompt, choices_text = _wording(row, count)
        stats = ItemStats(
            question_id=question_id,
            server=server,
            topic=row.topic,
            difficulty=row.difficulty,
            prompt=prompt,
            choices=choices_text,
            answer=row.answer,
            answers=int(tables.answers[index]),
            right=int(tables.right[index]),
            counts=_ints(tables.counts[index, :count]),
            top=_ints(tables.top[index, :count]),
            bottom=_ints(tables.bottom[index, :count]),
            discrimination=tables.discrimination[index],
            flags=(),
            min_answers=min_answers,
        )
        result.append(_flagged(stats))
    return [s for s in result if s.answers]


@dataclass(frozen=True, slots=True)
class _Tables:
    answers: npt.NDArray[np.int64]
    right: npt.NDArray[np.float64]
    counts: npt.NDArray[np.int64]
    top: npt.NDArray[np.int64]
    bottom: npt.NDArray[np.int64]
    discrimination: list[float | None]


def _tables(
    item: npt.NDArray[np.int64],
    member: npt.NDArray[np.int64],
    choice: npt.NDArray[np.int64],
    right: npt.NDArray[np.float64],
    *,
    items: int,
    width: int,
) -> _Tables:
    cells = items * width
    answers = np.bincount(item, minlength=items).astype(np.int64)
    rights = np.bincount(item, weights=right, minlength=items).astype(np.float64)
    counts = np.bincount(item * width + choice, minlength=cells).reshape(items, width)
    # The rest score: the member's share right on every other question they answered.
    done = np.bincount(member, minlength=1)
    good = np.bincount(member, weights=right, minlength=1)
    others = done[member] - 1
    has_rest = others > 0
    rest = np.zeros(len(item))
    rest[has_rest] = (good[member] - right)[has_rest] / others[has_rest]
    item_r, x, y = item[has_rest], right[has_rest], rest[has_rest]

    def total(weights: npt.NDArray[np.float64] | None) -> npt.NDArray[np.float64]:
        return np.bincount(item_r, weights=weights, minlength=items).astype(np.float64)

    n, sx, sy = total(None), total(x), total(y)
    sxx, syy, sxy = total(x * x), total(y * y), total(x * y)
    spread = (n * sxx - sx * sx) * (n * syy - sy * sy)
    discrimination: list[float | None] = []
    for i in range(items):
        # Undefined when everyone was right (or wrong), or every rest score is the same.
        ok = n[i] >= 2 and spread[i] > 1e-12
        value = (n[i] * sxy[i] - sx[i] * sy[i]) / math.sqrt(spread[i]) if ok else None
        discrimination.append(None if value is None else float(value))
    # Groups: sort each question's answers by rest score; ties by who answered first.
    order = np.lexsort((member[has_rest], y, item_r))
    sorted_item = item_r[order]
    sizes = n.astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    position = np.arange(len(order)) - starts[sorted_item]
    group = np.where(sizes >= 2, np.maximum(1, np.rint(sizes * GROUP_SHARE)), 0).astype(np.int64)
    in_bottom = position < group[sorted_item]
    in_top = position >= sizes[sorted_item] - group[sorted_item]
    cell = sorted_item * width + choice[has_rest][order]
    top = np.bincount(cell[in_top], minlength=cells).reshape(items, width)
    bottom = np.bincount(cell[in_bottom], minlength=cells).reshape(items, width)
    return _Tables(answers, rights, counts, top, bottom, discrimination)


def _ints(values: npt.NDArray[np.int64]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def _wording(row: ItemRound, count: int) -> tuple[str, tuple[str, ...]]:
    """The prompt and choices as the latest round asked them; bare letters when it kept none."""
    if row.question:
        try:
            question = snapshot.load(row.question)
            return question.prompt, question.choices
        except ValueError:
            pass  # an unreadable kept question still has its statistics
    return "", tuple(LETTERS[:count])


def _flagged(stats: ItemStats) -> ItemStats:
    if not stats.enough:
        return stats
    notes: list[FlagNote] = []
    key = stats.answer
    r = stats.discrimination
    rivals = [c for c in range(len(stats.counts)) if c != key and stats.top[c] > stats.top[key]]
    if rivals:
        c = max(rivals, key=lambda c: stats.top[c])
        notes.append(
            FlagNote(
                Flag.MISKEYED,
                f"the top group chose {LETTERS[c]} ({stats.top[c]}) more than the key"
                f" {LETTERS[key]} ({stats.top[key]})",
            )
        )
    elif r is not None and r < 0:
        notes.append(
            FlagNote(Flag.MISKEYED, f"negative discrimination ({r:+.2f}): weaker members do better")
        )
    p = stats.share_right
    if p > TOO_EASY:
        notes.append(FlagNote(Flag.TOO_EASY, f"{p:.0%} right (above {TOO_EASY:.0%})"))
    if p < TOO_HARD:
        notes.append(FlagNote(Flag.TOO_HARD, f"{p:.0%} right (below {TOO_HARD:.0%})"))
    unused = [c for c in range(len(stats.counts)) if c != key and stats.share(c) < RARE_CHOICE]
    if unused:
        shown = ", ".join(f"{LETTERS[c]} ({stats.share(c):.0%})" for c in unused)
        notes.append(FlagNote(Flag.UNUSED_CHOICE, f"picked by under {RARE_CHOICE:.0%}: {shown}"))
    low, high = LABEL_BANDS.get(stats.difficulty, (0.0, 1.0))
    if not low <= p <= high:
        notes.append(
            FlagNote(
                Flag.LABEL,
                f"labelled {stats.difficulty} but {p:.0%} right (expected {low:.0%} to {high:.0%})",
            )
        )
    return dataclasses.replace(stats, flags=tuple(notes))


def needs_attention(stats: Iterable[ItemStats]) -> list[ItemStats]:
    """Flagged questions, the most serious flag first, then the most answered."""
    flagged = [s for s in stats if s.flags]
    return sorted(flagged, key=lambda s: (min(SEVERITY.index(f.flag) for f in s.flags), -s.answers))


def ranked(stats: Iterable[ItemStats]) -> list[ItemStats]:
    """Questions with enough answers and a discrimination, the best discriminating first."""
    known = [s for s in stats if s.enough and s.discrimination is not None]
    return sorted(known, key=lambda s: (-(s.discrimination or 0.0), s.question_id))


# --- what an admin sees ----------------------------------------------------------------------

SHOWN = 5  # questions per list in the overview: it must fit one chat message


async def insights_reply(store: Store, server: str, question_id: str | None) -> Reply:
    """`/dlquiz insights [question id]` for one server."""
    columns = await store.item_columns(server)
    # Thousands of answers at most per server: quick, but arrays and sorting stay off the loop.
    stats = await asyncio.to_thread(analyse, columns, per_server=True)
    if question_id is not None:
        wanted = question_id.strip().casefold()
        for item in stats:
            if item.question_id.casefold() == wanted:
                return ItemCard(item)
        shown = question_id if len(question_id) <= 40 else question_id[:39] + "…"
        return Notice(
            f"No daily question '{shown}' has been answered in this server: use"
            " `/dlquiz insights` for the list, then `/dlquiz insights [question id]`.",
            Tone.ERROR,
        )
    if not stats:
        return Notice("No daily question of this server has been answered and revealed yet.")
    order = ranked(stats)
    return InsightsCard(
        attention=tuple(needs_attention(stats)[:SHOWN]),
        best=tuple(order[:3]),
        worst=tuple(reversed(order[3:][-3:])),
        questions=len(stats),
        answers=sum(s.answers for s in stats),
        min_answers=MIN_ANSWERS,
    )


def discrimination_text(item: ItemStats) -> str:
    return "-" if item.discrimination is None else f"{item.discrimination:+.2f}"


def item_summary(item: ItemStats) -> str:
    """`q-001: 40 answers, 55% right, discrimination +0.31`"""
    return (
        f"{item.question_id}: {item.answers} answers, {item.share_right:.0%} right,"
        f" discrimination {discrimination_text(item)}"
    )


def flag_lines(item: ItemStats) -> list[str]:
    if not item.enough:
        return [f"{NOT_ENOUGH} ({item.answers} of {item.min_answers})"]
    return [f"{note.flag.value}: {note.reason}" for note in item.flags] or ["no flags"]


def choice_rows(item: ItemStats) -> list[tuple[str, str, str, str, str]]:
    """(letter, choice, all, top group, bottom group) per choice; the key's letter ticked."""
    top, bottom = sum(item.top), sum(item.bottom)

    def share(count: int, whole: int) -> str:
        return f"{count / whole:.0%}" if whole else "-"

    return [
        (
            LETTERS[c] + ("✓" if c == item.answer else ""),
            text,
            share(item.counts[c], item.answers),
            share(item.top[c], top),
            share(item.bottom[c], bottom),
        )
        for c, text in enumerate(item.choices)
    ]


def overview_lines(card: InsightsCard) -> list[str]:
    lines = [
        f"{card.questions} answered questions, {card.answers} daily answers"
        f" (flags need {card.min_answers} answers)."
    ]
    lines.append("Needs attention:" if card.attention else "Nothing needs attention.")
    for item in card.attention:
        lines.append(f"• {item_summary(item)}")
        lines.extend(f"    {line}" for line in flag_lines(item))
    if card.best:
        lines.append("Best discriminating:")
        lines.extend(f"• {item_summary(item)}" for item in card.best)
    if card.worst:
        lines.append("Worst discriminating:")
        lines.extend(f"• {item_summary(item)}" for item in card.worst)
    lines.append("`/dlquiz insights [question id]` shows one question in full.")
    return lines


def choice_table(item: ItemStats) -> list[str]:
    """The choices as aligned text columns: the share of all answers, of the top group and of
    the bottom group."""
    rows = choice_rows(item)
    width = min(max((len(r[1]) for r in rows), default=0), 40)
    table = [f"{'':3} {'choice':<{width}}  {'all':>4} {'top':>4} {'low':>4}"]
    for letter, text, every, top, bottom in rows:
        shown = text if len(text) <= width else text[: width - 1] + "…"
        table.append(f"{letter:<3} {shown:<{width}}  {every:>4} {top:>4} {bottom:>4}")
    return table


def item_headline(item: ItemStats) -> str:
    return (
        f"{item.answers} answers, {item.share_right:.0%} right,"
        f" discrimination {discrimination_text(item)}"
    )


def item_lines(item: ItemStats) -> list[str]:
    return [
        f"{item.question_id} ({item.topic}, labelled {item.difficulty})",
        *([item.prompt] if item.prompt else []),
        item_headline(item),
        *choice_table(item),
        *flag_lines(item),
    ]


def card_text(card: InsightsCard | ItemCard) -> str:
    """The reply as plain text (the terminal)."""
    if isinstance(card, ItemCard):
        return "\n".join(item_lines(card.item))
    return "Question insights\n" + "\n".join(overview_lines(card))
