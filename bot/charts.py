"""Charts drawn headless with matplotlib (the Agg backend), as PNG bytes.

The colours are mid-tones that keep their contrast on a white and on a near-black background,
and the figure itself is transparent, so a chart reads the same in a light and a dark theme.
Drawing takes tens of milliseconds: callers on the event loop run it in a worker thread.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

import matplotlib.pyplot as plt
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from bot.models import LETTERS, ItemStats, StatsCard

BLUE = "#3b82f6"
ORANGE = "#f59e0b"
RED = "#ef4444"
GREEN = "#22c55e"
INK = "#8b93a1"  # axes and text: grey enough for both backgrounds
INK_FAINT = "#8b93a159"  # tracks behind bars and grid lines: the same grey, mostly see-through
DPI = 100
# Spaced-repetition boxes 1 to 5, from "missed lately" (warm) to "known for weeks" (green).
BOX_COLOURS = ("#ef4444", "#f59e0b", "#a3a635", "#22c55e", "#0d9488")


def _figure(width: float, height: float) -> Figure:
    figure = plt.figure(figsize=(width, height), dpi=DPI)
    figure.patch.set_alpha(0.0)
    return figure


def _style(axes: matplotlib.axes.Axes, title: str) -> None:
    # A fixed height: placing a title automatically measures every tick label, which costs a
    # chart a third of its drawing time.
    axes.set_title(title, color=INK, fontsize=11, loc="left", y=1.02)
    axes.set_facecolor("none")
    axes.tick_params(colors=INK, labelsize=9)
    for spine in axes.spines.values():
        spine.set_color(INK)
    axes.spines[["top", "right"]].set_visible(False)
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


def member_stats(card: StatsCard) -> bytes:
    """A member's stats as one picture: accuracy per topic, practice boxes per topic, and the
    daily answers of the last weeks.

    Drawn on one bare canvas measured in inches (no axes, ticks or automatic layout): matplotlib
    spends most of a chart's time creating and measuring ticks, and a member waits for this
    one, so it must take well under the 200 ms a reply can spare.
    """
    rows = max(min(len(card.topics), SHOWN_TOPICS), min(len(card.boxes), SHOWN_TOPICS), 2) + 1
    height = 1.2 + ROW * rows + 0.45 + WEEKS_HEIGHT
    canvas = _Canvas(WIDTH, height)
    canvas.text(0.2, height - 0.35, f"Stats for {_short(card.name, 40)}", size=12)
    top = height - 0.8
    _accuracy_panel(canvas, card, top)
    _boxes_panel(canvas, card, top)
    _weeks_panel(canvas, card, WEEKS_HEIGHT)
    return canvas.png()


WIDTH = 8.0  # inches, 800 pixels: wide enough for two panels side by side in a chat
ROW = 0.3  # inches per topic: more topics make a taller picture, not cramped bars
# Topics per panel, the busiest first: every label costs drawing time, and a picture in a chat
# shows a handful of rows well; the text card beside it lists every topic.
SHOWN_TOPICS = 8
BAR = 0.18
WEEKS_HEIGHT = 2.3


class _Canvas:
    """A transparent figure whose one invisible axes is measured in inches from the bottom
    left: every bar is a rectangle in one collection, every label one text."""

    def __init__(self, width: float, height: float) -> None:
        self.figure = _figure(width, height)
        self.axes = self.figure.add_axes((0, 0, 1, 1))
        self.axes.set_axis_off()
        self.axes.set_xlim(0, width)
        self.axes.set_ylim(0, height)
        self.boxes: list[tuple[float, float, float, float]] = []
        self.colours: list[str] = []

    def text(self, x: float, y: float, text: str, *, size: float = 8, **style: Any) -> None:
        self.axes.text(x, y, text, color=INK, fontsize=size, va="center", **style)

    def box(self, x: float, y: float, width: float, height: float, colour: str) -> None:
        if width > 0 and height > 0:
            self.boxes.append((x, y, width, height))
            self.colours.append(colour)

    def line(self, x0: float, x1: float, y: float) -> None:
        self.box(x0, y, x1 - x0, 0.01, INK_FAINT)

    def png(self) -> bytes:
        polygons = [[(x, y), (x + w, y), (x + w, y + h), (x, y + h)] for x, y, w, h in self.boxes]
        self.axes.add_collection(
            PolyCollection(polygons, facecolors=self.colours, edgecolors="none")
        )
        out = io.BytesIO()
        # Fast compression: the picture is mostly flat colour, level 1 is barely larger.
        self.figure.savefig(out, format="png", transparent=True, pil_kwargs={"compress_level": 1})
        plt.close(self.figure)
        return out.getvalue()


def _accuracy_panel(canvas: _Canvas, card: StatsCard, top: float) -> None:
    label_x, x0, span = 1.75, 1.85, 1.7
    canvas.text(0.2, top, "Daily answers right, per topic", size=10)
    if not card.topics:
        canvas.text(x0, top - 0.45, "no revealed answer yet")
        return
    shown = sorted(card.topics, key=lambda t: -t.answered)[:SHOWN_TOPICS]
    y = top - 0.45
    for topic in shown:
        share = topic.correct / topic.answered if topic.answered else 0.0
        canvas.text(label_x, y, _short(topic.label, 24), ha="right")
        canvas.box(x0, y - BAR / 2, span, BAR, INK_FAINT)
        canvas.box(x0, y - BAR / 2, span * share, BAR, BLUE)
        canvas.text(x0 + span + 0.06, y, f"{topic.correct}/{topic.answered}")
        y -= ROW
    for share in (0.0, 0.5, 1.0):
        canvas.text(x0 + span * share, y + 0.05, f"{share:.0%}", size=7, ha="center")
    _more(canvas, 0.2, y - 0.22, len(card.topics) - len(shown))


def _boxes_panel(canvas: _Canvas, card: StatsCard, top: float) -> None:
    label_x, x0, span = 5.45, 5.55, 2.2
    canvas.text(4.1, top, "Practice: questions per box", size=10)
    if not card.boxes:
        canvas.text(4.1, top - 0.45, "no practice yet: /dlquiz practice")
        return
    shown = sorted(card.boxes, key=lambda t: -sum(t.counts))[:SHOWN_TOPICS]
    widest = max(sum(t.counts) for t in shown)
    y = top - 0.45
    for topic in shown:
        canvas.text(label_x, y, _short(topic.title, 20), ha="right")
        x = x0
        for count, colour in zip(topic.counts, BOX_COLOURS, strict=False):
            width = span * count / widest
            canvas.box(x, y - BAR / 2, width, BAR, colour)
            x += width
        canvas.text(x + 0.06, y, str(sum(topic.counts)))
        y -= ROW
    for box, colour in enumerate(BOX_COLOURS):
        x = 4.1 + box * 0.62
        canvas.box(x, y - 0.04, 0.1, 0.1, colour)
        canvas.text(x + 0.14, y + 0.01, f"box {box + 1}", size=7)
    _more(canvas, 4.1, y - 0.22, len(card.boxes) - len(shown))


def _more(canvas: _Canvas, x: float, y: float, hidden: int) -> None:
    if hidden > 0:
        canvas.text(x, y, f"and {hidden} more: the text lists every topic", size=7)


def _weeks_panel(canvas: _Canvas, card: StatsCard, top: float) -> None:
    x0, x1, y0, y1 = 0.7, 7.8, 0.45, top - 0.6
    canvas.text(0.2, top - 0.25, "Daily answers per week", size=10)
    weeks = card.weeks
    if not weeks:
        canvas.text(x0, (y0 + y1) / 2, "no revealed answer in these weeks")
        return
    for x, colour, label in ((5.6, INK_FAINT, "answered"), (6.7, BLUE, "right")):
        canvas.box(x, top - 0.3, 0.1, 0.1, colour)
        canvas.text(x + 0.14, top - 0.25, label, size=7)
    most = max(7, *(w.answered for w in weeks))
    step = max(1, math.ceil(most / 3))
    scale = (y1 - y0) / (step * 3)
    for value in range(0, step * 3 + 1, step):
        y = y0 + value * scale
        canvas.line(x0, x1, y)
        canvas.text(x0 - 0.08, y, str(value), size=7, ha="right")
    slot = (x1 - x0) / len(weeks)
    for index, week in enumerate(weeks):
        x = x0 + slot * (index + 0.15)
        canvas.box(x, y0, slot * 0.7, week.answered * scale, INK_FAINT)
        canvas.box(x, y0, slot * 0.7, week.correct * scale, BLUE)
        canvas.text(x + slot * 0.35, y0 - 0.18, f"{week.monday:%d %b}", size=7, ha="center")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
