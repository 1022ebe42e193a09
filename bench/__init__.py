"""Benchmarks of dlquiz (not tests): answer ingestion, leaderboards at a million members,
fan-out of the daily post, memory and start-up. Run with `python -m bench`."""
