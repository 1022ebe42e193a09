"""DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS: the forms INTERFACE.md names, and a clear one-line
error for anything else."""

from __future__ import annotations

import pytest

from adapters.discord.app import build_bot, served_shards
from bot.config import ConfigError, Settings
from bot.store import Shards
from tests.test_cli import dlquiz


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        ("4", "0-3", (0, 1, 2, 3)),
        ("6", "0,2,5", (0, 2, 5)),
        ("9", "0-3,8", (0, 1, 2, 3, 8)),
        ("4", " 2 , 0-1 ", (0, 1, 2)),
        ("1", "0", (0,)),
    ],
)
def test_shard_forms(count: str, ids: str, expected: tuple[int, ...]) -> None:
    settings = Settings.from_env({"DISCORD_SHARD_COUNT": count, "DISCORD_SHARD_IDS": ids})
    assert settings.discord_shard_count == int(count)
    assert settings.discord_shard_ids == expected


def test_a_count_alone_serves_every_shard() -> None:
    settings = Settings.from_env({"DISCORD_SHARD_COUNT": "4"})
    assert (settings.discord_shard_count, settings.discord_shard_ids) == (4, None)
    assert served_shards(settings) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DISCORD_SHARD_IDS": "0-3"}, "DISCORD_SHARD_IDS=0-3 needs DISCORD_SHARD_COUNT"),
        (
            {"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "2-4"},
            "names shard 4, but DISCORD_SHARD_COUNT=4 has shards 0 to 3",
        ),
        ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "3-1"}, "use a range 0-3, a list"),
        ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "0,,1"}, "use a range 0-3, a list"),
        ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "one"}, "use a range 0-3, a list"),
        ({"DISCORD_SHARD_COUNT": "0"}, "DISCORD_SHARD_COUNT=0 is not a number of shards"),
        ({"DISCORD_SHARD_COUNT": "-2"}, "use a whole number of 1 or more"),
    ],
)
def test_bad_shard_settings_say_what_is_right(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_command_line_shows_the_shard_error_on_one_line() -> None:
    result = dlquiz("run", "discord", env={"DISCORD_SHARD_IDS": "0-1"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_SHARD_IDS=0-1 needs DISCORD_SHARD_COUNT" in lines[0]


def test_the_client_connects_only_its_shards() -> None:
    settings = Settings.from_env(
        {"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "2,3", "DISCORD_API_BASE": "http://x"}
    )
    client = build_bot(settings)
    assert client.shard_count == 4
    assert client.shard_ids == [2, 3]
    shards = served_shards(settings)
    assert shards == Shards(count=4, ids=frozenset({2, 3}))
    # A guild is on shard (guild_id >> 22) % count.
    assert shards.owns(f"discord:{(6 << 22) | 99}")
    assert not shards.owns(f"discord:{(5 << 22) | 99}")
    assert not shards.owns("slack:T1")
