"""`python -m bench [--quick] [--json FILE] [--check]`: run every scenario, print the table."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from bench import charts, fanout, ingest, leaderboard, startup
from bench.common import FULL, QUICK
from bench.report import Results, document, stderr, table, targets
from bot.runtime import tune_gc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    tune_gc()  # as `dlquiz run` does once it has started
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dlquiz-bench-") as tmp:
        folder = Path(tmp)
        stderr("start-up: loading the bundled bank")
        bank = startup.run(sizes.bank_runs)
        stderr(f"ingestion: {sizes.answers:,} answers, then {sizes.open_rate:,}/s open loop")
        ingested = asyncio.run(ingest.run(sizes, folder))
        stderr(f"fan-out: {sizes.channels:,} channels")
        fanned = asyncio.run(fanout.run(sizes.channels, folder))
        stderr(f"leaderboards: {sizes.lb_users:,} members (built once, then cached)")
        boards = leaderboard.run(sizes, folder)
    stderr(f"stats chart: {sizes.chart_renders} renders")
    drawn = charts.run(sizes.chart_renders)
    results = Results(
        quick=args.quick,
        ingest=ingested,
        leaderboard=boards,
        fanout=fanned,
        bank=bank,
        elapsed_s=time.perf_counter() - started,
        chart=drawn,
    )
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(document(results), indent=2) + "\n")
    missed = [t.name for t in targets(results) if not t.met]
    return 1 if args.check and missed and not args.quick else 0


if __name__ == "__main__":
    raise SystemExit(main())
