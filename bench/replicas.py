"""Presses per second through one, two and three `dlquiz run slack` replicas on one PostgreSQL.

    python -m bench.replicas [--presses N] [--concurrency N] [--db postgresql://...]

Each configuration gets the same load in the same run: N signed button presses from distinct
members, at most `concurrency` in flight, sent round-robin to the replicas (as a load balancer
would), against a fresh database and the local fake of Slack's Web API. A press counts when its
HTTP 200 arrives, which is after its answer is committed. Without `--db` a throwaway PostgreSQL
server is started (tests/pg_server.py: fsync off, so the figures are CPU, not disk). The table
also says where the CPU went: the replicas, PostgreSQL, and this load generator with the fake.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
for folder in ("tests/slack", "tests/reliability", "tests/discord"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

from fake_slack import FakeSlack  # noqa: E402
from reliability_kit import (  # noqa: E402
    ADMIN,
    FORM,
    SIGNING_SECRET,
    BotProcess,
    member_presses,
    open_question,
    slack_process,
    user_ids,
)
from slack_driver import signed  # noqa: E402

from bench.common import percentile  # noqa: E402
from tests.pg_server import PgServer  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Row:
    replicas: int
    presses: int
    per_s: float
    p50_ms: float
    p99_ms: float
    replica_cpu_s: float
    postgres_cpu_s: float
    driver_cpu_s: float
    machine_busy: float  # share of every core busy during the load, 0..1


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its waited-for children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(f) for f in fields[11:15]) / TICKS


def postgres_cpu(postmaster: int | None) -> float:
    """CPU of the bench's PostgreSQL server: its postmaster and every backend it started
    (NaN for a server given with --db, which may run elsewhere)."""
    if postmaster is None:
        return float("nan")
    total = cpu_seconds(postmaster)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
            if int(stat[1]) == postmaster:
                total += cpu_seconds(int(entry.name))
        except (OSError, ValueError):
            continue  # the backend ended meanwhile
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of every core since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


async def send_all(urls: list[str], bodies: list[str], concurrency: int) -> list[float]:
    """Every press, round-robin over `urls`; the latency of each acknowledged one, in seconds."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failures = 0

    async def one(session: aiohttp.ClientSession, url: str, body: str) -> None:
        nonlocal failures
        async with gate:
            headers = {"Content-Type": FORM, **signed(body, secret=SIGNING_SECRET)}
            started = time.perf_counter()
            async with session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                if response.status == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(
            *(one(session, urls[i % len(urls)], body) for i, body in enumerate(bodies))
        )
    if failures:
        raise RuntimeError(f"{failures} presses were refused; the figures would be wrong")
    return latencies


async def measure(
    count: int, *, url: str, presses: int, concurrency: int, folder: Path, postmaster: int | None
) -> Row:
    fake = FakeSlack()
    await fake.start()
    fake.users[ADMIN.id] = ADMIN.profile()
    try:
        async with AsyncExitStack() as stack, aiohttp.ClientSession() as session:
            bots: list[BotProcess] = list(
                await asyncio.gather(
                    *(
                        stack.enter_async_context(
                            slack_process(fake, url, folder, f"r{count}-{n}")  # type: ignore[arg-type]
                        )
                        for n in range(count)
                    )
                )
            )
            message = await open_question(fake, session, bots[0].url)
            bodies = [
                p.body for p in member_presses(fake, message, user_ids(presses), tag=f"r{count}")
            ]
            warm = [b.url for b in bots]
            await send_all(warm, bodies[: 10 * count], concurrency)  # connections and caches
            bodies = bodies[10 * count :]
            replica_before = sum(cpu_seconds(b.pid) for b in bots)
            pg_before = postgres_cpu(postmaster)
            driver_before = time.process_time()
            busy_before, total_before = machine_ticks()
            started = time.perf_counter()
            latencies = await send_all(warm, bodies, concurrency)
            seconds = time.perf_counter() - started
            busy_after, total_after = machine_ticks()
            row = Row(
                replicas=count,
                presses=len(latencies),
                per_s=len(latencies) / seconds,
                p50_ms=percentile(latencies, 50) * 1000,
                p99_ms=percentile(latencies, 99) * 1000,
                replica_cpu_s=sum(cpu_seconds(b.pid) for b in bots) - replica_before,
                postgres_cpu_s=postgres_cpu(postmaster) - pg_before,
                driver_cpu_s=time.process_time() - driver_before,
                machine_busy=(busy_after - busy_before) / max(1, total_after - total_before),
            )
    finally:
        await fake.close()
    return row


async def new_database(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name}")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def run(args: argparse.Namespace) -> list[Row]:
    server = None if args.db else PgServer.start()
    admin_url = args.db or server.url()  # type: ignore[union-attr]
    postmaster = None
    if server is not None:
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    rows = []
    try:
        with TemporaryDirectory(prefix="dlquiz-replicas-") as folder:
            for count in (1, 2, 3):
                url = await new_database(admin_url, f"bench_replicas_{count}")
                rows.append(
                    await measure(
                        count,
                        url=url,
                        presses=args.presses,
                        concurrency=args.concurrency,
                        folder=Path(folder),
                        postmaster=postmaster,
                    )
                )
    finally:
        if server is not None:
            server.stop()
    return rows


def table(rows: list[Row], cores: int) -> str:
    lines = [
        "| replicas | presses/s | p50 ms | p99 ms | CPU s: replicas | PostgreSQL |"
        " load generator | machine busy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.replicas} | {r.per_s:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} |"
            f" {r.replica_cpu_s:.1f} | {r.postgres_cpu_s:.1f} | {r.driver_cpu_s:.1f} |"
            f" {r.machine_busy:.0%} of {cores} cores |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__)
    parser.add_argument("--presses", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--db", help="a PostgreSQL URL of a role that may create databases")
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args))
    print(table(rows, os.cpu_count() or 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
