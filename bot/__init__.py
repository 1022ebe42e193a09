"""dlquiz: a daily deep-learning quiz for Discord servers and Slack workspaces."""

__version__ = "0.1.0"
