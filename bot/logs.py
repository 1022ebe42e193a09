"""Logging: one line per event, as text or JSON, with secrets scrubbed from every record."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

CONTEXT_FIELDS = ("platform", "server", "channel")


class SecretFilter(logging.Filter):
    """Replace every configured secret in a record's final message with a marker."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, "[secret]")
            record.msg, record.args = message, None
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                for secret in self.secrets:
                    text = text.replace(secret, "[secret]")
                record.exc_info, record.exc_text = None, text
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        line = super().format(record)
        # Keep one event on one line, tracebacks included, for line-based log shippers.
        line = line.replace("\n", " | ")
        return f"{line} [{context}]" if context else line


def context(server: str, channel: str | None = None) -> dict[str, str]:
    """`extra=` fields for a log call about a server (`platform:id`) and maybe a channel."""
    platform, _, server_id = server.partition(":")
    fields = {"platform": platform, "server": server_id or platform}
    if channel is not None:
        fields["channel"] = channel
    return fields


class StartupHold(logging.handlers.MemoryHandler):
    """Keeps log records back while a bot starts, so a start that fails on its configuration
    shows the one-line error alone, not the chat library's INFO lines before it."""

    def __init__(self, target: logging.Handler) -> None:
        super().__init__(capacity=10_000, flushLevel=logging.CRITICAL + 1, target=target)


def setup_logging(*, level: str, fmt: str, secrets: Iterable[str] = (), hold: bool = False) -> None:
    """Log to standard error; with `hold`, keep records back until `release_held_logs()`."""
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SecretFilter(secrets))
    if hold:
        handler = StartupHold(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler announces every run of the schedule's poll job at INFO, every few seconds:
    # its problems still show, its heartbeat only when debugging.
    logging.getLogger("apscheduler").setLevel(level if level == "DEBUG" else "WARNING")


def release_held_logs(*, discard: bool = False) -> None:
    """The bot is up (or stopping): write what was held back at start-up, and log as usual
    from now on. With `discard`, drop it instead: the start failed with a one-line error."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StartupHold) and handler.target is not None:
            if discard:
                handler.buffer.clear()
            handler.flush()
            root.handlers[root.handlers.index(handler)] = handler.target
