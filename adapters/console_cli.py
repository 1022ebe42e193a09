"""The console's entry point: `dlquiz console`, the quiz in a terminal."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, replace

from bot.config import ConfigError, Settings

USER_LIMIT = 32


@dataclass(frozen=True)
class ConsoleEntry:
    help: str = "play the quiz in the terminal"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--db", help="a SQLite file or a PostgreSQL URL (default: $DLQUIZ_DB or ./dlquiz.db)"
        )
        parser.add_argument("--user", default="you", help="the first local player's name")

    def run(self, settings: Settings, args: argparse.Namespace) -> int:
        from adapters.console import run_console

        if args.db is not None:
            settings = replace(settings, db=args.db)
        user = args.user.strip()
        if not user or len(args.user) > USER_LIMIT:
            raise ConfigError(f"--user needs a name of 1 to {USER_LIMIT} characters")
        asyncio.run(run_console(settings, user=user))
        return 0


PLATFORM = ConsoleEntry()
