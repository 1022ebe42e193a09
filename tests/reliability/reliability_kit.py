"""Helpers of the reliability tests: the real `dlquiz` process, Slack's side of HTTP mode sent
to it over 127.0.0.1 (signed slash commands and button presses, one or thousands at once), and an
audit of the database file the process leaves behind.

The process writes its stdout and stderr to files, so nothing it logs can block on a full pipe,
a SIGKILL loses nothing already written, and a test can read every line afterwards. Waiting is
always for a condition (a log line, an exit), polled in short steps with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from fake_discord import FakeDiscord
from fake_slack import TEAM, FakeSlack
from slack_driver import CHANNEL, User, buttons_of, payload, signed

from bot.models import ChannelRef, Period
from bot.scoring import STREAK_BONUS_CAP
from bot.store import open_store, period_key

ROOT = Path(__file__).resolve().parents[2]
FORM = "application/x-www-form-urlencoded"

# Made-up credentials, long and distinctive so a leak anywhere is found by a plain search.
BOT_TOKEN = "xoxb-7319-reliability-bot-token-Hq4vZ9"
SIGNING_SECRET = "5e1c9a8b7d6f40312e2d1c0b9a8f7e6d"
APP_TOKEN = "xapp-1-A0DLQUIZ-7319-reliability-app-token-Kw2"
SECRET_VARIABLES = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")

ADMIN = User("U0ADMIN001", "admin", admin=True)
READY_WITHIN = 20.0  # seconds for a process to start serving: a failure guard, not a pace
POLL = 0.02  # seconds between two looks at a log file or a process
STARTED = "dlquiz is on Slack as "


def clean_env(**settings: str) -> dict[str, str]:
    """The environment of a child `dlquiz`: no secret or DLQUIZ_ setting from the caller's
    shell, the repository on PYTHONPATH, and `settings` on top."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SECRET_VARIABLES and not k.startswith(("DLQUIZ_", "SLACK_", "DISCORD_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def slack_env(fake: FakeSlack, db: Path, **settings: str) -> dict[str, str]:
    """`dlquiz run slack` in HTTP mode against the fake Web API, logging JSON lines."""
    return clean_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        DLQUIZ_DB=str(db),
        DLQUIZ_LOG_FORMAT="json",
        **settings,
    )


# --- the process -------------------------------------------------------------------------------


