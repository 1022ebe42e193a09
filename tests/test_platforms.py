"""Platforms are found by entry point: a new one is a module and one line of metadata."""

from __future__ import annotations

import argparse
from importlib import metadata

import pytest

from bot import cli, platforms
from bot.config import Settings

RAN: list[tuple[str, int]] = []


class CarrierPigeon:
    help = "serve /dlquiz by carrier pigeon"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--birds", type=int, default=1)

    def run(self, settings: Settings, args: argparse.Namespace) -> int:
        RAN.append((args.platform, args.birds))
        return 0


PLATFORM = CarrierPigeon()


def _installed(*entries: metadata.EntryPoint) -> object:
    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        return [e for e in entries if e.group == group]

    return entry_points


def test_a_third_platform_is_one_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    pigeon = metadata.EntryPoint("pigeon", f"{__name__}:PLATFORM", platforms.GROUP)
    monkeypatch.setattr(platforms.metadata, "entry_points", _installed(pigeon))
    RAN.clear()
    assert cli.main(["run", "pigeon", "--birds", "3"]) == 0
    assert RAN == [("pigeon", 3)]


def test_the_builtin_platforms_without_installed_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A checkout run with PYTHONPATH, or an install made before the entry points existed.
    monkeypatch.setattr(platforms.metadata, "entry_points", _installed())
    assert set(platforms.available()) == {"console", "discord", "slack"}
    args = cli.build_parser().parse_args(["run", "slack", "--port", "4000"])
    assert (args.platform, args.port) == ("slack", 4000)


def test_the_declared_entry_points_are_the_builtin_ones() -> None:
    text = (cli.Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    for name, value in platforms.BUILTIN.items():
        assert f'{name} = "{value}"' in text


def test_a_platform_that_cannot_load_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = metadata.EntryPoint("broken", "no_such_module_anywhere:PLATFORM", platforms.GROUP)
    monkeypatch.setattr(platforms.metadata, "entry_points", _installed(broken))
    with pytest.raises(platforms.ConfigError, match=r"platform 'broken'.*cannot be loaded"):
        platforms.load("broken")
    with pytest.raises(platforms.ConfigError, match=r"no platform called 'fax'.*console, discord"):
        platforms.load("fax")
    # The other commands still work, and running it says why in one line.
    assert cli.main(["content", "check"]) == 0
    assert cli.main(["run", "broken"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("dlquiz: error: platform 'broken'")
    assert "\n" not in err
