"""A local fake of Discord: the REST routes discord.py calls, and a minimal gateway.

It records every request in order, so a test can wait for one (`wait_for`) and read what the
bot sent. Responses are built by hand with `Content-Type: application/json` exactly, because
discord.py parses a body as JSON only then. Knobs: `hold_channel_posts()` makes channel message
posts wait for a test's go-ahead, `fail_channel()` makes a channel answer 403 or 404, and a
token other than `TOKEN` is refused with 401.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from itertools import count
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "fake-bot-token.for-tests.only"  # shaped as a bot token: three dotted parts
APP_ID = "1302745164120801311"
API_PREFIX = "/api/v10"
WAIT_LIMIT = 5.0  # a guard against a broken handler, never a way to wait for something

# Components v2, as Discord takes them: the message flag, the component types, the limits.
IS_COMPONENTS_V2 = 1 << 15
ACTION_ROW, BUTTON, SECTION, TEXT_DISPLAY, MEDIA_GALLERY, SEPARATOR, CONTAINER = (
    1,
    2,
    9,
    10,
    12,
    14,
    17,
)
V2_ONLY_TYPES = {SECTION, TEXT_DISPLAY, 11, MEDIA_GALLERY, 13, SEPARATOR, CONTAINER}
V2_COMPONENT_LIMIT = 40
EDITABLE_FLAGS = (1 << 2) | IS_COMPONENTS_V2  # SUPPRESS_EMBEDS, and v2 (one way)
V2_TEXT_LIMIT = 4000
CUSTOM_ID_LIMIT = 100
BUTTONS_PER_ROW = 5

BOT_USER = {
    "id": APP_ID,
    "username": "dlquiz",
    "discriminator": "4127",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "public_flags": 524288,
    "flags": 524288,
    "verified": True,
    "mfa_enabled": False,
}


@dataclass
class Request:
    """One request the bot made; `path` is relative to the API base (or `WS` for the gateway)."""

    seq: int
    method: str
    path: str
    query: dict[str, str]
    body: Any
    # Files sent as multipart/form-data: form field name -> (file name, content)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def line(self) -> str:
        query = "?" + "&".join(f"{k}={v}" for k, v in self.query.items()) if self.query else ""
        return f"{self.method} {self.path}{query}"


@dataclass
class Gateway:
    ws: web.WebSocketResponse
    zlib_stream: Any
    seq: count[int] = field(default_factory=lambda: count(1))

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        if self.zlib_stream is None:
            await self.ws.send_str(data.decode())
        else:
            await self.ws.send_bytes(
                self.zlib_stream.compress(data) + self.zlib_stream.flush(zlib.Z_SYNC_FLUSH)
            )

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        await self.send({"op": 0, "s": next(self.seq), "t": event, "d": data})


class FakeDiscord:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.originals: dict[str, dict[str, Any]] = {}  # interaction token -> its message
        self.channel_of_token: dict[str, str] = {}
        self.pressed: dict[str, str] = {}  # interaction token -> the id of the message pressed
        self.failing: dict[str, tuple[int, int, str]] = {}
        # channel -> the answers of its next message posts: (HTTP status, whether Discord kept
        # the message anyway, as when a 500 comes after the write)
        self.post_faults: dict[str, list[tuple[int, bool]]] = {}
        self.nonces: dict[str, str] = {}  # nonce -> message id, as Discord keeps for a while
        self.gateway: Gateway | None = None  # the latest connection
        self.gateways: dict[int, Gateway] = {}  # shard id -> its connection
        self.identifies: list[tuple[float, int, int]] = []  # (monotonic time, shard, count)
        self.shard_count = 1  # what `GET /gateway/bot` recommends
        self.max_concurrency = 1  # logins allowed per 5 s, per bucket `shard % max_concurrency`
        self.attachments: dict[str, bytes] = {}  # attachment id -> the uploaded file
        self.dm_channels: dict[str, str] = {}  # DM channel id -> its member's user id
        self.closed_dms: set[str] = set()  # members whose DMs refuse the bot (error 50007)
        self.files: dict[str, bytes] = {}  # attachments members uploaded, served at /files/NAME
        self.threads: dict[str, dict[str, Any]] = {}  # message id -> the thread opened on it
        self.thread_faults: dict[str, tuple[int, int, str]] = {}  # channel -> thread refusal
        self._held: asyncio.Event | None = None
        self._changed = asyncio.Condition()
        self._seq = count(1)
        self._ids = count(1303100000000000000)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._held is not None:
            self._held.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- knobs --------------------------------------------------------------------------------

    def hold_channel_posts(self) -> asyncio.Event:
        """Channel message posts are recorded on arrival but answered only once the event is set."""
        self._held = asyncio.Event()
        return self._held

    def fail_channel(self, channel_id: str, *, status: int = 403) -> None:
        if status == 403:
            self.failing[channel_id] = (403, 50013, "Missing Permissions")
        else:
            self.failing[channel_id] = (404, 10003, "Unknown Channel")

    def refuse_threads(self, channel_id: str) -> None:
        """Threads in the channel are refused as when the bot lacks Create Public Threads."""
        self.thread_faults[channel_id] = (403, 50013, "Missing Permissions")

    # --- waiting and reading ------------------------------------------------------------------

    async def wait_for(self, match: Callable[[Request], bool], *, after: int = 0) -> Request:
        """The first request after sequence number `after` that matches, waiting for it."""
        async with asyncio.timeout(WAIT_LIMIT), self._changed:
            while True:
                for request in self.requests:
                    if request.seq > after and match(request):
                        return request
                await self._changed.wait()

    def lines(self, *, after: int = 0) -> list[str]:
        return [r.line for r in self.requests if r.seq > after]

    @property
    def last_seq(self) -> int:
        return self.requests[-1].seq if self.requests else 0

    async def _record(self, request: web.Request, path: str) -> Request:
        raw = await request.read()
        body = json.loads(raw) if raw and request.content_type == "application/json" else None
        files: dict[str, tuple[str, bytes]] = {}
        if raw and request.content_type == "multipart/form-data":
            body, files = _multipart(request.headers["Content-Type"], raw)
            self._attach(body, files)
        entry = Request(next(self._seq), request.method, path, dict(request.query), body, files)
        async with self._changed:
            self.requests.append(entry)
            self._changed.notify_all()
        return entry

    def _attach(self, body: Any, files: dict[str, tuple[str, bytes]]) -> None:
        """Turn the `attachments` a body declares ({id: n, filename}) into what Discord shows,
        keeping each file's bytes; the file itself is the form field `files[n]`."""
        if not isinstance(body, dict):
            return
        holder = body.get("data") if isinstance(body.get("data"), dict) else body
        declared = holder.get("attachments") if isinstance(holder, dict) else None
        if not declared:
            return
        shown = []
        for item in declared:
            upload = files.get(f"files[{item.get('id')}]")
            if upload is None:
                shown.append(item)  # an attachment kept from before, by its id
                continue
            attachment_id = str(next(self._ids))
            name, data = upload
            self.attachments[attachment_id] = data
            shown.append(
                {
                    "id": attachment_id,
                    "filename": item.get("filename") or name,
                    "size": len(data),
                    "url": f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{name}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{name}",
                    "content_type": "image/png" if data.startswith(b"\x89PNG") else None,
                }
            )
        holder["attachments"] = shown

    # --- REST ---------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        entry = await self._record(request, path)
        parts = path.strip("/").split("/")
        if parts[0] in ("interactions", "webhooks"):
            return await self._interaction_route(entry, parts)
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        if path == "/users/@me":
            return _json(BOT_USER)
        if path == "/oauth2/applications/@me":
            return _json(_application())
        if path == "/gateway/bot":
            limits = {"total": 1000, "remaining": 999, "reset_after": 0}
            limits["max_concurrency"] = self.max_concurrency
            return _json(
                {"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limits}
            )
        if parts[0] == "applications" and parts[-1] == "commands" and entry.method == "PUT":
            return _json([_registered(c, parts) for c in entry.body])
        if path == "/users/@me/channels" and entry.method == "POST":
            return self._open_dm(str(entry.body["recipient_id"]))
        if parts[0] == "channels" and len(parts) >= 3 and parts[2] == "messages":
            if self.dm_channels.get(parts[1]) in self.closed_dms:
                # Discord opens the channel, then refuses the message itself.
                message = "Cannot send messages to this user"
                return _json({"message": message, "code": 50007}, status=403)
            return await self._channel_messages(entry, parts)
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _open_dm(self, user_id: str) -> web.Response:
        channel_id = next((c for c, u in self.dm_channels.items() if u == user_id), None)
        if channel_id is None:
            channel_id = str(next(self._ids))
            self.dm_channels[channel_id] = user_id
        recipient = {"id": user_id, "username": "member", "discriminator": "0", "avatar": None}
        return _json({"id": channel_id, "type": 1, "recipients": [recipient]})

    async def _channel_messages(self, entry: Request, parts: list[str]) -> web.Response:
        channel_id = parts[1]
        if entry.method == "POST" and self._held is not None:
            await self._held.wait()
        if channel_id in self.failing:
            status, code, message = self.failing[channel_id]
            return _json({"message": message, "code": code}, status=status)
        if entry.method == "POST" and len(parts) == 3:
            return self._post_message(channel_id, entry.body or {})
        if entry.method == "POST" and len(parts) == 5 and parts[4] == "threads":
            return self._start_thread(channel_id, parts[3], entry.body or {})
        if entry.method == "PATCH" and len(parts) == 4:
            stored = self.messages.get(parts[3])
            if stored is None:
                return _json({"message": "Unknown Message", "code": 10008}, status=404)
            return self._edit(stored, entry.body)
        return _json({"message": "405: Method Not Allowed", "code": 0}, status=405)

    def file_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/files/{name}"

    async def _file(self, request: web.Request) -> web.Response:
        """Discord's CDN, for attachments a member uploaded with a slash command."""
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    def _post_message(self, channel_id: str, body: dict[str, Any]) -> web.Response:
        nonce = body.get("nonce")
        if nonce and body.get("enforce_nonce") and nonce in self.nonces:
            # Discord answers a nonce it has seen with the message it made then.
            return _json(self.messages[self.nonces[nonce]])
        refused = _refusal(message_fields(body))
        if refused is not None:
            return refused
        faults = self.post_faults.get(channel_id)
        if faults:
            status, kept = faults.pop(0)
            if kept:
                message = self._new_message(channel_id, body)
                if nonce:
                    self.nonces[nonce] = message["id"]
            if status == 429:
                # discord.py takes a 429 without Via for a Cloudflare ban.
                return web.Response(
                    body=json.dumps(
                        {"message": "rate limited", "retry_after": 0.05, "global": False}
                    ).encode(),
                    status=429,
                    headers={"Content-Type": "application/json", "Via": "1.1 google"},
                )
            return _json({"message": f"{status}: Server Error", "code": 0}, status=status)
        message = self._new_message(channel_id, body)
        if nonce:
            self.nonces[nonce] = message["id"]
        return _json(message)

    async def _interaction_route(self, entry: Request, parts: list[str]) -> web.Response:
        if parts[0] == "interactions":  # POST /interactions/{id}/{token}/callback
            interaction_id, token = parts[1], parts[2]
            kind = entry.body["type"]
            data = entry.body.get("data") or {}
            ephemeral = bool(data.get("flags", 0) & 64)
            reply: dict[str, Any] = {"id": interaction_id, "type": 2}
            if kind == 7 and token in self.pressed:
                # The pressed message is replaced: Discord checks the message it becomes.
                stored = self.messages[self.pressed[token]]
                edited = self._edit(stored, data)
                if edited.status != 200:
                    return edited
                return _json({"interaction": reply})
            refused = _refusal(message_fields(data)) if kind == 4 else None
            if refused is not None:
                return refused
            if kind in (4, 5):
                message = self._new_message(self.channel_of_token.get(token, "0"), data)
                self.originals[token] = message
                reply.update(
                    response_message_id=message["id"],
                    response_message_loading=kind == 5,
                    response_message_ephemeral=ephemeral,
                )
            return _json({"interaction": reply})
        token = parts[2]  # /webhooks/{app}/{token}[/messages/@original]
        if entry.method == "PATCH" and parts[-1] == "@original":
            if token in self.pressed and token not in self.originals:
                # After a deferred update (type 6) the original is the pressed message.
                return self._edit(self.messages[self.pressed[token]], entry.body)
            original = self.originals.setdefault(
                token, self._new_message(self.channel_of_token.get(token, "0"), {})
            )
            return self._edit(original, entry.body)
        if entry.method == "POST" and len(parts) == 3:
            refused = _refusal(message_fields(entry.body))
            if refused is not None:
                return refused
            return _json(self._new_message(self.channel_of_token.get(token, "0"), entry.body))
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _start_thread(self, channel_id: str, message_id: str, body: dict[str, Any]) -> web.Response:
        if channel_id in self.thread_faults:
            status, code, message = self.thread_faults[channel_id]
            return _json({"message": message, "code": code}, status=status)
        if message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if message_id in self.threads:
            text = "A thread has already been created for this message"
            return _json({"message": text, "code": 160004}, status=400)
        # Discord gives a thread started from a message that message's id.
        thread = {
            "id": message_id,
            "type": 11,
            "parent_id": channel_id,
            "owner_id": BOT_USER["id"],
            "name": body.get("name", ""),
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": "2026-03-02T09:00:00.000000+00:00",
                "locked": False,
            },
            "message_count": 0,
            "member_count": 1,
        }
        self.threads[message_id] = thread
        return _json(thread)

    def _new_message(self, channel_id: str, body: dict[str, Any] | None) -> dict[str, Any]:
        body = body or {}
        message_id = str(next(self._ids))
        message = {
            "id": message_id,
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
            "type": 19 if body.get("message_reference") else 0,
            "flags": body.get("flags", 0),
        }
        message.update(message_fields(body))
        _number(message.get("components") or [])
        message["mention_roles"] = _pinged_roles(message, body)
        self.messages[message_id] = message
        return message

    def _edit(self, stored: dict[str, Any], body: dict[str, Any] | None) -> web.Response:
        """Apply an edit as Discord does: the message it would become must be valid, and a
        message sent as components v2 stays one."""
        fields = message_fields(body)
        flags = stored.get("flags", 0)
        was_v2 = bool(flags & IS_COMPONENTS_V2)
        if "flags" in fields:
            if was_v2 and not fields["flags"] & IS_COMPONENTS_V2:
                return _invalid(
                    "flags", "CANNOT_REMOVE_COMPONENTS_V2_FLAG", "The flag cannot be removed"
                )
            # An edit changes only the flags Discord lets it change; the rest (ephemeral) stay.
            fields["flags"] = (flags & ~EDITABLE_FLAGS) | (fields["flags"] & EDITABLE_FLAGS)
        refused = _refusal({**stored, **fields})
        if refused is not None:
            return refused
        stored.update(fields)
        _number(stored.get("components") or [])
        return _json(stored)

    # --- gateway ------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        await self._record(request, "/gateway")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        stream = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        gateway = Gateway(ws, stream)
        self.gateway = gateway
        await gateway.send({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            entry = Request(next(self._seq), "WS", f"op {payload['op']}", {}, payload.get("d"))
            async with self._changed:
                self.requests.append(entry)
                self._changed.notify_all()
            if payload["op"] == 1:
                await gateway.send({"op": 11, "d": None, "s": None, "t": None})
            elif payload["op"] == 2:
                shard, total = payload["d"].get("shard", [0, 1])
                self.identifies.append((time.monotonic(), shard, total))
                self.gateways[shard] = gateway
                await gateway.dispatch("READY", self._ready(payload["d"]))
        return ws

    def gateway_of(self, guild_id: int) -> Gateway:
        """The connection of the shard the guild is on, as Discord routes its events."""
        count = next((total for _, _, total in reversed(self.identifies)), 1)
        return self.gateways[(guild_id >> 22) % count]

    def _ready(self, identify: dict[str, Any]) -> dict[str, Any]:
        return {
            "v": 10,
            "user": BOT_USER,
            "guilds": [],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "shard": identify.get("shard", [0, 1]),
            "application": {"id": APP_ID, "flags": 0},
        }


def _pinged_roles(message: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """The roles mentioned in the message's text that allowed_mentions lets ping, as Discord
    decides: the content, or in a v2 message its text displays (a mention in an embed never
    pings)."""
    text = message.get("content") or ""
    if message.get("flags", 0) & IS_COMPONENTS_V2:
        text = "\n".join(texts(message))
    allowed = body.get("allowed_mentions")
    named = re.findall(r"<@&(\d+)>", text)
    if allowed is None:
        return named
    if "roles" in allowed.get("parse", []):
        return named
    return [r for r in named if r in {str(x) for x in allowed.get("roles", [])}]


def walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component, nested ones included, in order."""
    found = []
    for component in components:
        found.append(component)
        found += walk(component.get("components") or [])
        if isinstance(component.get("accessory"), dict):
            found.append(component["accessory"])
    return found


def texts(message: dict[str, Any]) -> list[str]:
    """The text displays of a message, in order."""
    return [
        str(c.get("content", ""))
        for c in walk(message.get("components") or [])
        if c.get("type") == TEXT_DISPLAY
    ]


def _number(components: list[dict[str, Any]]) -> None:
    """Give each component the id Discord fills in when none was sent."""
    everything = walk(components)
    taken = {c["id"] for c in everything if c.get("id")}
    fresh = (n for n in count(1) if n not in taken)
    for component in everything:
        if not component.get("id"):
            component["id"] = next(fresh)


def _refusal(message: dict[str, Any]) -> web.Response | None:
    """Discord's 400 for a message it would not show, or None when the message is fine."""
    components = message.get("components") or []
    everything = walk(components)
    for component in everything:
        custom_id = component.get("custom_id")
        if custom_id is not None and len(custom_id) > CUSTOM_ID_LIMIT:
            return _invalid("components", "BASE_TYPE_MAX_LENGTH", "custom_id is too long")
        row = component.get("components") or []
        if component.get("type") == ACTION_ROW and len(row) > BUTTONS_PER_ROW:
            return _invalid("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer")
    if not message.get("flags", 0) & IS_COMPONENTS_V2:
        if any(c.get("type") in V2_ONLY_TYPES for c in everything):
            return _invalid(
                "components", "COMPONENT_TYPE_INVALID", "These components need IS_COMPONENTS_V2"
            )
        return None
    for legacy in ("content", "embeds", "poll", "sticker_ids"):
        if message.get(legacy):
            return _invalid(
                legacy,
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                f"The '{legacy}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
            )
    if len(everything) > V2_COMPONENT_LIMIT:
        return _invalid(
            "components",
            "MESSAGE_COMPONENTS_TOO_MANY",
            f"A message may have at most {V2_COMPONENT_LIMIT} components",
        )
    if sum(len(t) for t in texts(message)) > V2_TEXT_LIMIT:
        return _invalid(
            "components",
            "MESSAGE_TEXT_DISPLAYS_TOO_LONG",
            f"The text of a message's components may be at most {V2_TEXT_LIMIT} characters",
        )
    return None


def _invalid(field: str, code: str, text: str) -> web.Response:
    errors = {field: {"_errors": [{"code": code, "message": text}]}}
    return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, status=400)


def _json(data: Any, *, status: int = 200) -> web.Response:
    # Built by hand: web.json_response adds "; charset=utf-8", which discord.py does not parse.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )


def message_fields(body: dict[str, Any] | None) -> dict[str, Any]:
    body = body or {}
    keep = ("content", "embeds", "components", "message_reference", "flags", "nonce", "attachments")
    # A copy: what the fake stores (and numbers) is not the request it recorded.
    fields = {k: copy.deepcopy(body[k]) for k in keep if k in body}
    if fields.get("content") is None and "content" in fields:
        fields["content"] = ""
    return fields


def _multipart(content_type: str, raw: bytes) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The JSON of `payload_json` and the files of a multipart/form-data body, as Discord reads
    them; a part that is neither is refused by failing the test that sent it."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    assert isinstance(message, EmailMessage)
    assert message.is_multipart()
    body: Any = None
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        assert isinstance(name, str), part
        assert isinstance(data, bytes), part
        if name == "payload_json":
            body = json.loads(data)
        else:
            assert name.startswith("files["), f"unexpected form field {name}"
            files[name] = (part.get_filename() or "", data)
    return body, files


def _application() -> dict[str, Any]:
    return {
        "id": APP_ID,
        "name": "dlquiz",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": {**BOT_USER, "id": "1178324519023411221", "username": "owner", "bot": False},
        "verify_key": "0" * 64,
        "flags": 0,
    }


def _registered(command: dict[str, Any], parts: list[str]) -> dict[str, Any]:
    registered = {
        "id": "1302751032201416724",
        "application_id": APP_ID,
        "version": "1302751032201416725",
        "default_member_permissions": None,
        "type": 1,
        "nsfw": False,
        **command,
    }
    if "guilds" in parts:
        registered["guild_id"] = parts[parts.index("guilds") + 1]
    return registered
