"""`python -m bench [--quick] [--db URL | --no-postgres] [--json FILE] [--check]`: run every
scenario on SQLite and on PostgreSQL, print one table with both. `--e2e [--only slack|discord]`:
the end-to-end press scenarios instead."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from bench import charts, fanout, ingest, leaderboard, pg, startup
from bench.common import FULL, QUICK, Sizes
from bench.report import BackendResults, Results, stderr, table, targets
from bench.report import document as json_document
from bot.runtime import tune_gc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="a PostgreSQL server to measure on (postgresql://user@host:port/db, a role that"
        " may create databases); default: start a throwaway one here",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--e2e", action="store_true", help="only the end-to-end press scenarios (real processes)"
    )
    parser.add_argument(
        "--only",
        choices=("slack", "discord"),
        help="with --e2e: the scenarios of this platform only",
    )
    args = parser.parse_args(argv)
    if args.only and not args.e2e:
        parser.error("--only needs --e2e: it picks which end-to-end scenarios run")
    if args.e2e:
        return _e2e(args)
    sizes = QUICK if args.quick else FULL
    tune_gc()  # as `dlquiz run` does once it has started
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dlquiz-bench-") as tmp:
        folder = Path(tmp)
        stderr("start-up: loading the bundled bank")
        bank = startup.run(sizes.bank_runs)
        stderr("SQLite")
        on_sqlite = _sqlite(sizes, folder)
        postgres, copied, note, version = None, None, "PostgreSQL skipped (--no-postgres)", ""
        if not args.no_postgres:
            server, note = pg.start(args.db)
            if server is None:
                stderr(note)
            else:
                try:
                    stderr(f"PostgreSQL: {note}")
                    postgres, copied = _postgres(sizes, folder, server)
                    version = server.version
                finally:
                    server.stop()
    stderr(f"stats chart: {sizes.chart_renders} renders")
    drawn = charts.run(sizes.chart_renders)
    results = Results(
        quick=args.quick,
        sqlite=on_sqlite,
        bank=bank,
        elapsed_s=time.perf_counter() - started,
        postgres=postgres,
        copy=copied,
        postgres_note=note,
        postgres_version=version,
        chart=drawn,
    )
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(json_document(results), indent=2) + "\n")
    missed = [t.name for t in targets(results) if not t.met]
    return 1 if args.check and missed and not args.quick else 0


def _e2e(args: argparse.Namespace) -> int:
    from bench import e2e

    with tempfile.TemporaryDirectory(prefix="dlquiz-e2e-") as tmp:
        result = e2e.run(
            e2e.E2E_QUICK if args.quick else e2e.E2E_FULL,
            Path(tmp),
            platforms=(args.only,) if args.only else e2e.PLATFORMS,
        )
    print(e2e.table(result))
    if args.json:
        args.json.write_text(json.dumps({"e2e": result}, indent=2) + "\n")
    missed = [t["name"] for t in result["targets"] if not t["met"]]
    return 1 if args.check and missed and not args.quick else 0


def _sqlite(sizes: Sizes, folder: Path) -> BackendResults:
    stderr(f"  ingestion: {sizes.answers:,} answers, then {sizes.open_rate:,}/s open loop")
    ingested = asyncio.run(ingest.run(sizes, ingest.sqlite_side(folder)))
    stderr(f"  fan-out: {sizes.channels:,} channels")
    fanned = asyncio.run(fanout.run(sizes.channels, folder / "fanout.db"))
    stderr(f"  leaderboards: {sizes.lb_users:,} members (built once, then cached)")
    boards = leaderboard.run(sizes, folder)
    return BackendResults(ingested, boards, fanned)


def _postgres(
    sizes: Sizes, folder: Path, server: pg.Postgres
) -> tuple[BackendResults, leaderboard.CopyResult]:
    stderr(f"  ingestion: {sizes.answers:,} answers, then {sizes.open_rate:,}/s open loop")
    ingested = asyncio.run(ingest.run(sizes, pg.side(server)))
    stderr(f"  fan-out: {sizes.channels:,} channels")
    fanned = asyncio.run(fanout.run(sizes.channels, asyncio.run(server.new("fanout"))))
    stderr(f"  leaderboards: {sizes.lb_users:,} members, by dlquiz db copy there and back")
    boards, copied = leaderboard.run_postgres(sizes, folder, server.new)
    stderr(f"  {copied.summary_there}\n  {copied.summary_back}")
    return BackendResults(ingested, boards, fanned), copied


if __name__ == "__main__":
    raise SystemExit(main())
