"""Log lines: one per event, with where it happened, and never a secret."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import JsonFormatter, SecretFilter, TextFormatter, context


def emit(formatter: logging.Formatter, *, secrets: list[str], message: str, **extra: str) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(SecretFilter(secrets))
    logger = logging.getLogger("dlquiz.test.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        raise RuntimeError(f"boom with {secrets[0]}")
    except RuntimeError:
        logger.exception(message, secrets[0], extra=extra)
    return stream.getvalue()


def test_json_lines_carry_context_and_hide_secrets() -> None:
    secret = "xoxb-123456-very-secret"
    out = emit(
        JsonFormatter(),
        secrets=[secret],
        message="token %s rejected",
        **context("slack:T1", "C9"),
    )
    assert secret not in out
    [line] = out.strip().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert (entry["platform"], entry["server"], entry["channel"]) == ("slack", "T1", "C9")
    assert entry["message"] == "token [secret] rejected"
    assert "[secret]" in entry["exception"]


def test_text_lines_are_single_lines() -> None:
    secret = "discord-token-abcdef"
    out = emit(TextFormatter(), secrets=[secret], message="login %s", **context("discord:42"))
    assert secret not in out
    assert len(out.strip().splitlines()) == 1
    assert out.strip().endswith("[platform=discord server=42]")
