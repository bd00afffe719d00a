"""Claims of creates in flight, shared through the audit file by every process that opens it.

``collaborators.Reservations`` keeps the VMIDs, names and quota holds of one process's creates
in flight. But operators run `solti vm create` in two terminals and from cron, next to the bot,
on one ``SOLTI_DB``; each process plans from its own ``/cluster/resources`` snapshot, in which
none of the others' VMs exists yet. PVE refuses a second VM on one VMID (the loser takes the
next), but nothing refuses a second VM of the same name, and nothing sees a quota passed by N
processes together. Seen before this module: four creates at once made four VMs all named
``rocky9-261203``; with ``max_vms_per_user: 2``, four creates at once made four VMs.

So every claim is also a row of table ``claim`` (audit migration ``m007_racehunt_claims``),
written in the same ``BEGIN IMMEDIATE`` transaction that read the other processes' rows: the
check and the claim of two processes cannot interleave. A row names its process (host, pid,
start time, as ``ownership`` does for running records); the row of a process that is gone
(killed inside a create) is deleted when next seen, and one of another host when older than
``FOREIGN_STALE_SECONDS``. A released VMID/name row still counts for ``LINGER_SECONDS``: a
snapshot taken before that VM existed may be planning in another process right now. A settled
quota hold keeps counting as the in-process one does (``HOLD_AFTER_FINISH``); one whose create
failed is deleted.

Pure stdlib and ``sqlite3`` on the audit log's own connection and lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from solti.provisioning.ownership import (
    ProcessIdentity,
    pid_alive,
    process_identity,
    process_start_time,
)
from solti.provisioning.sqlite_files import write_locked

__all__ = ["HOLD", "ID", "REQUEST", "REQUEST_SECONDS", "SharedClaim", "SharedClaims"]

ID = "id"  # a VMID and perhaps a name, claimed by a create, build or rebuild
HOLD = "hold"  # a create counted against its owner's quota
REQUEST = "request"  # a request id (name: "action:request id") until its running record exists
REQUEST_SECONDS = 600.0  # a request claim never released (a path that forgot) lapses then
TABLE = "claim"
LINGER_SECONDS = 120.0
# How long a finished create's quota hold still counts: longer than any plan waits to be built
# (a form, a Slack post) and than PVE's RRD cache needs to list the VM with its sizes. The
# in-process holds use the same figure (``reservations.HOLD_AFTER_FINISH``).
HOLD_SECONDS = 600.0
FOREIGN_STALE_SECONDS = 6 * 3600.0


@dataclass(frozen=True)
class SharedClaim:
    """Another process's claim, as read from the file (``released_at``: wall-clock seconds)."""

    id: int
    kind: str
    vmid: int | None
    name: str | None
    owner: str | None
    cores: int
    memory: int
    disk: int
    released_at: float | None
    made_vmid: int | None


class SharedClaims:
    """The ``claim`` rows of one cluster in one audit file, seen from one process."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        lock: threading.RLock,
        cluster: str,
        *,
        wall: Callable[[], float] = time.time,
        me: ProcessIdentity | None = None,
    ) -> None:
        self._conn = conn
        self._lock = lock
        self.cluster = cluster
        self._wall = wall
        self._me = me or process_identity()

    @classmethod
    def of(cls, audit: Any) -> SharedClaims | None:
        """The claims of ``audit`` (an ``AuditLog``); None for a stand-in without a file."""
        conn, lock = getattr(audit, "conn", None), getattr(audit, "lock", None)
        if not isinstance(conn, sqlite3.Connection) or lock is None:
            return None
        return cls(conn, lock, str(getattr(audit, "writes_cluster", "default")))

    # --- reading and writing, inside ``transaction`` --------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[list[SharedClaim]]:
        """The write lock of the file, and the other processes' live claims under it."""
        with self._lock, write_locked(self._conn):
            self._forget_stale()
            yield self._others()

    def others(self) -> list[SharedClaim]:
        """The other processes' live claims, read without the write lock (a preview)."""
        with self._lock:
            return self._others()

    def add(self, kind: str, *, vmid: int | None, name: str | None = None,
            owner: str | None = None, sizes: tuple[int, int, int] = (0, 0, 0)) -> int:  # fmt: skip
        """A claim of this process (call inside ``transaction``); its row id."""
        me = self._me
        cursor = self._conn.execute(
            f"INSERT INTO [{TABLE}] (cluster, kind, vmid, name, owner, cores, memory, disk,"
            " host, pid, started, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.cluster, kind, vmid, name, owner, *sizes, me.host, me.pid, me.started,
             self._wall()],
        )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def release(self, row_id: int, made_vmid: int | None = None) -> None:
        """The claim ended (it keeps counting a while; see the module docstring)."""
        with self._lock, self._conn:
            self._conn.execute(
                f"UPDATE [{TABLE}] SET released_at = ?, made_vmid = ? WHERE id = ?",
                [self._wall(), made_vmid, row_id],
            )

    def drop(self, row_id: int) -> None:
        """The claim made nothing: it counts no more."""
        with self._lock, self._conn:
            self._conn.execute(f"DELETE FROM [{TABLE}] WHERE id = ?", [row_id])

    def age(self, when: float) -> float:
        """Seconds since the wall-clock time ``when``."""
        return self._wall() - when

    # --- internals ------------------------------------------------------------------------------

    def _mine(self, host: str, pid: int, started: str | None) -> bool:
        me = self._me
        return (host, pid, started) == (me.host, me.pid, me.started)

    def _alive(self, host: str, pid: int, started: str | None, at: float) -> bool:
        if host != self._me.host:
            return self._wall() - at < FOREIGN_STALE_SECONDS
        if not pid_alive(pid):
            return False
        now_started = process_start_time(pid)
        return not (started and now_started and started != now_started)

    def _forget_stale(self) -> None:
        """Delete claims of processes that are gone and released claims past their time."""
        now = self._wall()
        self._conn.execute(
            f"DELETE FROM [{TABLE}] WHERE released_at IS NOT NULL AND"
            " ((kind = ? AND released_at < ?) OR (kind = ? AND released_at < ?))",
            [ID, now - LINGER_SECONDS, HOLD, now - HOLD_SECONDS],
        )
        rows = self._conn.execute(
            f"SELECT id, host, pid, started, at FROM [{TABLE}] WHERE released_at IS NULL"
        ).fetchall()
        gone = [
            (row_id,)
            for row_id, host, pid, started, at in rows
            if not (self._mine(host, pid, started) or self._alive(host, pid, started, at))
        ]
        if gone:
            self._conn.executemany(f"DELETE FROM [{TABLE}] WHERE id = ?", gone)

    def _others(self) -> list[SharedClaim]:
        now = self._wall()
        rows = self._conn.execute(
            f"SELECT id, kind, vmid, name, owner, cores, memory, disk, released_at, made_vmid,"
            f" at, host, pid, started FROM [{TABLE}] WHERE cluster = ?",
            [self.cluster],
        ).fetchall()
        out = []
        for *fields, at, host, pid, started in rows:
            claim = SharedClaim(*fields)
            if self._mine(host, pid, started):
                continue
            linger = LINGER_SECONDS if claim.kind == ID else HOLD_SECONDS
            if claim.released_at is not None and now - claim.released_at > linger:
                continue
            if claim.kind == REQUEST and now - at > REQUEST_SECONDS:
                continue
            out.append(claim)
        return out
