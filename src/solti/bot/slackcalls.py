"""Slack Web API calls that must land: retried through rate limits, never forever.

Slack answers HTTP 429 with ``Retry-After`` when a method's per-channel or per-workspace rate
is exceeded (``chat.postMessage`` is about one message a second per channel, so a report split
into several messages, or a few approvals at once, can meet it). slack_sdk's own
``RateLimitErrorRetryHandler`` would sleep inside every call made with the client, including
the progress step updates that must not wait; so the calls that matter say so here, one by one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from slack_sdk.errors import SlackApiError

__all__ = ["ATTEMPTS", "MAX_RETRY_AFTER", "retry_after", "send_retrying"]

log = logging.getLogger("solti.bot.slackcalls")

T = TypeVar("T")

# Tries per call, sleeping Slack's Retry-After (at most MAX_RETRY_AFTER s) between them: a rate
# limit lasts seconds, and a lost approval card or report part is worse than a late one.
ATTEMPTS = 4
MAX_RETRY_AFTER = 30.0


def retry_after(exc: Exception) -> float | None:
    """Seconds Slack asked us to wait when ``exc`` is a rate limit (HTTP 429), else None."""
    response = getattr(exc, "response", None) if isinstance(exc, SlackApiError) else None
    if response is None or getattr(response, "status_code", None) != 429:
        return None
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


def send_retrying(
    send: Callable[[], T],
    what: str,
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``send()``, again after ``Retry-After`` while Slack rate-limits it; other errors and
    the last rate limit are raised to the caller, who knows whether the call was optional."""
    for attempt in range(1, attempts + 1):
        try:
            return send()
        except SlackApiError as exc:
            wait = retry_after(exc)
            if wait is None or attempt == attempts:
                raise
            log.info("%s rate limited; retrying in %.0f s (attempt %d)", what, wait, attempt)
            sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises
