"""VMIDs, names and quota holds promised to operations in flight (``Reservations``).

Kept apart from ``collaborators`` (which builds one per ``Provisioner``): the in-process
bookkeeping and, once shared, its rows in the audit file (``shared_claims``), so that creates
in several processes on one ``SOLTI_DB`` see each other's VMIDs, names and quota holds.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from solti.provisioning.fleet import HeldVm
from solti.provisioning.shared_claims import (
    HOLD,
    HOLD_SECONDS,
    ID,
    REQUEST,
    REQUEST_SECONDS,
    SharedClaim,
    SharedClaims,
)

__all__ = ["HOLD_AFTER_FINISH", "QuotaHold", "Reservations"]

log = logging.getLogger("solti.provisioning.reservations")

# How long a finished create stays counted through its hold, in this process as in the file's
# claims (one figure: ``shared_claims.HOLD_SECONDS``).
HOLD_AFTER_FINISH = HOLD_SECONDS


@dataclass(eq=False)
class QuotaHold:
    """A create counted against ``owner``'s quota from its claim until snapshots show it."""

    owner: str
    vm: Any  # fleet.HeldVm: the sizes the plan asked for
    vmid: int | None = None
    finished_at: float | None = None
    shared_id: int | None = None  # its row in the audit file (``shared_claims``)


