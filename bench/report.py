"""The table on stdout and the JSON document, from the results of every scenario on each backend."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench import fanout
from bench.charts import LIMIT_MS, ChartResult
from bench.fanout import FanoutResult
from bench.ingest import IngestResult
from bench.leaderboard import CopyResult, LeaderboardResult
from bench.startup import BankLoad


@dataclass(frozen=True, slots=True)
class BackendResults:
    ingest: IngestResult
    leaderboard: LeaderboardResult
    fanout: FanoutResult


@dataclass(frozen=True, slots=True)
class Results:
    quick: bool
    sqlite: BackendResults
    bank: BankLoad
    elapsed_s: float
    postgres: BackendResults | None = None
    copy: CopyResult | None = None
    postgres_note: str = ""
    postgres_version: str = ""
    chart: ChartResult | None = None


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    value: float
    limit: float
    at_least: bool  # True: value >= limit; False: value <= limit
    shown: str = ""  # how the limit reads in the table

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit


def _common(b: BackendResults) -> list[Target]:
    i, fan = b.ingest, b.fanout
    return [
        Target("open_loop_p99_ms", i.p99_ms, 20, at_least=False, shown="<= 20 ms"),
        Target("fanout_seconds", fan.seconds, 10, at_least=False, shown="<= 10 s"),
        Target(
            "fanout_all_posted",
            fan.posted / fan.channels,
            1,
            at_least=True,
            shown=f"= {fan.channels:,}",
        ),
    ]


def sqlite_targets(r: Results) -> list[Target]:
    i, lb = r.sqlite.ingest, r.sqlite.leaderboard
    return [
        Target("engine_vs_naive", i.engine_per_s / i.naive_per_s, 10, True, ">= 10x"),
        Target("engine_vs_raw", i.engine_vs_raw, 0.15, True, ">= 15%"),
        Target("leaderboard_p99_ms", lb.p99_ms, 10, False, "<= 10 ms"),
        Target("rss_mb", lb.rss_mb, 150, False, "<= 150 MB"),
        Target("bank_load_ms", r.bank.median_ms, 300, False, "<= 300 ms"),
        *_common(r.sqlite),
        *(
            [Target("chart_p95_ms", r.chart.p95_ms, LIMIT_MS, False, f"<= {LIMIT_MS:.0f} ms")]
            if r.chart
            else []
        ),
    ]


def postgres_targets(r: Results) -> list[Target]:
    if r.postgres is None:
        return []
    i, lb = r.postgres.ingest, r.postgres.leaderboard
    found = [
        Target("engine_vs_naive", i.engine_per_s / i.naive_per_s, 20, True, ">= 20x"),
        Target("engine_vs_raw", i.engine_vs_raw, 0.40, True, ">= 40%"),
        Target("leaderboard_p99_ms", lb.p99_ms, 5, False, "<= 5 ms"),
        Target("reveal_ms", i.reveal_ms, 2500, False, "<= 2.5 s"),
        *_common(r.postgres),
    ]
    if r.copy is not None:
        found.append(Target("copy_totals_equal", float(r.copy.totals_equal), 1, True, "equal"))
    return found


def targets(r: Results) -> list[Target]:
    return sqlite_targets(r) + postgres_targets(r)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.machine()}",
    }


def _backend_document(b: BackendResults) -> dict[str, Any]:
    lb = b.leaderboard
    return {
        "ingest": asdict(b.ingest),
        "leaderboard": {
            "users": lb.users,
            "answers": lb.answers,
            "p50_ms": lb.p50_ms,
            "p99_ms": lb.p99_ms,
            "naive_ms": lb.naive_ms,
            "first_ms": lb.first_ms,
            "periods": lb.periods,
            "own_page_ms": lb.own_page_ms,
            "build_seconds": lb.build_seconds,
            "cached": lb.cached,
        },
        "fanout": asdict(b.fanout),
        "rss_mb": lb.rss_mb,
    }


def _targets_document(found: list[Target]) -> dict[str, Any]:
    return {t.name: {"value": t.value, "limit": t.limit, "met": t.met} for t in found}


def document(r: Results) -> dict[str, Any]:
    """The JSON document: SQLite's figures at the top (as before PostgreSQL was measured),
    PostgreSQL's under `postgres`."""
    doc: dict[str, Any] = {
        **_backend_document(r.sqlite),
        "bank_load_ms": r.bank.median_ms,
        "bank": asdict(r.bank),
        **({"chart": asdict(r.chart)} if r.chart else {}),
        "targets": _targets_document(sqlite_targets(r)),
    }
    if r.postgres is not None:
        doc["postgres"] = {
            **_backend_document(r.postgres),
            "version": r.postgres_version,
            "copy": asdict(r.copy) if r.copy else None,
            "targets": _targets_document(postgres_targets(r)),
        }
    else:
        doc["postgres"] = {"skipped": r.postgres_note}
    doc.update(mode="quick" if r.quick else "full", machine=machine(), elapsed_s=r.elapsed_s)
    return doc


