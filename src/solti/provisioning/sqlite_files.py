"""Opening a SQLite file that other processes may be opening at the same moment.

The audit log and the bot's tables live in files that a bot, a CLI command and a second CLI
command may all open at once on a fresh machine (`solti vm create` twice in two terminals).
Two things SQLite does not wait for by itself, whatever the busy timeout:

- switching the journal to WAL takes an exclusive lock and answers "database is locked" at
  once when another opener holds any lock (seen: 7 % of six threads opening a new bot file,
  every time for the audit log);
- a reader that later writes (check "is a migration pending?", then apply it) can be refused
  at once rather than wait, since waiting could deadlock.

So WAL is asked for again with backoff, and migrations are checked and applied inside one
``BEGIN IMMEDIATE`` transaction, which takes the write lock first and waits for it.
Pure stdlib, so the CLI's start-up path stays light.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["use_wal", "write_locked"]

WAL_WAIT_SECONDS = 30.0  # the connections' own busy timeout


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def use_wal(
    conn: sqlite3.Connection,
    *,
    wait: float = WAL_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Put the file in WAL mode (a no-op when it is), retrying while another opener holds a
    lock; after ``wait`` seconds the last "database is locked" is raised."""
    deadline = clock() + wait
    delay = 0.005
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or clock() >= deadline:
                raise
        sleep(delay)
        delay = min(delay * 2, 0.2)


@contextmanager
def write_locked(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction: the write lock is taken (waiting up to the busy
    timeout) before anything is read, so a check and the write that follows cannot interleave
    with another process's; committed at the end (unless a writer inside committed it, as
    ``with conn:`` does: the check and that write still went together), rolled back on any
    exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if conn.in_transaction:
        conn.execute("COMMIT")
