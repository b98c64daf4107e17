"""Reel Director as a chat bot: `director bot slack` or `director bot discord`.

The command language and everything behind it live in `common.py`; `slack.py` and `discord_bot.py`
only carry messages between the platform and the dispatcher. Settings: `settings.py`.
"""

from __future__ import annotations

import logging

from server.bots.settings import BotConfigError, BotSettings

__all__ = ["run_bot", "BotSettings", "BotConfigError", "PLATFORMS"]

PLATFORMS = ("slack", "discord")


def run_bot(platform: str, settings: BotSettings | None = None, director=None) -> None:
    """Run the bot for `platform` until interrupted. A missing token raises BotConfigError naming the variable."""
    if platform not in PLATFORMS:
        raise BotConfigError(f"bot '{platform}' is not one of: {', '.join(PLATFORMS)}")
    settings = settings or BotSettings()
    # Check the token before importing the platform library or opening the workspace: fail fast and clearly.
    settings.require("slack_bot_token" if platform == "slack" else "discord_bot_token")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("reel_director").setLevel(logging.INFO)
    if platform == "slack":
        from server.bots.slack import run
    else:
        from server.bots.discord_bot import run
    run(settings, director)
