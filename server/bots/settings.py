"""Settings of the chat bots, from the environment.

The platform secrets keep the names each platform's docs use (`SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET`,
`SLACK_APP_TOKEN`, `DISCORD_BOT_TOKEN`); the bots' own options take the prefix `DIRECTOR_BOT_`:

    SLACK_BOT_TOKEN=xoxb-... SLACK_SIGNING_SECRET=... DIRECTOR_BOT_PORT=3000 director bot slack
    DISCORD_BOT_TOKEN=... DIRECTOR_BOT_DISCORD_GUILD_ID=1234 director bot discord

Workspace location (`DIRECTOR_HOME`), the brain and the backends are the director's settings, not these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.console import CLIError

MB = 1024 * 1024


class BotConfigError(CLIError):
    """A bot cannot start as configured (a missing token, say); the message says which variable to set."""


def _secret(env_name: str, what: str):
    # The platform's own variable name, not DIRECTOR_BOT_*, so existing Slack/Discord setups just work.
    return Field(None, validation_alias=AliasChoices(env_name, env_name.lower()), description=what)


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTOR_BOT_", extra="ignore", populate_by_name=True)

    # --- secrets (never logged)
    slack_bot_token: SecretStr | None = _secret("SLACK_BOT_TOKEN", "Slack Bot User OAuth Token, xoxb-…, from the app's OAuth & Permissions page")
    slack_signing_secret: SecretStr | None = _secret("SLACK_SIGNING_SECRET", "Slack app's Signing Secret, from its Basic Information page")
    slack_app_token: SecretStr | None = _secret("SLACK_APP_TOKEN", "Slack app-level token, xapp-…; when set, the bot uses Socket Mode instead of HTTP")
    discord_bot_token: SecretStr | None = _secret("DISCORD_BOT_TOKEN", "Discord bot token, from the Developer Portal: your application → Bot")

    # --- the command
    command: str = Field("/director", description="the Slack slash command's name, as registered in the Slack app")

    # --- Slack over HTTP (when SLACK_APP_TOKEN is not set)
    host: str = Field("127.0.0.1", description="interface for the Slack HTTP endpoint; put a tunnel or proxy in front")
    port: int = Field(3000, ge=0, le=65535)
    slack_path: str = Field("/slack/events", description="request URL path for slash commands and events")
    slack_api_url: str | None = Field(None, description="Slack Web API base URL, e.g. a Slack-compatible gateway (default: Slack's own)")

    # --- Discord
    discord_guild_id: int | None = Field(
        None, description="sync the /director commands to this server at once (global sync can take up to an hour)"
    )
    discord_message_content: bool = Field(
        False, description="ask for the privileged message-content intent so plain thread replies count as feedback "
                           "(enable it in the Developer Portal too); without it, mention the bot in the thread"
    )

    # --- rendering
    render_workers: int = Field(2, ge=1, description="films rendered at once; more requests wait their turn")
    progress_interval: float = Field(3.0, ge=0.0, description="seconds between progress edits of one message")
    slack_max_upload_mb: float = Field(100.0, gt=0, description="a larger cut is re-encoded to fit (and linked in full quality when DIRECTOR_PUBLIC_URL is set)")
    discord_max_upload_mb: float = Field(10.0, gt=0, description="Discord's limit without boosts; a server's own limit wins if lower")

    # --- what a brief from chat plans (unset: the planner's defaults)
    resolution: int | None = Field(None, ge=64, le=4096, description="short side in pixels of films planned from chat")
    seconds: float | None = Field(None, ge=1, le=600, description="target length of films planned from chat")
    fps: int | None = Field(None, ge=1, le=60)
    aspect_ratio: Literal["16:9", "9:16", "1:1"] | None = None

    public_url: str | None = Field(
        None, validation_alias=AliasChoices("DIRECTOR_PUBLIC_URL", "director_public_url", "public_url"),
        description="where `director serve` is reachable from outside (https://films.example.org): films too big "
                    "for the chat are linked there, through its authenticated /media route")

    max_text_chars: int = Field(4000, ge=1, description="longest brief or feedback accepted from chat")

    def plan_overrides(self) -> dict:
        return {k: v for k, v in (("resolution", self.resolution), ("seconds", self.seconds), ("fps", self.fps),
                                  ("aspect_ratio", self.aspect_ratio)) if v is not None}

    def require(self, attribute: str) -> str:
        """The secret's value, or a BotConfigError naming the environment variable to set."""
        value = getattr(self, attribute)
        if value is None or not value.get_secret_value().strip():
            field = type(self).model_fields[attribute]
            env = field.validation_alias.choices[0]
            raise BotConfigError(f"{env} is not set: export {env} (the {field.description}) and run the bot again.")
        return value.get_secret_value().strip()
