"""Everything a listener needs, built once per app and handed over through Bolt's context.

The composition root (``solti.composition``) builds one ``Runtime`` per Bolt app and the
middleware puts that very object in each request's context (``context["runtime"]``): no
registry, no lookup by key. Work after the acknowledgement has one way in, ``Runtime.work``
(``AfterAck.quick`` / ``AfterAck.long``). The scheduled jobs live in ``bot.scheduler``.

Clusters (policy ``clusters:``): ``Runtime.clusters`` is the provisioning ``Clusters`` registry,
and ``runtime.provisioner`` / ``runtime.audit`` are those of the cluster the current work is
for: the listener resolves it once per request (``--cluster``, else the channel's route, else
``default``; ``Caller.cluster``) and runs the work inside ``runtime.on_cluster(name)``. The
choice is a context variable, so it follows the work onto the pools (``AfterAck`` copies the
context) and never leaks into another request's thread.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from solti.bot.approvals import ApprovalStore
from solti.bot.cluster_context import CURRENT as _CURRENT_CLUSTER
from solti.bot.cluster_context import NAMED as _NAMED_CLUSTER
from solti.bot.cluster_context import named_cluster
from solti.bot.db import BotDatabase
from solti.bot.directory import Directory
from solti.bot.keys import KeyStore
from solti.bot.policy import Rules
from solti.bot.seen import SeenRequests

__all__ = [
    "ACK_PRIORITY_SECONDS", "ACK_QUIET_SECONDS", "DEFAULT_CLUSTER", "AckGate", "AfterAck",
    "Runtime", "named_cluster",
]  # fmt: skip

log = logging.getLogger("solti.bot.runtime")
# How long background work may be held back while acknowledgements are in progress.
ACK_PRIORITY_SECONDS = 1.0
# How long after the last acknowledgement ended a burst counts as over (see AckGate).
ACK_QUIET_SECONDS = 0.02
DEFAULT_CLUSTER = "default"  # the cluster of the PROXMOX_* variables


class AckGate:
    """Acknowledgements in progress; background work waits (a bounded time) until there are none.

    Why: Slack's deadline is on the acknowledgement (3 s, else the person sees an error), while
    a reply through the response_url may come minutes later. In one process all threads share
    one GIL, so background work (Proxmox calls, replies, their logging) running beside a burst
    of requests makes every acknowledgement wait its turn. Starting that work only when no
    acknowledgement is being computed, or after ``ACK_PRIORITY_SECONDS`` at the latest, keeps
    acks fast under a burst and costs the replies at most that delay.

    "No acknowledgement" means none for ``ACK_QUIET_SECONDS``: in a burst the server thread
    reads the next request and writes the last answer between two acknowledgements, and work
    slipped into those gaps starves it (bench_ack, waitress, the mixed burst: p99 118 -> 37 ms
    with a 20 ms quiet period). A lone command's reply waits those 20 ms more, no one sees it.
    """

    def __init__(self, quiet_seconds: float = ACK_QUIET_SECONDS) -> None:
        self._idle = threading.Condition(threading.Lock())
        self._busy = 0
        self.quiet_seconds = quiet_seconds
        self._last_end = -quiet_seconds  # no ack yet: settled from the start

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                if self._busy == 0:
                    self._last_end = time.monotonic()
                    self._idle.notify_all()

    @property
    def busy(self) -> int:
        return self._busy

    def settled(self) -> bool:
        """No acknowledgement in progress, and none ended in the last ``quiet_seconds``."""
        return self._busy == 0 and time.monotonic() - self._last_end >= self.quiet_seconds

    def wait_idle(self, timeout: float) -> bool:
        """Block until ``settled()`` or ``timeout`` passed; True if settled."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while True:
                now = time.monotonic()
                if self._busy == 0:
                    quiet_left = self.quiet_seconds - (now - self._last_end)
                    if quiet_left <= 0:
                        return True
                else:
                    quiet_left = float("inf")
                remaining = deadline - now
                if remaining <= 0:
                    return False
                self._idle.wait(min(quiet_left, remaining))


