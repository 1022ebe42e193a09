"""Chat platforms are plugins the CLI finds by entry point, so the engine never imports one.

Each platform names an object in the `dlquiz.platforms` entry point group: its help line, the
options of its command, and how to run it. The object's module must import no chat SDK (the
parser lists every platform at each start); the SDK is imported by `run` alone. `console` is the
`dlquiz console` command; every other platform is `dlquiz run NAME`.
"""

from __future__ import annotations

import argparse
from importlib import metadata
from typing import Protocol, cast

from bot.config import ConfigError, Settings

GROUP = "dlquiz.platforms"
CONSOLE = "console"
# The platforms this package ships, as its pyproject declares them. They are the defaults where
# the installed metadata lacks them: a checkout run with PYTHONPATH, or an editable install made
# before a platform was added, still finds its own adapters.
BUILTIN = {
    CONSOLE: "adapters.console_cli:PLATFORM",
    "discord": "adapters.discord.cli:PLATFORM",
    "slack": "adapters.slack.cli:PLATFORM",
}


class Platform(Protocol):
    """What a platform's entry point names."""

    @property
    def help(self) -> str:
        """One line for `dlquiz run --help`."""
        ...

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The options of the platform's command."""
        ...

    def run(self, settings: Settings, args: argparse.Namespace) -> int:
        """Serve until stopped; the exit status. Raises ConfigError for settings that cannot
        work."""
        ...


def available() -> dict[str, metadata.EntryPoint]:
    """Every platform by name: the installed entry points over the built-in defaults."""
    found = {name: metadata.EntryPoint(name, value, GROUP) for name, value in BUILTIN.items()}
    for entry in metadata.entry_points(group=GROUP):
        found[entry.name] = entry
    return found


def load(name: str) -> Platform:
    """The platform called `name`; ConfigError naming the known ones when there is none."""
    entries = available()
    entry = entries.get(name)
    if entry is None:
        known = ", ".join(sorted(entries))
        raise ConfigError(f"no platform called '{name}': the installed ones are {known}")
    try:
        return cast(Platform, entry.load())
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"platform '{name}' ({entry.value}) cannot be loaded: {exc}") from None
