"""Slack adapter: slack-bolt AsyncApp, converters and renderers."""