class AfterAck:
    """The one way to run work after Slack got its acknowledgement.

    Two bounded pools, because the work comes in two kinds. ``long`` flows (create, build,
    remove...) spend minutes mostly asleep on Proxmox tasks and must never wait for each
    other: many workers. ``quick`` replies (lists, keys, audit, opening a modal) are a few
    milliseconds of CPU each: a few workers, so a burst of them runs a few at a time instead
    of all at once beside the acknowledgements under the one GIL (bench_ack: p99 of the mixed
    burst 67 -> 44 ms with 16 -> 4 workers). Both start their work only once no
    acknowledgement is being computed, or ``priority_seconds`` later at the latest
    (``AckGate``). Every job runs with the submitter's log context; an exception is logged
    (listeners report to the person themselves, this is the last net), never raised.

    ``during_ack`` is for the one thing an acknowledgement itself waits on, a bounded time:
    checking a submitted form against Proxmox (``listeners.views``). It must not wait for the
    gate (its own ack holds it), so it has its own small pool.
    """

    def __init__(
        self,
        acks: AckGate | None = None,
        *,
        quick_workers: int = 4,
        long_workers: int = 16,
        during_ack_workers: int = 8,
        priority_seconds: float = ACK_PRIORITY_SECONDS,
    ) -> None:
        self.acks = acks or AckGate()
        self.priority_seconds = priority_seconds
        self._quick = ThreadPoolExecutor(quick_workers, thread_name_prefix="solti-reply")
        self._long = ThreadPoolExecutor(long_workers, thread_name_prefix="solti-flow")
        self._during_ack = ThreadPoolExecutor(during_ack_workers, thread_name_prefix="solti-form")

    def quick(self, fn: Callable[..., None], *args: object) -> Future[None]:
        """A short reply that waits for no Proxmox task (see ``commands._quick``)."""
        return self._submit(self._quick, fn, *args)

    def long(self, fn: Callable[..., None], *args: object) -> Future[None]:
        """A flow that may wait minutes on Proxmox (create, build, remove...)."""
        return self._submit(self._long, fn, *args)

    def during_ack(self, fn: Callable[..., Any], *args: object) -> Future[Any]:
        """Work the acknowledgement waits for (a bounded time): not gated, result returned."""
        context = contextvars.copy_context()
        return self._during_ack.submit(context.run, fn, *args)

    def wait_for_acks(self) -> None:
        """Wait (at most ``priority_seconds``) while acknowledgements are in progress."""
        if not self.acks.settled():
            self.acks.wait_idle(self.priority_seconds)

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop taking work; what runs finishes on its own (flows are never cut short).

        ``wait=True`` returns once every started piece of work has ended (tests use it to know
        that nothing more will happen).
        """
        for pool in (self._quick, self._long, self._during_ack):
            pool.shutdown(wait=wait, cancel_futures=not wait)

    def _submit(
        self, pool: ThreadPoolExecutor, fn: Callable[..., None], *args: object
    ) -> Future[None]:
        context = contextvars.copy_context()
        return pool.submit(context.run, self._after_acks, fn, *args)

    def _after_acks(self, fn: Callable[..., None], *args: object) -> None:
        self.wait_for_acks()
        try:
            fn(*args)
        except Exception:
            log.exception("background work failed")


@dataclass
class Runtime:
    """The bot's stores, clients and pools, shared by every listener of one app."""

    settings: Any
    clusters: Any  # provisioning.Clusters: name -> Provisioner, channel routes
    policy: Any
    rules: Rules
    audit_override: Any  # an audit log tests give instead of the provisioner's, or None
    client: Any
    database: BotDatabase
    approvals: ApprovalStore
    keys: KeyStore
    directory: Directory
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    team_keys: tuple[str, ...] = ()
    work: AfterAck = field(default_factory=AfterAck)
    seen: SeenRequests | None = None

    @property
    def cluster(self) -> str:
        """The cluster the running work is for (``on_cluster``), else ``default``."""
        return _CURRENT_CLUSTER.get() or DEFAULT_CLUSTER

    @property
    def provisioner(self) -> Any:
        """The provisioner of ``cluster`` (built on first use)."""
        return self.clusters.get(self.cluster)

    @property
    def audit(self) -> Any:
        """The audit log of ``cluster``: decisions recorded here carry it."""
        if self.audit_override is not None:
            return self.audit_override
        return getattr(self.provisioner, "audit", None)

    @contextmanager
    def on_cluster(self, name: str | None) -> Iterator[None]:
        """Run the block for cluster ``name`` (None: default)."""
        token = _CURRENT_CLUSTER.set(name or DEFAULT_CLUSTER)
        named = _NAMED_CLUSTER.set((name or DEFAULT_CLUSTER) if self.clusters.many else None)
        try:
            yield
        finally:
            _NAMED_CLUSTER.reset(named)
            _CURRENT_CLUSTER.reset(token)

    def for_each_cluster(self, job: Callable[[], None], what: str) -> None:
        """A scheduled job once per cluster; one failing (down, no secret) never stops the
        others, and is logged with its cluster."""
        for name in self.clusters.names:
            with self.on_cluster(name):
                try:
                    job()
                except Exception:
                    log.exception("%s failed on cluster %s", what, name)

    @property
    def acks(self) -> AckGate:
        """The acknowledgements in progress; the servers time each one inside it."""
        return self.work.acks

    def groups_of(self, user: str) -> frozenset[str]:
        return self.directory.groups_of(user) if self.rules.usergroups else frozenset()

    def close(self) -> None:
        """Write the pending seen-request keys and stop taking work after the ack."""
        if self.seen is not None:
            try:
                self.seen.flush()
            except Exception:
                log.exception("could not persist seen request keys")
        self.work.shutdown()