class Reservations:
    """VMIDs, names and quota holds promised to creates still in flight.

    PVE's ``/cluster/resources`` does not show a VM until its clone has begun, so parallel
    creates from one snapshot would all pick the same id and name and each pass the quota.
    Reserving here makes threads of one process see each other; once ``share``d (every
    ``Collaborators`` on an audit file does) each claim is also a row of the audit file, read
    and written under its write lock, so other processes on that file see it too
    (``shared_claims``). A VMID race PVE still reports (``config file already exists``) is
    retried.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._vmids: set[int] = set()
        self._names: set[str] = set()
        self._rows: dict[tuple[int, str | None], list[int]] = {}
        self._requests: dict[str, tuple[float, int | None]] = {}  # key -> (since, row)
        self._holds: list[QuotaHold] = []
        self._monotonic = monotonic
        self.shared: SharedClaims | None = None

    def share(self, shared: SharedClaims | None) -> None:
        """Claim through ``shared`` (the audit file's claims) from now on."""
        self.shared = shared

    @contextlib.contextmanager
    def _others(self) -> Iterator[list[SharedClaim]]:
        """The other processes' claims, under the file's write lock (none when not shared)."""
        if self.shared is None:
            yield []
            return
        with self.shared.transaction() as others:
            yield others

    def _peek(self) -> list[SharedClaim]:
        if self.shared is None:
            return []
        try:
            return self.shared.others()
        except sqlite3.Error:  # a preview; the claim itself reads under the lock
            log.warning("reading other processes' claims failed", exc_info=True)
            return []

    def _their_holds(self, owner: str, others: list[SharedClaim]) -> list[QuotaHold]:
        """Other processes' quota holds of ``owner``, on this process's monotonic clock."""
        holds = []
        for c in others:
            if c.kind != HOLD or c.owner != owner:
                continue
            vm = HeldVm(vmid=c.vmid or 0, name=c.name or "", cores=c.cores, memory=c.memory,
                        disk=c.disk)  # fmt: skip
            finished = None
            if c.released_at is not None and self.shared is not None:
                finished = self._monotonic() - self.shared.age(c.released_at)
            holds.append(QuotaHold(owner=owner, vm=vm, vmid=c.made_vmid, finished_at=finished))
        return holds

    def _share_hold(self, held: QuotaHold) -> None:
        if self.shared is None:
            return
        vm = held.vm
        held.shared_id = self.shared.add(
            HOLD, vmid=getattr(vm, "vmid", None), name=getattr(vm, "name", None),
            owner=held.owner, sizes=(int(getattr(vm, "cores", 0) or 0),
                                     int(getattr(vm, "memory", 0) or 0),
                                     int(getattr(vm, "disk", 0) or 0)),
        )  # fmt: skip

    # --- quota holds: creates in flight (and just finished) counted per owner -----------------

    def now(self) -> float:
        """The clock holds are stamped with; a plan's snapshot is stamped before it is taken."""
        return self._monotonic()

    def _kept(self) -> list[QuotaHold]:
        horizon = self._monotonic() - HOLD_AFTER_FINISH
        return [h for h in self._holds if h.finished_at is None or h.finished_at > horizon]

    def hold(
        self,
        owner: str,
        vm: Any,
        check: Callable[[list[QuotaHold]], None],
    ) -> QuotaHold:
        """Run ``check(owner's holds)`` and, if it raises nothing, add a hold for ``vm``.

        One lock around the check and the hold (the file's write lock too, when shared):
        twenty creates at once, in one process or in several, see each other, so together
        they never pass a quota. Holds of creates finished long ago are dropped.
        """
        with self._lock, self._others() as others:
            self._holds = self._kept()
            check([h for h in self._holds if h.owner == owner] + self._their_holds(owner, others))
            held = QuotaHold(owner=owner, vm=vm)
            self._share_hold(held)
            self._holds.append(held)
            return held

    def hold_all(
        self,
        owner: str,
        vms: list[Any],
        check: Callable[[list[QuotaHold], Any], None],
    ) -> list[QuotaHold]:
        """``hold`` for several VMs at once (a ``--count`` create): ``check(holds, vm)`` sees
        the owner's holds with the VMs before ``vm`` added, under one lock, so all are held
        or none is."""
        with self._lock, self._others() as others:
            mine = [h for h in self._holds if h.owner == owner]
            mine += self._their_holds(owner, others)
            added: list[QuotaHold] = []
            for vm in vms:
                check(mine + added, vm)
                added.append(QuotaHold(owner=owner, vm=vm))
            for held in added:
                self._share_hold(held)
            self._holds.extend(added)
            return added

    def holds_of(self, owner: str) -> list[QuotaHold]:
        others = self._peek()
        with self._lock:
            return [h for h in self._holds if h.owner == owner] + self._their_holds(owner, others)

    def settle(self, held: QuotaHold, vmid: int | None) -> None:
        """The create ended: made ``vmid`` (kept a while, until snapshots show it) or nothing."""
        with self._lock:
            if vmid is None:
                if held in self._holds:
                    self._holds.remove(held)
            else:
                held.vmid = vmid
                held.finished_at = self._monotonic()
        if self.shared is not None and held.shared_id is not None:
            self._quietly(
                lambda: (
                    self.shared.drop(held.shared_id)  # type: ignore[union-attr,arg-type]
                    if vmid is None
                    else self.shared.release(held.shared_id, vmid)
                )  # type: ignore[union-attr,arg-type]
            )

    def vmids(self) -> set[int]:
        others = self._peek()
        with self._lock:
            return set(self._vmids) | {c.vmid for c in others if c.kind == ID and c.vmid}

    def names(self) -> set[str]:
        others = self._peek()
        with self._lock:
            return set(self._names) | {c.name for c in others if c.kind == ID and c.name}

    def claim(
        self, choose: Callable[[set[int], set[str]], tuple[int, str | None]]
    ) -> tuple[int, str | None]:
        """Run ``choose(reserved_ids, reserved_names)`` and reserve its answer atomically
        (with the other processes' claims, under the file's write lock, when shared)."""
        with self._lock, self._others() as others:
            ids = self._vmids | {c.vmid for c in others if c.kind == ID and c.vmid}
            names = self._names | {c.name for c in others if c.kind == ID and c.name}
            vmid, name = choose(set(ids), set(names))
            self._vmids.add(vmid)
            if name:
                self._names.add(name)
            if self.shared is not None:
                row = self.shared.add(ID, vmid=vmid, name=name)
                self._rows.setdefault((vmid, name), []).append(row)
            return vmid, name

    def claim_set(self, pairs: list[tuple[int, str]]) -> tuple[list[str], list[int]]:
        """Show other processes every (VMID, name) of a ``--count`` set at once, or none.

        The set's names were chosen from a snapshot and the claims seen then; another process
        may have claimed one since. Returns the names claimed elsewhere (then nothing is
        claimed) and the rows to give back with ``release_set`` once the set is built. The
        set's own creates claim each VM again in this process, which does not see these rows.
        """
        if self.shared is None:
            return [], []
        with self._lock, self._others() as others:
            theirs = {c.name for c in others if c.kind == ID and c.name}
            clash = [name for _, name in pairs if name in theirs]
            if clash:
                return clash, []
            rows = [self.shared.add(ID, vmid=vmid, name=name) for vmid, name in pairs]
            return [], rows

    def release_set(self, rows: list[int]) -> None:
        """The set is built (or failed): its rows linger as any released claim does."""
        for row in rows:
            if self.shared is not None:
                self._quietly(lambda row=row: self.shared.release(row))  # type: ignore[union-attr]

    def claim_request(self, key: str) -> bool:
        """Take request ``key`` (action and request id) until its ``running`` record exists;
        False while another thread or process has it.

        ``Operation.earlier`` reads the audit log for an earlier run of the request, and the
        run writes its own ``running`` record only after the plan: without this claim, the
        same request run twice at once (a retry from cron, a double click) would find nothing
        twice and make two VMs.
        """
        with self._lock, self._others() as others:
            since = self._requests.get(key)
            if since is not None and self._monotonic() - since[0] < REQUEST_SECONDS:
                return False
            if any(c.kind == REQUEST and c.name == key for c in others):
                return False
            row = None if self.shared is None else self.shared.add(REQUEST, vmid=None, name=key)
            self._requests[key] = (self._monotonic(), row)
            return True

    def release_request(self, key: str) -> None:
        """The request's ``running`` record is written (or it will not run): others may look."""
        with self._lock:
            _, row = self._requests.pop(key, (0.0, None))
        if self.shared is not None and row is not None:
            self._quietly(lambda: self.shared.drop(row))  # type: ignore[union-attr]

    def release(self, vmid: int | None, name: str | None = None) -> None:
        with self._lock:
            self._vmids.discard(vmid)  # type: ignore[arg-type]
            if name:
                self._names.discard(name)
            rows = self._rows.get((vmid, name), [])  # type: ignore[arg-type]
            row = rows.pop() if rows else None
            if not rows:
                self._rows.pop((vmid, name), None)  # type: ignore[arg-type]
        if self.shared is not None and row is not None:
            self._quietly(lambda: self.shared.release(row))  # type: ignore[union-attr]

    @staticmethod
    def _quietly(write: Callable[[], None]) -> None:
        """A claim's end written to the file; a busy file must not fail the change itself
        (the row then counts until it lingers out, or its process is gone)."""
        try:
            write()
        except sqlite3.Error:
            log.warning("ending a shared claim failed", exc_info=True)
