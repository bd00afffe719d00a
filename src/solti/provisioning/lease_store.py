"""The lease rows and the sweep's done-list, in the audit database (migration ``m004_leases``).

VMIDs are per cluster (``m006_clusters``): rows are keyed by (cluster, vmid), and a store reads
and writes only the cluster of the audit log it is given (``AuditLog.scoped``).

Times are stored as ISO-8601 UTC text with microseconds, so string order is time order and
``expires_at <= ?`` works in SQL. ``claim`` is the one place concurrency is settled: an
``INSERT OR IGNORE`` on the event's primary key succeeds for exactly one sweep, whichever
thread or process runs it, and survives a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from solti.provisioning.audit_log import AuditLog

__all__ = ["Lease", "LeaseStore", "stamp", "unstamp"]


def stamp(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def unstamp(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True)
class Lease:
    """One VM's lease: ``expires_at`` None means it never ends (an exempt user's ``none``)."""

    vmid: int
    owner: str
    expires_at: datetime | None
    set_at: datetime
    set_by: str
    name: str | None = None  # the VM's name at create: a reused VMID is not this VM


class LeaseStore:
    """Lease rows on the audit log's connection (and under its lock)."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self.cluster = audit.writes_cluster

    def put(self, lease: Lease) -> None:
        """Set (or replace: a reused VMID starts afresh) the lease of ``lease.vmid``."""
        with self.audit.lock, self.audit.conn:
            self.audit.conn.execute(
                "INSERT OR REPLACE INTO [lease]"
                " (vmid, owner, expires_at, set_at, set_by, name, cluster)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    lease.vmid,
                    lease.owner,
                    None if lease.expires_at is None else stamp(lease.expires_at),
                    stamp(lease.set_at),
                    lease.set_by,
                    lease.name,
                    self.cluster,
                ],
            )

    def get(self, vmid: int) -> Lease | None:
        found = self._select("AND vmid = ?", [vmid])
        return found[0] if found else None

    def all(self) -> list[Lease]:
        return self._select("", [])

    def ending_before(self, until: datetime) -> list[Lease]:
        """Leases that end before ``until`` (soonest first)."""
        return self._select(
            "AND expires_at IS NOT NULL AND expires_at < ? ORDER BY expires_at", [stamp(until)]
        )

    def forget(self, vmid: int) -> None:
        """The VM is gone: its lease and done-list go too (a reused VMID starts clean)."""
        with self.audit.lock, self.audit.conn:
            for table in ("lease", "lease_event"):
                self.audit.conn.execute(
                    f"DELETE FROM [{table}] WHERE cluster = ? AND vmid = ?", [self.cluster, vmid]
                )

    def done(self) -> set[tuple[int, str, str]]:
        """Every claimed (vmid, expires_at, kind)."""
        with self.audit.lock:
            rows = self.audit.conn.execute(
                "SELECT vmid, expires_at, kind FROM [lease_event] WHERE cluster = ?", [self.cluster]
            )
            return {(int(v), str(e), str(k)) for v, e, k in rows.fetchall()}

    def claim(self, vmid: int, expires_at: datetime, kind: str, at: datetime) -> bool:
        """Take one piece of sweep work; False when another sweep (or an earlier one) has, or
        when the lease it was for is no longer there with that end.

        The second condition closes a race between processes: a sweep that read the leases,
        then another that claimed, removed the VM and ``forget``-ed its lease and done-list
        (seen: cron's and a second sweep's `vm expire` recorded twice for one VM). The insert
        and the check are one statement, so no ``forget`` falls between them; an extension
        (a new end) makes the old work void too.
        """
        when = stamp(expires_at)
        with self.audit.lock, self.audit.conn:
            cursor = self.audit.conn.execute(
                "INSERT OR IGNORE INTO [lease_event] (cluster, vmid, expires_at, kind, at)"
                " SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM [lease]"
                " WHERE cluster = ? AND vmid = ? AND expires_at = ?)",
                [self.cluster, vmid, when, kind, stamp(at), self.cluster, vmid, when],
            )
            return cursor.rowcount == 1

    def _select(self, where: str, args: list[object]) -> list[Lease]:
        sql = (
            "SELECT vmid, owner, expires_at, set_at, set_by, name FROM [lease]"
            f" WHERE cluster = ? {where}"
        )
        with self.audit.lock:
            rows = self.audit.conn.execute(sql, [self.cluster, *args]).fetchall()
        return [
            Lease(int(v), str(o), unstamp(e), unstamp(s) or datetime.now(UTC), str(b), n)
            for v, o, e, s, b, n in rows
        ]

    def release(self, vmid: int, expires_at: datetime, kinds: list[str]) -> None:
        """Give back claimed work that failed, so the next sweep tries again."""
        with self.audit.lock, self.audit.conn:
            self.audit.conn.executemany(
                "DELETE FROM [lease_event]"
                " WHERE cluster = ? AND vmid = ? AND expires_at = ? AND kind = ?",
                [(self.cluster, vmid, stamp(expires_at), kind) for kind in kinds],
            )
