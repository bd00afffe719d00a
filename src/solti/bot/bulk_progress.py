"""Live progress of a ``--count`` create: one channel message with a row per VM.

N creates report their steps from N threads; each report changes its row and the message is
edited in place. Slack rate-limits ``chat.update`` per channel, so step updates are sent at
most once a second (the next one carries every row anyway); a VM that ends, and the final
state, are always sent (the final one retried through rate limits, as ``ProgressMessage``
does).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from solti.bot.blocks.bulk_blocks import BulkRow, bulk_message
from solti.bot.slackcalls import ATTEMPTS, retry_after, send_retrying

__all__ = ["BulkProgress"]

log = logging.getLogger("solti.bot.bulk_progress")

STEP_UPDATE_EVERY = 1.0  # seconds between step-only edits


class BulkProgress:
    """The message of one ``--count`` create."""

    def __init__(
        self,
        client: Any,
        channel: str,
        title: str,
        rows: list[BulkRow],
        *,
        requester: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.channel = channel
        self.title = title
        self.rows = rows
        self.requester = requester
        self.ts: str | None = None
        self._monotonic = monotonic
        self._sleep = sleep
        self._last_sent = float("-inf")
        self._lock = threading.Lock()

    def post(self) -> str:
        reply = self.client.chat_postMessage(
            channel=self.channel, **bulk_message(self.title, self.rows, self.requester)
        )
        self.ts = reply["ts"]
        self.channel = reply.get("channel") or self.channel
        return self.ts

    def step(self, index: int, progress: Any) -> None:
        """VM ``index`` (1-based) began a step: its row says which, throttled."""
        note = progress.step + (f" ({progress.detail})" if progress.detail else "")
        self._set(index, "running", note, force=False)

    def ended(self, index: int, state: str, note: str) -> None:
        """VM ``index`` is made (``done``) or failed: always shown."""
        self._set(index, state, note, force=True)

    def item_ended(self, item: Any, done_note: Callable[[Any], str]) -> None:
        """Provisioning's ``finished`` callback of a run of many: the item's row is done, with
        ``done_note(item.result)``, or failed with the item's error."""
        if item.result is not None:
            self.ended(item.index, "done", done_note(item.result))
        else:
            self.ended(item.index, "failed", item.error or "failed")

    def all_failed(self, reason: str) -> None:
        """The run was refused before any item started: every row failed with ``reason``."""
        for index in range(1, len(self.rows) + 1):
            self.ended(index, "failed", reason)

    def finish(self) -> None:
        with self._lock:
            self._send(bulk_message(self.title, self.rows, self.requester, final=True), True)

    def _set(self, index: int, state: str, note: str, *, force: bool) -> None:
        with self._lock:
            self.rows[index - 1] = replace(self.rows[index - 1], state=state, note=note)
            now = self._monotonic()
            if not force and now - self._last_sent < STEP_UPDATE_EVERY:
                return
            self._last_sent = now
            self._send(bulk_message(self.title, self.rows, self.requester), False)

    def _send(self, payload: dict[str, Any], final: bool) -> None:
        if self.ts is None:
            return
        try:
            send_retrying(
                lambda: self.client.chat_update(channel=self.channel, ts=self.ts, **payload),
                "bulk progress update",
                attempts=ATTEMPTS if final else 1,
                sleep=self._sleep,
            )
        except Exception as exc:  # progress is best effort; the VMs are made regardless
            reason = "rate limited" if retry_after(exc) is not None else type(exc).__name__
            log.warning("bulk progress update failed: %s", reason)
