"""Live progress: one channel message edited in place per step, details in its thread.

People asked for one message that changes, not a stream of posts. Each ``Progress`` from
provisioning becomes a ``chat.update`` of the same (channel, ts); the final state replaces it,
and a thread reply carries what only a few need (task ids, timings).

Slack rate-limits ``chat.update`` per channel (HTTP 429 with ``Retry-After``), which a few
creates at once in one channel can reach. A step update that is refused is skipped, not
retried: provisioning calls us between its steps and must not sleep for Slack, and the next
update carries every step anyway. The final state (ready, failed, the address) is the one
people wait for, so it is retried after ``Retry-After`` (bounded) until Slack takes it.

Given a ``book`` and the operation's ``request_id``, ``post`` writes where the message is
into the bot's database and the final state marks it final, so that a bot started after a
crash can still bring the message to a final state (``bot.recovery``). A message that was
never posted (Slack refused) leaves no row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from solti.bot.blocks import progress as views
from solti.bot.recovery_book import ProgressBook
from solti.bot.slackcalls import ATTEMPTS, retry_after, send_retrying

__all__ = ["ProgressMessage"]

log = logging.getLogger("solti.bot.progress_message")


class ProgressMessage:
    """The progress message of one long operation (create or build)."""

    def __init__(
        self,
        client: Any,
        channel: str,
        title: str,
        *,
        requester: str | None = None,
        request_id: str | None = None,
        book: ProgressBook | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.channel = channel
        self.title = title  # plain text, escaped by the builders
        self.requester = requester  # a Slack user id, shown as a mention
        self.request_id = request_id  # the operation's, as in its audit record
        self.book = book
        self.monotonic = monotonic
        self.sleep = sleep
        self.steps: list[views.StepLine] = []
        self.total: int | None = None
        self.ts: str | None = None
        self._started = monotonic()
        self._step_started = self._started
        self._lock = threading.Lock()

    def post(self) -> str:
        response = self.client.chat_postMessage(
            channel=self.channel, **views.running_message(self.title, [], None, self.requester)
        )
        self.ts = response["ts"]
        self.channel = response.get("channel") or self.channel
        self._remember()
        return self.ts

    def _remember(self) -> None:
        """Write where the message is (best effort: the operation must not fail for it)."""
        if self.book is None or self.request_id is None or self.ts is None:
            return
        try:
            self.book.remember(
                self.request_id,
                channel=self.channel,
                ts=self.ts,
                requester=self.requester,
                title=self.title,
            )
        except Exception:
            log.exception("could not remember the progress message of %s", self.request_id)

    def _finalised(self) -> None:
        if self.book is None or self.request_id is None or self.ts is None:
            return
        try:
            self.book.mark_final(self.request_id)
        except Exception:
            log.exception("could not mark the progress message of %s final", self.request_id)

    def _update(self, payload: dict[str, Any], *, final: bool = False) -> None:
        """Edit the message; a ``final`` state is retried through rate limits (see above)."""
        if self.ts is None:
            return
        self._deliver(
            "progress update",
            lambda: self.client.chat_update(channel=self.channel, ts=self.ts, **payload),
            final,
        )

    def _deliver(self, what: str, send: Callable[[], Any], final: bool) -> None:
        try:
            send_retrying(send, what, attempts=ATTEMPTS if final else 1, sleep=self.sleep)
        except Exception as exc:  # progress is best effort; the work itself goes on
            reason = "rate limited" if retry_after(exc) is not None else type(exc).__name__
            log.warning("%s failed: %s", what, reason)

    def __call__(self, progress: Any) -> None:
        """The ``progress`` callback provisioning calls as each step starts."""
        with self._lock:
            now = self.monotonic()
            if self.steps and self.steps[-1].state == "running":
                last = self.steps[-1]
                seconds = now - self._step_started
                self.steps[-1] = views.StepLine(last.name, "done", last.detail, seconds)
            self._step_started = now
            self.total = progress.total
            self.steps.append(views.StepLine(progress.step, "running", progress.detail))
            self._update(views.running_message(self.title, self.steps, self.total, self.requester))

    def _close_steps(self, state: str) -> None:
        if self.steps and self.steps[-1].state == "running":
            last = self.steps[-1]
            seconds = self.monotonic() - self._step_started
            self.steps[-1] = views.StepLine(last.name, state, last.detail, seconds)

    @property
    def step_lines(self) -> list[str]:
        """One line per step, its detail and its time together (``clone: VM 500 from 9000,
        0.4s``): a step listed once for what it did and again for how long read as two."""
        return [views.step_log_line(step) for step in self.steps]

    def finish(
        self,
        payload: dict[str, Any],
        extra_details: list[str] | None = None,
        note: str | None = None,
    ) -> None:
        """The final state in place; the thread gets ``note`` (mrkdwn, e.g. who approved,
        with a real mention) above the plain details."""
        with self._lock:
            self._close_steps("done")
            self._update(payload, final=True)
            self._finalised()
            total = self.monotonic() - self._started
            lines = [*(extra_details or []), *self.step_lines, f"total: {total:.1f}s"]
            self._thread(lines, note)

    def edit(self, payload: dict[str, Any]) -> None:
        """Replace the message once more after ``finish`` (e.g. the address came in later);
        retried through rate limits like the final state, and the thread is left alone."""
        with self._lock:
            self._update(payload, final=True)

    def fail(self, step: str | None, reason: str) -> None:
        with self._lock:
            self._close_steps("failed")
            if step is None and self.steps:
                step = self.steps[-1].name
            failed = views.failed_message(self.title, self.steps, step, reason, self.requester)
            self._update(failed, final=True)
            self._finalised()
            self._thread([*self.step_lines, f"failed at {step or 'start'}: {reason}"])

    def _thread(self, lines: list[str], note: str | None = None) -> None:
        if self.ts is None:
            return
        details = views.details_message(lines, note)
        self._deliver(
            "progress thread reply",
            lambda: self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.ts, **details
            ),
            True,
        )
