"""The simulator's chaos mode: random faults on a share of the API requests, seeded.

``Faults.chaos(rate, kinds=..., seed=...)`` arms a ``Chaos``; for each request ``Faults``
asks it to ``roll`` and applies the ``ChaosEffect`` (a transport fault, a fault armed on the
task the request starts, or a lock held on the VM it names). Kept apart from the counted
fault rules in ``faults`` because it is a different thing: dice, not a script.
"""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass, field

__all__ = [
    "CHAOS_KINDS", "EXTRA_CHAOS_KINDS", "TASK_REQUESTS", "Chaos", "ChaosEffect", "task_type_of",
]  # fmt: skip

# The requests that start a worker task, and its type (qemu-server ``API2/Qemu.pm`` and
# pve-storage ``API2/Storage/Status.pm`` ``download_url``): what the chaos mode can fail or slow.
TASK_REQUESTS: tuple[tuple[str, str, str], ...] = (
    ("POST", "/nodes/*/qemu/*/clone", "qmclone"),
    ("POST", "/nodes/*/qemu", "qmcreate"),
    ("PUT", "/nodes/*/qemu/*/resize", "resize"),
    ("POST", "/nodes/*/qemu/*/template", "qmtemplate"),
    ("POST", "/nodes/*/qemu/*/status/start", "qmstart"),
    ("POST", "/nodes/*/qemu/*/status/stop", "qmstop"),
    ("POST", "/nodes/*/qemu/*/status/shutdown", "qmshutdown"),
    ("DELETE", "/nodes/*/qemu/*", "qmdestroy"),
    ("POST", "/nodes/*/storage/*/download-url", "download"),
)
CHAOS_KINDS = ("http_500", "drop", "task_failure", "slow_task", "held_lock")
# Opt-in: the request takes effect and its answer is lost (``late_answers`` with no answer).
EXTRA_CHAOS_KINDS = ("lost_answer",)
_VM_PATH = re.compile(r"^/nodes/[^/]+/qemu/(\d+)(/|$)")


def task_type_of(method: str, path: str) -> str | None:
    """The type of the task ``method path`` starts, None when it starts none."""
    for m, pattern, task_type in TASK_REQUESTS:
        if m == method.upper() and fnmatch.fnmatchcase(path, pattern):
            return task_type
    return None


@dataclass(frozen=True)
class ChaosEffect:
    """What one roll does: a transport fault (``error_status``, ``drop``, ``drop_answer``), a
    fault armed on the task the request starts (``fail_task``: type and message;
    ``slow_task``: type and seconds), or a ``backup`` lock on a VM (vmid, seconds)."""

    error_status: int | None = None
    drop: bool = False
    drop_answer: bool = False
    fail_task: tuple[str, str] | None = None
    slow_task: tuple[str, float] | None = None
    hold_lock: tuple[int, float] | None = None


@dataclass
class Chaos:
    """Random faults on ``rate`` of the API requests (seeded: a run can be repeated)."""

    rate: float
    kinds: tuple[str, ...]
    rng: random.Random
    slow: tuple[float, float] = (2.0, 6.0)
    lock: tuple[float, float] = (1.0, 4.0)
    injected: dict[str, int] = field(default_factory=dict)

    def pick(self, method: str, path: str) -> str | None:
        """The fault for this request, if the dice say so and one applies to it."""
        if self.rng.random() >= self.rate:
            return None
        usable = [
            k
            for k in self.kinds
            if (k not in ("task_failure", "slow_task") or task_type_of(method, path))
            and (k != "held_lock" or _VM_PATH.match(path))
        ]
        if not usable:
            return None
        kind = self.rng.choice(usable)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind

    def roll(self, method: str, path: str) -> ChaosEffect | None:
        """What chaos does to this request (``pick``, then the dice for how long), or None."""
        kind = self.pick(method, path)
        if kind == "http_500":
            return ChaosEffect(error_status=500)
        if kind == "drop":
            return ChaosEffect(drop=True)
        if kind == "lost_answer":
            return ChaosEffect(drop_answer=True)
        task_type = task_type_of(method, path)
        if kind == "task_failure" and task_type:
            return ChaosEffect(fail_task=(task_type, f"{task_type} failed: simulated chaos fault"))
        if kind == "slow_task" and task_type:
            return ChaosEffect(slow_task=(task_type, self.rng.uniform(*self.slow)))
        if kind == "held_lock" and (match := _VM_PATH.match(path)):
            return ChaosEffect(hold_lock=(int(match.group(1)), self.rng.uniform(*self.lock)))
        return ChaosEffect()

    @classmethod
    def arm(
        cls,
        rate: float,
        *,
        kinds: list[str] | tuple[str, ...] | None = None,
        seed: int | None = None,
        slow: tuple[float, float] = (2.0, 6.0),
        lock_seconds: tuple[float, float] = (1.0, 4.0),
    ) -> Chaos:
        """A chaos mode from ``kinds`` (default all of ``CHAOS_KINDS``); unknown kinds are a
        ``ValueError`` naming the known ones."""
        chosen = tuple(kinds or CHAOS_KINDS)
        known = CHAOS_KINDS + EXTRA_CHAOS_KINDS
        unknown = sorted(set(chosen) - set(known))
        if unknown:
            raise ValueError(f"unknown chaos kinds {unknown}; expected some of {known}")
        return cls(float(rate), chosen, random.Random(seed), slow, lock_seconds)
