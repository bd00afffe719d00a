"""A local Slack: the Web API stand-in, a user agent that plays Slack towards the bot, and
Block Kit validation. Used by the tests and by `solti sandbox`; never by the bot itself."""

from sandbox.slack.blockkit import validate_blocks, validate_view
from sandbox.slack.server import SlackStandIn
from sandbox.slack.store import Call, ResponsePost, SlackError
from sandbox.slack.user import SlackUser
from sandbox.slack.viewstate import SubmitBlocked

__all__ = [
    "Call",
    "ResponsePost",
    "SlackError",
    "SlackStandIn",
    "SlackUser",
    "SubmitBlocked",
    "validate_blocks",
    "validate_view",
]
