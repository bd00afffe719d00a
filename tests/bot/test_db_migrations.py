"""The bot's tables are made by migrations, and a database made before migrations is adopted."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from solti.bot.db import MIGRATION_SET, BotDatabase, migrations
from solti.provisioning import AuditLog

# The tables exactly as the code before migrations made them (sqlite-utils ``create``).
OLD_DDL = [
    """CREATE TABLE [slack_approvals] (
   [id] TEXT PRIMARY KEY, [kind] TEXT, [target] TEXT, [requester] TEXT,
   [origin_channel] TEXT, [state] TEXT, [created_at] TEXT, [expires_at] TEXT,
   [decided_by] TEXT, [decided_at] TEXT, [channel] TEXT, [ts] TEXT, [details] TEXT
)""",
    """CREATE TABLE [slack_ssh_keys] (
   [user_id] TEXT PRIMARY KEY, [key] TEXT, [fingerprint] TEXT, [updated_at] TEXT
)""",
    "CREATE TABLE [slack_seen] ([key] TEXT PRIMARY KEY, [at] TEXT)",
]
NAMES = [migration.name for migration in migrations._migrations]


def _applied(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
            [MIGRATION_SET],
        ).fetchall()
    return [name for (name,) in rows]


def test_a_new_database_is_made_by_the_migrations(tmp_path: Path) -> None:
    path = tmp_path / "solti.db"
    database = BotDatabase(path)
    tables = set(database.db.table_names())
    assert {
        "slack_approvals",
        "slack_ssh_keys",
        "slack_seen",
        "_sqlite_migrations",
        "template_notices",
    } <= tables
    assert ["at"] in [index.columns for index in database.db.table("slack_seen").indexes]
    database.close()
    assert _applied(path) == NAMES and len(NAMES) == 9
    assert {"m005_approvals_vm_create", "m006_progress_messages", "m007_template_notices"} <= set(
        NAMES
    )
    columns = database_columns(path, "slack_progress_messages")
    assert {"claimed_by", "claimed_at"} <= columns  # m009_progress_claims


def test_a_database_made_by_the_old_code_is_adopted_in_place(tmp_path: Path) -> None:
    path = tmp_path / "solti.db"
    with sqlite3.connect(path) as conn:
        for statement in OLD_DDL:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO slack_ssh_keys VALUES ('U1', 'ssh-ed25519 AAAA alice', 'SHA256:x', 't')"
        )
        conn.execute(
            "INSERT INTO slack_approvals (id, kind, target, requester, state) "
            "VALUES ('r1', 'template build', 'rocky9', 'U1', 'pending')"
        )
        conn.execute("INSERT INTO slack_seen VALUES ('k1', '2026-01-01T00:00:00+00:00')")
    database = BotDatabase(path)
    db = database.db
    assert db.table("slack_ssh_keys").get("U1")["key"] == "ssh-ed25519 AAAA alice"
    assert db.table("slack_approvals").get("r1")["state"] == "pending"
    assert db.table("slack_seen").count == 1
    database.close()
    assert _applied(path) == NAMES
    BotDatabase(path).close()  # opening again applies nothing twice
    assert _applied(path) == NAMES


def test_beside_the_audit_log_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "solti.db"
    AuditLog(path).close()
    BotDatabase(path).close()
    with sqlite3.connect(path) as conn:
        sets = {row[0] for row in conn.execute("SELECT migration_set FROM _sqlite_migrations")}
    assert sets == {"solti.audit", MIGRATION_SET}


def test_processes_opening_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "solti.db"
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            BotDatabase(path).close()
        except BaseException as exc:  # collected: a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _applied(path) == NAMES


def database_columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")}
