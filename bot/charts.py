"""Charts drawn headless with matplotlib (the Agg backend), as PNG bytes.

The colours are mid-tones that keep their contrast on a white and on a near-black background,
and the figure itself is transparent, so a chart reads the same in a light and a dark theme.
Drawing takes tens of milliseconds: callers on the event loop run it in a worker thread.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bot.insights import ItemStats
from bot.models import LETTERS

BLUE = "#3b82f6"
ORANGE = "#f59e0b"
RED = "#ef4444"
GREEN = "#22c55e"
INK = "#8b93a1"  # axes and text: grey enough for both backgrounds
DPI = 100


def _figure(width: float, height: float) -> Figure:
    figure = plt.figure(figsize=(width, height), dpi=DPI)
    figure.patch.set_alpha(0.0)
    return figure


def _style(axes: matplotlib.axes.Axes, title: str) -> None:
    axes.set_title(title, color=INK, fontsize=11, loc="left")
    axes.set_facecolor("none")
    axes.tick_params(colors=INK, labelsize=9)
    for spine in axes.spines.values():
        spine.set_color(INK)
    axes.xaxis.label.set_color(INK)
    axes.yaxis.label.set_color(INK)


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", transparent=True, bbox_inches="tight")
    plt.close(figure)
    return out.getvalue()


def difficulty_scatter(stats: Sequence[ItemStats]) -> bytes:
    """Share right against discrimination, one dot per question; flagged ones in red."""
    figure = _figure(7, 4.5)
    axes = figure.add_subplot()
    _style(axes, "Questions: share right and discrimination")
    known = [s for s in stats if s.discrimination is not None]
    for flagged, colour in ((False, BLUE), (True, RED)):
        group = [s for s in known if bool(s.flags) is flagged]
        axes.scatter(
            [s.share_right for s in group],
            [s.discrimination or 0.0 for s in group],
            s=18,
            color=colour,
            label="flagged" if flagged else "no flag",
        )
    axes.axhline(0, color=INK, linewidth=0.8)
    axes.set_xlim(0, 1)
    axes.set_xlabel("share right (difficulty index)")
    axes.set_ylabel("discrimination (point-biserial)")
    legend = axes.legend(frameon=False, fontsize=9)
    for text in legend.get_texts():
        text.set_color(INK)
    return _png(figure)


def choice_bars(item: ItemStats) -> bytes:
    """How each choice was picked by everyone, the top group and the bottom group."""
    figure = _figure(6, 2.6)
    axes = figure.add_subplot()
    _style(axes, f"{item.question_id}: choices (key {item.answer_letter})")
    letters = [LETTERS[c] for c in range(len(item.counts))]
    groups = (
        (item.counts, "all", BLUE),
        (item.top, "top 27%", GREEN),
        (item.bottom, "bottom 27%", ORANGE),
    )
    width = 0.27
    for offset, (counts, label, colour) in enumerate(groups):
        whole = sum(counts) or 1
        axes.bar(
            [i + (offset - 1) * width for i in range(len(letters))],
            [c / whole for c in counts],
            width=width,
            color=colour,
            label=label,
        )
    axes.set_xticks(range(len(letters)), letters)
    axes.set_ylim(0, 1)
    axes.set_ylabel("share")
    legend = axes.legend(frameon=False, fontsize=8, ncols=3)
    for text in legend.get_texts():
        text.set_color(INK)
    return _png(figure)


def answers_over_time(days: Sequence[tuple[date, int]]) -> bytes:
    figure = _figure(7, 2.6)
    axes = figure.add_subplot()
    _style(axes, "Daily answers per day")
    if not days:
        return _png(figure)
    first = days[0][0]
    axes.bar([(d - first).days for d, _ in days], [n for _, n in days], color=BLUE)
    span = (days[-1][0] - first).days
    step = max(1, span // 8)
    ticks = list(range(0, span + 1, step))
    axes.set_xticks(ticks, [(first + timedelta(days=t)).isoformat() for t in ticks])
    axes.set_ylabel("answers")
    figure.autofmt_xdate()
    return _png(figure)
