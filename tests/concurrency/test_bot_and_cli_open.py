"""The bot (its tables and the audit log) and `solti` commands opening one new ``SOLTI_DB`` at
the same moment: every opener succeeds and each migration set is applied once.

The bot opens ``BotDatabase`` and ``AuditLog`` in either order (``composition`` builds the
provisioner first, recovery may read the bot's tables first); the CLI opens the audit log.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from solti.bot.db import MIGRATION_SET as BOT_SET
from solti.bot.db import migrations as bot_migrations
from solti.provisioning.audit_schema import MIGRATION_SET as AUDIT_SET
from solti.provisioning.audit_schema import migrations as audit_migrations

OPEN = {
    "bot": "from solti.provisioning.audit_log import AuditLog; from solti.bot.db import "
    "BotDatabase; AuditLog(sys.argv[1], cluster='default'); BotDatabase(sys.argv[1])",
    "bot, tables first": "from solti.provisioning.audit_log import AuditLog; from solti.bot.db "
    "import BotDatabase; BotDatabase(sys.argv[1]); AuditLog(sys.argv[1], cluster='default')",
    "cli": "from solti.provisioning.audit_log import AuditLog; AuditLog(sys.argv[1])",
}


def test_bot_and_cli_open_a_new_file_together(tmp_path: Path):
    db = str(tmp_path / "solti.db")
    openers = [*OPEN.values(), *OPEN.values()]
    procs = [subprocess.Popen([sys.executable, "-c", f"import sys; {code}", db],
                              stderr=subprocess.PIPE, text=True) for code in openers]  # fmt: skip
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), errors
    with sqlite3.connect(db) as conn:
        applied = list(conn.execute("SELECT migration_set, name FROM _sqlite_migrations"))
    # sqlite-utils keeps a Migrations' steps in ``_migrations`` (no public list of names)
    steps = {(AUDIT_SET, m.name) for m in audit_migrations()._migrations}
    steps |= {(BOT_SET, m.name) for m in bot_migrations._migrations}
    assert sorted(applied) == sorted(steps)  # every step of both sets, each exactly once
