"""response_url posts of the Slack stand-in, applied as Slack applies them.

Each URL is good for five posts within thirty minutes (then ``used_url`` / ``expired_url``),
and dead at once when the app did not acknowledge its request in time (Slack showed the person
``operation_timeout``; later posts are dropped with ``expired_url``). ``replace_original``
edits the message the action came from (or the ephemeral), ``delete_original`` removes it,
``response_type: in_channel`` posts a new message, anything else an ephemeral. Mixed into
``SlackState``, whose lock every method takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from solti.sandbox.slack.slack_records import (
    RESPONSE_URL_TTL_SECONDS,
    RESPONSE_URL_USES,
    SlackError,
)

if TYPE_CHECKING:
    from solti.sandbox.slack.store import SlackState

__all__ = ["ResponseUrlMixin"]


@dataclass
class _ResponseTarget:
    channel: str | None
    user: str | None
    message_ts: str | None
    is_ephemeral: bool
    issued: float
    uses: int = 0
    timed_out: bool = False


class ResponseUrlMixin:
    """Where each response_url points, and what a post to it does."""

    def register_response_target(
        self: SlackState,
        key: str,
        channel: str | None,
        user: str | None,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
    ) -> None:
        with self.changed:
            self._targets[key] = _ResponseTarget(
                channel, user, message_ts, is_ephemeral, issued=self.now()
            )

    def expire_response_url(self: SlackState, key: str) -> None:
        """The request behind ``key`` was not acknowledged in time: its URL takes no posts."""
        with self.changed:
            target = self._targets.get(key)
            if target is not None:
                target.timed_out = True

    def respond(self: SlackState, key: str, body: dict[str, Any]) -> None:
        """Apply a response_url POST as Slack does; raises SlackError for a bad or spent URL."""
        with self.changed:
            target = self._targets.get(key)
            if target is None:
                raise SlackError("invalid_url")
            if target.timed_out or self.now() - target.issued > RESPONSE_URL_TTL_SECONDS:
                raise SlackError("expired_url")
            if target.uses >= RESPONSE_URL_USES:
                raise SlackError("used_url")
            target.uses += 1
            fields = {k: body[k] for k in ("text", "blocks", "attachments") if k in body}
            original_ephemeral = self._find_ephemeral(target.user, target.message_ts)
            if body.get("delete_original"):
                if target.is_ephemeral and original_ephemeral is not None:
                    self._ephemerals[target.user or ""].remove(original_ephemeral)
                elif target.channel and self._find(target.channel, target.message_ts):
                    self.delete_message(target.channel, target.message_ts or "")
                self._touch()
                return
            if body.get("replace_original") and target.message_ts:
                if target.is_ephemeral and original_ephemeral is not None:
                    original_ephemeral.update(fields)
                    self._touch()
                elif target.channel:
                    self.update_message(target.channel, target.message_ts, fields)
                return
            if body.get("response_type") == "in_channel" and target.channel:
                if body.get("thread_ts"):
                    fields["thread_ts"] = body["thread_ts"]
                self.post_message(target.channel, fields)
            elif target.user and target.channel:
                self.post_ephemeral(target.channel, target.user, fields)
