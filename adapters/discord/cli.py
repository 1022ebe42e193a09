"""Discord's entry point: `dlquiz run discord`. discord.py is imported only when it runs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bot.config import Settings
from bot.runtime import tune_gc


@dataclass(frozen=True)
class DiscordEntry:
    help: str = "serve /dlquiz on Discord (DISCORD_TOKEN)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Discord is configured by the environment alone."""

    def run(self, settings: Settings, args: argparse.Namespace) -> int:
        from adapters.discord.app import run_discord

        tune_gc()  # after the imports, which are start-up too
        return run_discord(settings)


PLATFORM = DiscordEntry()
