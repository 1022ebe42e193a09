"""Fixtures of the reliability tests: the fakes of Slack and Discord from the adapter tests
(tests/slack, tests/discord), made importable here, each started fresh on 127.0.0.1; the fake
Slack knows one workspace admin."""

# ruff: noqa: E402  (the helper folders must be on sys.path before their modules import)
from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "slack", TESTS / "discord"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from reliability_kit import fake_discord, fake_slack

__all__ = ["fake_discord", "fake_slack"]  # fixtures: pytest finds them here