def _n(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"


def _ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


Measure = Callable[[BackendResults], str]


def table(r: Results) -> str:
    s, p = r.sqlite, r.postgres
    marks = {
        "SQLite": {t.name: t for t in sqlite_targets(r)},
        "PostgreSQL": {t.name: t for t in postgres_targets(r)},
    }

    def cells(backend: str, b: BackendResults | None, value: Measure, name: str) -> list[str]:
        if b is None:
            return ["-", "", ""]
        target = marks[backend].get(name)
        if target is None:
            return [value(b), "", ""]
        met = "-" if r.quick else ("met" if target.met else "MISSED")
        return [value(b), target.shown, met]

    lines: list[list[str]] = []

    def row(scenario: str, measure: str, value: Measure, name: str = "") -> None:
        lines.append(
            [
                scenario,
                measure,
                *cells("SQLite", s, value, name),
                *cells("PostgreSQL", p, value, name),
            ]
        )

    def plain(scenario: str, measure: str, sqlite_text: str, pg_text: str) -> None:
        lines.append([scenario, measure, sqlite_text, "", "", pg_text, "", ""])

    i = s.ingest
    row(
        "Ingestion",
        f"closed loop: {_n(i.answers)} members at once ({len(i.engine_trials)} runs)",
        lambda b: f"{_n(b.ingest.engine_per_s)}/s",
    )
    row("", "naive: a commit per answer", lambda b: f"{_n(b.ingest.naive_per_s)}/s")
    row(
        "",
        "raw: naive's rows, executemany, one transaction",
        lambda b: f"{_n(b.ingest.raw_per_s)}/s",
    )
    row(
        "",
        "raw: the engine's rows, executemany, one transaction",
        lambda b: f"{_n(b.ingest.raw_engine_rows_per_s)}/s",
    )
    if p and p.ingest.raw_engine_copy_per_s:
        plain("", "raw: the engine's rows, COPY", "-", f"{_n(p.ingest.raw_engine_copy_per_s)}/s")
    row(
        "",
        "engine / naive",
        lambda b: f"{b.ingest.engine_per_s / b.ingest.naive_per_s:.1f}x",
        "engine_vs_naive",
    )
    row(
        "",
        "engine / raw executemany, runs paired (SQLite: naive's rows; PostgreSQL: engine's rows)",
        lambda b: f"{b.ingest.engine_vs_raw:.0%}",
        "engine_vs_raw",
    )
    row(
        "",
        "engine / raw of the engine's rows",
        lambda b: f"{b.ingest.engine_per_s / b.ingest.raw_engine_rows_per_s:.0%}",
    )
    if p and p.ingest.raw_engine_copy_per_s:
        copy_ratio = p.ingest.engine_per_s / p.ingest.raw_engine_copy_per_s
        plain("", "engine / COPY of the engine's rows", "-", f"{copy_ratio:.0%}")
    row(
        "",
        f"reveal: score the {_n(i.answers)} answers, post",
        lambda b: _ms(b.ingest.reveal_ms),
        "reveal_ms",
    )
    row(
        "",
        f"open loop {_n(i.open_loop_rate)}/s: achieved",
        lambda b: f"{_n(b.ingest.open_loop_rate)}/s",
    )
    row(
        "",
        "open loop: p50 / max",
        lambda b: f"{_ms(b.ingest.p50_ms)} / {_ms(b.ingest.max_ms)}",
    )
    row("", "open loop: p99 submission to ack", lambda b: _ms(b.ingest.p99_ms), "open_loop_p99_ms")
    lb = s.leaderboard
    plain(
        "Leaderboard",
        f"{_n(lb.users)} members, {_n(lb.answers)} answers",
        "cached" if lb.cached else f"built in {lb.build_seconds:.0f} s",
        "by dlquiz db copy" if p else "-",
    )
    for period in lb.periods:
        row(
            "",
            f"{period}: p50 / p99 (top 10 + rank)",
            lambda b, k=period: (
                f"{_ms(b.leaderboard.periods[k]['p50_ms'])} / "
                f"{_ms(b.leaderboard.periods[k]['p99_ms'])}"
            ),
        )
    row(
        "",
        "p99 over every period and caller",
        lambda b: _ms(b.leaderboard.p99_ms),
        "leaderboard_p99_ms",
    )
    plain(
        "",
        "naive, summing answers: " + " / ".join(lb.periods),
        " / ".join(f"{v['naive_ms']:,.0f}" for v in lb.periods.values()) + " ms",
        "-",
    )
    row(
        "",
        "the caller's own page (My page): p50 / p99",
        lambda b: f"{_ms(b.leaderboard.own_page_ms[0])} / {_ms(b.leaderboard.own_page_ms[1])}",
    )
    row("", "peak RSS, leaderboard process", lambda b: f"{b.leaderboard.rss_mb:.0f} MB", "rss_mb")
    fan = s.fanout
    row(
        "Fan-out",
        f"{_n(fan.channels)} channels due at once ({fan.concurrency} at a time)",
        lambda b: f"{b.fanout.seconds:.1f} s",
        "fanout_seconds",
    )
    row("", "channels posted", lambda b: _n(b.fanout.posted), "fanout_all_posted")
    row(
        "",
        f"next day: each round answered ({fanout.ANSWERS_PER_ROUND} members), closed, scored,"
        " revealed; new question",
        lambda b: f"{b.fanout.next_day_seconds:.1f} s",
    )
    row(
        "",
        "next day: channels revealed / posted",
        lambda b: f"{_n(b.fanout.next_day_revealed)} / {_n(b.fanout.next_day_posted)}",
    )
    if r.copy is not None:
        c = r.copy
        plain("db copy", f"leaderboard database: {_n(c.rows)} rows", "", "")
        plain("", "SQLite -> PostgreSQL", "", f"{_n(c.to_postgres_per_s)} rows/s")
        plain("", "PostgreSQL -> new SQLite file", "", f"{_n(c.back_per_s)} rows/s")
        copy_mark = marks["PostgreSQL"]["copy_totals_equal"]
        lines.append(
            [
                "",
                "row counts and score totals, there and back",
                "",
                "",
                "",
                "equal" if c.totals_equal else "DIFFERENT",
                copy_mark.shown,
                "-" if r.quick else ("met" if copy_mark.met else "MISSED"),
            ]
        )
    bank = r.bank
    lines.append(
        [
            "Start-up",
            f"load + validate the bank ({bank.questions} questions)",
            _ms(bank.median_ms),
            marks["SQLite"]["bank_load_ms"].shown,
            "-" if r.quick else ("met" if marks["SQLite"]["bank_load_ms"].met else "MISSED"),
            "",
            "",
            "",
        ]
    )
    if r.chart:
        c, mark = r.chart, marks["SQLite"]["chart_p95_ms"]
        lines.append(
            [
                "Stats chart",
                f"{c.renders} renders, {c.topics} topics: median (CPU median)",
                f"{_ms(c.median_ms)} ({_ms(c.cpu_median_ms)})",
                "",
                "",
                "",
                "",
                "",
            ]
        )
        lines.append(
            [
                "",
                "p95 of the renders (drawn in a worker thread)",
                _ms(c.p95_ms),
                mark.shown,
                "-" if r.quick else ("met" if mark.met else "MISSED"),
                "",
                "",
                "",
            ]
        )
    header = ["Scenario", "Measure", "SQLite", "Target", "", "PostgreSQL", "Target", ""]
    widths = [max(len(line[c]) for line in [header, *lines]) for c in range(len(header))]
    out = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    out += [_line(line, widths) for line in lines]
    pg_name = f"PostgreSQL {r.postgres_version}" if r.postgres_version else "PostgreSQL"
    title = (
        f"dlquiz benchmarks, {'quick' if r.quick else 'full'} run: "
        + ", ".join(f"{k} {v}" for k, v in machine().items())
        + (f", {pg_name} ({r.postgres_note})" if p else "")
    )
    every = targets(r)
    footer = f"{sum(t.met for t in every)} of {len(every)} targets met"
    if r.quick:
        footer = "quick sizes: the targets apply to the full run"
    if p is None:
        footer += f"\n{r.postgres_note}"
    if bank.error:
        footer += f"\nthe bundled bank did not load: {bank.error}"
    return "\n".join([title, "", *out, "", f"{footer}; {r.elapsed_s:.0f} s in all"])


def _line(cells: list[str], widths: list[int]) -> str:
    parts = []
    for c, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        parts.append(cell.rjust(width) if c in (2, 5) else cell.ljust(width))
    return "  ".join(parts).rstrip()


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
