"""Plays Slack's side of HTTP mode: signed slash commands and button clicks, built from the
recorded payloads in tests/payloads/slack/, sent to the real bolt app.

Each exchange waits until the app's listeners are idle, so what the app answered through the
acknowledgement and through the response_url is complete when the call returns.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from fake_slack import TEAM, FakeSlack, PublishedHome, Reply, all_text
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from adapters.slack.home import HomeTab
from bot.content import Bank
from bot.engine import QuizEngine
from bot.inflight import InFlight
from bot.models import Difficulty, Question, Topic

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "slack"
SECRET = "e5d7a2b3c4f60718293a4b5c6d7e8f90"
CHANNEL = "C0QUIZ001"
FORM = "application/x-www-form-urlencoded"


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded payload."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return copy.deepcopy(data)


class ErrorLog(logging.Handler):
    """Collects ERROR records: bolt only logs a failing listener, so a test must look."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.expected = False

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def nasty_bank() -> Bank:
    """Three questions whose text tries to ping, link and break the layout."""
    questions = (
        Question(
            id="slack-escape-1",
            topic="nasty-text",
            difficulty=Difficulty.EASY,
            prompt="Which of these is <!channel> & <@U0ANA0001> in *bold*?",
            choices=("A & B", "<https://evil.example|click>", "<!here>", "plain"),
            answer=1,
            explanation="Because <!everyone> & friends > all.",
        ),
        Question(
            id="slack-escape-2",
            topic="nasty-text",
            difficulty=Difficulty.MEDIUM,
            prompt="What does a ReLU output for negative inputs?",
            choices=("Zero", "The input", "One"),
            answer=0,
            explanation="max(0, x) is 0 for x < 0.",
        ),
        Question(
            id="slack-escape-3",
            topic="plain-text",
            difficulty=Difficulty.HARD,
            prompt="Which optimiser keeps per-parameter second-moment estimates?",
            choices=("SGD", "Adam", "Plain momentum", "Newton", "None needed"),
            answer=1,
            explanation="Adam keeps running averages of squared gradients.",
        ),
    )
    topics = (Topic("nasty-text", "Nasty <text> & co", 2), Topic("plain-text", "Plain", 1))
    return Bank(questions=questions, topics=topics)


@dataclass(frozen=True)
class User:
    id: str
    name: str
    admin: bool = False

    def profile(self) -> dict[str, Any]:
        """What users.info says about them."""
        return {
            "id": self.id,
            "name": self.name,
            "is_admin": self.admin,
            "is_owner": False,
            "profile": {"display_name": self.name},
        }


ANA = User("U0ANA0001", "ana", admin=True)
BEN = User("U0BEN0001", "ben")
CY = User("U0CY00001", "cy")
# A hostile name: if it is not escaped it pings the channel and mentions Ana.
DEE = User("U0DEE0001", "<!channel> & <@U0ANA0001>")
EVERYONE = (ANA, BEN, CY, DEE)


@dataclass
class Exchange:
    """One request and everything the member saw in answer to it."""

    status: int
    ack: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [all_text(self.ack)] if self.ack else []
        parts += [r.text for r in self.replies]
        return "\n".join(parts)


