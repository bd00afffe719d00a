"""A local Slack: the Web API stand-in, a user agent that plays Slack towards the bot, and
Block Kit validation. Used by the tests and by `solti sandbox`; never by the bot itself."""

from solti.sandbox.slack.blockkit import validate_blocks, validate_view
from solti.sandbox.slack.standin import SlackStandIn
from solti.sandbox.slack.store import AckTimeout, Call, GridOrg, ResponsePost, SlackError
from solti.sandbox.slack.user import SlackUser
from solti.sandbox.slack.viewstate import SubmitBlocked

__all__ = [
    "AckTimeout",
    "Call",
    "GridOrg",
    "ResponsePost",
    "SlackError",
    "SlackStandIn",
    "SlackUser",
    "SubmitBlocked",
    "validate_blocks",
    "validate_view",
]
