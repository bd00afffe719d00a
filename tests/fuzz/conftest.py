"""The fuzz tests run against the same world as the bot's end-to-end tests."""

from tests.bot.conftest import bot, sim, standin, template_built  # noqa: F401
