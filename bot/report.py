"""`dlquiz report`: item analysis of every server's daily questions for operators, as one
self-contained HTML page (charts embedded as PNG data URIs) and as CSV.

It names no member and no server: servers are only counted, and each question is analysed over
every server's answers together, so an operator sees how the bank performs, not who answered.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot import charts
from bot.insights import (
    GROUP_SHARE,
    MIN_ANSWERS,
    analyse,
    discrimination_text,
    flag_lines,
    needs_attention,
)
from bot.models import LETTERS, ItemStats
from bot.render import counted
from bot.store import ItemColumns

CHARTED = 12  # choice charts for the most serious flagged questions; the table lists the rest


@dataclass(frozen=True, slots=True)
class Report:
    stats: list[ItemStats]
    servers: int
    answers: int
    days: list[tuple[date, int]]


def build(columns: ItemColumns) -> Report:
    return Report(
        stats=analyse(columns, per_server=False),
        servers=len({r.server for r in columns.rounds}),
        answers=len(columns),
        days=columns.days,
    )


CSV_COLUMNS = (
    "question_id",
    "topic",
    "difficulty",
    "answers",
    "right",
    "share_right",
    "discrimination",
    "key",
    *(f"share_{letter}" for letter in LETTERS),
    "flags",
)


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in report.stats:
        shares = [
            f"{item.share(c):.4f}" if c < len(item.counts) else "" for c in range(len(LETTERS))
        ]
        writer.writerow(
            [
                item.question_id,
                item.topic,
                item.difficulty,
                item.answers,
                item.right,
                f"{item.share_right:.4f}",
                "" if item.discrimination is None else f"{item.discrimination:.4f}",
                item.answer_letter,
                *shares,
                "; ".join(flag_lines(item)),
            ]
        )
    return out.getvalue()


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def to_html(report: Report) -> str:
    flagged = needs_attention(report.stats)
    e = html.escape
    rows = "\n".join(
        "<tr>"
        f"<td><code>{e(s.question_id)}</code></td><td>{e(s.topic)}</td>"
        f"<td>{e(s.difficulty)}</td><td>{s.answers}</td><td>{s.share_right:.0%}</td>"
        f"<td>{discrimination_text(s)}</td><td>{e(s.answer_letter)}</td>"
        f"<td>{'<br>'.join(e(line) for line in flag_lines(s))}</td>"
        "</tr>"
        for s in sorted(report.stats, key=lambda s: (not s.flags, s.question_id))
    )
    choice_charts = "\n".join(
        _image(charts.choice_bars(item), f"choices of {item.question_id}")
        for item in flagged[:CHARTED]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<title>dlquiz item analysis</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
th, td {{ border-bottom: 1px solid #8b93a155; padding: .3rem .5rem; text-align: left;
  vertical-align: top; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>dlquiz item analysis</h1>
<p>{counted(len(report.stats), "answered question")}, {counted(report.answers, "daily answer")},
{counted(report.servers, "server")}. Share right is the difficulty index; discrimination is the
point-biserial correlation of being right with the member's share right on their other questions.
The top and bottom groups are {GROUP_SHARE:.0%} each. Below {MIN_ANSWERS} answers a question gets
no flag. Practice answers are not counted.</p>
<h2>Difficulty and discrimination</h2>
{_image(charts.difficulty_scatter(report.stats), "share right against discrimination")}
<h2>Flagged questions: {len(flagged)}</h2>
{choice_charts or "<p>No question is flagged.</p>"}
<h2>Answers over time</h2>
{_image(charts.answers_over_time(report.days), "daily answers per day")}
<h2>Every question</h2>
<table><thead><tr><th>question</th><th>topic</th><th>label</th><th>answers</th><th>right</th>
<th>discrimination</th><th>key</th><th>flags</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def write(report: Report, *, html_path: Path | None, csv_path: Path | None) -> list[Path]:
    """Write the page and/or the CSV; OSError when a path cannot be written."""
    written = []
    if html_path is not None:
        html_path.write_text(to_html(report), encoding="utf-8")
        written.append(html_path)
    if csv_path is not None:
        csv_path.write_text(to_csv(report), encoding="utf-8")
        written.append(csv_path)
    return written
