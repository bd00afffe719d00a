"""Fault rules: what the simulator should do wrong, and how often.

Transport faults (latency, HTTP errors, dropped connections) are consulted by the HTTP layer
once per request; domain faults (task durations, failing the next task of a type) are read by
the task model; a held lock is state and is delegated to the cluster model. Rules match on
method and path, where ``path`` is a shell-style glob over the API path without the
``/api2/json`` prefix and without the query string (``/nodes/*/qemu/*/clone``). The random
faults of the chaos mode are ``chaos_mode``'s; armed and applied here.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from solti.sandbox.pve.chaos_mode import Chaos

DEFAULT_TASK_DURATIONS: dict[str, float] = {
    "qmcreate": 0.2,
    "qmclone": 0.3,
    "resize": 0.1,
    "qmtemplate": 0.1,
    "qmconfig": 0.05,
    "qmstart": 0.1,
    "qmstop": 0.05,
    "qmshutdown": 0.1,
    "qmdestroy": 0.1,
    "download": 0.1,
}
FALLBACK_TASK_DURATION = 0.1
# Seconds (simulator clock) from a VM's start until its guest agent answers: a real guest
# boots and starts qemu-guest-agent first; until then PVE says the agent is not running.
DEFAULT_AGENT_BOOT = 1.5
API_PREFIX = "/api2/json"


@dataclass
class Rule:
    """A transport fault limited to matching requests; ``count`` None means forever."""

    kind: str
    method: str | None = None
    path: str | None = None
    count: int | None = None
    seconds: float = 0.0
    status: int = 500

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path:
            pattern = self.path.removeprefix(API_PREFIX)
            if not fnmatch.fnmatchcase(path, pattern):
                return False
        return True


@dataclass(frozen=True)
class TransportDecision:
    """What the HTTP layer must do to one request before handling it."""

    delay: float = 0.0
    drop: bool = False
    error_status: int | None = None
    # After the request took effect: hold the answer this long, or never send it.
    answer_delay: float = 0.0
    drop_answer: bool = False


class Faults:
    """All armed faults; thread-safe, cleared by :meth:`clear`."""

    def __init__(
        self,
        hold_lock: Callable[[int, str, float], None] | None = None,
        token_acl: Callable[[dict[str, Any]], None] | None = None,
        hold_file_lock: Callable[[int, float], None] | None = None,
        node_power: Callable[[str | None, bool], None] | None = None,
    ) -> None:
        self._hold_file_lock = hold_file_lock
        # (node, online) -> take the node down or bring it back; (None, True): all back.
        self._node_power = node_power
        self._lock = threading.Lock()
        self._hold_lock = hold_lock
        self._token_acl = token_acl
        self._rules: list[Rule] = []
        self._durations: dict[str, float] = {}
        self._fail_next: dict[str, deque[str]] = {}
        self._slow_next: dict[str, deque[float]] = {}
        self._chaos: Chaos | None = None
        # vmid (None: every VM) -> boot seconds of its guest agent (None: it never starts).
        self._agent_boot: dict[int | None, float | None] = {}
        # VMs whose guest ignores ACPI power-down (None: every VM).
        self._ignore_acpi: set[int | None] = set()

    # -- arming -------------------------------------------------------------------------
    def latency(self, seconds: float, method: str | None = None, path: str | None = None) -> None:
        """Delay every matching request by ``seconds`` before it is handled."""
        self._add(Rule("latency", method, path, None, seconds=float(seconds)))

    def http_errors(
        self, count: int, status: int = 500, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and no side effect."""
        self._add(Rule("http_error", method, path, int(count), status=int(status)))

    def drop_connections(
        self, count: int, method: str | None = None, path: str | None = None
    ) -> None:
        """Close the socket of the next ``count`` matching requests without answering."""
        self._add(Rule("drop", method, path, int(count)))

    def late_answers(
        self,
        count: int,
        seconds: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Handle the next ``count`` matching requests (they take effect), then hold each
        answer ``seconds`` before sending it, or with ``seconds`` None close the connection
        without one: a busy ``pveproxy`` whose worker did the work while the client's read
        timed out, the case where a client cannot know whether a change was made."""
        self._add(
            Rule(
                "late",
                method,
                path,
                int(count),
                seconds=-1.0 if seconds is None else float(seconds),
            )
        )

    def task_duration(self, task_type: str, seconds: float) -> None:
        """How long tasks of ``task_type`` (``qmclone``, ``download``...) run from now on."""
        with self._lock:
            self._durations[task_type] = float(seconds)

    def fail_next_task(self, task_type: str, message: str) -> None:
        """The next task of ``task_type`` ends with ``message`` as its exit status."""
        with self._lock:
            self._fail_next.setdefault(task_type, deque()).append(message)

    def slow_next_task(self, task_type: str, seconds: float) -> None:
        """The next task of ``task_type`` runs ``seconds`` (others keep their duration)."""
        with self._lock:
            self._slow_next.setdefault(task_type, deque()).append(float(seconds))

    def chaos(
        self,
        rate: float,
        *,
        kinds: list[str] | tuple[str, ...] | None = None,
        seed: int | None = None,
        slow: tuple[float, float] = (2.0, 6.0),
        lock_seconds: tuple[float, float] = (1.0, 4.0),
    ) -> None:
        """Arm a random fault on ``rate`` of the API requests, from ``kinds`` (default all of
        ``CHAOS_KINDS``): ``http_500`` (answered 500, no side effect), ``drop`` (connection
        closed unanswered, no side effect), ``task_failure`` and ``slow_task`` (the task the
        request starts fails, or runs ``slow`` seconds), ``held_lock`` (the VM the request
        names is locked ``backup`` for ``lock_seconds``, as a backup job starting then
        would; only a VM without a lock); opt-in ``lost_answer`` (the request takes effect,
        its answer never comes). ``chaos_tally()`` counts what was injected."""
        chaos = Chaos.arm(rate, kinds=kinds, seed=seed, slow=slow, lock_seconds=lock_seconds)
        with self._lock:
            self._chaos = chaos

    def chaos_tally(self) -> dict[str, int]:
        """How many faults of each kind the chaos mode injected so far."""
        with self._lock:
            return dict(self._chaos.injected) if self._chaos else {}

    def hold_lock(self, vmid: int, lock: str, seconds: float) -> None:
        """Put ``lock`` on VM ``vmid`` for ``seconds`` (as a backup job would)."""
        if self._hold_lock is None:
            raise RuntimeError("no cluster attached to these faults")
        self._hold_lock(int(vmid), lock, float(seconds))

    def hold_file_lock(self, vmid: int, seconds: float) -> None:
        """Another worker holds VM ``vmid``'s config file lock for ``seconds``: config writes
        and power tasks then fail with "can't lock file ... - got timeout" while more than
        ``lock_config``'s 10 s remain."""
        if self._hold_file_lock is None:
            raise RuntimeError("no cluster attached to these faults")
        self._hold_file_lock(int(vmid), float(seconds))

    def token_privileges(self, acl: dict[str, Any]) -> None:
        """Replace the API token's whole ACL: ``{path: [privilege, ...]}`` (propagating) or
        ``{path: {privilege: propagate}}``; a least-privilege token for any client. It is
        cluster state, so ``/_sim/reset`` gives the token every privilege again."""
        if self._token_acl is None:
            raise RuntimeError("no cluster attached to these faults")
        self._token_acl(acl)

    def agent_boot(self, seconds: float | None, vmid: int | None = None) -> None:
        """The guest agent of ``vmid`` (every VM when None) answers ``seconds`` after start.

        Until then ``agent/*`` calls fail with PVE's ``QEMU guest agent is not running``;
        ``seconds=None`` is a guest whose agent never starts (not installed in the image).
        """
        with self._lock:
            key = None if vmid is None else int(vmid)
            self._agent_boot[key] = None if seconds is None else float(seconds)

    def ignore_acpi(self, vmid: int | None = None) -> None:
        """The guest of ``vmid`` (every VM when None) ignores ACPI power-down requests.

        A ``shutdown`` then runs until its ``timeout`` and fails with ``VM quit/powerdown
        failed - got timeout``, or, with ``forceStop=1``, stops the VM with a warning.
        """
        with self._lock:
            self._ignore_acpi.add(None if vmid is None else int(vmid))

    def node_offline(self, node: str) -> None:
        """``node`` stops answering until ``node_online`` or ``clear``: requests routed to it
        fail as pveproxy's proxy does (HTTP 595), ``/cluster/resources`` shows it offline."""
        if self._node_power is None:
            raise RuntimeError("no cluster attached to these faults")
        self._node_power(str(node), False)

    def node_online(self, node: str) -> None:
        """``node`` answers again, as after a reboot (its VMs stopped unless ``onboot``)."""
        if self._node_power is None:
            raise RuntimeError("no cluster attached to these faults")
        self._node_power(str(node), True)

    def clear(self) -> None:
        """Disarm everything (held locks are state and go away with ``reset``); every
        offline node comes back."""
        if self._node_power is not None:
            self._node_power(None, True)
        with self._lock:
            self._rules.clear()
            self._durations.clear()
            self._fail_next.clear()
            self._slow_next.clear()
            self._chaos = None
            self._agent_boot.clear()
            self._ignore_acpi.clear()

    def apply(self, spec: dict[str, Any]) -> None:
        """Arm one fault from a JSON document (the ``POST /_sim/faults`` body)."""
        spec = dict(spec)
        kind = spec.pop("kind", None) or spec.pop("fault", None)
        for short in ("node_offline", "node_online"):
            # ``{"node_offline": "pve2"}``: the kind names the node directly.
            if kind is None and short in spec:
                kind, spec = short, {"node": spec.pop(short), **spec}
        actions: dict[str, Callable[..., None]] = {
            "latency": self.latency,
            "task_duration": self.task_duration,
            "fail_next_task": self.fail_next_task,
            "slow_next_task": self.slow_next_task,
            "chaos": self.chaos,
            "http_errors": self.http_errors,
            "drop_connections": self.drop_connections,
            "late_answers": self.late_answers,
            "hold_lock": self.hold_lock,
            "token_privileges": self.token_privileges,
            "hold_file_lock": self.hold_file_lock,
            "agent_boot": self.agent_boot,
            "ignore_acpi": self.ignore_acpi,
            "node_offline": self.node_offline,
            "node_online": self.node_online,
            "clear": self.clear,
        }
        if kind not in actions:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(actions)}")
        actions[kind](**spec)

    # -- consulting ---------------------------------------------------------------------
    def pending(self, kind: str | None = None) -> int:
        """How many more requests the counted transport rules (of ``kind``) will hit: 0 once
        every armed drop, error or late answer has happened (tests check it did)."""
        with self._lock:
            rules = [r for r in self._rules if kind is None or r.kind == kind]
            return sum(r.count or 0 for r in rules)

    def on_request(self, method: str, path: str) -> TransportDecision:
        """Consume the transport rules matching this request, then roll the chaos dice."""
        delay = 0.0
        hold: tuple[int, float] | None = None
        with self._lock:
            decision = self._by_rules(method, path)
            if decision is not None:
                return decision
            delay = sum(
                r.seconds for r in self._rules if r.kind == "latency" and r.matches(method, path)
            )
            effect = self._chaos.roll(method, path) if self._chaos else None
            if effect is None:
                return TransportDecision(delay=delay)
            if effect.error_status or effect.drop or effect.drop_answer:
                return TransportDecision(
                    delay=delay,
                    error_status=effect.error_status,
                    drop=effect.drop,
                    drop_answer=effect.drop_answer,
                )
            if effect.fail_task is not None:
                task_type, message = effect.fail_task
                self._fail_next.setdefault(task_type, deque()).append(message)
            elif effect.slow_task is not None:
                task_type, seconds = effect.slow_task
                self._slow_next.setdefault(task_type, deque()).append(seconds)
            hold = effect.hold_lock
        if hold is not None and self._hold_lock is not None:
            self._hold_chaos_lock(*hold)
        return TransportDecision(delay=delay)

    def _hold_chaos_lock(self, vmid: int, seconds: float) -> None:
        """A backup starting now: it locks only a VM nobody holds (``check_lock``)."""
        try:
            assert self._hold_lock is not None
            self._hold_lock(vmid, "backup", seconds, True)  # type: ignore[call-arg]
        except Exception:  # the VM is gone or already locked: no backup starts
            return

    def _by_rules(self, method: str, path: str) -> TransportDecision | None:
        """The decision of the armed rules, None when none but latency matched."""
        delay = 0.0
        for rule in list(self._rules):
            if not rule.matches(method, path):
                continue
            if rule.kind == "latency":
                delay += rule.seconds
                continue
            self._consume(rule)
            if rule.kind == "drop":
                return TransportDecision(delay=delay, drop=True)
            if rule.kind == "late":
                never = rule.seconds < 0
                return TransportDecision(
                    delay=delay, answer_delay=max(rule.seconds, 0.0), drop_answer=never
                )
            return TransportDecision(delay=delay, error_status=rule.status)
        return None

    def duration_for(self, task_type: str) -> float:
        with self._lock:
            slow = self._slow_next.get(task_type)
            if slow:
                return slow.popleft()
            if task_type in self._durations:
                return self._durations[task_type]
        return DEFAULT_TASK_DURATIONS.get(task_type, FALLBACK_TASK_DURATION)

    def agent_boot_for(self, vmid: int) -> float | None:
        """Seconds the guest agent of ``vmid`` needs after start; None: it never answers."""
        with self._lock:
            if vmid in self._agent_boot:
                return self._agent_boot[vmid]
            return self._agent_boot.get(None, DEFAULT_AGENT_BOOT)

    def ignores_acpi(self, vmid: int) -> bool:
        with self._lock:
            return vmid in self._ignore_acpi or None in self._ignore_acpi

    def take_failure(self, task_type: str) -> str | None:
        """The injected failure text for a task starting now, if one is armed."""
        with self._lock:
            queue = self._fail_next.get(task_type)
            if queue:
                return queue.popleft()
        return None

    def _add(self, rule: Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _consume(self, rule: Rule) -> None:
        if rule.count is None:
            return
        rule.count -= 1
        if rule.count <= 0:
            self._rules.remove(rule)
