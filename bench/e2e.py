"""End to end: a press through the real libraries, against bare apps of the same libraries.

The real `dlquiz run slack` (HTTP mode) and `dlquiz run discord` processes, and bare slack-bolt
and discord.py apps (`bench.bare_slack`, `bench.bare_discord`), each run as its own process. This
process is Slack and Discord: it sends signed presses over keep-alive connections and gateway
`INTERACTION_CREATE` events, and is the `response_url` sink and the REST API the confirmations
reach. It speaks raw HTTP (`bench.rawhttp`) so that it stays far cheaper than what it measures;
its own CPU share is reported beside the figures to show it.

A press is complete when the member would see it: for Slack, both the HTTP 200 (the ack) and
the private confirmation at the `response_url` have arrived (the ack alone for the app that only
acks); for Discord, when the interaction callback has arrived. CPU per press is the measured
process's own user+system time over the presses, from /proc/PID/stat. The apps run interleaved,
in pairs, and every ratio is taken within a pair, then the median of the pairs is reported:
the machine's speed drifts between runs, much less within one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

from bench import rawhttp

ROOT = Path(__file__).resolve().parents[1]
PAYLOADS = ROOT / "tests" / "payloads"
SECRET = "8f14e45fceea167a5a36dedd4bea2543"
SLACK_TOKEN = "xoxb-1-bench-e2e-token"
TEAM = "T0BENCH01"
CHANNEL = "C0BENCH01"
ADMIN = "U0ADMIN01"
DISCORD_TOKEN = "bench-bot-token.for-bench.only"
APP_ID = "1302745164120801311"
GUILD_ID = "1302744932918091826"
DISCORD_CHANNEL = "1302744933496770612"
MEMBER_PERMISSIONS = 2248473465835073
MANAGE_GUILD = 1 << 5
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
READY_WITHIN = 30.0  # seconds: a failure guard, never a pace
OPEN_CONNECTIONS = 50  # kept open before an open-loop run; more are opened when all are busy
TICK = os.sysconf("SC_CLK_TCK")
BOT_USER = {
    "id": APP_ID,
    "username": "dlquiz",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
}


@dataclass(frozen=True)
class E2ESizes:
    presses: int  # closed loop, per run
    in_flight: int
    pairs: int  # interleaved runs of every app
    open_rate: int  # presses per second, open loop
    open_seconds: float
    warmup: int


E2E_FULL = E2ESizes(
    presses=3_000, in_flight=50, pairs=3, open_rate=1_000, open_seconds=3.0, warmup=300
)
E2E_QUICK = E2ESizes(presses=40, in_flight=8, pairs=1, open_rate=100, open_seconds=0.3, warmup=10)


@dataclass
class Run:
    """One closed-loop or open-loop run of one app."""

    presses: int = 0
    seconds: float = 0.0
    cpu_s: float = 0.0  # the measured process's own CPU
    driver_cpu_s: float = 0.0  # this process's CPU over the same run
    latencies_ms: list[float] = field(default_factory=list)
    confirmed: int = 0  # confirmations that said "Recorded"
    failed: int = 0  # presses answered with anything but HTTP 200 (bolt's 404 after 3 s)
    # Open loop only: completions per second over the steady part of the sending window, the
    # rate the driver actually sent at, and how late its timer started presses (p99).
    reached_per_s: float = 0.0
    offered_per_s: float = 0.0
    start_lag_p99_ms: float = 0.0
    connections: int = 0  # connections the app was sent presses on

    @property
    def rate(self) -> float:
        return (self.presses - self.failed) / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / self.presses * 1e6 if self.presses else 0.0

    @property
    def driver_cpu_us(self) -> float:
        return self.driver_cpu_s / self.presses * 1e6 if self.presses else 0.0

    def summary(self) -> dict[str, float]:
        lat = sorted(self.latencies_ms) or [0.0]
        return {
            "presses": self.presses,
            "presses_per_s": round(self.rate, 1),
            "cpu_us_per_press": round(self.cpu_us, 1),
            "p50_ms": round(_pct(lat, 50), 2),
            "p99_ms": round(_pct(lat, 99), 2),
            "driver_cpu_share": round(self.driver_cpu_s / self.seconds, 3) if self.seconds else 0.0,
            "confirmed_recorded": self.confirmed,
            "failed": self.failed,
        }


def _ratio(pairs: Any) -> float:
    """The median of a/b over the pairs (0 where b is 0: too small a run to time)."""
    return round(statistics.median(a / b if b else 0.0 for a, b in pairs), 3)


def _pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the fakes: Slack's Web API and response_url sink, Discord's REST and gateway ----------------


class Fakes:
    """Everything the apps talk to, in this process."""

    def __init__(self) -> None:
        self.port = 0
        self.slack_posts: list[dict[str, Any]] = []
        self.discord_posts: list[dict[str, Any]] = []
        self.waiting: dict[str, Callable[[bytes], None]] = {}  # key -> on confirmation
        self.gateway: web.WebSocketResponse | None = None
        self.stream: Any = None
        self.seq = 0
        self.identified = asyncio.Event()
        self.gateway_port = 0
        self.changed = asyncio.Event()
        self._ids = 1303300000000000000
        self.calls: deque[str] = deque(maxlen=200)  # the last requests, shown on a failure
        self.sink_port = 0  # the lean sink, a process of its own
        self.sink: asyncio.subprocess.Process | None = None

    @property
    def slack_api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def discord_api(self) -> str:
        return f"http://127.0.0.1:{self.port}/discord/api/v10"

    def response_url(self, key: str, *, lean: bool = False) -> str:
        """Where a press's confirmation goes: the routed fake in this process, or with `lean`
        the sink process, which only notes it and answers a canned 200 (see `driver_check`)."""
        return f"http://127.0.0.1:{self.sink_port if lean else self.port}/response/{key}"

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        if path.startswith("/response/"):
            self._confirmed(path[len("/response/") :], body)
            return 200, "text/plain", b"ok"
        self.calls.append(f"{method} {path} {body[:300]!r}")
        if path.startswith("/discord/api/v10/"):
            route = path[len("/discord/api/v10") :].split("?", maxsplit=1)[0]
            return self._discord(method, route, body)
        if path.startswith("/api/"):
            method_name, _, query = path[len("/api/") :].partition("?")
            return 200, JSON, json.dumps(self._slack(method_name, query, body)).encode()
        return 200, "text/plain", b"ok"  # /healthz and anything else

    def _confirmed(self, key: str, body: bytes) -> None:
        done = self.waiting.pop(key, None)
        if done is not None:
            done(body)

    async def read_sink(self, lines: asyncio.StreamReader) -> None:
        """Completes the presses the sink process reports (see `rawhttp`)."""
        async for line in lines:
            path, _, recorded = line.rstrip().rpartition(b" ")
            self._confirmed(
                path[len(b"/response/") :].decode(), b"Recorded" if recorded == b"1" else b""
            )

    def _slack(self, method: str, query: str, body: bytes) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(query))
        with suppress(ValueError):
            args.update(json.loads(body) if body[:1] == b"{" else dict(parse_qsl(body.decode())))
        if method == "auth.test":
            return {
                "ok": True,
                "user": "dlquiz",
                "team": "Bench",
                "team_id": TEAM,
                "user_id": "U0BOT0001",
                "bot_id": "B0BOT0001",
                "url": "https://bench.slack.com/",
            }
        if method == "users.info":
            return {
                "ok": True,
                "user": {
                    "id": args.get("user"),
                    "is_admin": True,
                    "is_owner": False,
                    "tz": "UTC",
                    "name": "admin",
                },
            }
        if method == "chat.postMessage":
            ts = f"{time.time():.6f}"
            self.slack_posts.append({**args, "ts": ts})
            self.changed.set()
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": args}
        return {"ok": True, "ts": f"{time.time():.6f}", "channel": CHANNEL}

    def _discord(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        parts = path.strip("/").split("/")
        if parts[0] == "interactions":  # the answer to a press: it completes
            self._confirmed(parts[2], body)
            reply = {
                "interaction": {
                    "id": parts[1],
                    "type": 3,
                    "response_message_id": "1",
                    "response_message_loading": False,
                    "response_message_ephemeral": True,
                }
            }
            return 200, JSON, json.dumps(reply).encode()
        if path == "/users/@me":
            return 200, JSON, json.dumps(BOT_USER).encode()
        if path == "/oauth2/applications/@me":
            app = {
                "id": APP_ID,
                "name": "dlquiz",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": {**BOT_USER, "id": "1178324519023411221", "bot": False},
            }
            return 200, JSON, json.dumps(app).encode()
        if path == "/gateway/bot":
            limits = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            url = f"ws://127.0.0.1:{self.gateway_port}/gateway"
            return (
                200,
                JSON,
                json.dumps({"url": url, "shards": 1, "session_start_limit": limits}).encode(),
            )
        if parts[0] == "applications" and method == "PUT":
            commands = json.loads(body or b"[]")
            made = [
                {
                    "id": str(1302751032201416724 + n),
                    "application_id": APP_ID,
                    "version": "1",
                    "type": 1,
                    "default_member_permissions": None,
                    **c,
                }
                for n, c in enumerate(commands)
            ]
            return 200, JSON, json.dumps(made).encode()
        data = json.loads(body) if body[:1] == b"{" else {}
        message = self._message(parts[1] if parts[0] == "channels" else DISCORD_CHANNEL, data)
        if parts[0] == "channels" and method == "POST":
            self.discord_posts.append(message)
            self.changed.set()
        return 200, JSON, json.dumps(message).encode()

    def _message(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._ids += 1
        message = {
            "id": str(self._ids),
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": "",
            "timestamp": "2026-03-02T09:00:00.000000+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
        }
        for key in ("content", "embeds", "components"):
            if body.get(key) is not None:
                message[key] = body[key]
        return message

    # The gateway: HELLO, READY on IDENTIFY, heartbeat ACKs, and the events the bench sends.

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.stream = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        self.gateway = ws
        self.seq = 0
        await self.send({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await self.send({"op": 11, "d": None, "s": None, "t": None})
            elif payload["op"] == 2:
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": "bench",
                    "resume_gateway_url": f"ws://127.0.0.1:{self.gateway_port}/gateway",
                    "shard": payload["d"].get("shard", [0, 1]),
                    "application": {"id": APP_ID, "flags": 0},
                }
                await self.dispatch("READY", json.dumps(ready))
                self.identified.set()
        return ws

    async def send(self, payload: dict[str, Any]) -> None:
        await self._frame(json.dumps(payload).encode())

    async def dispatch(self, event: str, data_json: str) -> None:
        self.seq += 1
        await self._frame(f'{{"op":0,"s":{self.seq},"t":"{event}","d":{data_json}}}'.encode())

    async def _frame(self, data: bytes) -> None:
        assert self.gateway is not None
        if self.stream is None:
            await self.gateway.send_str(data.decode())
        else:
            await self.gateway.send_bytes(
                self.stream.compress(data) + self.stream.flush(zlib.Z_SYNC_FLUSH)
            )


@asynccontextmanager
async def fakes() -> AsyncIterator[Fakes]:
    fake = Fakes()
    server, fake.port = await rawhttp.serve(fake.handle)
    sink = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.rawhttp", stdout=subprocess.PIPE, env=_env(), cwd=ROOT
    )
    assert sink.stdout is not None
    fake.sink_port = int(await asyncio.wait_for(sink.stdout.readline(), READY_WITHIN))
    fake.sink = sink
    reading = asyncio.ensure_future(fake.read_sink(sink.stdout))
    app = web.Application()
    app.router.add_get("/gateway", fake._gateway)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.gateway_port = int(runner.addresses[0][1])
    try:
        yield fake
    finally:
        if fake.gateway is not None:
            await fake.gateway.close()
        await runner.cleanup()
        server.close()
        reading.cancel()
        sink.terminate()
        await sink.wait()


# --- the processes ------------------------------------------------------------------------------


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, *args], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def check(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _env(**settings: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DLQUIZ_", "SLACK_", "DISCORD_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


async def _until(ready: Callable[[], bool], process: Process) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while not ready():
        process.check()
        if time.monotonic() > deadline:
            tail = process.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{process.name} did not get ready:\n{tail}")
        await asyncio.sleep(0.05)


async def _serving(port: int, process: Process) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while True:
        process.check()
        try:
            conn = await rawhttp.Connection.open(port)
            status, _ = await conn.send(rawhttp.request("GET", "/healthz"))
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.name} is not serving: see {process.log}")
        await asyncio.sleep(0.05)


# --- Slack --------------------------------------------------------------------------------------


def _payload(kind: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / kind / f"{name}.json").read_text())
    return data


def signed_request(body: str) -> bytes:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return rawhttp.request("POST", "/slack/events", body.encode(), headers=headers)


def slash_post(fake: Fakes) -> bytes:
    form = _payload("slack", "slash_command")
    form.update(
        team_id=TEAM,
        channel_id=CHANNEL,
        user_id=ADMIN,
        user_name="admin",
        text="post",
        response_url=fake.response_url("post"),
    )
    return signed_request(urlencode(form))


def press_bodies(
    fake: Fakes, message: dict[str, Any], users: list[str], *, lean: bool = False
) -> list[tuple[str, bytes]]:
    buttons = [
        {**e, "block_id": b.get("block_id")}
        for b in message.get("blocks") or []
        if b.get("type") == "actions"
        for e in b["elements"]
    ]
    template = _payload("slack", "block_actions")
    found = []
    for n, user in enumerate(users):
        button = buttons[n % len(buttons)]
        body = json.loads(json.dumps(template))
        body["user"].update(id=user, username=user.lower(), name=user.lower(), team_id=TEAM)
        body["team"]["id"] = TEAM
        body["channel"]["id"] = CHANNEL
        body["container"].update(channel_id=CHANNEL, message_ts=message["ts"])
        body["message"].update(
            ts=message["ts"], text=message.get("text"), blocks=message.get("blocks")
        )
        key = f"p-{user}"
        body["response_url"] = fake.response_url(key, lean=lean)
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
        found.append((key, signed_request(urlencode({"payload": json.dumps(body)}))))
    return found


class SlackTarget:
    def __init__(self, name: str, process: Process, port: int, *, confirms: bool) -> None:
        self.name, self.process, self.port, self.confirms = name, process, port, confirms


async def closed_slack(
    fake: Fakes, target: SlackTarget, presses: list[tuple[str, bytes]], in_flight: int
) -> Run:
    run = Run(presses=len(presses))
    conns = [await rawhttp.Connection.open(target.port) for _ in range(in_flight)]
    queue = iter(presses)

    async def worker(conn: rawhttp.Connection) -> None:
        for key, request in queue:
            started = time.perf_counter()
            await _one_slack(fake, target, conn, key, request, run)
            run.latencies_ms.append((time.perf_counter() - started) * 1000)

    cpu0, me0, t0 = target.process.cpu(), cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    run.seconds = time.perf_counter() - t0
    run.cpu_s, run.driver_cpu_s = target.process.cpu() - cpu0, cpu_seconds() - me0
    for conn in conns:
        conn.close()
    return run


async def _one_slack(  # noqa: PLR0917 - one press: where it goes, what it is, what it counts
    fake: Fakes, target: SlackTarget, conn: rawhttp.Connection, key: str, request: bytes, run: Run
) -> None:
    confirmed: asyncio.Future[bytes] | None = None
    if target.confirms:
        confirmed = asyncio.get_running_loop().create_future()
        fake.waiting[key] = confirmed.set_result
    status, _ = await conn.send(request)
    if status != 200:
        fake.waiting.pop(key, None)
        run.failed += 1
        return
    if confirmed is not None and b"Recorded" in await confirmed:
        run.confirmed += 1


async def open_slack(
    fake: Fakes, target: SlackTarget, presses: list[tuple[str, bytes]], rate: int
) -> Run:
    """Presses at a steady `rate` whatever the app's pace, each started by the event loop's
    timer at its due time; latency from that due time, so a slow app is not excused by a
    driver that fell behind (whose lateness is reported on its own).

    The rate reached is the completions per second over the sending window's last three
    quarters: the first quarter is the app filling up, and the presses still finishing after
    the last one was sent are the latency, counted there. An app that keeps up completes
    presses as fast as they are sent; one that cannot completes them at its own pace.
    """
    run = Run(presses=len(presses), connections=OPEN_CONNECTIONS)
    loop = asyncio.get_running_loop()
    idle = [await rawhttp.Connection.open(target.port) for _ in range(OPEN_CONNECTIONS)]
    tasks: list[asyncio.Task[None]] = []
    done_at: list[float] = []
    started_at: list[float] = []
    lag_ms: list[float] = []
    all_sent = loop.create_future()

    async def one(due: float, key: str, request: bytes) -> None:
        if idle:
            conn = idle.pop()
        else:  # all busy: the app is behind, and Slack would open another connection
            run.connections += 1
            conn = await rawhttp.Connection.open(target.port)
        failed = run.failed
        await _one_slack(fake, target, conn, key, request, run)
        now = loop.time()
        run.latencies_ms.append((now - due) * 1000)
        if run.failed == failed:
            done_at.append(now)
        idle.append(conn)

    def start(due: float, key: str, request: bytes) -> None:
        now = loop.time()
        started_at.append(now)
        lag_ms.append((now - due) * 1000)
        tasks.append(loop.create_task(one(due, key, request)))
        if len(tasks) == len(presses):
            all_sent.set_result(None)

    cpu0, me0 = target.process.cpu(), cpu_seconds()
    base = loop.time() + 0.01
    for n, (key, request) in enumerate(presses):
        due = base + n / rate
        loop.call_at(due, start, due, key, request)
    await all_sent
    await asyncio.gather(*tasks)
    run.seconds = loop.time() - base
    run.cpu_s, run.driver_cpu_s = target.process.cpu() - cpu0, cpu_seconds() - me0
    last_due = base + (len(presses) - 1) / rate
    steady = base + (last_due - base) / 4
    if last_due > steady:
        run.reached_per_s = sum(steady <= t <= last_due for t in done_at) / (last_due - steady)
    if len(started_at) > 1:
        run.offered_per_s = (len(started_at) - 1) / (started_at[-1] - started_at[0])
    run.start_lag_p99_ms = _pct(sorted(lag_ms), 99)
    for conn in idle:
        conn.close()
    return run


async def slack_scenarios(sizes: E2ESizes, folder: Path) -> dict[str, Any]:
    async with fakes() as fake, AsyncExitStack() as stack:
        env = _env(
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.slack_api,
            DLQUIZ_DB=str(folder / "slack.db"),
        )
        targets = []
        for name, args, confirms in (
            ("dlquiz", ["-m", "bot", "run", "slack", "--port"], True),
            ("bare_confirm", ["-m", "bench.bare_slack", "--mode", "confirm", "--port"], True),
            ("bare_ack", ["-m", "bench.bare_slack", "--mode", "ack", "--port"], False),
        ):
            port = free_port()
            process = Process(f"slack-{name}", [*args, str(port)], env, folder)
            stack.callback(process.stop)
            targets.append(SlackTarget(name, process, port, confirms=confirms))
        for target in targets:
            await _serving(target.port, target.process)
        # An admin posts the question every run presses on.
        bot = targets[0]
        conn = await rawhttp.Connection.open(bot.port)
        status, _ = await conn.send(slash_post(fake))
        conn.close()
        if status != 200:
            raise RuntimeError(f"/dlquiz post answered HTTP {status}")
        try:
            await _until(lambda: any(_has_buttons(m) for m in fake.slack_posts), bot.process)
        except RuntimeError:
            print("\n".join(fake.calls), file=sys.stderr)
            raise
        question = next(m for m in fake.slack_posts if _has_buttons(m))
        users = iter(f"U{n:08d}" for n in range(10**8))

        def batch(count: int, *, lean: bool = False) -> list[tuple[str, bytes]]:
            return press_bodies(fake, question, [next(users) for _ in range(count)], lean=lean)

        for target in targets:
            await closed_slack(fake, target, batch(sizes.warmup), sizes.in_flight)
        closed: dict[str, list[Run]] = {t.name: [] for t in targets}
        for pair in range(sizes.pairs):
            order = targets[pair % 3 :] + targets[: pair % 3]
            for target in order:
                closed[target.name].append(
                    await closed_slack(fake, target, batch(sizes.presses), sizes.in_flight)
                )
        open_count = int(sizes.open_rate * sizes.open_seconds)
        opened: dict[str, list[Run]] = {t.name: [] for t in targets[:2]}
        for pair in range(sizes.pairs):
            order = targets[:2] if pair % 2 == 0 else targets[1::-1]
            for target in order:
                opened[target.name].append(
                    await open_slack(fake, target, batch(open_count), sizes.open_rate)
                )
        checked = await driver_check(fake, targets[1], batch, sizes)
    return {**_slack_result(closed, opened, sizes), "driver_check": checked}


async def driver_check(
    fake: Fakes,
    target: SlackTarget,
    batch: Callable[..., list[tuple[str, bytes]]],
    sizes: E2ESizes,
) -> dict[str, float]:
    """Whether this process limits what it measures: the bare ack+confirm app, closed loop,
    with its confirmations going to the routed fake in this process, as in every other run, or
    to the lean sink in a process of its own (no routing, no decoding, a canned answer), in
    interleaved pairs. If the driver were a limit, the cheaper and more parallel one would move
    the app's figures; they should stay where they are while this process's CPU per press
    drops (the sink process's own is shown beside it).
    """
    runs: dict[bool, list[Run]] = {False: [], True: []}
    sink_cpu_us: list[float] = []
    assert fake.sink is not None
    for pair in range(sizes.pairs):
        for lean in (False, True) if pair % 2 == 0 else (True, False):
            sink0 = cpu_seconds(fake.sink.pid)
            run = await closed_slack(fake, target, batch(sizes.presses, lean=lean), sizes.in_flight)
            runs[lean].append(run)
            if lean:
                sink_cpu_us.append((cpu_seconds(fake.sink.pid) - sink0) / run.presses * 1e6)
    pairs = list(zip(runs[True], runs[False], strict=True))
    return {
        "throughput_lean_vs_routed": _ratio((a.rate, b.rate) for a, b in pairs),
        "cpu_lean_vs_routed": _ratio((a.cpu_us, b.cpu_us) for a, b in pairs),
        "driver_cpu_us_routed": round(statistics.median(r.driver_cpu_us for r in runs[False]), 1),
        "driver_cpu_us_lean": round(statistics.median(r.driver_cpu_us for r in runs[True]), 1),
        "sink_process_cpu_us_lean": round(statistics.median(sink_cpu_us), 1),
    }


def _has_buttons(message: dict[str, Any]) -> bool:
    return any(b.get("type") == "actions" for b in message.get("blocks") or [])


def _slack_result(
    closed: dict[str, list[Run]], opened: dict[str, list[Run]], sizes: E2ESizes
) -> dict[str, Any]:
    bot, confirm, ack = closed["dlquiz"], closed["bare_confirm"], closed["bare_ack"]
    return {
        "apps": {name: _median_run(runs) for name, runs in closed.items()},
        "throughput_vs_bare_confirm": _ratio(
            (b.rate, c.rate) for b, c in zip(bot, confirm, strict=True)
        ),
        "cpu_vs_bare_confirm": _ratio(
            (b.cpu_us, c.cpu_us) for b, c in zip(bot, confirm, strict=True)
        ),
        "throughput_vs_bare_ack": _ratio((b.rate, a.rate) for b, a in zip(bot, ack, strict=True)),
        "cpu_vs_bare_ack": _ratio((b.cpu_us, a.cpu_us) for b, a in zip(bot, ack, strict=True)),
        "recorded_confirmations": sum(r.confirmed for r in bot),
        "presses_per_app": sizes.presses * sizes.pairs,
        "open_loop": {name: _open_summary(runs, sizes) for name, runs in opened.items()},
    }


def _open_summary(runs: list[Run], sizes: E2ESizes) -> dict[str, float]:
    """The median open-loop run of an app (by the rate reached), with its own figures."""
    run = sorted(runs, key=lambda r: r.reached_per_s)[len(runs) // 2]
    summary = run.summary()
    return {
        "target_per_s": sizes.open_rate,
        "reached_per_s": round(run.reached_per_s, 1),
        "offered_per_s": round(run.offered_per_s, 1),
        # Every press over the whole run, the drain after the last one sent included: near the
        # app's capacity when it fell behind.
        "overall_per_s": round(run.rate, 1),
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "failed": run.failed,
        "cpu_us_per_press": summary["cpu_us_per_press"],
        # Near 1.0, the app had a whole core and used it; well below while falling behind,
        # something else (another process on the machine) had the core.
        "app_cpu_share": round(run.cpu_s / run.seconds, 3) if run.seconds else 0.0,
        "driver_start_lag_p99_ms": round(run.start_lag_p99_ms, 2),
        "connections": run.connections,
    }


def _median_run(runs: list[Run]) -> dict[str, float]:
    summaries = [r.summary() for r in runs]
    return {key: statistics.median(s[key] for s in summaries) for key in summaries[0]}


# --- Discord ------------------------------------------------------------------------------------


def interaction(template: dict[str, Any], user_id: str, *, admin: bool = False) -> dict[str, Any]:
    payload = json.loads(json.dumps(template))
    fresh = next(_interaction_ids)
    payload.update(
        id=str(fresh),
        token=f"tok{fresh}",
        guild_id=GUILD_ID,
        channel_id=DISCORD_CHANNEL,
        application_id=APP_ID,
    )
    payload["channel"]["id"] = DISCORD_CHANNEL
    member = payload["member"]
    member["permissions"] = str(MEMBER_PERMISSIONS | (MANAGE_GUILD if admin else 0))
    member["nick"] = None
    member["user"].update(id=user_id, global_name=f"m{user_id[-4:]}", username=f"m{user_id}")
    return payload


_interaction_ids = iter(range(1303400000000000000, 1303500000000000000))


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component of a message, the ones nested in a layout (components v2) included."""
    found = []
    for component in components:
        found += [component, *_walk(component.get("components") or [])]
    return found


def discord_presses(question: dict[str, Any], users: list[str]) -> list[tuple[str, str]]:
    ids = [
        c["custom_id"]
        for c in _walk(question["components"])
        if str(c.get("custom_id", "")).startswith("dlq:a:")
    ]
    template = _payload("discord", "button_click")
    found = []
    for n, user in enumerate(users):
        payload = interaction(template, user)
        payload["message"] = question
        payload["data"] = {"component_type": 2, "custom_id": ids[n % len(ids)]}
        found.append((payload["token"], json.dumps(payload)))
    return found


async def closed_discord(
    fake: Fakes, process: Process, presses: list[tuple[str, str]], in_flight: int
) -> Run:
    run = Run(presses=len(presses))
    queue = iter(presses)
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        for token, data in queue:
            started = time.perf_counter()
            answered: asyncio.Future[bytes] = loop.create_future()
            fake.waiting[token] = answered.set_result
            await fake.dispatch("INTERACTION_CREATE", data)
            if b"Recorded" in await answered:
                run.confirmed += 1
            run.latencies_ms.append((time.perf_counter() - started) * 1000)

    cpu0, me0, t0 = process.cpu(), cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    run.seconds = time.perf_counter() - t0
    run.cpu_s, run.driver_cpu_s = process.cpu() - cpu0, cpu_seconds() - me0
    return run


async def _connected(fake: Fakes, process: Process) -> None:
    fake.identified.clear()
    await _until(fake.identified.is_set, process)
    await asyncio.sleep(0.3)  # READY is parsed after it is sent


async def discord_scenarios(sizes: E2ESizes, folder: Path) -> dict[str, Any]:
    runs: dict[str, list[Run]] = {"dlquiz": [], "bare": []}
    users = iter(f"{1178400000000000000 + n}" for n in range(10**8))
    question: dict[str, Any] | None = None
    # One gateway, so one client at a time: each pair runs the bot, then the bare client.
    for pair in range(sizes.pairs):
        order = ["dlquiz", "bare"] if pair % 2 == 0 else ["bare", "dlquiz"]
        for name in order:
            async with fakes() as fake:
                env = _env(
                    DISCORD_TOKEN=DISCORD_TOKEN,
                    DISCORD_API_BASE=fake.discord_api,
                    DLQUIZ_DB=str(folder / "discord.db"),
                )
                args = (
                    ["-m", "bot", "run", "discord"]
                    if name == "dlquiz"
                    else ["-m", "bench.bare_discord"]
                )
                process = Process(f"discord-{name}-{pair}", args, env, folder)
                try:
                    await _connected(fake, process)
                    if question is None:
                        question = await _post_question(fake, process)
                    await closed_discord(
                        fake,
                        process,
                        discord_presses(question, [next(users) for _ in range(sizes.warmup)]),
                        sizes.in_flight,
                    )
                    runs[name].append(
                        await closed_discord(
                            fake,
                            process,
                            discord_presses(question, [next(users) for _ in range(sizes.presses)]),
                            sizes.in_flight,
                        )
                    )
                finally:
                    process.stop()
    bot, bare = runs["dlquiz"], runs["bare"]
    return {
        "apps": {name: _median_run(r) for name, r in runs.items()},
        "cpu_vs_bare": _ratio((b.cpu_us, c.cpu_us) for b, c in zip(bot, bare, strict=True)),
        "throughput_vs_bare": _ratio((b.rate, c.rate) for b, c in zip(bot, bare, strict=True)),
        "recorded_confirmations": sum(r.confirmed for r in bot),
        "presses_per_app": sizes.presses * sizes.pairs,
    }


async def _post_question(fake: Fakes, process: Process) -> dict[str, Any]:
    payload = interaction(_payload("discord", "slash_command"), "1178331431546863616", admin=True)
    payload["data"]["options"] = [{"name": "post", "type": 1, "options": []}]
    await fake.dispatch("INTERACTION_CREATE", json.dumps(payload))
    await _until(lambda: any(_discord_buttons(m) for m in fake.discord_posts), process)
    return next(m for m in fake.discord_posts if _discord_buttons(m))


def _discord_buttons(message: dict[str, Any]) -> bool:
    return "dlq:a:" in json.dumps(message.get("components") or [])


# --- the whole -----------------------------------------------------------------------------------


PLATFORMS = ("slack", "discord")


def run(sizes: E2ESizes, folder: Path, *, platforms: tuple[str, ...] = PLATFORMS) -> dict[str, Any]:
    """The end-to-end scenarios of `platforms` (every one by default); a JSON-ready dict."""
    slack = asyncio.run(slack_scenarios(sizes, folder)) if "slack" in platforms else None
    discord = asyncio.run(discord_scenarios(sizes, folder)) if "discord" in platforms else None
    return {
        "sizes": asdict(sizes),
        "slack": slack,
        "discord": discord,
        "targets": targets(slack, discord),
        "yardsticks": yardsticks(slack) if slack is not None else [],
    }


def targets(slack: dict[str, Any] | None, discord: dict[str, Any] | None) -> list[dict[str, Any]]:
    checks = []
    if slack is not None:
        opened = slack["open_loop"]["dlquiz"]
        checks += [
            (
                "Slack throughput vs bare ack+confirm",
                slack["throughput_vs_bare_confirm"],
                ">=",
                0.85,
            ),
            ("Slack CPU per press vs bare ack+confirm", slack["cpu_vs_bare_confirm"], "<=", 1.3),
            (
                "Slack open loop reached (share of target rate)",
                round(opened["reached_per_s"] / opened["target_per_s"], 3),
                ">=",
                0.97,
            ),
            ("Slack open loop p99 ms", opened["p99_ms"], "<=", 100.0),
        ]
    if discord is not None:
        checks.append(("Discord CPU per press vs bare client", discord["cpu_vs_bare"], "<=", 1.25))
    return [
        {
            "name": n,
            "value": v,
            "target": f"{op} {t}",
            "met": bool(v >= t if op == ">=" else v <= t),
        }
        for n, v, op, t in checks
    ]


def yardsticks(slack: dict[str, Any]) -> list[dict[str, Any]]:
    """The open-loop targets applied to the bare ack+confirm app in the same run: where it
    misses them too, the machine or the driver, not dlquiz, set the limit of that run."""
    bare = slack["open_loop"]["bare_confirm"]
    checks = [
        (
            "bare ack+confirm open loop reached (share of target rate)",
            round(bare["reached_per_s"] / bare["target_per_s"], 3),
            ">=",
            0.97,
        ),
        ("bare ack+confirm open loop p99 ms", bare["p99_ms"], "<=", 100.0),
    ]
    return [
        {
            "name": n,
            "value": v,
            "target": f"{op} {t}",
            "met": bool(v >= t if op == ">=" else v <= t),
        }
        for n, v, op, t in checks
    ]


def table(result: dict[str, Any]) -> str:
    slack, discord = result["slack"], result["discord"]
    lines = [
        f"End to end ({result['sizes']['presses']:,} presses per run, "
        f"{result['sizes']['in_flight']} in flight, "
        f"{result['sizes']['pairs']} paired runs; medians)",
        "| app | presses/s | CPU µs/press | p50 ms | p99 ms | driver CPU share |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for platform, data in (("Slack", slack), ("Discord", discord)):
        for name, s in data["apps"].items() if data is not None else ():
            lines.append(
                f"| {platform} {name} | {s['presses_per_s']:,.0f} | "
                f"{s['cpu_us_per_press']:,.0f} | {s['p50_ms']:.1f} | "
                f"{s['p99_ms']:.1f} | {s['driver_cpu_share']:.2f} |"
            )
    if slack is not None:
        lines.append("")
        lines.append(
            f"| open loop ({result['sizes']['open_seconds']:g} s, median of "
            f"{result['sizes']['pairs']}) | target/s | sent/s | reached/s | overall/s | p50 ms "
            "| p99 ms | failed | CPU µs/press | app CPU share | driver start lag p99 ms"
            " | connections |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, o in slack["open_loop"].items() if slack is not None else ():
        lines.append(
            f"| Slack {name} | {o['target_per_s']:,} | {o['offered_per_s']:,.0f} | "
            f"{o['reached_per_s']:,.0f} | {o['overall_per_s']:,.0f} | {o['p50_ms']:.1f} | "
            f"{o['p99_ms']:.1f} | "
            f"{o['failed']} | {o['cpu_us_per_press']:,.0f} | {o['app_cpu_share']:.2f} | "
            f"{o['driver_start_lag_p99_ms']:.1f} | {o['connections']:,} |"
        )
    if slack is not None:
        check = slack["driver_check"]
        lines.append("")
        lines.append(
            "Driver check (bare ack+confirm; confirmations to a canned sink in its own process"
            f" vs the routed fake in the driver): throughput {check['throughput_lean_vs_routed']}x,"
            f" app CPU per press {check['cpu_lean_vs_routed']}x; driver CPU per press"
            f" {check['driver_cpu_us_routed']:.0f} -> {check['driver_cpu_us_lean']:.0f} µs"
            f" (+ {check['sink_process_cpu_us_lean']:.0f} µs in the sink process)"
        )
    lines.append("")
    lines.append("| target | value | wanted | met |")
    lines.append("|---|---:|---|---|")
    for t in result["targets"]:
        lines.append(
            f"| {t['name']} | {t['value']} | {t['target']} | {'yes' if t['met'] else 'MISSED'} |"
        )
    for t in result.get("yardsticks", []):
        lines.append(
            f"| yardstick: {t['name']} | {t['value']} | {t['target']} | "
            f"{'yes' if t['met'] else 'no'} |"
        )
    return "\n".join(lines)
