"""A minimal HTTP/1.1 server and keep-alive client on asyncio protocols, for the end-to-end bench.

The load generator and the fakes must cost far less than what they measure, so they skip
aiohttp's machinery: requests are pre-encoded bytes, and only Content-Length bodies are read
(what aiohttp, slack-sdk and discord.py send). Not a general HTTP implementation.

`python -m bench.rawhttp` runs the lean sink as a process of its own: it prints its port on the
first line, then one line per request, `<path> 1` when the body says "Recorded", else `<path> 0`.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable

# (method, path, body) -> (status, content type, body)
Handler = Callable[[str, str, bytes], tuple[int, str, bytes]]

_REASONS = {200: "OK", 204: "No Content", 404: "Not Found"}


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


class _Requests(asyncio.Protocol):
    """Splits what a keep-alive connection sends into requests; `answer` writes each reply."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            size = _content_length(head)
            if len(self.buffer) < end + 4 + size:
                return
            body = self.buffer[end + 4 : end + 4 + size]
            self.buffer = self.buffer[end + 4 + size :]
            assert self.transport is not None
            self.transport.write(self.answer(head, body))

    def answer(self, head: bytes, body: bytes) -> bytes:
        raise NotImplementedError


class _ServerProtocol(_Requests):
    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler

    def answer(self, head: bytes, body: bytes) -> bytes:
        method, target, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
        status, kind, payload = self.handler(method.decode(), target.decode(), body)
        reason = _REASONS.get(status, "Status")
        return (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload


# What the lean sink answers every request with, encoded once.
CANNED_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class _SinkProtocol(_Requests):
    """Takes each request's path and body to `seen` and answers the canned 200: no routing,
    no decoding, no per-request formatting."""

    def __init__(self, seen: Callable[[bytes, bytes], None]) -> None:
        super().__init__()
        self.seen = seen

    def answer(self, head: bytes, body: bytes) -> bytes:
        self.seen(head.split(b" ", 2)[1], body)
        return CANNED_OK


async def serve_sink(
    seen: Callable[[bytes, bytes], None], *, host: str = "127.0.0.1"
) -> tuple[asyncio.Server, int]:
    """A lean sink on a free port: `seen(path, body)` for each request; the server and its port."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _SinkProtocol(seen), host, 0)
    return server, int(server.sockets[0].getsockname()[1])


async def serve(handler: Handler, *, host: str = "127.0.0.1") -> tuple[asyncio.Server, int]:
    """Serve `handler` on a free port; the server and its port."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _ServerProtocol(handler), host, 0)
    port = server.sockets[0].getsockname()[1]
    return server, int(port)


class _ClientProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.waiting: deque[asyncio.Future[tuple[int, bytes]]] = deque()
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.waiting:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            size = _content_length(head)
            if len(self.buffer) < end + 4 + size:
                return
            body = self.buffer[end + 4 : end + 4 + size]
            self.buffer = self.buffer[end + 4 + size :]
            status = int(head.split(b" ", 2)[1])
            future = self.waiting.popleft()
            if not future.done():
                future.set_result((status, body))


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, protocol: _ClientProtocol) -> None:
        self.protocol = protocol

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1") -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_ClientProtocol, host, port)
        return cls(protocol)

    @property
    def usable(self) -> bool:
        return not self.protocol.lost

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Write a whole pre-encoded request; the future of (status, body)."""
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self.protocol.waiting.append(future)
        assert self.protocol.transport is not None
        self.protocol.transport.write(request)
        return future

    def close(self) -> None:
        if self.protocol.transport is not None:
            self.protocol.transport.close()


def request(
    method: str, path: str, body: bytes = b"", *, headers: dict[str, str] | None = None
) -> bytes:
    """A pre-encoded HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _report(path: bytes, body: bytes) -> None:
    # Unbuffered: the driver waits on each line to send that member's next press.
    os.write(1, path + (b" 1\n" if b"Recorded" in body else b" 0\n"))


async def _sink_process() -> None:
    server, port = await serve_sink(_report)
    os.write(1, f"{port}\n".encode())
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_sink_process())
