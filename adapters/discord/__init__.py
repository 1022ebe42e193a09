"""Discord adapter: discord.py client, converters and renderers."""
