"""What a ``vm rebuild`` must put back on the re-made VM, kept until the VM is finished.

The old VM is destroyed half-way through a rebuild; after that its MAC address, static
network settings, cloud-init user and SSH keys exist only here. A rebuild writes its entry
before anything changes, marks it ``destroyed`` just before the old VM's destroy is sent and
``finished`` when the new one is complete, so ``solti reconcile`` (a crashed rebuild) and a
retry (a failed one) can finish the work with the same settings. Rows live in the audit file
(table ``rebuild_journal``, migration ``m005_rebuild_journal``) beside their records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["JournalEntry", "RebuildJournal"]


@dataclass(frozen=True)
class JournalEntry:
    audit_id: int
    vmid: int
    node: str
    restore: dict[str, Any]
    destroyed: bool
    finished: bool


class RebuildJournal:
    """The ``rebuild_journal`` table of an ``AuditLog``'s file (same connection and lock)."""

    def __init__(self, audit: Any) -> None:
        self.audit = audit

    def _execute(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        with self.audit.lock, self.audit.conn as conn:
            return list(conn.execute(sql, args).fetchall())

    def put(self, audit_id: int, vmid: int, node: str, restore: dict[str, Any]) -> None:
        self._execute(
            "INSERT OR REPLACE INTO [rebuild_journal] (audit_id, vmid, node, restore) "
            "VALUES (?, ?, ?, ?)",
            [audit_id, vmid, node, json.dumps(restore, sort_keys=True)],
        )

    def mark(self, audit_id: int, *, destroyed: bool = False, finished: bool = False) -> None:
        if destroyed:
            self._execute("UPDATE [rebuild_journal] SET destroyed = 1 WHERE audit_id = ?",
                          [audit_id])  # fmt: skip
        if finished:
            self._execute("UPDATE [rebuild_journal] SET finished = 1 WHERE audit_id = ?",
                          [audit_id])  # fmt: skip

    def get(self, audit_id: int) -> JournalEntry | None:
        rows = self._execute(_SELECT + " WHERE audit_id = ?", [audit_id])
        return _entry(rows[0]) if rows else None

    def unfinished(self, vmid: int) -> JournalEntry | None:
        """The newest entry of ``vmid`` whose destroy was asked for and whose new VM was
        never finished: a retry must put back these settings, not the half-made VM's."""
        rows = self._execute(
            _SELECT + " WHERE vmid = ? AND destroyed = 1 AND finished = 0 "
            "ORDER BY audit_id DESC LIMIT 1",
            [vmid],
        )
        return _entry(rows[0]) if rows else None


_SELECT = "SELECT audit_id, vmid, node, restore, destroyed, finished FROM [rebuild_journal]"


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    audit_id, vmid, node, restore, destroyed, finished = row
    return JournalEntry(int(audit_id), int(vmid), str(node), json.loads(restore),
                        bool(destroyed), bool(finished))  # fmt: skip
