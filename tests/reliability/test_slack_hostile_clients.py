"""`dlquiz run slack` in HTTP mode against clients that misbehave at the connection level: each
is dealt with quietly, so an operator's log stays readable whatever the internet sends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlparse

import aiohttp
from fake_slack import FakeSlack
from reliability_kit import FORM, slack_process

HALF_OPEN = 300


def partial_requests(path: str) -> list[bytes]:
    """A request cut short at each stage: the request line, the headers, the body."""
    whole = (
        f"POST {path} HTTP/1.1\r\nHost: dlquiz\r\nContent-Type: {FORM}\r\n"
        "Content-Length: 4000\r\nX-Slack-Request-Timestamp: 1\r\n\r\ntext=help&team_id="
    ).encode()
    head = whole.index(b"\r\n\r\n")
    return [whole[:10], whole[: head - 5], whole]


async def test_half_open_connections_leave_no_tracebacks(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    async with slack_process(fake_slack, tmp_path / "q.db", tmp_path, "half-open") as bot:
        url = urlparse(bot.url)
        assert url.hostname is not None
        assert url.port is not None
        cuts = partial_requests(url.path)
        writers = []
        for n in range(HALF_OPEN):
            _, writer = await asyncio.open_connection(url.hostname, url.port)
            writer.write(cuts[n % len(cuts)])
            await writer.drain()
            writers.append(writer)
        await asyncio.sleep(0.2)  # the server has read what each sent
        for n, writer in enumerate(writers):
            if n % 2:
                writer.transport.abort()  # a reset
            else:
                writer.close()  # a clean close, the request still unfinished
        health = url._replace(path="/healthz").geturl()
        async with aiohttp.ClientSession() as session:
            # Served after every one of them: by then the server has seen each go away.
            for _ in range(20):
                async with session.get(health) as response:
                    assert response.status == 200
                await asyncio.sleep(0.05)
        err = bot.stderr
    assert "Traceback" not in err, err[-3000:]
    # Start-up lines only: nothing per connection.
    assert err.count("\n") < 15, err[-3000:]
