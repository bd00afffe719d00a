"""What every provisioning verb needs, bundled once: client, waiter, audit log, catalog, defaults.

``template_lifecycle``, ``vm_create`` and ``vm_lifecycle`` receive one ``Collaborators``
instead of a dozen arguments;
``service.Provisioner`` builds it. ``Steps`` is the progress/step bookkeeping of an
``operation.Operation`` (the skeleton every changing verb runs on): it reports ``Progress`` to
the caller and stamps the running step's name on any ``ProxmoxError`` that escapes, so an error
always says which step failed and PVE's words why.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from solti.provisioning.defaults_policy import Defaults
from solti.provisioning.errors import ProxmoxError, SoltiError, TaskFailed
from solti.provisioning.fleet_policy import Fleet
from solti.provisioning.models import Progress
from solti.provisioning.pve import PveClient, VmLocked, VmMissing
from solti.provisioning.reservations import HOLD_AFTER_FINISH, QuotaHold, Reservations
from solti.provisioning.shared_claims import SharedClaims
from solti.provisioning.task_waiter import TaskWaiter
from solti.telemetry import PROXMOX_ERRORS, step_timer

log = logging.getLogger("solti.provisioning.collaborators")
REMOVE_ATTEMPTS = 4  # a half-made VM's removal, tried again after a fault (backing off)

__all__ = [
    "HOLD_AFTER_FINISH",
    "Collaborators",
    "Defaults",
    "QuotaHold",
    "Reservations",
    "Steps",
    "describe_failure",
    "elapsed_ms",
    "with_step",
]

ProgressFn = Callable[[Progress], None]


@dataclass
class Collaborators:
    """The collaborators of the verbs; one per ``Provisioner``, shared by its threads."""

    client: PveClient
    waiter: TaskWaiter
    audit: Any
    catalog: Any
    defaults: Defaults = field(default_factory=Defaults)
    fleet: Fleet = field(default_factory=Fleet)
    reservations: Reservations = field(default_factory=Reservations)
    today: Callable[[], date] = field(default_factory=lambda: lambda: datetime.now(UTC).date())
    now: Callable[[], datetime] = field(default_factory=lambda: lambda: datetime.now(UTC))
    http_get: Callable[[str], str] | None = None
    # HEAD of an upstream image -> its headers (``upstream`` reads ``Last-Modified``).
    http_head: Callable[[str], Mapping[str, str]] | None = None
    lock_timeout: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        # Claims go through the audit file, so other processes on it see them
        # (``shared_claims``); a test's stand-in log without a file keeps them in memory.
        if self.reservations.shared is None:
            self.reservations.share(SharedClaims.of(self.audit))

    def node_for(self, requested: str | None) -> str:
        """The node to work on: asked for, policy default, or the first online node."""
        if requested:
            return requested
        if self.defaults.node:
            return self.defaults.node
        return self.online_nodes()[0]

    def online_nodes(self) -> list[str]:
        """The cluster's online nodes by name; SoltiError when there is none."""
        nodes = sorted(
            str(n["node"]) for n in self.client.nodes() if n.get("status", "online") == "online"
        )
        if not nodes:
            raise SoltiError("Proxmox VE lists no online node")
        return nodes

    def remove_half_made(self, node: str, vmid: int, name: str | None = None) -> str | None:
        """Destroy what a failed operation left behind; a note for people when that fails too.

        The cleanup meets the same faults as the operation it undoes (a 5xx, a lost answer, a
        lock, a failed task), so it is tried ``REMOVE_ATTEMPTS`` times, waiting out locks.
        Before a retry the VM is looked at again: gone (an earlier try did take effect) ends
        the cleanup, and so does another ``name`` (the VMID is someone else's by now).
        """
        last: ProxmoxError | None = None
        for attempt in range(REMOVE_ATTEMPTS):
            try:
                if attempt:
                    self.sleep(min(0.5 * 2**attempt, 4.0))
                    if name and self.client.vm_config(node, vmid).get("name") != name:
                        return None
                self._remove_once(node, vmid)
                return None
            except VmMissing:
                return None
            except ProxmoxError as exc:
                last = exc
                log.warning("removing half-made VM %s failed (%s)", vmid, exc.reason)
        assert last is not None
        return f"VM {vmid} could not be removed and needs cleanup: {last.reason}"

    def _remove_once(self, node: str, vmid: int) -> None:
        if self.client.vm_status(node, vmid).get("status") == "running":
            self.waiter.wait(self.until_unlocked(lambda: self.client.stop(node, vmid)), node=node)
        self.waiter.wait(self.until_unlocked(lambda: self.client.delete_vm(node, vmid)), node=node)

    def settled_config(
        self, node: str, vmid: int, busy: Callable[[dict[str, Any]], bool]
    ) -> tuple[dict[str, Any], bool] | None:
        """The VM's config once ``busy(config)`` is false, read again with backoff up to
        ``lock_timeout``, and whether it was still busy when the wait ran out; None when the VM
        is gone. A reconcile judges a VM only once the worker of the dead caller has ended."""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.2
        while True:
            try:
                config = self.client.vm_config(node, vmid)
            except VmMissing:
                return None
            still = busy(config)
            if not still or time.monotonic() > deadline:
                return config, still
            self.sleep(delay)
            delay = min(delay * 2, 2.0)

    def until_unlocked(self, action: Callable[[], Any]) -> Any:
        """Run ``action``; while PVE answers ``VM is locked``, wait (backing off) and retry.

        A clone's lock is gone when its task ends, but other holders (a backup, a slow
        storage) keep it longer; retrying the write costs nothing in the common case, unlike
        reading the config first to look for a lock.
        """
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.1
        while True:
            try:
                return action()
            except VmLocked:
                if time.monotonic() + delay > deadline:
                    raise
                self.sleep(delay)
                delay = min(delay * 2, 1.0)


