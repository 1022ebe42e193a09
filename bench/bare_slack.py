"""A bare slack-bolt app in HTTP mode, the yardstick of the end-to-end bench.

`python -m bench.bare_slack --port N --mode confirm|ack`: every button press is acknowledged;
with `confirm` one private confirmation follows through its `response_url`, over one shared
keep-alive session (the least a correct bot does). SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and
SLACK_API_URL come from the environment, as for `dlquiz run slack`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

CONFIRMATION = {"text": "Recorded: A", "response_type": "ephemeral", "replace_original": False}


async def serve(port: int, *, confirm: bool) -> None:
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)
    session = aiohttp.ClientSession()

    async def press(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if confirm:
            async with session.post(body["response_url"], json=CONFIRMATION) as response:
                await response.read()

    app.action(re.compile(".*"))(press)
    web_app = app.web_app(path="/slack/events")

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app.router.add_get("/healthz", health)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("serving", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await session.close()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("confirm", "ack"), default="confirm")
    args = parser.parse_args()
    asyncio.run(serve(args.port, confirm=args.mode == "confirm"))


if __name__ == "__main__":
    main()
