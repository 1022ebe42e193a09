"""Messages through a `response_url`, over one shared keep-alive HTTP session.

bolt's `respond()` builds a new `AsyncWebhookClient` on every call: a new aiohttp session and a
new TCP (and TLS) connection per message, closed right after. A press is confirmed through its
`response_url`, so at a busy minute that was most of a press's cost. Here every message of the
process goes over one pooled session, which keeps its connections to Slack open.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=30)  # as slack-sdk's webhook client
HEADERS = {"Content-Type": "application/json;charset=utf-8"}


class ResponseUrls:
    """Sends JSON messages to `response_url`s; `close()` at shutdown."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _opened(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the event loop it is created in.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def post(self, url: str, message: dict[str, Any]) -> tuple[int, str]:
        """POST `message` to `url`; its HTTP status and body. A kept-alive connection that the
        other side closed meanwhile fails before anything is read: that is tried once again."""
        data = json.dumps(message).encode()
        try:
            return await self._post(url, data)
        except aiohttp.ServerDisconnectedError:
            return await self._post(url, data)

    async def _post(self, url: str, data: bytes) -> tuple[int, str]:
        async with self._opened().post(url, data=data, headers=HEADERS) as response:
            return response.status, await response.text()

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await asyncio.sleep(0)  # lets aiohttp close its connections before the loop ends
