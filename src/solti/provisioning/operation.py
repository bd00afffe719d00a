"""One audited change to the cluster, written once for every verb that changes something.

VM create, template build, the power verbs, VM remove and template destroy are each an
``Operation``; they differ in their steps, not in this skeleton:

1. **identity**: the request id (the caller's, for idempotent re-runs, or one made up here),
   so every audit row of a change can be found again by what asked for it;
2. **reuse**: ``earlier()`` finds a completed run of the same request id and action (the
   caller answers it instead of acting twice); a run still ``running``, or one about another
   VM, is refused (``Conflict``); a failed one is run again. The request id is claimed
   (``Reservations.claim_request``, shared through the audit file) from that look until the
   ``running`` record is written, so two runs at once, in any processes, never both run;
3. **audit**: ``audited(...)`` writes the ``running`` record before anything changes and
   completes it (``ok`` with what ``done()`` added, or ``failed`` with the error), and
   ``refused(...)`` records a change stopped by a check before it began;
4. **named steps** with progress (``step(name, detail)``: ``Progress`` to the caller, the
   step-duration metric, and the step's name on any Proxmox error that escapes it);
5. **VMID claim and retry**: ``claim()`` reserves ids among this process's operations,
   ``with_free_vmid()`` runs a create and, when another process took the id first
   (``VmidTaken``), claims the next free one;
6. **cleanup on failure**: ``undo_with()`` names what removes a half-made VM;
7. **error wording**: the error the caller sees is the one the audit record keeps: the step,
   Proxmox's words, and what became of the half-made VM.

8. **ownership and heartbeat**: the ``running`` row written by ``audited`` carries its owner
   (host, pid, process start; ``ownership``) and a heartbeat, updated with the step's name at
   every step and by a background beat every ``HEARTBEAT_SECONDS`` while a task runs, so
   ``solti reconcile`` and a restarted bot tell a crashed operation from a live one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from solti.provisioning.collaborators import Collaborators, Steps, describe_failure, elapsed_ms
from solti.provisioning.errors import Conflict, SoltiError
from solti.provisioning.models import Progress
from solti.provisioning.pve import VmidTaken

__all__ = ["HEARTBEAT_SECONDS", "VMID_ATTEMPTS", "Operation", "new_request_id"]

log = logging.getLogger("solti.provisioning.operation")
VMID_ATTEMPTS = 5
HEARTBEAT_SECONDS = 15.0  # well inside the 30 s promise and the 2 min default of stale_after
_RUN_AGAIN = ("failed", "denied", "expired")


def new_request_id(via: str) -> str:
    """An identity for an operation nobody named (a CLI call without ``--request-id``)."""
    return f"{via}-{uuid.uuid4().hex[:12]}"


class Operation:
    """One change: its identity, audit record, steps, claimed VMIDs and cleanup."""

    def __init__(
        self,
        ops: Collaborators,
        action: str,
        *,
        actor: str,
        via: str,
        request_id: str | None = None,
        approver: str | None = None,
        steps: list[str] | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.ops = ops
        self.action = action
        self.actor = actor
        self.via = via
        self.approver = approver
        # The id the caller gave makes re-runs idempotent; without one the operation still
        # gets an identity of its own (it never matches an earlier run).
        self.given_request_id = request_id
        self.identity = request_id or new_request_id(via)
        self.steps = Steps(list(steps or []), progress, operation=action)
        self.vmid: int | None = None
        self.audit_id: int | None = None
        self.started = time.monotonic()
        self._claimed: list[tuple[int, str | None]] = []
        self._undo: Callable[[], str | None] | None = None
        self._outcome: dict[str, Any] = {}
        self._beating = threading.Event()
        self._request_key: str | None = None  # held from ``earlier`` until the record exists

    # --- reuse -------------------------------------------------------------------------------

    def earlier(self, vmid: int | None = None) -> Any | None:
        """The completed earlier run of this request id and action, or None to run now.

        Refused while that run is still ``running`` (a retry or double click while the
        first is at work) and when it was about another VM than ``vmid``.
        """
        if not self.given_request_id:
            return None
        key = f"{self.action}:{self.given_request_id}"
        if not self.ops.reservations.claim_request(key):
            raise Conflict(f"request {self.given_request_id} (`{self.action}`) is still running")
        self._request_key = key
        try:
            record = self.ops.audit.find_by_request_id(self.given_request_id, action=self.action)
        except BaseException:
            self._release_request()
            raise
        if record is None or record.result in _RUN_AGAIN:
            return None  # run now: the claim is held until the running record is written
        self._release_request()
        target = f" {record.vmid}" if record.vmid is not None else ""
        if vmid is not None and record.vmid is not None and int(record.vmid) != vmid:
            raise Conflict(
                f"request {self.given_request_id} was a `{self.action}` of VM {record.vmid}, "
                f"not of VM {vmid}"
            )
        if record.result == "running":
            raise Conflict(
                f"request {self.given_request_id} (`{self.action}{target}`) is still running"
            )
        return record

    def _release_request(self) -> None:
        if self._request_key is not None:
            self.ops.reservations.release_request(self._request_key)
            self._request_key = None

    # --- audit -------------------------------------------------------------------------------

    def refused(self, exc: BaseException, step: str | None = None, **fields: Any) -> str:
        """Record a change stopped before it began (a failed plan, linked clones in the way).

        The exception's message is left as it is: it names the field a form shows it under.
        """
        error = describe_failure(exc, step, None)
        try:
            self.ops.audit.record(
                action=self.action,
                actor=self.actor,
                via=self.via,
                result="failed",
                error=error,
                request_id=self.identity,
                **self._who(),
                **fields,
            )
        finally:
            self._release_request()
        return error

    @contextlib.contextmanager
    def audited(self, **fields: Any) -> Iterator[Operation]:
        """The ``running`` record around the change; completed ``ok`` or ``failed``.

        On failure the registered cleanup runs first, the record and the exception get the
        same words, and every claimed VMID is released whatever happens.
        """
        try:
            self.audit_id = self.ops.audit.start(
                action=self.action,
                actor=self.actor,
                via=self.via,
                request_id=self.identity,
                **self._who(),
                **fields,
            )
        finally:
            self._release_request()  # from here on the running record answers a second run
        self._beat(self.steps.current)  # the step a create planned in, if any
        beat = self._start_heartbeat()
        try:
            yield self
        except BaseException as exc:
            self._stop_heartbeat(beat)
            self._fail(exc)
            raise
        finally:
            self._stop_heartbeat(beat)
            self.release_claims()
        self.ops.audit.finish(
            self.audit_id, "ok", duration_ms=elapsed_ms(self.started), **self._outcome
        )

    def _beat(self, step: str | None = None, **fields: Any) -> None:
        if self.audit_id is None:
            return
        try:
            self.ops.audit.beat(self.audit_id, step, **fields)
        except Exception:  # a busy database must not fail the change it records
            log.warning("heartbeat of audit record %s failed", self.audit_id, exc_info=True)

    def _start_heartbeat(self) -> threading.Thread:
        self._beating.clear()

        def run() -> None:
            while not self._beating.wait(HEARTBEAT_SECONDS):
                self._beat()

        thread = threading.Thread(target=run, name=f"heartbeat-{self.audit_id}", daemon=True)
        thread.start()
        return thread

    def _stop_heartbeat(self, thread: threading.Thread) -> None:
        self._beating.set()
        if thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=1)

    def done(self, **fields: Any) -> None:
        """Fields the ``ok`` record gets (the VMID made, the template's version, a note)."""
        self._outcome.update(fields)

    def _who(self) -> dict[str, Any]:
        return {"approver": self.approver} if self.approver else {}

    def _fail(self, exc: BaseException) -> None:
        cleanup = self._undo() if self._undo is not None else None
        error = describe_failure(exc, self.steps.current, cleanup)
        extra = {"vmid": self.vmid} if self.vmid is not None else {}
        assert self.audit_id is not None
        self.ops.audit.finish(
            self.audit_id, "failed", error=error, duration_ms=elapsed_ms(self.started), **extra
        )
        if isinstance(exc, SoltiError):
            exc.message = error

    # --- steps and cleanup -------------------------------------------------------------------

    def step(self, name: str, detail: str | None = None) -> contextlib.AbstractContextManager[None]:
        """A named step: reported as progress, timed, named by a failure inside it, and
        written to the running record with a heartbeat."""
        self._beat(name)
        return self.steps(name, detail)

    def undo_with(self, cleanup: Callable[[], str | None] | None) -> None:
        """What removes the half-made result if a later step fails (None: nothing to remove).

        ``cleanup`` returns a note for people when it could not clean up, else None.
        """
        self._undo = cleanup

    # --- VMIDs -------------------------------------------------------------------------------

    def claim(
        self, choose: Callable[[set[int], set[str]], tuple[int, str | None]]
    ) -> tuple[int, str | None]:
        """Reserve what ``choose(reserved_ids, reserved_names)`` picks; it becomes ``vmid``."""
        vmid, name = self.ops.reservations.claim(choose)
        self._claimed.append((vmid, name))
        if self.audit_id is not None and vmid != self.vmid:  # claimed in a step, or a lost
            self._beat(vmid=vmid)  # race: the running record names the VM it may leave
        self.vmid = vmid
        return vmid, name

    def release_claims(self) -> None:
        self._release_request()
        for vmid, name in self._claimed:
            self.ops.reservations.release(vmid, name)
        self._claimed.clear()

    def with_free_vmid(
        self,
        step: str,
        make: Callable[[int], None],
        *,
        detail: Callable[[int, int | None], str],
        next_free: Callable[[set[int], int], int] | None,
        exhausted: Callable[[], BaseException] | None = None,
    ) -> int:
        """Run ``make(vmid)`` in ``step`` with the claimed VMID; when another process took
        that id first, claim ``next_free(reserved_ids, taken)`` and try again.

        ``next_free`` None means the VMID was asked for by a person: taken is an error.
        ``detail(vmid, taken)`` words the step (it says which id was taken). After
        ``VMID_ATTEMPTS`` lost races, ``exhausted()`` (or the last ``VmidTaken``) is raised.
        """
        assert self.vmid is not None, "claim a VMID first"
        taken: int | None = None
        for attempt in range(1, VMID_ATTEMPTS + 1):
            try:
                with self.step(step, detail(self.vmid, taken)):
                    make(self.vmid)
                return self.vmid
            except VmidTaken:
                self.undo_with(None)  # the create was refused: nothing of ours exists
                if next_free is None or attempt == VMID_ATTEMPTS:
                    if next_free is not None and exhausted is not None:
                        raise exhausted() from None
                    raise
                taken = self.vmid
                self.claim(lambda ids, _names, lost=taken: (next_free(ids, lost), None))
        raise AssertionError("unreachable")  # pragma: no cover
