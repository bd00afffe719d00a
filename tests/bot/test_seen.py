"""Duplicate detection: from memory at once, persisted right after, kept across a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from solti.bot.db import BotDatabase
from solti.bot.seen import SeenRequests


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_key_runs_once_and_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    first = SeenRequests(BotDatabase(tmp_path / "s.db"), clock)
    assert first.first_time("command:t1") is True
    assert first.first_time("command:t1") is False
    first.flush()
    assert first.pending == 0
    # A new process (same file) still refuses the key, and accepts a new one.
    second = SeenRequests(BotDatabase(tmp_path / "s.db"), clock)
    assert second.first_time("command:t1") is False
    assert second.first_time("command:t2") is True


def test_old_keys_are_forgotten_after_the_window(tmp_path: Path) -> None:
    clock = Clock()
    seen = SeenRequests(BotDatabase(tmp_path / "s.db"), clock, keep=timedelta(minutes=10))
    assert seen.first_time("a")
    clock.now += timedelta(minutes=11)
    assert seen.first_time("b")  # evicts "a" from memory
    seen.flush()
    assert seen.first_time("a") is True  # outside the window a key may come back
    restarted = SeenRequests(BotDatabase(tmp_path / "s.db"), clock, keep=timedelta(minutes=10))
    assert restarted.first_time("b") is False


def test_overflow_falls_back_to_sqlite(tmp_path: Path) -> None:
    clock = Clock()
    seen = SeenRequests(BotDatabase(tmp_path / "s.db"), clock, capacity=2)
    for key in ("k1", "k2", "k3"):
        assert seen.first_time(key)
    assert seen.first_time("k1") is False  # evicted but not yet written: still refused
    seen.flush()
    # k1 was evicted from memory while still inside the window: SQLite answers for it.
    assert seen.first_time("k1") is False
