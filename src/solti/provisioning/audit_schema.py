"""The audit file's schema, as sqlite-utils migrations (set ``solti.audit``), applied in order.

Apart from ``audit_log`` (which reads and writes rows with plain ``sqlite3``) so the schema's
history reads in one place. To change a table, add a step at the end; never edit an applied
one: its name is what a database records.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlite-utils loads only when a migration is pending (~75 ms)
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

__all__ = ["MIGRATION_SET", "TABLE", "migrations", "pending"]

TABLE = "audit"


def m001_audit(db: Database) -> None:
    db[TABLE].create(  # type: ignore[union-attr]
        {
            "id": int,
            "at": str,
            "actor": str,
            "via": str,
            "action": str,
            "vmid": int,
            "name": str,
            "node": str,
            "template_vmid": int,
            "template_name": str,
            "template_version": str,
            "params": str,
            "result": str,
            "error": str,
            "approver": str,
            "request_id": str,
            "duration_ms": int,
        },
        pk="id",
    )
    for columns in (["at"], ["actor"], ["vmid"], ["template_vmid"], ["request_id"]):
        db[TABLE].create_index(columns)  # type: ignore[union-attr]


def m002_action_result_index(db: Database) -> None:
    """The bot's approval sweep asks every 30 s for rows of one action still ``running``."""
    db[TABLE].create_index(["action", "result"], if_not_exists=True)  # type: ignore[union-attr]


def m003_owner_and_heartbeat(db: Database) -> None:
    """Who runs a ``running`` record (host, pid, process start) and its heartbeat and step.

    A restarted bot or ``solti reconcile`` tells a crashed operation (owner gone, heartbeat
    old) from a live one by these columns; they are not part of the record's contract.
    """
    table = db[TABLE]
    for column, kind in OWNER_COLUMNS.items():
        table.add_column(column, kind)  # type: ignore[union-attr]


OWNER_COLUMNS: dict[str, type] = {
    "owner_host": str, "owner_pid": int, "owner_started": str, "heartbeat": str, "step": str,
}  # fmt: skip


def m004_leases(db: Database) -> None:
    """Leases (``provisioning.leases``): one row per VM, and the sweep's done-list.

    ``lease_event`` holds each reminder, expiry and removal the sweep has claimed, keyed by the
    lease end it was for: the primary key makes a second sweep (another thread, process or a
    restart) find the work taken, and an extension (a new end) starts a fresh list.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS [lease] ("
        " vmid INTEGER PRIMARY KEY, owner TEXT NOT NULL, expires_at TEXT,"
        " set_at TEXT NOT NULL, set_by TEXT NOT NULL, name TEXT)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_lease_expires_at ON [lease] (expires_at)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS [lease_event] ("
        " vmid INTEGER NOT NULL, expires_at TEXT NOT NULL, kind TEXT NOT NULL,"
        " at TEXT NOT NULL, PRIMARY KEY (vmid, expires_at, kind))"
    )


def m005_rebuild_journal(db: Database) -> None:
    """What a ``vm rebuild`` puts back on the re-made VM (``provisioning.rebuild_journal``).

    Kept apart from the audit record because it holds the SSH public keys themselves (the
    record names keys by fingerprint only), and a rebuild interrupted after its destroy needs
    them to be finished by ``solti reconcile`` or by a retry. ``destroyed`` is set when the old
    VM's destroy is sent, ``finished`` once the new one is complete.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS [rebuild_journal] ("
        " audit_id INTEGER PRIMARY KEY, vmid INTEGER NOT NULL, node TEXT NOT NULL,"
        " restore TEXT NOT NULL, destroyed INTEGER NOT NULL DEFAULT 0,"
        " finished INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_rebuild_journal_vmid ON [rebuild_journal] (vmid)")


def m006_clusters(db: Database) -> None:
    """Many clusters (policy ``clusters:``): every record names its cluster, and VMIDs are per
    cluster, so a lease and the sweep's done-list are keyed by (cluster, vmid).

    Rows written before are the ``default`` cluster's (the ``PROXMOX_*`` one).
    """
    db[TABLE].add_column("cluster", str, not_null_default="default")  # type: ignore[union-attr]
    db[TABLE].create_index(["cluster", "vmid"], if_not_exists=True)  # type: ignore[union-attr]
    db.execute("ALTER TABLE [lease] RENAME TO [lease_before_clusters]")
    db.execute(
        "CREATE TABLE [lease] ("
        " cluster TEXT NOT NULL DEFAULT 'default', vmid INTEGER NOT NULL, owner TEXT NOT NULL,"
        " expires_at TEXT, set_at TEXT NOT NULL, set_by TEXT NOT NULL, name TEXT,"
        " PRIMARY KEY (cluster, vmid))"
    )
    db.execute(
        "INSERT INTO [lease] (cluster, vmid, owner, expires_at, set_at, set_by, name)"
        " SELECT 'default', vmid, owner, expires_at, set_at, set_by, name"
        " FROM [lease_before_clusters]"
    )
    db.execute("DROP TABLE [lease_before_clusters]")
    db.execute("DROP INDEX IF EXISTS idx_lease_expires_at")
    db.execute("CREATE INDEX IF NOT EXISTS idx_lease_expires_at ON [lease] (expires_at)")
    db.execute("ALTER TABLE [lease_event] RENAME TO [lease_event_before_clusters]")
    db.execute(
        "CREATE TABLE [lease_event] ("
        " cluster TEXT NOT NULL DEFAULT 'default', vmid INTEGER NOT NULL,"
        " expires_at TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,"
        " PRIMARY KEY (cluster, vmid, expires_at, kind))"
    )
    db.execute(
        "INSERT INTO [lease_event] (cluster, vmid, expires_at, kind, at)"
        " SELECT 'default', vmid, expires_at, kind, at FROM [lease_event_before_clusters]"
    )
    db.execute("DROP TABLE [lease_event_before_clusters]")


def m007_racehunt_claims(db: Database) -> None:
    """VMIDs, names and quota holds of creates in flight, shared by every process on the file
    (``provisioning.shared_claims``): two terminals creating at once see each other's."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS [claim] ("
        " id INTEGER PRIMARY KEY, cluster TEXT NOT NULL, kind TEXT NOT NULL, vmid INTEGER,"
        " name TEXT, owner TEXT, cores INTEGER NOT NULL DEFAULT 0,"
        " memory INTEGER NOT NULL DEFAULT 0, disk INTEGER NOT NULL DEFAULT 0,"
        " host TEXT NOT NULL, pid INTEGER NOT NULL, started TEXT, at REAL NOT NULL,"
        " released_at REAL, made_vmid INTEGER)"
    )


MIGRATION_SET = "solti.audit"
_STEPS = (
    m001_audit, m002_action_result_index, m003_owner_and_heartbeat, m004_leases,
    m005_rebuild_journal, m006_clusters, m007_racehunt_claims,
)  # fmt: skip


@functools.cache
def migrations() -> Migrations:
    """The audit schema's migrations, in order (their names are what a database records)."""
    from sqlite_utils.migrations import Migrations

    schema = Migrations(MIGRATION_SET)
    for step in _STEPS:
        schema()(step)
    return schema


def pending(connection: sqlite3.Connection) -> bool:
    """Whether a step is missing, read from sqlite-utils' own record without importing it."""
    try:
        applied = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [MIGRATION_SET]
            )
        }
    except sqlite3.OperationalError:  # no such table: a new file
        return True
    return not {step.__name__ for step in _STEPS} <= applied
