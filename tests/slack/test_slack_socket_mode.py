"""Socket Mode end to end: `slack_bot` with SLACK_APP_TOKEN set opens a connection through
`apps.connections.open`, which points at the fake's loopback WebSocket; the fake sends
envelopes and checks the app's acknowledgements."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fake_slack import TEAM, FakeSlack, all_text
from slack_driver import ANA, BEN, CHANNEL, START, buttons_of, nasty_bank, payload

from adapters.memory import ManualClock
from adapters.slack.app import Mode, slack_bot
from bot.config import Settings
from bot.models import ChannelRef

APP_TOKEN = "xapp-1-A0DLQUIZ-0000-test"


def slash_envelope(fake: FakeSlack, n: int, user_id: str, name: str, text: str) -> dict[str, Any]:
    envelope = payload("socket_slash_commands")
    envelope["envelope_id"] = f"slash-{n}"
    form = payload("slash_command")
    form.update(user_id=user_id, user_name=name, text=text, response_url=fake.response_url(f"s{n}"))
    envelope["payload"] = form
    return envelope


async def test_socket_mode_commands_and_presses(fake: FakeSlack, slack_settings: Settings) -> None:
    settings = replace(slack_settings, slack_app_token=APP_TOKEN, slack_signing_secret=None)
    async with slack_bot(settings, bank=nasty_bank(), clock=ManualClock(START)) as bot:
        assert bot.mode is Mode.SOCKET
        assert bot.url is None
        await fake.wait_connected()
        [opened] = fake.api("apps.connections.open")
        assert opened.token == APP_TOKEN

        # A quick subcommand is answered in the acknowledgement itself.
        ack = await fake.send_envelope(slash_envelope(fake, 1, BEN.id, BEN.name, "help"))
        assert ack["envelope_id"] == "slash-1"
        assert ack["payload"]["response_type"] == "ephemeral"
        assert "/dlquiz leaderboard" in all_text(ack["payload"])

        # An admin subcommand is acknowledged empty, then answered through the response_url.
        ack = await fake.send_envelope(slash_envelope(fake, 2, ANA.id, ANA.name, "post"))
        assert ack == {"envelope_id": "slash-2"}
        await bot.inflight.wait_idle()
        [posted] = fake.replies_to("s2")
        assert "Posted a new question" in posted.text
        call = fake.api("chat.postMessage")[0]
        message = {**call.args, "ts": call.response["ts"]}

        # A button press: recorded, acknowledged, confirmed to the presser only.
        envelope = payload("socket_interactive")
        body = payload("block_actions")
        button = buttons_of(message)[2]
        body["actions"][0].update(
            action_id=button["action_id"], block_id=button["block_id"], value=button["value"]
        )
        body["container"]["message_ts"] = message["ts"]
        body["response_url"] = fake.response_url("press")
        envelope["payload"] = body
        ack = await fake.send_envelope(envelope)
        assert ack == {"envelope_id": envelope["envelope_id"]}
        await bot.inflight.wait_idle()
        [confirmation] = fake.replies_to("press")
        assert confirmation.text.startswith("Recorded: C")
        row = await bot.engine.store.open_round(ChannelRef(f"slack:{TEAM}", CHANNEL))
        assert row is not None
        assert await bot.engine.store.choice_of(row.id, BEN.id) == 2