class BotProcess:
    """One `python -m bot ...` child; its output goes to `<name>.out` and `<name>.err`."""

    def __init__(
        self, args: Iterable[str], env: Mapping[str, str], folder: Path, name: str, *, stdin: Any
    ) -> None:
        self.name = name
        self.out_path = folder / f"{name}.out"
        self.err_path = folder / f"{name}.err"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                stdin=stdin,
                stdout=out,
                stderr=err,
                env=dict(env),
                cwd=ROOT,
            )
        self.url = ""  # where HTTP mode listens, once `wait_serving` has seen it

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    @property
    def output(self) -> str:
        """Everything the process wrote, both streams."""
        return self.stdout + self.stderr

    def records(self) -> list[dict[str, Any]]:
        """The JSON log lines on stderr (DLQUIZ_LOG_FORMAT=json); other lines are skipped."""
        found = []
        for line in self.stderr.splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return found

    def describe(self) -> str:
        return f"{self.name} (pid {self.pid}, exit {self.proc.returncode}):\n{self.output[-4000:]}"

    async def wait_for_output(self, wanted: Callable[[str], bool], *, within: float) -> str:
        """Poll the output until `wanted(output)`; fail if the process exits or time runs out."""
        deadline = time.monotonic() + within
        while True:
            text = self.output
            if wanted(text):
                return text
            if self.proc.poll() is not None:
                raise AssertionError(f"exited before the expected output: {self.describe()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no expected output within {within}s: {self.describe()}")
            await asyncio.sleep(POLL)

    async def wait_serving(self) -> str:
        """Wait for HTTP mode's start line; the events URL on 127.0.0.1."""
        text = await self.wait_for_output(lambda t: STARTED in t, within=READY_WITHIN)
        found = re.search(r"in HTTP mode at http://[^:/\s]+:(\d+)(/\S*?)\"", text)
        assert found is not None, text
        self.url = f"http://127.0.0.1:{found[1]}{found[2]}"
        return self.url

    def send_signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    async def wait_exit(self, *, within: float) -> int:
        try:
            return await asyncio.to_thread(self.proc.wait, within)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {within}s: {self.describe()}") from None

    def kill(self) -> None:
        """SIGKILL, and reap; nothing if it has ended already."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@asynccontextmanager
async def bot_process(
    args: Iterable[str],
    env: Mapping[str, str],
    folder: Path,
    name: str,
    *,
    stdin: Any = subprocess.DEVNULL,
) -> AsyncIterator[BotProcess]:
    """A running child that is killed, whatever happens, when the block ends."""
    process = BotProcess(args, env, folder, name, stdin=stdin)
    try:
        yield process
    finally:
        process.kill()
        if process.proc.stdin is not None:
            process.proc.stdin.close()


@asynccontextmanager
async def slack_process(
    fake: FakeSlack, db: Path, folder: Path, name: str, **settings: str
) -> AsyncIterator[BotProcess]:
    """`dlquiz run slack --port 0` in HTTP mode, serving once the block starts."""
    env = slack_env(fake, db, **settings)
    async with bot_process(["run", "slack", "--port", "0"], env, folder, name) as process:
        await process.wait_serving()
        yield process


def discord_env(fake: FakeDiscord, db: Path, token: str, **settings: str) -> dict[str, str]:
    """`dlquiz run discord` against the fake Discord (REST and gateway), logging JSON lines."""
    return clean_env(
        DISCORD_TOKEN=token,
        DISCORD_API_BASE=fake.api_base,
        DLQUIZ_DB=str(db),
        DLQUIZ_LOG_FORMAT="json",
        **settings,
    )


# --- Discord's side ----------------------------------------------------------------------------


def is_final_answer(request: Any, interaction: Mapping[str, Any]) -> bool:
    """Whether `request` (to the fake Discord) is what the member finally sees for
    `interaction`: an immediate reply (callback type 4 or 7), or the edit of a deferral."""
    token = interaction["token"]
    if request.path == f"/interactions/{interaction['id']}/{token}/callback":
        return bool(request.body and request.body.get("type") in (4, 7))
    return request.method == "PATCH" and request.path.endswith(f"/{token}/messages/@original")


async def discord_exchange(fake: FakeDiscord, interaction: dict[str, Any]) -> dict[str, Any]:
    """Send an interaction through the gateway, as Discord does; the message the member sees."""
    assert fake.gateway is not None, "the bot is not connected to the fake gateway"
    after = fake.last_seq
    await fake.gateway.dispatch("INTERACTION_CREATE", interaction)
    final = await fake.wait_for(lambda r: is_final_answer(r, interaction), after=after)
    body: dict[str, Any] = final.body or {}
    return dict(body.get("data") or {}) if final.method == "POST" else body


# --- Slack's side ------------------------------------------------------------------------------


def command_body(fake: FakeSlack, user: User, text: str, key: str) -> str:
    """A `/dlquiz <text>` slash command from `user`, answered through response_url `key`."""
    form = payload("slash_command")
    form.update(
        team_id=TEAM,
        channel_id=CHANNEL,
        user_id=user.id,
        user_name=user.name,
        text=text,
        response_url=fake.response_url(key),
    )
    return urlencode(form)


def press_body(
    fake: FakeSlack, message: Mapping[str, Any], user_id: str, choice: int, key: str
) -> str:
    """A block_actions click by `user_id` on answer button `choice` of `message`, as Slack
    sends it: form-encoded `payload=<json>` carrying the whole message."""
    button = buttons_of(dict(message))[choice]
    body = payload("block_actions")
    body["user"].update(id=user_id, username=user_id.lower(), name=user_id.lower(), team_id=TEAM)
    body["team"]["id"] = TEAM
    body["channel"]["id"] = CHANNEL
    body["container"].update(channel_id=CHANNEL, message_ts=message.get("ts", ""))
    body["message"].update(
        ts=message.get("ts", ""), text=message.get("text"), blocks=message.get("blocks")
    )
    body["response_url"] = fake.response_url(key)
    body["actions"] = [
        {
            "action_id": button["action_id"],
            "block_id": button["block_id"],
            "text": button["text"],
            "value": button["value"],
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }
    ]
    return urlencode({"payload": json.dumps(body)})


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    headers: Mapping[str, str] | None = None,
) -> int:
    """POST `body` signed as Slack signs it (fresh timestamp); the HTTP status."""
    sent = {
        "Content-Type": FORM,
        **(headers if headers is not None else signed(body, secret=secret)),
    }
    async with session.post(url, data=body.encode(), headers=sent) as response:
        await response.read()
        return response.status


def posted_question(fake: FakeSlack) -> dict[str, Any]:
    """The last question posted in the channel, as Slack stores it (with its ts)."""
    call = [c for c in fake.api("chat.postMessage") if buttons_of(c.args)][-1]
    return {**call.args, "ts": call.response.get("ts")}


async def open_question(
    fake: FakeSlack, session: aiohttp.ClientSession, url: str
) -> dict[str, Any]:
    """An admin runs `/dlquiz post`; the question message once the fake has recorded it."""
    before = len(fake.api("chat.postMessage"))
    status = await post_signed(session, url, command_body(fake, ADMIN, "post", "post"))
    assert status == 200
    await fake.wait_for(
        lambda: any(c.done and buttons_of(c.args) for c in fake.api("chat.postMessage")[before:])
    )
    await fake.wait_for(lambda: bool(fake.replies_to("post")))
    assert "Posted a new question" in fake.replies_to("post")[0].text
    return posted_question(fake)


def round_of(message: Mapping[str, Any]) -> tuple[int, int]:
    """(round id, number of choices) of a posted question, read from its buttons."""
    buttons = buttons_of(dict(message))
    round_id = int(str(buttons[0]["value"]).split(":")[0].partition(".")[0])
    return round_id, len(buttons)


@dataclass
class Press:
    user_id: str
    choice: int
    body: str


@dataclass
class Burst:
    """What happened to each press of a burst."""

    sent: int = 0
    acknowledged: dict[str, int] = field(default_factory=dict)  # user -> choice, HTTP 200 seen
    statuses: Counter[int] = field(default_factory=Counter)  # other HTTP answers
    failed: Counter[str] = field(default_factory=Counter)  # no HTTP answer: why
    seconds: float = 0.0


async def burst(
    url: str,
    presses: list[Press],
    *,
    concurrency: int = 100,
    on_ack: Callable[[Burst], None] | None = None,
) -> Burst:
    """Send every press, at most `concurrency` at a time, over pooled connections.

    A press counts as acknowledged the moment its HTTP 200 status line arrives, before its body
    is read: that is when Slack would consider it delivered. `on_ack(result)` runs right after each
    acknowledgement is counted (the crash test kills the process from there).
    """
    result = Burst()
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=15)

    async def one(session: aiohttp.ClientSession, press: Press) -> None:
        async with gate:
            result.sent += 1
            headers = {"Content-Type": FORM, **signed(press.body, secret=SIGNING_SECRET)}
            try:
                async with session.post(url, data=press.body.encode(), headers=headers) as resp:
                    if resp.status == 200:
                        result.acknowledged[press.user_id] = press.choice
                        if on_ack is not None:
                            on_ack(result)
                    else:
                        result.statuses[resp.status] += 1
                    await resp.read()
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                result.failed[type(exc).__name__] += 1

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(one(session, p) for p in presses))
    result.seconds = time.perf_counter() - started
    return result


def member_presses(
    fake: FakeSlack, message: Mapping[str, Any], users: Iterable[str], *, tag: str
) -> list[Press]:
    """One press per user, choices spread over the buttons, each with its own response_url."""
    _, choices = round_of(message)
    found = []
    for user_id in users:
        choice = int(user_id[-4:]) % choices
        found.append(
            Press(user_id, choice, press_body(fake, message, user_id, choice, f"{tag}-{user_id}"))
        )
    return found


def user_ids(count: int) -> list[str]:
    return [f"U{n:08d}" for n in range(count)]


# --- the database ------------------------------------------------------------------------------


@dataclass
class Audit:
    integrity: str
    answers: dict[str, int]  # user -> recorded choice, for the round audited
    duplicates: int  # users with more than one answer to the round
    scores_match: bool
    histogram_match: bool
    problems: list[str]


def audit(db: Path, round_id: int) -> Audit:
    """Read the file as a fresh process would (SQLite recovers the WAL of a killed writer); then,
    on a copy, reveal the round as the engine would and check that every maintained total equals
    a recomputation from the answers table. The file itself is left as it was."""
    conn = sqlite3.connect(db, timeout=5)
    try:
        integrity = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        rows = conn.execute(
            "SELECT user_id, choice FROM answers WHERE round_id = ?", (round_id,)
        ).fetchall()
        settled = db.with_name(f"{db.stem}-settled{db.suffix}")
        settled.unlink(missing_ok=True)
        copy = sqlite3.connect(settled)
        try:
            conn.backup(copy)
        finally:
            copy.close()
    finally:
        conn.close()
    # Store is asynchronous and a test may be running a loop of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _reveal(settled, round_id)).result()
    conn = sqlite3.connect(settled, timeout=5)
    try:
        per_user = Counter(user for user, _ in rows)
        problems: list[str] = []

        # Each answer's own score, from the rule rather than from the code that wrote it: right
        # means the round's answer, and a right answer earns the round's base points plus a
        # streak bonus of at most STREAK_BONUS_CAP.
        misscored = conn.execute(
            "SELECT count(*) FROM answers a JOIN rounds r ON r.id = a.round_id"
            " WHERE a.round_id = ? AND (a.correct != (a.choice = r.answer)"
            " OR (a.correct AND a.points NOT BETWEEN r.base_points"
            f" AND r.base_points + {STREAK_BONUS_CAP})"
            " OR (NOT a.correct AND a.points != 0))",
            (round_id,),
        ).fetchone()[0]
        if misscored:
            problems.append(f"{misscored} answers scored against the rule")

        # The 'all' totals, exactly as tests/test_engine.py assert_scores_match_answers.
        recomputed = conn.execute(
            "SELECT r.server, a.user_id, sum(a.points), count(*), sum(a.correct)"
            " FROM answers a JOIN rounds r ON r.id = a.round_id WHERE r.closed_at IS NOT NULL"
            " GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        kept = conn.execute(
            "SELECT server, user_id, points, answered, correct FROM scores WHERE period = 'all'"
            " ORDER BY 1, 2"
        ).fetchall()
        scores_match = kept == recomputed and not misscored
        if kept != recomputed:
            problems.append(f"'all' scores differ: {len(kept)} kept, {len(recomputed)} recomputed")

        # The week and month totals too, by when each round was posted; those periods count
        # only answers that scored.
        expected: Counter[tuple[str, str, str, str]] = Counter()
        for server, user, points, correct, at in conn.execute(
            "SELECT r.server, a.user_id, a.points, a.correct, r.posted_at"
            " FROM answers a JOIN rounds r ON r.id = a.round_id"
            " WHERE a.points > 0 AND r.closed_at IS NOT NULL"
        ):
            moment = datetime.fromisoformat(at)
            for period in (Period.WEEK, Period.MONTH):
                key = (server, period_key(period, moment), user)
                expected[(*key, "points")] += points
                expected[(*key, "answered")] += 1
                expected[(*key, "correct")] += correct
        stored: Counter[tuple[str, str, str, str]] = Counter()
        for server, period, user, points, answered, correct in conn.execute(
            "SELECT server, period, user_id, points, answered, correct FROM scores"
            " WHERE period != 'all'"
        ):
            stored[(server, period, user, "points")] += points
            stored[(server, period, user, "answered")] += answered
            stored[(server, period, user, "correct")] += correct
        if +stored != +expected:
            scores_match = False
            problems.append("week/month scores differ from the answers")

        histogram = conn.execute(
            "SELECT server, period, points, members FROM score_counts WHERE members > 0"
            " ORDER BY 1, 2, 3"
        ).fetchall()
        counted = conn.execute(
            "SELECT server, period, points, count(*) FROM scores WHERE points > 0"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
        histogram_match = histogram == counted
        if not histogram_match:
            problems.append("score_counts differs from the counted scores")
    finally:
        conn.close()
    return Audit(
        integrity=integrity,
        answers=dict(rows),
        duplicates=sum(1 for n in per_user.values() if n > 1),
        scores_match=scores_match,
        histogram_match=histogram_match,
        problems=problems,
    )


async def _reveal(db: Path, round_id: int) -> None:
    store = await open_store(db)
    try:
        row = await store.round_by_id(round_id)
        assert row is not None, f"round {round_id} is not in {db}"
        closed = await store.close_round(ChannelRef(row.server, row.channel), datetime.now(UTC))
        assert row.closed_at is not None or (closed is not None and closed.id == round_id)
    finally:
        await store.close()


def say(text: str) -> None:
    """A figure for the reader of `pytest -s`."""
    print(f"[reliability] {text}", flush=True)


# --- the fakes, started fresh for each test (the conftests of the real-process suites use these) --


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack Web API, knowing one workspace admin."""
    fake = FakeSlack()
    await fake.start()
    fake.users[ADMIN.id] = ADMIN.profile()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
