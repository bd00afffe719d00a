"""Clocks for the simulator.

Task progress, lock expiry and ticket age are computed from a clock when read, never by
sleeping, so tests can swap in a :class:`ManualClock` and step time explicitly.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything with ``time()`` returning epoch seconds."""

    def time(self) -> float: ...


class RealClock:
    """Wall-clock time (the default)."""

    def time(self) -> float:
        return time.time()


class ManualClock:
    """Time that only moves when a test says so."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now


class SwitchableClock:
    """The simulator's clock: real by default, manual after ``freeze()``.

    One object is shared by state, auth and faults so that switching to manual time affects
    everything at once.
    """

    def __init__(self) -> None:
        self._manual: ManualClock | None = None
        self._offset = 0.0

    def time(self) -> float:
        if self._manual is not None:
            return self._manual.time()
        return time.time() + self._offset

    def freeze(self, at: float | None = None) -> None:
        """Stop real time; from now on only ``advance`` moves it."""
        self._manual = ManualClock(self.time() if at is None else at)

    def advance(self, seconds: float) -> None:
        """Move time forward (works on real time too, as an offset)."""
        if self._manual is not None:
            self._manual.advance(seconds)
        else:
            self._offset += seconds

    def unfreeze(self) -> None:
        self._manual = None
        self._offset = 0.0
