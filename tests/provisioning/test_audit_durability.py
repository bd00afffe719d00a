"""The audit file's durability: a commit is on disk before the next Proxmox call.

Why FULL and not NORMAL is in docs/operations.md ("Durability of the audit database"). A power
cut cannot be staged in a test; what can be checked is the setting every connection runs with,
and that a process killed outright (SIGKILL: no exit handler, no close) leaves every record it
committed readable by the next process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from solti.provisioning.audit_log import AuditLog

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_every_audit_connection_syncs_each_commit(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "solti.db")
    assert log.journal_mode == "wal"
    assert log.conn.execute("PRAGMA synchronous").fetchone()[0] == FULL
    again = AuditLog(tmp_path / "solti.db")  # an up-to-date file: no migration on this path
    assert again.conn.execute("PRAGMA synchronous").fetchone()[0] == FULL


def test_records_committed_before_a_sigkill_are_there_afterwards(tmp_path: Path) -> None:
    db = tmp_path / "solti.db"
    AuditLog(db)  # migrated, as by the operator's first command
    code = (
        "import os, signal\n"
        "from solti.provisioning.audit_log import AuditLog\n"
        f"log = AuditLog({str(db)!r})\n"
        "done = log.start('vm create', 'alice', 'cli', vmid=501)\n"
        "log.finish(done, 'ok')\n"
        "log.start('vm create', 'bob', 'cli', vmid=502)  # killed inside this one\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    log = AuditLog(db)
    records = {record.vmid: record for record in log.query(limit=10)}
    assert (records[501].actor, records[501].result) == ("alice", "ok")
    assert (records[502].actor, records[502].result) == ("bob", "running")
