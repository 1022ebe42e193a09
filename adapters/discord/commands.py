"""The `/dlquiz` application command group: typed options in, neutral commands to the engine.

Each subcommand only turns its options into a `bot.commands` value; the client answers it. The
engine checks admin rights itself (from `Member.is_admin`), so there are no permission checks
here and a refusal is the engine's ephemeral reply.
"""

from __future__ import annotations

from functools import cache

import discord
from discord import app_commands
from discord.app_commands import Choice

from adapters.discord import convert, forms, render, replies
from adapters.discord.client import QuizClient
from bot import commands as cmd
from bot.models import Reply
from bot.schedule import zone_names

PERIODS = [
    Choice(name="this week", value="week"),
    Choice(name="this month", value="month"),
    Choice(name="all time", value="all"),
]
REVIEW_ACTIONS = [Choice(name=a, value=a) for a in cmd.REVIEW_ACTIONS]


class DlquizGroup(app_commands.Group):
    def __init__(self, client: QuizClient) -> None:
        super().__init__(
            name="dlquiz",
            description="The daily deep-learning quiz of this server",
            # The quiz belongs to a server and its channels; it has no meaning in a DM or as a
            # user-installed app.
            allowed_contexts=app_commands.AppCommandContext(guild=True),
            allowed_installs=app_commands.AppInstallationType(guild=True),
        )
        self.client = client

    @app_commands.command(name="help", description="How dlquiz works (only you see it)")
    async def help_(self, interaction: discord.Interaction[QuizClient]) -> None:
        await self.client.run_command(interaction, cmd.Help)

    @app_commands.command(description="The open question of this channel, with answer buttons")
    async def question(self, interaction: discord.Interaction[QuizClient]) -> None:
        await self.client.run_command(interaction, cmd.ShowQuestion)

    @app_commands.command(description="The top 10 of this server, and your rank")
    @app_commands.describe(period="Which period to rank (default: all time)")
    @app_commands.choices(period=PERIODS)
    async def leaderboard(
        self, interaction: discord.Interaction[QuizClient], period: str | None = None
    ) -> None:
        # Typed `str`, not `Choice[str]`: discord.py would drop a value outside the choices with
        # an error only in the log; the engine's parser names the problem to the member instead.
        await self.client.run_command(interaction, lambda: convert.leaderboard_command(period))

    @app_commands.command(description="Points, rank, accuracy and streaks")
    @app_commands.describe(user="Whose stats (default: yours)")
    async def stats(
        self, interaction: discord.Interaction[QuizClient], user: discord.User | None = None
    ) -> None:
        user_id = user.id if user else None
        label = user.display_name if user else None

        def shown(reply: Reply) -> render.DiscordMessage:
            return render.stats_reply(reply, user_label=label)

        await self.client.run_command(
            interaction, lambda: convert.stats_command(user_id), show=shown
        )

    @app_commands.command(description="The topics of the question bank")
    async def topics(self, interaction: discord.Interaction[QuizClient]) -> None:
        await self.client.run_command(interaction, cmd.ShowTopics)

    @app_commands.command(description="A practice question only you see; it never counts")
    @app_commands.describe(topic="A topic to practise (default: any)")
    async def practice(
        self, interaction: discord.Interaction[QuizClient], topic: str | None = None
    ) -> None:
        await self.client.run_command(interaction, lambda: convert.practice_command(topic))

    @practice.autocomplete("topic")
    async def _topic_autocomplete(
        self, interaction: discord.Interaction[QuizClient], current: str
    ) -> list[Choice[str]]:
        return [
            Choice(name=name, value=slug)
            for name, slug in convert.topic_choices(current, self.client.engine.bank.topics)
        ]

    @app_commands.command(description="Show or set this channel's daily question")
    @app_commands.describe(
        time="HH:MM in 24-hour time, or off to stop (admins); leave out to see the schedule",
        zone="Time zone such as Europe/Berlin (default UTC)",
    )
    async def schedule(
        self,
        interaction: discord.Interaction[QuizClient],
        time: str | None = None,
        zone: str | None = None,
    ) -> None:
        missing = convert.missing_permissions(interaction.app_permissions)

        def shown(reply: Reply) -> render.DiscordMessage:
            return render.schedule_reply(reply, missing=missing)

        await self.client.run_command(
            interaction, lambda: convert.schedule_command(time, zone), show=shown
        )

    @schedule.autocomplete("zone")
    async def _zone_autocomplete(
        self, interaction: discord.Interaction[QuizClient], current: str
    ) -> list[Choice[str]]:
        return [Choice(name=name, value=name) for name in convert.zone_choices(current, _zones())]

    @app_commands.command(description="Admins: reveal the open question and post a new one now")
    async def post(self, interaction: discord.Interaction[QuizClient]) -> None:
        await self.client.run_command(interaction, cmd.PostNow, posts=True)

    @app_commands.command(description="Admins: close the open question now and post its reveal")
    async def reveal(self, interaction: discord.Interaction[QuizClient]) -> None:
        await self.client.run_command(interaction, cmd.RevealNow, posts=True)

    @app_commands.command(description="Admins: how this server's questions performed")
    @app_commands.describe(question="A question id for its full analysis (default: overview)")
    async def insights(
        self, interaction: discord.Interaction[QuizClient], question: str | None = None
    ) -> None:
        await self.client.run_command(
            interaction, lambda: cmd.ShowInsights(question.strip() if question else None)
        )

    @app_commands.command(description="Suggest a question for this server (a form)")
    async def suggest(self, interaction: discord.Interaction[QuizClient]) -> None:
        await forms.suggest(self.client, interaction)

    @app_commands.command(description="Admins: review suggestions and this server's questions")
    @app_commands.describe(
        action="What to do (default: show the oldest waiting suggestion)",
        id="The number of the question",
        reason="Why it is rejected, for its author (reject only)",
        file="A YAML question file to import into this server's questions, all or nothing",
    )
    @app_commands.choices(action=REVIEW_ACTIONS)
    async def review(
        self,
        interaction: discord.Interaction[QuizClient],
        action: str | None = None,
        id: int | None = None,
        reason: str | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        words = [w for w in (action, None if id is None else str(id)) if w] + (
            reason.split() if reason else []
        )
        try:
            command = cmd.parse_review(words)
        except cmd.CommandError as exc:
            await replies.send(interaction, render.error_message(str(exc)))
            return
        await forms.run_review(self.client, interaction, command, attachment=file)

    @app_commands.command(description="Admins: what this channel's daily questions are drawn from")
    @app_commands.describe(
        source="The bank, this server's own questions, or both",
        topics="Comma-separated topic slugs, or all",
        difficulty="easy, medium, hard or any",
        thread="Post each question in a thread",
        ping="A role to ping with each question, or off",
    )
    @app_commands.choices(
        source=[Choice(name=s, value=s) for s in cmd.SOURCES],
        difficulty=[Choice(name=d, value=d) for d in cmd.DIFFICULTY_WORDS],
        thread=[Choice(name=t, value=t) for t in cmd.ON_OFF],
    )
    # One parameter per option is how discord.py declares them.
    async def settings(  # noqa: PLR0917
        self,
        interaction: discord.Interaction[QuizClient],
        source: str | None = None,
        topics: str | None = None,
        difficulty: str | None = None,
        thread: str | None = None,
        ping: str | None = None,
    ) -> None:
        given = {"source": source, "topics": topics, "difficulty": difficulty}
        given |= {"thread": thread, "ping": ping}
        # Topics may be typed with spaces after the commas: one word for the parser.
        words = [
            word
            for name, value in given.items()
            if value is not None
            for word in (name, "".join(value.split()) or "all")
        ]
        await self.client.run_command(interaction, lambda: cmd.parse_settings(words))


@cache
def _zones() -> tuple[str, ...]:
    # Sorted once: autocomplete runs on every keystroke.
    return tuple(zone_names())