def signed(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: a v0 HMAC signature of `v0:<timestamp>:<body>`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer buttons of a posted message, with the block id they sit in."""
    found = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            for element in block["elements"]:
                found.append({**element, "block_id": block.get("block_id")})
    return found


class SlackDriver:
    def __init__(
        self,
        http: TestClient,
        fake: FakeSlack,
        *,
        app: AsyncApp,
        engine: QuizEngine,
        inflight: InFlight,
        home: HomeTab | None = None,
    ) -> None:
        self.http = http
        self.app = app
        self.fake = fake
        self.engine = engine
        self.inflight = inflight
        self.home = home
        self._keys = itertools.count(1)

    async def send(
        self,
        body: str,
        *,
        content_type: str = FORM,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """POST a body to /slack/events, signed unless `headers` are given; (status, json)."""
        sent = {"Content-Type": content_type, **(headers if headers is not None else signed(body))}
        async with self.http.post("/slack/events", data=body.encode(), headers=sent) as response:
            text = await response.text()
            status = response.status
        await self.inflight.wait_idle()
        return status, (json.loads(text) if text.startswith("{") else {})

    def command_form(
        self, user: User, text: str, *, channel: str = CHANNEL, team: str = TEAM
    ) -> tuple[str, dict[str, Any]]:
        key = f"cmd{next(self._keys)}"
        form = payload("slash_command")
        form.update(
            team_id=team,
            channel_id=channel,
            user_id=user.id,
            user_name=user.name,
            text=text,
            response_url=self.fake.response_url(key),
        )
        return key, form

    async def command(
        self, user: User, text: str, *, channel: str = CHANNEL, team: str = TEAM
    ) -> Exchange:
        key, form = self.command_form(user, text, channel=channel, team=team)
        status, ack = await self.send(urlencode(form))
        return Exchange(status, ack, self.fake.replies_to(key))

    def press_payload(
        self,
        user: User,
        message: dict[str, Any],
        choice: int,
        *,
        channel: str = CHANNEL,
        team: str = TEAM,
    ) -> tuple[str, dict[str, Any]]:
        key = f"press{next(self._keys)}"
        button = buttons_of(message)[choice]
        body = payload("block_actions")
        body["user"].update(id=user.id, username=user.name, name=user.name, team_id=team)
        body["team"]["id"] = team
        body["channel"]["id"] = channel
        body["container"].update(channel_id=channel, message_ts=message.get("ts", ""))
        body["message"].update(
            ts=message.get("ts", ""), text=message.get("text"), blocks=message.get("blocks")
        )
        body["response_url"] = self.fake.response_url(key)
        body["actions"] = [
            {
                "action_id": button["action_id"],
                "block_id": button["block_id"],
                "text": button["text"],
                "value": button["value"],
                "type": "button",
                "action_ts": "1772442010.123456",
            }
        ]
        return key, body

    async def press(
        self,
        user: User,
        message: dict[str, Any],
        choice: int,
        *,
        channel: str = CHANNEL,
        team: str = TEAM,
    ) -> Exchange:
        key, body = self.press_payload(user, message, choice, channel=channel, team=team)
        return await self.send_interaction(key, body)

    async def send_interaction(self, key: str, body: dict[str, Any]) -> Exchange:
        status, ack = await self.send(urlencode({"payload": json.dumps(body)}))
        return Exchange(status, ack, self.fake.replies_to(key))

    async def submit_view(
        self, user: User, view: dict[str, Any], values: dict[str, str | None], *, team: str = TEAM
    ) -> tuple[int, dict[str, Any]]:
        """Submit an open modal with `values` typed (block id -> text); (status, the ack's JSON).
        Slack sends an empty optional input as None."""
        body = {
            "type": "view_submission",
            "team": {"id": team, "domain": "deeplearners"},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": team},
            "api_app_id": "A0DLQUIZ",
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "trigger_id": f"1334522460{next(self._keys)}.738474920.8088930838d88f008e0",
            "view": {
                **view,
                "state": {
                    "values": {
                        block: {"value": {"type": "plain_text_input", "value": text}}
                        for block, text in values.items()
                    }
                },
            },
        }
        return await self.send(urlencode({"payload": json.dumps(body)}))

    async def open_home(self, user: User, *, team: str = TEAM, tab: str = "home") -> int:
        """The member opens the app's Home (or Messages) tab: Slack's `app_home_opened` event.
        bolt acknowledges an event before its listener runs: wait on what it publishes."""
        body, headers = self.fake.home_opened(user.id, secret=SECRET, team=team, tab=tab)
        status, _ = await self.send(body, content_type="application/json", headers=headers)
        return status

    async def press_home(
        self, user: User, home: PublishedHome, action_id: str, *, team: str = TEAM
    ) -> int:
        """Press a button of the member's Home view: a `block_actions` from a view, which has
        no channel and no response_url."""
        button = home.button(action_id)
        body = {
            "type": "block_actions",
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": team},
            "api_app_id": "A0DLQUIZ",
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "container": {"type": "view", "view_id": "VH0000001"},
            "trigger_id": f"1334522460{next(self._keys)}.738474920.8088930838d88f008e0",
            "team": {"id": team, "domain": "deeplearners"},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": {**home.view, "id": "VH0000001", "team_id": team},
            "actions": [
                {
                    "action_id": button["action_id"],
                    "block_id": button["block_id"],
                    "text": button["text"],
                    "value": button["value"],
                    "type": "button",
                    "action_ts": "1772442010.123456",
                }
            ],
        }
        status, _ = await self.send(urlencode({"payload": json.dumps(body)}))
        return status

    def posted(self, index: int = -1) -> dict[str, Any]:
        """A message the bot posted, as Slack stores it (with its ts)."""
        call = self.fake.api("chat.postMessage")[index]
        return {**call.args, "ts": call.response.get("ts")}
