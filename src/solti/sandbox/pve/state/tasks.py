"""Worker tasks (UPIDs) whose outcome is decided when they are read, not by a thread.

A task records when it ends; the cluster calls :meth:`Tasks.due` with the current time
before every request and runs the work of each task that has ended, in end order. So a slow
task never blocks anyone, and a manual clock makes every outcome deterministic.

``Tasks`` owns the tasks; how long one lasts and whether it fails come from a
:class:`TaskPolicy` (the simulator's faults), so the other parts only say what the work is.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from solti.sandbox.pve.api_errors import PveError

UPID_RE = re.compile(
    r"^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):"
    r"([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$"
)


WARN_PREFIX = "WARN: "


def status_type(status: str | None) -> str:
    """pve-common ``PVE/Tools.pm`` ``upid_normalize_status_type``."""
    if not status:
        return "unknown"
    if status == "OK":
        return "ok"
    if re.fullmatch(r"WARNINGS: \d+", status):
        return "warning"
    if status == "unexpected status":
        return "unknown"
    return "error"


class TaskError(Exception):
    """Raised by a task's work: the message becomes the task's exit status."""


Work = Callable[[], list[str] | None]
Now = Callable[[], float]


class TaskPolicy(Protocol):
    """Where task durations, injected failures and guest timings come from (the faults)."""

    def duration_for(self, task_type: str) -> float: ...

    def take_failure(self, task_type: str) -> str | None: ...

    def agent_boot_for(self, vmid: int) -> float | None: ...

    def ignores_acpi(self, vmid: int) -> bool: ...


class DefaultPolicy:
    """No faults: every task takes 0.1 s and succeeds, agents answer at once."""

    def duration_for(self, task_type: str) -> float:
        return 0.1

    def take_failure(self, task_type: str) -> str | None:
        return None

    def agent_boot_for(self, vmid: int) -> float | None:
        return 0.0

    def ignores_acpi(self, vmid: int) -> bool:
        return False


@dataclass
class Task:
    """One worker: identity fields of the UPID plus its planned end and its work."""

    upid: str
    node: str
    type: str
    id: str
    user: str
    tokenid: str | None
    pid: int
    pstart: int
    starttime: int
    ends_at: float
    work: Work | None = None
    rollback: Callable[[], None] | None = None
    injected_error: str | None = None
    status: str = "running"
    exitstatus: str | None = None
    log: list[str] = field(default_factory=list)

    def finish(self) -> None:
        """Run the work now (called once, at or after ``ends_at``)."""
        try:
            if self.injected_error is not None:
                raise TaskError(self.injected_error)
            lines = self.work() if self.work else None
            self.log.extend(lines or [])
            # A worker's ``warn`` is logged as ``WARN: ...`` and counted: the task still
            # succeeds, with exit status ``WARNINGS: n`` (PVE::RESTEnvironment fork_worker).
            warnings = sum(1 for line in lines or [] if line.startswith(WARN_PREFIX))
            if warnings:
                self.log.append(f"TASK WARNINGS: {warnings}")
                self.exitstatus = f"WARNINGS: {warnings}"
            else:
                self.log.append("TASK OK")
                self.exitstatus = "OK"
        except (TaskError, PveError) as exc:
            message = str(exc.message if isinstance(exc, PveError) else exc).rstrip("\n")
            if self.rollback:
                self.rollback()
            self.log.append(f"TASK ERROR: {message}")
            self.exitstatus = message
        self.status = "stopped"

    def list_row(self) -> dict[str, Any]:
        """The task as the node's task list shows it (``upid_decode`` fields, then the
        archive's ``endtime``/``status``; a token's tasks split ``user`` and ``tokenid``)."""
        row: dict[str, Any] = {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": self.user,
        }
        if self.tokenid:
            row["tokenid"] = self.tokenid
        if self.status == "stopped":
            row["endtime"] = int(self.ends_at)
            row["status"] = self.exitstatus
        return row

    def as_status(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": self.user,
            "status": self.status,
        }
        if self.tokenid:
            data["tokenid"] = self.tokenid
        if self.status == "stopped":
            data["exitstatus"] = self.exitstatus
        return data


class Tasks:
    """All tasks of the cluster, by UPID; ``now`` is the model's time, ``policy`` the faults."""

    def __init__(self, now: Now, policy: TaskPolicy) -> None:
        self._now = now
        self._policy = policy
        self._tasks: dict[str, Task] = {}
        self._pids = itertools.count(random.randint(0x10000, 0x3FFFF))
        self._pstart = random.randint(0x100000, 0x1FFFFFF)

    def start(
        self,
        node: str,
        task_type: str,
        task_id: str | int,
        task_user: str,
        work: Work | None,
        rollback: Callable[[], None] | None = None,
        duration: float | None = None,
    ) -> Task:
        """Start a worker whose ``work`` runs when its duration is over: ``duration`` when
        the caller knows it (a shutdown that waits for its timeout), else the faults' one."""
        if duration is None:
            duration = self._policy.duration_for(task_type)
        now = self._now()
        pid = next(self._pids)
        starttime = int(now)
        user, _, tokenid = task_user.partition("!")
        upid = (
            f"UPID:{node}:{pid:08X}:{self._pstart:08X}:{starttime:08X}:"
            f"{task_type}:{task_id}:{task_user}:"
        )
        task = Task(
            upid=upid,
            node=node,
            type=task_type,
            id=str(task_id),
            user=user,
            tokenid=tokenid or None,
            pid=pid,
            pstart=self._pstart,
            starttime=starttime,
            ends_at=now + max(duration, 0.0),
            work=work,
            rollback=rollback,
            injected_error=self._policy.take_failure(task_type),
        )
        self._tasks[upid] = task
        return task

    def due(self, now: float) -> None:
        """Finish every running task whose end time has passed, oldest end first."""
        ready = [t for t in self._tasks.values() if t.status == "running" and t.ends_at <= now]
        for task in sorted(ready, key=lambda t: (t.ends_at, t.pid)):
            task.finish()

    def running(self) -> list[Task]:
        return [t for t in self._tasks.values() if t.status == "running"]

    def get(self, node: str, upid: str) -> Task:
        """Look a task up as ``GET /nodes/{node}/tasks/{upid}/...`` does."""
        if not UPID_RE.match(upid):
            raise PveError(
                400, "Parameter verification failed.", {"upid": "unable to parse worker upid"}
            )
        task = self._tasks.get(upid)
        if task is None or task.node != node:
            raise PveError(400, "Parameter verification failed.", {"upid": "no such task"})
        return task

    def node_list(self, node: str, params: dict[str, Any], caller: str, auditor: bool) -> list:
        """``GET /nodes/{node}/tasks`` as pve-manager ``PVE/API2/Tasks.pm`` ``node_tasks``
        answers: running tasks first (``source=active|all``, status ``RUNNING``), then the
        archive newest-ended first (``source=archive|all``, the default); the filters and
        ``start``/``limit`` paging count only matching tasks, as its ``$filter_task`` does."""
        source = params.get("source", "archive")
        start = int(params.get("start", 0))
        limit = int(params.get("limit", 50))
        allowed = {"ok", "warning", "error", "unknown"}
        if params.get("statusfilter") is not None and not params.get("errors"):
            allowed = {f.lower() for f in re.split(r"[;, ]+", params["statusfilter"]) if f}
        elif params.get("errors"):
            allowed.discard("ok")
        count = 0
        out: list[dict[str, Any]] = []

        def keep(task: Task, row: dict[str, Any]) -> bool:
            nonlocal count, limit
            userfilter = params.get("userfilter")
            owner = f"{task.user}!{task.tokenid}" if task.tokenid else task.user
            if userfilter and userfilter.lower() not in task.user.lower():
                return False
            if not auditor and caller not in (owner, task.user):
                return False
            if params.get("typefilter") and task.type != params["typefilter"]:
                return False
            if params.get("vmid") and task.id != str(params["vmid"]):
                return False
            if params.get("since") is not None and task.starttime < int(params["since"]):
                return False
            if params.get("until") is not None and task.starttime > int(params["until"]):
                return False
            if status_type(row.get("status")) not in allowed:
                return False
            count += 1
            if count <= start or limit <= 0:
                return False
            limit -= 1
            return True

        mine = [t for t in self._tasks.values() if t.node == node]
        if source in ("active", "all"):
            for task in sorted(mine, key=lambda t: (t.starttime, t.pid)):
                if task.status == "running" and keep(task, row := task.list_row()):
                    out.append({**row, "status": "RUNNING"})
        if source != "active":
            done = [t for t in mine if t.status == "stopped"]
            for task in sorted(done, key=lambda t: (t.ends_at, t.pid), reverse=True):
                if keep(task, row := task.list_row()):
                    out.append(row)
        return out

    def cluster_list(self) -> list[dict[str, Any]]:
        """pmxcfs's cluster task list (``PVE::Cluster::get_tasklist``): every node's tasks,
        newest first; running ones without ``status``/``endtime``."""
        tasks = sorted(self._tasks.values(), key=lambda t: (t.starttime, t.pid), reverse=True)
        return [task.list_row() for task in tasks]

    @staticmethod
    def log_lines(task: Task, start: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        lines = list(task.log)
        numbered = [{"n": i + 1, "t": text} for i, text in enumerate(lines)]
        return numbered[start : start + limit] if limit else numbered[start:]
