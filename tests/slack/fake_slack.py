"""A local fake of the Slack platform, on 127.0.0.1: the Web API, response_urls, Socket Mode.

- `POST|GET /api/{method}` answers the Web API calls the bot makes and records each one.
- `POST /response/{key}` is the sink behind the `response_url`s the tests put in payloads.
- `POST /upload/{file_id}` takes the bytes of a file, at the URL `files.getUploadURLExternal`
  gave; `files.completeUploadExternal` then shares it (`shared`).
- `GET /link` is the Socket Mode WebSocket that `apps.connections.open` points to: the test
  sends envelopes through it and reads the app's acknowledgements.

Tests wait on what was recorded with `wait_for`, never with sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

BOT_USER = "UDLQUIZBOT"
TEAM = "T0TEAM001"
WAIT = 10.0  # seconds before a wait_for gives up: a failure, never a pacing device


@dataclass
class Call:
    """One Web API call as the fake saw it."""

    method: str
    args: dict[str, Any]
    token: str | None
    done: bool = False
    held: bool = False  # carried out, its answer held back (see FakeSlack.holds_after)
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class PublishedHome:
    """A Home tab view published for one member of one workspace."""

    team: str
    user_id: str
    view: dict[str, Any]

    @property
    def text(self) -> str:
        return all_text(self.view)

    def button(self, action_id: str) -> dict[str, Any]:
        """The button of the view with this action id, with the block id it sits in."""
        for block in self.view["blocks"]:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == action_id:
                    return {**element, "block_id": block.get("block_id")}
        raise AssertionError(f"no button {action_id} in the Home view")


# What Slack refuses a Home view for (docs: "Views", "Block Kit reference").
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10


def home_problem(view: object) -> str | None:
    """Why Slack would refuse `view` as a Home tab (None when it would take it)."""
    if not isinstance(view, dict) or view.get("type") != "home":
        return "the view is not of type home"
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return "the view has no blocks"
    if len(blocks) > MAX_VIEW_BLOCKS:
        return f"{len(blocks)} blocks, more than {MAX_VIEW_BLOCKS}"
    for block in blocks:
        kind = block.get("type")
        if kind == "header" and len(block["text"]["text"]) > MAX_HEADER_TEXT:
            return "a header text is too long"
        if kind == "section":
            if "text" in block and len(block["text"]["text"]) > MAX_SECTION_TEXT:
                return "a section text is too long"
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS or any(len(f["text"]) > MAX_FIELD_TEXT for f in fields):
                return "a section has too many fields or a field is too long"
        if kind == "context" and len(block["elements"]) > MAX_CONTEXT_ELEMENTS:
            return "a context has too many elements"
        if kind == "actions" and len(block["elements"]) > 25:
            return "an actions block has too many elements"
    return None


@dataclass
class SharedFile:
    """A file uploaded and shared, as Slack keeps it."""

    id: str
    filename: str
    title: str
    channel: str
    content: bytes


@dataclass
class Reply:
    """One message sent to a response_url."""

    key: str
    body: dict[str, Any]

    @property
    def text(self) -> str:
        return all_text(self.body)


def all_text(message: dict[str, Any]) -> str:
    """Every text of a message and its blocks, joined: what a reader would see."""
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks") or []:
        for text in (block.get("text"), *block.get("elements", []), *block.get("fields", [])):
            if isinstance(text, dict) and isinstance(text.get("text"), str):
                parts.append(text["text"])
    return "\n".join(parts)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: list[dict[str, Any]] = []  # every message posted, as Slack keeps them
        self.ephemerals: list[dict[str, Any]] = []  # chat.postEphemeral: (channel, user, text)
        self.views: dict[str, dict[str, Any]] = {}  # view id -> the modal as opened or updated
        self.homes: list[PublishedHome] = []  # every Home view published, in order
        self.replies: list[Reply] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.edited: dict[str, dict[str, Any]] = {}  # ts -> what chat.update made it show
        self.errors: dict[str, str] = {}  # method -> error code it answers with
        self.errors_once: dict[str, list[str]] = {}  # method -> codes for its next calls
        self.rate_limits: dict[str, int] = {}  # method -> how many 429s to send first
        # method -> (status, content type, body): a proxy's or an outage's page instead of Slack
        self.pages: dict[str, tuple[int, str, str]] = {}
        self.gates: dict[str, asyncio.Event] = {}  # method -> held until the event is set
        # method -> (which calls, event): such a call is carried out, then its answer is held
        # until the event is set (Slack accepted the message; the bot has not heard yet).
        self.holds_after: dict[str, tuple[Callable[[dict[str, Any]], bool], asyncio.Event]] = {}
        self.acks: list[dict[str, Any]] = []  # Socket Mode acknowledgements received
        self.uploads: dict[str, tuple[str, bytes | None]] = {}  # file id -> (name, bytes sent)
        self.shared: list[SharedFile] = []
        # Many workspaces: bot token -> team id, and OAuth code -> (team id, bot token) that
        # `oauth.v2.access` hands out once. With any token here, calls with others are refused.
        self.tokens: dict[str, str] = {}
        self.codes: dict[str, tuple[str, str]] = {}
        self.org_codes: dict[str, tuple[str, str]] = {}  # code -> (enterprise id, bot token)
        self.oauth_clients: dict[str, str] = {}  # client id -> secret oauth.v2.access accepts
        self._socket: web.WebSocketResponse | None = None
        self._changed = asyncio.Condition()
        self._next_ts = 0
        self._events = 0
        self._server: TestServer | None = None

    # --- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._link)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._server is not None:
            await self._server.close()

    def url(self, path: str) -> str:
        assert self._server is not None
        return str(self._server.make_url(path))

    @property
    def api_url(self) -> str:
        return self.url("/api/")

    def response_url(self, key: str) -> str:
        return self.url(f"/response/{key}")

    # --- what was recorded ----------------------------------------------------------------

    def api(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def replies_to(self, key: str) -> list[Reply]:
        return [r for r in self.replies if r.key == key]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Return once `predicate` holds; fail the test if it does not within WAIT seconds."""
        async with asyncio.timeout(WAIT), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- the Web API ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(await request.post())
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else args.pop("token", None)
        call = Call(method=method, args=args, token=token)
        self.calls.append(call)
        await self._notify()
        if self.rate_limits.get(method):
            self.rate_limits[method] -= 1
            call.done = True
            call.response = {"ok": False, "error": "ratelimited"}
            return web.json_response(call.response, status=429, headers={"Retry-After": "0"})
        if method in self.pages:
            status, content_type, page = self.pages[method]
            call.done = True
            return web.Response(status=status, body=page.encode(), content_type=content_type)
        gate = self.gates.get(method)
        if gate is not None:
            await gate.wait()
        call.response = self._answer(method, args, request, token or "")
        held = self.holds_after.get(method)
        if held is not None and held[0](args):
            call.held = True
            await self._notify()
            await held[1].wait()
        call.done = True
        await self._notify()
        return web.json_response(call.response)

    def add_workspace(self, team: str, *, code: str) -> str:
        """A workspace that will install the app with `code`; its bot token."""
        token = f"xoxb-{team}-{code}"
        self.codes[code] = (team, token)
        return token

    def add_organization(self, enterprise: str, *, code: str) -> str:
        """An Enterprise Grid organization whose admin installs the app org-wide with `code`
        (no workspace in the answer); its bot token."""
        token = f"xoxb-{enterprise}-{code}"
        self.org_codes[code] = (enterprise, token)
        return token

    def team_of(self, call: Call) -> str | None:
        return self.tokens.get(call.token or "")

    def _oauth(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        basic = request.headers.get("Authorization", "")
        try:
            client_id, secret = (
                base64.b64decode(basic.removeprefix("Basic ")).decode().split(":", 1)
            )
        except ValueError:
            client_id, secret = str(args.get("client_id")), str(args.get("client_secret"))
        if self.oauth_clients.get(client_id) != secret:
            return {"ok": False, "error": "invalid_client_id"}
        org = self.org_codes.pop(str(args.get("code")), None)
        if org is not None:
            enterprise, token = org
            self.tokens[token] = enterprise
            return {
                "ok": True,
                "app_id": "A0DLQUIZ",
                "authed_user": {"id": "U0INSTALL"},
                "scope": "commands,chat:write",
                "token_type": "bot",
                "access_token": token,
                "bot_user_id": BOT_USER,
                "team": None,
                "enterprise": {"id": enterprise, "name": f"Org {enterprise}"},
                "is_enterprise_install": True,
            }
        found = self.codes.pop(str(args.get("code")), None)  # a code works once
        if found is None:
            return {"ok": False, "error": "invalid_code"}
        team, token = found
        self.tokens[token] = team
        return {
            "ok": True,
            "app_id": "A0DLQUIZ",
            "authed_user": {"id": "U0INSTALL"},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT_USER,
            "team": {"id": team, "name": f"Team {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _answer(
        self, method: str, args: dict[str, Any], request: web.Request, token: str
    ) -> dict[str, Any]:
        if method == "oauth.v2.access":
            return self._oauth(args, request)
        if self.tokens and token not in self.tokens:
            return {"ok": False, "error": "invalid_auth"}
        if self.errors_once.get(method):
            return {"ok": False, "error": self.errors_once[method].pop(0)}
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Fake Team",
                "user": "dlquiz",
                "team_id": self.tokens.get(token, TEAM),
                "user_id": BOT_USER,
                "bot_id": "BDLQUIZ",
            }
        if method == "chat.postMessage":
            self._next_ts += 1
            ts = f"1772442000.{self._next_ts:06d}"
            message = {"type": "message", "ts": ts, "user": BOT_USER, **args}
            self.messages.append(message)
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}
        if method in ("conversations.history", "conversations.replies"):
            # Newest first, as Slack answers; a reply's thread is its thread_ts.
            found = [
                m
                for m in reversed(self.messages)
                if m.get("channel") == args.get("channel")
                and (method == "conversations.history" or m.get("thread_ts") == args.get("ts"))
            ]
            return {"ok": True, "messages": found[: int(args.get("limit") or 100)]}
        if method == "chat.update":
            # What the message now shows, by its ts (the posted message stays as it was posted).
            self.edited[str(args.get("ts"))] = {
                k: args[k] for k in ("channel", "text", "blocks") if k in args
            }
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://{request.host}/link"}
        if method == "conversations.open":
            users = str(args.get("users", ""))
            if not users or "," in users:
                return {"ok": False, "error": "invalid_users"}
            return {"ok": True, "channel": {"id": f"D{users}"}}
        if method in ("views.open", "views.update"):
            return self._view(method, args)
        if method == "views.publish":
            return self._publish(args, token)
        if method == "chat.postEphemeral":
            if not args.get("channel") or not args.get("user") or not args.get("text"):
                return {"ok": False, "error": "invalid_arguments"}
            self.ephemerals.append(args)
            self._next_ts += 1
            return {"ok": True, "message_ts": f"1772442000.{self._next_ts:06d}"}
        if method == "files.getUploadURLExternal":
            return self._upload_url(args)
        if method == "files.completeUploadExternal":
            return self._complete_upload(args)
        return {"ok": False, "error": "unknown_method"}

    def _view(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """A modal, checked against the limits Slack refuses a view for."""
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if method == "views.open" and not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if method == "views.update" and str(args.get("view_id")) not in self.views:
            return {"ok": False, "error": "not_found"}
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("blocks"):
            return {"ok": False, "error": "invalid_arguments"}
        too_long = (
            len(view["title"]["text"]) > 24
            or len(view.get("private_metadata", "")) > 3000
            or len(view["blocks"]) > 100
            or any(
                len(b["element"].get("initial_value", "")) > b["element"].get("max_length", 3000)
                or b["element"].get("max_length", 3000) > 3000
                for b in view["blocks"]
                if b.get("type") == "input"
            )
        )
        if too_long:
            return {"ok": False, "error": "invalid_arguments"}
        view_id = str(args.get("view_id") or f"V{len(self.views) + 1:08d}")
        self.views[view_id] = {**view, "id": view_id}
        return {"ok": True, "view": self.views[view_id]}

    def _publish(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        """A Home tab view, checked as Slack checks it, kept per workspace and member."""
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        user = args.get("user_id")
        if not isinstance(user, str) or not user:
            return {"ok": False, "error": "invalid_arguments"}
        if home_problem(view) is not None:
            return {"ok": False, "error": "invalid_arguments"}
        self.homes.append(PublishedHome(self.tokens.get(token, TEAM), user, view))
        return {"ok": True, "view": {**view, "id": f"VH{len(self.homes):07d}"}}

    def homes_of(self, user_id: str, *, team: str = TEAM) -> list[PublishedHome]:
        return [h for h in self.homes if h.user_id == user_id and h.team == team]

    # --- the Events API -------------------------------------------------------------------

    def event_request(
        self,
        event: dict[str, Any],
        *,
        secret: str,
        team: str = TEAM,
        event_id: str | None = None,
    ) -> tuple[str, dict[str, str]]:
        """An Events API delivery of `event` as Slack sends it: the `event_callback` body, and
        the headers that sign it with the app's signing secret."""
        self._events += 1
        body = json.dumps(
            {
                "token": "gIkuvaNzQIHg97ATvDxqgjtO",
                "team_id": team,
                "api_app_id": "A0DLQUIZ",
                "type": "event_callback",
                "event_id": event_id or f"Ev{self._events:08d}",
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "team_id": team,
                        "user_id": BOT_USER,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
                "event": event,
            }
        )
        stamp = str(int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
        assert signature is not None
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        return body, headers

    def home_opened(
        self, user_id: str, *, secret: str, team: str = TEAM, tab: str = "home"
    ) -> tuple[str, dict[str, str]]:
        """The `app_home_opened` event of a member opening the app's Home (or Messages) tab;
        the view they see comes along when one was published for them before."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": f"D{user_id}",
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        earlier = self.homes_of(user_id, team=team)
        if tab == "home" and earlier:
            event["view"] = {**earlier[-1].view, "id": f"VH{len(self.homes):07d}"}
        return self.event_request(event, secret=secret, team=team)

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.uploads) + 1:08d}"
        self.uploads[file_id] = (str(args["filename"]), None)
        return {"ok": True, "file_id": file_id, "upload_url": self.url(f"/upload/{file_id}")}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        listed = json.loads(files) if isinstance(files, str) else files
        channel = str(args.get("channel_id") or "")
        done = []
        for item in listed or []:
            name, content = self.uploads.get(item.get("id"), ("", None))
            if content is None:
                return {"ok": False, "error": "file_not_found"}
            shared = SharedFile(item["id"], name, str(item.get("title") or name), channel, content)
            self.shared.append(shared)
            done.append({"id": shared.id, "title": shared.title, "name": shared.filename})
        if not done:
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "files": done}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="unknown upload")
        self.uploads[file_id] = (self.uploads[file_id][0], await request.read())
        await self._notify()
        return web.Response(text=f"OK - {len(self.uploads[file_id][1] or b'')}")

    # --- response_url ---------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        self.replies.append(Reply(key=request.match_info["key"], body=await request.json()))
        await self._notify()
        return web.Response(text="ok")

    # --- Socket Mode ----------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0DLQUIZ"}}
        )
        await self._notify()
        async for frame in socket:
            if frame.type is WSMsgType.TEXT:
                self.acks.append(json.loads(frame.data))
                await self._notify()
        return socket

    async def wait_connected(self) -> None:
        await self.wait_for(lambda: self._socket is not None)

    async def send_envelope(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Send one envelope through the socket and return the app's acknowledgement of it."""
        assert self._socket is not None
        await self._socket.send_json(envelope)
        wanted = envelope["envelope_id"]
        await self.wait_for(lambda: any(a.get("envelope_id") == wanted for a in self.acks))
        return next(a for a in self.acks if a.get("envelope_id") == wanted)
