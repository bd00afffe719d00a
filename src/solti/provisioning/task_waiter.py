"""Waiting for Proxmox VE tasks (UPIDs), with both failure channels turned into errors.

proxmoxer's ``blocking_status`` polls every second and returns the status or None; we need an
error on a failed task (PVE's own text), an error on timeout, and quick answers for the short
tasks that dominate a VM create. So polling starts fast (first look at once, then 0.1 s) and
backs off to 1 s. Sleep and clock are injected so unit tests never sleep.

A poll that fails (no answer, a 5xx) does not stop the task, which runs on in PVE: it is
retried (logged with its reason) up to ``POLL_FAILURES`` times in a row. When the waiter must
give up, ``TaskLost`` says the task may still be running, never that nothing changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from solti.provisioning.errors import ProxmoxError, TaskFailed, TaskTimeout, Unreachable

__all__ = ["TaskLost", "TaskWaiter", "node_of", "task_ok"]

log = logging.getLogger("solti.provisioning.task_waiter")
DEFAULT_TIMEOUT = 600.0
POLL_FAILURES = 8


class TaskLost(Unreachable):
    """The task's status could not be read, repeatedly: it may still be running in PVE."""


def _poll_failure(exc: ProxmoxError) -> bool:
    """A failed status read worth another try (no answer, a server error), not a refusal."""
    return isinstance(exc, Unreachable) or (type(exc) is ProxmoxError and (exc.status or 0) >= 500)


class _StatusSource(Protocol):
    def task_status(self, node: str, upid: str) -> dict[str, Any]: ...


def task_ok(exitstatus: str | None) -> bool:
    """PVE's success test: ``OK``, or ``WARNINGS: n`` (finished, with warnings)."""
    return exitstatus == "OK" or (exitstatus or "").startswith("WARNINGS")


def node_of(upid: str) -> str:
    """The node a UPID ran on (second field of ``UPID:node:pid:pstart:start:type:id:user:``)."""
    parts = upid.split(":")
    if len(parts) < 9 or parts[0] != "UPID":
        raise ValueError(f"not a Proxmox task id: {upid!r}")
    return parts[1]


class TaskWaiter:
    """Polls ``/nodes/{node}/tasks/{upid}/status`` until the task stops."""

    def __init__(
        self,
        client: _StatusSource,
        *,
        first_delay: float = 0.1,
        max_delay: float = 1.0,
        factor: float = 2.0,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.factor = factor
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock

    def wait(
        self,
        upid: str | None,
        *,
        node: str | None = None,
        step: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """The final status of ``upid``; raises ``TaskFailed`` or ``TaskTimeout``.

        ``None`` (a synchronous answer from an older PVE, e.g. resize before 8.0) is success.
        """
        if upid is None:
            return {"status": "stopped", "exitstatus": "OK"}
        node = node or node_of(upid)
        limit = self.timeout if timeout is None else timeout
        deadline = self._clock() + limit
        delay = self.first_delay
        failures = 0
        while True:
            try:
                status = self._client.task_status(node, upid)
            except ProxmoxError as exc:
                failures += 1
                if not _poll_failure(exc):
                    raise
                if failures >= POLL_FAILURES or deadline - self._clock() <= 0:
                    raise TaskLost(
                        f"lost track of task {upid} after {failures} failed status reads "
                        f"({exc.reason}); it may still be running",
                        step=step,
                    ) from None
                log.warning("task status of %s failed (%s); polling again", upid, exc.reason)
                self._sleep(delay)
                delay = min(delay * self.factor, self.max_delay)
                continue
            failures = 0
            if status.get("status") == "stopped":
                exitstatus = status.get("exitstatus")
                if task_ok(exitstatus):
                    return status
                text = str(exitstatus or "task ended without an exit status")
                raise TaskFailed(text, upid=upid, exitstatus=exitstatus, step=step)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise TaskTimeout(
                    f"task {status.get('type') or ''} {status.get('id') or ''} on {node} "
                    f"still running after {limit:g} s ({upid})".replace("  ", " "),
                    step=step,
                )
            self._sleep(min(delay, remaining))
            delay = min(delay * self.factor, self.max_delay)
