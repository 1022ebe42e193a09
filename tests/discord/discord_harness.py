"""Drive the real discord.py client with recorded interaction payloads and read its answers.

The payloads under tests/payloads/discord/ are gateway INTERACTION_CREATE events; each test
adapts a copy (who acts, which subcommand, which button) and feeds it to the client's own
parser, exactly where the gateway would hand it over.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

from fake_discord import (
    BUTTON,
    CONTAINER,
    IS_COMPONENTS_V2,
    FakeDiscord,
    Request,
    message_fields,
    texts,
    walk,
)

from adapters.discord.client import QuizClient

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "discord"
GUILD_ID = "1302744932918091826"
CHANNEL_ID = "1302744933496770612"
MEMBER_PERMISSIONS = 2248473465835073  # what @everyone gets in a default server channel
MANAGE_GUILD = 1 << 5
EMBED_LINKS = 1 << 14
EPHEMERAL = 64
DEFERRED = (5, 6)  # "thinking" deferral, and deferred update of the pressed message
UPDATE = 7  # the pressed message is replaced

_ids = count(1303200000000000000)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


@dataclass(frozen=True)
class Person:
    name: str
    user_id: str
    admin: bool = False


ADA = Person("Ada", "1178324519023411221")
GRACE = Person("Grace", "1178330771962994718")
ALAN = Person("Alan", "1178331095431266314")
MOD = Person("Mod", "1178331431546863616", admin=True)


@dataclass
class Answer:
    """What the member saw: the first response's type, and the message it showed."""

    callback_type: int
    message: dict[str, Any]  # as Discord would store and show it
    sent: dict[str, Any]  # the body the bot sent: callback data, or the edit of a deferral
    requests: list[Request]

    @property
    def ephemeral(self) -> bool:
        return bool(self.message.get("flags", 0) & EPHEMERAL)

    @property
    def content(self) -> str:
        return str(self.message.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.message.get("embeds") or [])

    @property
    def v2(self) -> bool:
        return bool(self.message.get("flags", 0) & IS_COMPONENTS_V2)

    @property
    def text(self) -> str:
        """Content, every embed's text and every text display's, for assertions that do not care
        where text sits."""
        return text_of(self.message)

    @property
    def custom_ids(self) -> list[str]:
        return custom_ids(self.message)

    @property
    def texts(self) -> list[str]:
        """The text displays of a card, in order."""
        return texts(self.message)


def text_of(message: dict[str, Any]) -> str:
    parts = [str(message.get("content") or ""), *texts(message)]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(p for p in parts if p)


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a message, in rows or nested in a layout, in order."""
    return [c for c in walk(message.get("components") or []) if c.get("type") == BUTTON]


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [b["custom_id"] for b in buttons_of(message) if "custom_id" in b]


def container_of(message: dict[str, Any]) -> dict[str, Any]:
    """The one container of a card (a components v2 message), checked to be that."""
    assert message.get("flags", 0) & IS_COMPONENTS_V2, "not a components v2 message"
    assert not message.get("content")
    assert not message.get("embeds")
    [container] = message["components"]
    assert container["type"] == CONTAINER
    return container


def layout_types(message: dict[str, Any]) -> list[int]:
    """The component types inside a card's container, in order."""
    return [c["type"] for c in container_of(message)["components"]]


def _as(payload: dict[str, Any], person: Person, *, channel_id: str = CHANNEL_ID) -> None:
    payload["id"] = str(next(_ids))
    payload["token"] = f"token-{payload['id']}"
    permissions = MEMBER_PERMISSIONS | (MANAGE_GUILD if person.admin else 0)
    member = payload["member"]
    member["permissions"] = str(permissions)
    member["nick"] = None
    member["user"].update(id=person.user_id, global_name=person.name, username=person.name.lower())
    payload["channel_id"] = channel_id
    payload["channel"]["id"] = channel_id


def slash(sub: str, person: Person, **options: Any) -> dict[str, Any]:
    """`/dlquiz <sub> [options]` typed by `person`, from the recorded slash command."""
    payload = copy.deepcopy(load("slash_command"))
    _as(payload, person)
    payload["data"]["options"] = [
        {
            "name": sub,
            "type": 1,
            "options": [
                {"name": k, "type": _option_type(k, v), "value": v} for k, v in options.items()
            ],
        }
    ]
    return payload


def _option_type(name: str, value: Any) -> int:
    if name == "user":
        return 6
    return 4 if isinstance(value, int) else 3  # integer, else string


