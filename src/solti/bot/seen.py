"""Which Slack payloads were already handled: answered from memory, kept in SQLite.

Why this shape: the duplicate check runs on every request before Slack gets its ack, and a
SQLite write-and-commit there cost more than the rest of the acknowledgement. So the answer
comes from an in-memory map of the keys seen in the last hour (loaded from SQLite at start-up),
and each new key is written to SQLite right after, off the request thread, batched with any
others that arrived meanwhile.

The guarantee: within one process a duplicate is never run twice (the map is checked and
updated under one lock). Across a restart, a duplicate is caught as long as the original was
written, which happens a few milliseconds after its ack; ``flush()`` (called when the bot
stops) writes whatever is pending. Only a crash inside those milliseconds, followed by Slack
delivering the very same payload again after the restart, could let it through; Slack's
retries carry ``X-Slack-Retry-Num`` and are dropped before this check anyway.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from solti.bot.db import BotDatabase

__all__ = ["SEEN_KEEP", "SeenRequests"]

log = logging.getLogger("solti.bot.seen")
SEEN_KEEP = timedelta(hours=1)
CAPACITY = 200_000


class SeenRequests:
    """``first_time(key)``: True once per key within ``keep``, even across a restart."""

    def __init__(
        self,
        database: BotDatabase,
        clock: Callable[[], datetime],
        *,
        keep: timedelta = SEEN_KEEP,
        capacity: int = CAPACITY,
    ) -> None:
        self.database = database
        self.clock = clock
        self.keep = keep
        self.capacity = capacity
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._recent: OrderedDict[str, datetime] = OrderedDict()
        self._pending: list[tuple[str, str]] = []
        self._flush_scheduled = False
        self._overflowed = False  # a key younger than ``keep`` was evicted: ask SQLite on misses
        self._writes = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="solti-seen")
        self._load()

    def _load(self) -> None:
        since = (self.clock() - self.keep).isoformat()
        with self.database.lock:
            rows = self.database.db.conn.execute(
                "SELECT key, at FROM slack_seen WHERE at >= ? ORDER BY at", [since]
            ).fetchall()
        for key, at in rows[-self.capacity :]:
            self._recent[key] = datetime.fromisoformat(at)
        self._overflowed = len(rows) > self.capacity

    def first_time(self, key: str) -> bool:
        """Record ``key``; False when it was seen before (the payload must not run again)."""
        now = self.clock()
        with self._lock:
            if key in self._recent or (self._overflowed and self._known_elsewhere(key)):
                return False
            self._recent[key] = now
            self._forget_old(now)
            self._pending.append((key, now.isoformat()))
            schedule = not self._flush_scheduled
            self._flush_scheduled = True
        if schedule:
            self._writer.submit(self._flush_logged)
        return True

    def _forget_old(self, now: datetime) -> None:
        limit = now - self.keep
        while self._recent:
            oldest_at = next(iter(self._recent.values()))
            if oldest_at >= limit and len(self._recent) <= self.capacity:
                break
            self._recent.popitem(last=False)
            if oldest_at >= limit:
                self._overflowed = True

    def _known_elsewhere(self, key: str) -> bool:
        """After an overflow: evicted keys are pending (not yet written) or in SQLite."""
        return any(pending == key for pending, _ in self._pending) or self._in_database(key)

    def _in_database(self, key: str) -> bool:
        with self.database.lock:
            row = self.database.db.conn.execute(
                "SELECT 1 FROM slack_seen WHERE key = ?", [key]
            ).fetchone()
        return row is not None

    def flush(self) -> int:
        """Write every pending key to SQLite now; returns how many this call wrote.

        Flushes are serialised, so when it returns every key accepted before the call is in
        SQLite, including a batch the background writer had already taken.
        """
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                self._flush_scheduled = False
            if not batch:
                return 0
            try:
                with self.database.transaction() as conn:
                    conn.executemany(
                        "INSERT OR IGNORE INTO slack_seen (key, at) VALUES (?, ?)", batch
                    )
                    self._writes += len(batch)
                    if self._writes >= 500:
                        self._writes = 0
                        cutoff = (self.clock() - self.keep).isoformat()
                        conn.execute("DELETE FROM slack_seen WHERE at < ?", [cutoff])
            except Exception:
                with self._lock:  # keep them for the next flush
                    self._pending[:0] = batch
                raise
            return len(batch)

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:  # the map still answers; the keys stay pending for the next flush
            log.exception("could not persist seen request keys")

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)
