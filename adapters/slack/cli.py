"""Slack's entry point: `dlquiz run slack`. slack-bolt is imported only when it runs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from adapters.slack.convert import DEFAULT_PORT
from bot.config import Settings
from bot.runtime import tune_gc


@dataclass(frozen=True)
class SlackEntry:
    help: str = "serve /dlquiz on Slack (SLACK_BOT_TOKEN)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=DEFAULT_PORT,
            help=f"HTTP mode port (default {DEFAULT_PORT})",
        )

    def run(self, settings: Settings, args: argparse.Namespace) -> int:
        from adapters.slack.app import run_slack

        tune_gc()  # after the imports, which are start-up too
        return run_slack(settings, port=args.port)


PLATFORM = SlackEntry()