def with_resolved_user(payload: dict[str, Any], person: Person) -> dict[str, Any]:
    """Add the picked user of a `user` option, as Discord resolves it."""
    user = {
        "id": person.user_id,
        "username": person.name.lower(),
        "global_name": person.name,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
    }
    member = {
        "avatar": None,
        "communication_disabled_until": None,
        "flags": 0,
        "joined_at": "2024-11-02T10:12:41.180000+00:00",
        "nick": None,
        "pending": False,
        "permissions": str(MEMBER_PERMISSIONS),
        "premium_since": None,
        "roles": [],
    }
    payload["data"]["resolved"] = {
        "users": {person.user_id: user},
        "members": {person.user_id: member},
    }
    return payload


def autocomplete(sub: str, person: Person, focused: str, **options: str) -> dict[str, Any]:
    payload = copy.deepcopy(load("autocomplete"))
    _as(payload, person)
    values = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
    for value in values:
        if value["name"] == focused:
            value["focused"] = True
    payload["data"]["options"] = [{"name": sub, "type": 1, "options": values}]
    return payload


def click(message: dict[str, Any], letter: str, person: Person) -> dict[str, Any]:
    """`person` presses the `letter` button of `message` (as the fake stored it)."""
    wanted = [cid for cid in custom_ids(message) if cid.endswith(f":{letter}")]
    if len(wanted) != 1:
        raise AssertionError(f"no single button {letter} in {custom_ids(message)}")
    return click_id(message, wanted[0], person)


def click_id(message: dict[str, Any], custom_id: str, person: Person) -> dict[str, Any]:
    payload = copy.deepcopy(load("button_click"))
    _as(payload, person)
    payload["message"] = copy.deepcopy(message)
    payload["data"] = {"component_type": 2, "custom_id": custom_id}
    return payload


class Harness:
    def __init__(self, client: QuizClient, fake: FakeDiscord) -> None:
        self.client = client
        self.fake = fake

    def feed(self, payload: dict[str, Any]) -> None:
        """Hand the payload to the client, where the gateway would."""
        self.fake.channel_of_token[payload["token"]] = payload["channel_id"]
        pressed = (payload.get("message") or {}).get("id")
        if pressed in self.fake.messages:
            self.fake.pressed[payload["token"]] = pressed
        self.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]

    async def send(self, payload: dict[str, Any]) -> Answer:
        """Feed the payload and wait until the member has their answer."""
        after = self.fake.last_seq
        self.feed(payload)
        return await self.answer_to(payload, after=after)

    async def answer_to(self, payload: dict[str, Any], *, after: int) -> Answer:
        iid, token = payload["id"], payload["token"]
        callback = await self.fake.wait_for(
            lambda r: r.path == f"/interactions/{iid}/{token}/callback", after=after
        )
        kind = callback.body["type"]
        if kind not in DEFERRED:
            # A new message (type 4) is stored by the fake with its id; an update (7) edits the
            # pressed message, which the payload carries.
            sent = callback.body.get("data") or {}
            if kind == UPDATE:
                stored = self.fake.messages.get(payload["message"]["id"])
                shown = (
                    copy.deepcopy(stored)
                    if stored
                    else {**payload["message"], **message_fields(sent)}
                )
            else:
                shown = copy.deepcopy(self.fake.originals.get(token, sent))
            return Answer(kind, shown, sent, self._since(after))
        edit = await self.fake.wait_for(
            lambda r: r.method == "PATCH" and r.path.endswith(f"/{token}/messages/@original"),
            after=callback.seq,
        )
        shown = copy.deepcopy(
            self.fake.originals.get(token) or self.fake.messages[payload["message"]["id"]]
        )
        return Answer(kind, shown, edit.body, self._since(after))

    def _since(self, after: int) -> list[Request]:
        return [r for r in self.fake.requests if r.seq > after]

    def channel_posts(self) -> list[Request]:
        return [
            r
            for r in self.fake.requests
            if r.method == "POST" and r.path == f"/channels/{CHANNEL_ID}/messages"
        ]

    def question_message(self) -> dict[str, Any]:
        """The latest question message the bot posted in the channel, as Discord stored it."""
        for message in reversed(self.fake.messages.values()):
            if message["channel_id"] == CHANNEL_ID and any(
                cid.startswith("dlq:a:") for cid in custom_ids(message)
            ):
                if message.get("flags", 0) & EPHEMERAL:
                    continue
                return message
        raise AssertionError("no question message was posted")
