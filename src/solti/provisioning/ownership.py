"""Who runs an operation, and when a ``running`` audit record is *interrupted*.

Every ``running`` audit record carries its owner (host, pid, the process's start time, since
pids are reused) and a heartbeat. A record is interrupted when its owner is gone (same host:
no such pid, or a pid with another start time) or when its heartbeat is older than the
policy's ``recovery.stale_after`` (an owner on another host, or one that hangs). Pure apart
from reading ``/proc``, so reconcile's decisions are tested without a process to kill.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from solti.provisioning.models import AuditRecord

__all__ = [
    "ProcessIdentity",
    "RunningRecord",
    "interrupted_reason",
    "process_identity",
    "process_start_time",
]


@dataclass(frozen=True)
class ProcessIdentity:
    """Who runs an operation: host, pid and the process's start time (pids are reused)."""

    host: str
    pid: int
    started: str | None


def process_start_time(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux ``/proc``), None elsewhere
    or when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of stat(5)


def process_identity() -> ProcessIdentity:
    return ProcessIdentity(socket.gethostname(), os.getpid(), process_start_time(os.getpid()))


@dataclass(frozen=True)
class RunningRecord:
    """A ``running`` audit record with its owner and heartbeat (what reconcile judges)."""

    record: AuditRecord
    owner_host: str | None
    owner_pid: int | None
    owner_started: str | None
    heartbeat: datetime | None
    step: str | None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def interrupted_reason(
    running: RunningRecord,
    *,
    now: datetime,
    stale_after: timedelta,
    here: ProcessIdentity | None = None,
) -> str | None:
    """Why ``running`` is interrupted ("owner gone", "no heartbeat since ..."), None while its
    owner is alive and fresh (never touch those: two CLIs must not undo each other's work)."""
    here = here or process_identity()
    if running.owner_host == here.host and running.owner_pid is not None:
        if running.owner_pid == here.pid and running.owner_started == here.started:
            return None  # this very process: its own operations are alive by definition
        if not pid_alive(running.owner_pid):
            return f"its process {running.owner_pid} on {running.owner_host} is gone"
        started = process_start_time(running.owner_pid)
        if running.owner_started and started and started != running.owner_started:
            return f"its process {running.owner_pid} on {running.owner_host} is gone"
    beat = running.heartbeat or running.record.at
    if now - beat > stale_after:
        return f"no heartbeat since {beat.isoformat(timespec='seconds')}"
    return None
