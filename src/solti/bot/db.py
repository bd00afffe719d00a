"""The bot's tables in the shared SQLite file (SOLTI_DB), beside provisioning's audit log.

The tables are made and changed by sqlite-utils ``Migrations`` (set ``solti-bot``), as the
audit log's are (set ``solti.audit``); opening the database applies what is pending.

One connection guarded by a lock: Bolt runs listeners on a thread pool, and SQLite's own
locking plus ``BEGIN IMMEDIATE`` makes each state transition atomic even when the CLI or a
second bot process writes to the same file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from solti.provisioning.sqlite_files import use_wal, write_locked

__all__ = ["MIGRATION_SET", "BotDatabase", "migrations"]

MIGRATION_SET = "solti-bot"

# Recorded in ``_sqlite_migrations`` beside provisioning's ``solti.audit`` set. The first three
# make the tables exactly as the code before migrations did, with ``if_not_exists`` so that a
# database made by that code is adopted in place: its tables and rows stay, and the migrations
# are recorded as applied. Change a table by adding a migration, never by editing one.
migrations = Migrations(MIGRATION_SET)


@migrations()
def m001_slack_approvals(db: sqlite_utils.Database) -> None:
    """Template builds waiting for an approver, and how each was decided."""
    db.table("slack_approvals").create(
        {
            "id": str,
            "kind": str,
            "target": str,
            "requester": str,
            "origin_channel": str,
            "state": str,
            "created_at": str,
            "expires_at": str,
            "decided_by": str,
            "decided_at": str,
            "channel": str,
            "ts": str,
            "details": str,
        },
        pk="id",
        if_not_exists=True,
    )


@migrations()
def m002_slack_ssh_keys(db: sqlite_utils.Database) -> None:
    """One registered SSH public key per Slack user."""
    db.table("slack_ssh_keys").create(
        {"user_id": str, "key": str, "fingerprint": str, "updated_at": str},
        pk="user_id",
        if_not_exists=True,
    )


@migrations()
def m003_slack_seen(db: sqlite_utils.Database) -> None:
    """Keys of Slack payloads already handled (duplicate deliveries are dropped)."""
    db.table("slack_seen").create({"key": str, "at": str}, pk="key", if_not_exists=True)


@migrations()
def m004_slack_seen_at_index(db: sqlite_utils.Database) -> None:
    """Start-up loads the last hour of ``slack_seen`` and the sweep deletes older rows, both by
    ``at``; without an index both scan the whole table."""
    db.table("slack_seen").create_index(["at"], if_not_exists=True)


@migrations()
def m005_approvals_vm_create(db: sqlite_utils.Database) -> None:
    """Creates waiting for approval (``approvals.vm_create``): the request and the plan the
    approved create builds, kept in ``payload`` so a restart loses neither; and one row per
    approver's vote, so ``approvals.required: 2`` counts distinct people (four eyes)."""
    if "payload" not in db.table("slack_approvals").columns_dict:
        db.table("slack_approvals").add_column("payload", str)
    db.table("slack_approval_votes").create(
        {"approval_id": str, "voter": str, "at": str},
        pk=("approval_id", "voter"),
        if_not_exists=True,
    )


@migrations()
def m006_progress_messages(db: sqlite_utils.Database) -> None:
    """The Slack progress message of each long operation (by its request id), so that a bot
    started after a crash can still edit it to a final state (``bot.recovery_book``)."""
    db.table("slack_progress_messages").create(
        {
            "request_id": str,
            "channel": str,
            "ts": str,
            "thread_ts": str,
            "requester": str,
            "title": str,
            "state": str,  # open | final
            "owner": str,  # host:pid:start of the process that posted it
            "posted_at": str,
            "final_at": str,
        },
        pk="request_id",
        if_not_exists=True,
    )
    db.table("slack_progress_messages").create_index(["state"], if_not_exists=True)


@migrations()
def m007_template_notices(db: sqlite_utils.Database) -> None:
    """Outdated-template notices (``bot.notices``): one row per owner and newest build, made
    before the DM goes out, so a restart never sends the same notice twice; ``dismissed_at``
    once the owner clicked [Dismiss]."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS [template_notices] ("
        " owner TEXT NOT NULL, template_vmid INTEGER NOT NULL, version TEXT,"
        " vmids TEXT NOT NULL, sent_at TEXT NOT NULL, dismissed_at TEXT,"
        " PRIMARY KEY (owner, template_vmid))"
    )


@migrations()
def m008_h2clusterlists_notice_cluster(db: sqlite_utils.Database) -> None:
    """Notices per cluster: template VMIDs are per cluster, so a notice is keyed by
    (cluster, owner, template_vmid); rows from before clusters are the default cluster's."""
    db.execute(
        "CREATE TABLE [template_notices_new] ("
        " cluster TEXT NOT NULL DEFAULT 'default', owner TEXT NOT NULL,"
        " template_vmid INTEGER NOT NULL, version TEXT, vmids TEXT NOT NULL,"
        " sent_at TEXT NOT NULL, dismissed_at TEXT,"
        " PRIMARY KEY (cluster, owner, template_vmid))"
    )
    db.execute(
        "INSERT INTO [template_notices_new] (cluster, owner, template_vmid, version, vmids,"
        " sent_at, dismissed_at) SELECT 'default', owner, template_vmid, version, vmids,"
        " sent_at, dismissed_at FROM [template_notices]"
    )
    db.execute("DROP TABLE [template_notices]")
    db.execute("ALTER TABLE [template_notices_new] RENAME TO [template_notices]")


@migrations()
def m009_progress_claims(db: sqlite_utils.Database) -> None:
    """Who is bringing an open progress message to its final state, and since when: two bot
    processes on one database (a rolling deploy, two replicas) both find the same dead
    operation's message; only the one whose claim lands edits it (``ProgressBook.claim``)."""
    table = db.table("slack_progress_messages")
    if "claimed_by" not in table.columns_dict:
        table.add_column("claimed_by", str)
    if "claimed_at" not in table.columns_dict:
        table.add_column("claimed_at", str)


class BotDatabase:
    """A thread-safe handle on the bot's tables; ``transaction()`` serialises writers."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        if self.path != ":memory:":
            use_wal(conn)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this durable across crashes
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self._migrate()

    def _migrate(self) -> None:
        """Apply pending migrations under a write lock, so two processes starting at once
        cannot both apply the same one (each re-reads what is applied once it holds the lock)."""
        with self.transaction():
            migrations.apply(self.db)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction: check-then-set cannot interleave."""
        with self.lock, write_locked(self.db.conn) as conn:
            yield conn

    def close(self) -> None:
        with self.lock:
            self.db.conn.close()
