"""The bot's tables in the shared SQLite file (SOLTI_DB), beside provisioning's audit log.

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

__all__ = ["BotDatabase"]


class BotDatabase:
    """A thread-safe handle on the bot's tables; ``transaction()`` serialises writers."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this durable across crashes
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self._ensure()

    def _ensure(self) -> None:
        with self.lock:
            self.db["slack_approvals"].create(
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
            self.db["slack_ssh_keys"].create(
                {"user_id": str, "key": str, "fingerprint": str, "updated_at": str},
                pk="user_id",
                if_not_exists=True,
            )
            self.db["slack_seen"].create({"key": str, "at": str}, pk="key", if_not_exists=True)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction: check-then-set cannot interleave."""
        with self.lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self.db.conn.close()
