"""Opening the audit and bot files from several processes at once (``sqlite_files``).

Threads stand in for processes: each opens its own connection, which is what SQLite locks
by. Before ``use_wal`` and ``write_locked``, six openers of a new audit file failed with
"database is locked" in every round (300 of 300) and of a new bot file in 21 of 300.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from solti.bot.db import BotDatabase
from solti.provisioning.audit_log import AuditLog
from solti.provisioning.sqlite_files import use_wal, write_locked

ROUNDS = 15
OPENERS = 6


def _open_at_once(opener: Callable[[Path], object], path: Path) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(OPENERS)

    def run() -> None:
        try:
            start.wait()
            opened = opener(path)
            opened.close()  # type: ignore[attr-defined]
        except BaseException as exc:  # a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(OPENERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _applied_once(path: Path) -> list[tuple[str, str, int]]:
    """(set, name, count) of every migration recorded more than once."""
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT migration_set, name, count(*) FROM _sqlite_migrations "
            "GROUP BY migration_set, name HAVING count(*) > 1"
        ).fetchall()


@pytest.mark.parametrize("opener", [AuditLog, BotDatabase], ids=["audit", "bot"])
def test_a_new_file_opened_by_six_at_once_is_migrated_once(
    tmp_path: Path, opener: Callable[[Path], object]
) -> None:
    for round_ in range(ROUNDS):
        path = tmp_path / f"round{round_}" / "solti.db"
        assert _open_at_once(opener, path) == []
        assert _applied_once(path) == []
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _rollback_journal_file(tmp_path: Path) -> Path:
    path = tmp_path / "f.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    return path


def test_wal_is_asked_for_again_until_the_other_opener_lets_go(tmp_path: Path) -> None:
    path = _rollback_journal_file(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            holder.execute("COMMIT")

    conn = sqlite3.connect(path, timeout=0)
    use_wal(conn, sleep=sleep)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert pauses == [0.005, 0.01, 0.02]


def test_wal_gives_up_with_sqlites_error_after_the_wait(tmp_path: Path) -> None:
    path = _rollback_journal_file(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    conn = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(conn, wait=1.0, sleep=sleep, clock=lambda: now[0])
    assert 1.0 <= now[0] < 1.5
    holder.execute("ROLLBACK")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_write_locked_commits_or_rolls_back(tmp_path: Path) -> None:
    conn = sqlite3.connect(_rollback_journal_file(tmp_path))
    with write_locked(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(ZeroDivisionError), write_locked(conn):
        conn.execute("INSERT INTO t VALUES (2)")
        raise ZeroDivisionError
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert not conn.in_transaction