def with_step(exc: ProxmoxError, step: str) -> ProxmoxError:
    """A copy of ``exc`` that names ``step`` (errors raised deeper do not know the step)."""
    if exc.step:
        return exc
    if isinstance(exc, TaskFailed):
        new: ProxmoxError = TaskFailed(
            exc.reason,
            upid=exc.upid,
            exitstatus=exc.exitstatus,
            step=step,
            status=exc.status,
            errors=exc.errors,
        )
    else:
        new = type(exc)(exc.reason, status=exc.status, errors=exc.errors, step=step)
    return new


class Steps:
    """Numbered steps of one long operation; reports progress and names failures."""

    def __init__(
        self, names: list[str], progress: ProgressFn | None, operation: str = "provisioning"
    ) -> None:
        self.names = names
        self._progress = progress
        self.operation = operation  # label of the step-duration metric and log line
        self.current: str | None = None

    def __call__(
        self, name: str, detail: str | None = None
    ) -> contextlib.AbstractContextManager[None]:
        return self._run(name, detail)

    @contextlib.contextmanager
    def _run(self, name: str, detail: str | None) -> Iterator[None]:
        self.current = name
        self.report(name, detail)
        try:
            with step_timer(self.operation, name):
                yield
        except ProxmoxError as exc:
            PROXMOX_ERRORS.labels(kind=type(exc).__name__).inc()
            raise with_step(exc, name) from exc

    def report(self, name: str, detail: str | None = None) -> None:
        if self._progress is None:
            return
        index = self.names.index(name) + 1 if name in self.names else len(self.names)
        with contextlib.suppress(Exception):  # a broken progress display must not break work
            self._progress(Progress(step=name, index=index, total=len(self.names), detail=detail))


def elapsed_ms(started: float) -> int:
    """Milliseconds since a ``time.monotonic()`` reading, for ``duration_ms``."""
    return int((time.monotonic() - started) * 1000)


def describe_failure(exc: BaseException, step: str | None, cleanup: str | None) -> str:
    """One line for the audit log and the user: the step, PVE's words, what became of the VM."""
    text = str(exc) or type(exc).__name__
    if step and not (isinstance(exc, ProxmoxError) and exc.step) and not text.startswith(step):
        text = f"{step}: {text}"
    return f"{text} ({cleanup})" if cleanup else text
