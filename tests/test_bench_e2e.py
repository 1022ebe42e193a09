"""The end-to-end press scenarios run at tiny sizes and report every figure; nothing is timed."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from bench import e2e

ROOT = Path(__file__).resolve().parent.parent
APP_KEYS = (
    "presses",
    "presses_per_s",
    "cpu_us_per_press",
    "p50_ms",
    "p99_ms",
    "driver_cpu_share",
    "confirmed_recorded",
)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_quick_e2e_writes_every_key(tmp_path: Path) -> None:
    out = tmp_path / "e2e.json"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--e2e", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())["e2e"]
    slack, discord = result["slack"], result["discord"]
    assert set(slack["apps"]) == {"dlquiz", "bare_confirm", "bare_ack"}
    assert set(discord["apps"]) == {"dlquiz", "bare"}
    for app in (*slack["apps"].values(), *discord["apps"].values()):
        for key in APP_KEYS:
            assert is_number(app[key]), key
    for key in ("throughput_vs_bare_confirm", "cpu_vs_bare_confirm", "throughput_vs_bare_ack"):
        assert is_number(slack[key]), key
    for name in ("dlquiz", "bare_confirm"):
        opened = slack["open_loop"][name]
        for key in (
            "target_per_s",
            "reached_per_s",
            "offered_per_s",
            "overall_per_s",
            "p50_ms",
            "p99_ms",
            "app_cpu_share",
            "driver_start_lag_p99_ms",
        ):
            assert is_number(opened[key]), key
    # The driver check ran the bare app against both fakes, and every press of it completed.
    check = slack["driver_check"]
    for key in (
        "throughput_lean_vs_routed",
        "cpu_lean_vs_routed",
        "driver_cpu_us_routed",
        "driver_cpu_us_lean",
        "sink_process_cpu_us_lean",
    ):
        assert is_number(check[key]), key
    assert check["throughput_lean_vs_routed"] > 0
    assert is_number(discord["cpu_vs_bare"])
    # Every press of the real bots was recorded and confirmed as recorded.
    assert slack["recorded_confirmations"] == slack["presses_per_app"]
    assert discord["recorded_confirmations"] == discord["presses_per_app"]
    assert {t["name"] for t in result["targets"]}
    assert all(isinstance(t["met"], bool) for t in result["targets"])
    assert {t["name"] for t in result["yardsticks"]}
    assert all(isinstance(t["met"], bool) for t in result["yardsticks"])
    assert "Driver check" in done.stdout
    assert "| Slack dlquiz |" in done.stdout


def test_one_platform_alone_has_its_own_rows_and_targets_only() -> None:
    app = dict.fromkeys(APP_KEYS, 1.0)
    discord = {"apps": {"dlquiz": app, "bare": app}, "cpu_vs_bare": 1.1}
    result = {
        "sizes": {"presses": 40, "in_flight": 8, "pairs": 1},
        "slack": None,
        "discord": discord,
        "targets": e2e.targets(None, discord),
    }
    assert [t["name"] for t in result["targets"]] == ["Discord CPU per press vs bare client"]
    shown = e2e.table(result)
    assert "| Discord dlquiz |" in shown
    assert "Slack" not in shown


def test_only_without_e2e_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "discord"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--only needs --e2e" in done.stderr
