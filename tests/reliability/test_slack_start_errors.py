"""`dlquiz run slack` when the Web API answers start-up with something that is not Slack's
JSON (an outage page, a proxy's error): one configuration line, exit 1, nothing opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_slack import FakeSlack
from reliability_kit import bot_process, slack_env

OUTAGE = "<html><head><title>500 Internal Server Error</title></head><body>oops</body></html>"


# The SDK reads each content type its own way, and fails differently on each.
@pytest.mark.parametrize(
    ("status", "content_type"),
    [
        (500, "text/html"),
        (500, "text/plain"),
        (500, "application/json"),
        (502, "text/html"),
        (200, "text/plain"),
        (200, "application/json"),
    ],
)
async def test_a_page_instead_of_slack_at_auth_test_is_one_line(
    fake_slack: FakeSlack, tmp_path: Path, status: int, content_type: str
) -> None:
    fake_slack.pages["auth.test"] = (status, content_type, OUTAGE)
    env = slack_env(fake_slack, tmp_path / "quiz.db")
    env.pop("DLQUIZ_LOG_FORMAT", None)  # the text format an operator reads
    env["DLQUIZ_LOG_LEVEL"] = "INFO"
    async with bot_process(["run", "slack", "--port", "0"], env, tmp_path, "start") as bot:
        assert await bot.wait_exit(within=20) == 1
    lines = bot.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("dlquiz: error: the Slack Web API at http://127.0.0.1:")
    assert "auth.test" in lines[0]
    assert f"HTTP {status}" in lines[0]
    assert "<html>" not in lines[0]
    assert bot.stdout == ""
    assert not (tmp_path / "quiz.db").exists()
