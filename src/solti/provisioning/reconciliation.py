"""`solti reconcile` and the bot's recovery job: finish or undo interrupted operations, find drift.

Two phases, so a person (or ``--dry-run``) sees everything before anything changes:

* ``survey(ops, stale_after=...)`` reads the audit log's ``running`` records (``ownership``
  decides which are interrupted: owner gone, or heartbeat older than ``recovery.stale_after``),
  one ``/cluster/resources`` snapshot and the config of each VM concerned, and returns
  ``Finding`` s, each with what it will do (``plan``) and whether that is destructive;
* ``carry_out(ops, findings, destructive=...)`` does it and fills ``done``.

The decisions (``decide_create``, ``decide_build``, ``decide_power``, ``decide_rebuild``) are
pure functions of a record and what PVE says, in ``reconciliation_rules``, tested without a
cluster. A record whose owner is alive and fresh is never touched: two CLIs running at once
must not reconcile each other's work.

Two reconciles at once (cron and the bot's recovery job, two terminals) survey the same
interrupted record; each would remove the half-made VM and close the record (seen: three
reconciles, three "closed `failed`"), and two would resume one rebuild. So before acting on a
record, ``carry_out`` takes it over (``_take_over``: its owner columns set to this process by
one compare-and-set ``UPDATE`` from the owner the survey saw): exactly one reconcile's update
lands; the others leave the record ("another reconcile took it over"). A reconcile that dies
while acting leaves a record owned by a dead process, which the next one takes over.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from solti.provisioning.audit_log import VM_CREATE, VM_REMOVE
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import ProxmoxError
from solti.provisioning.ownership import RunningRecord, interrupted_reason
from solti.provisioning.pve import VmMissing
from solti.provisioning.reconciliation_rules import (
    POWER_TARGETS,
    REBUILD,
    SOLTI_TAG,
    TEMPLATE_BUILD,
    Decision,
    decide_build,
    decide_create,
    decide_power,
    decide_rebuild,
    step_text,
)

__all__ = ["Finding", "Report", "survey"]


VIA = "reconcile"
KNOWN_OPERATIONS = {VM_CREATE, TEMPLATE_BUILD, VM_REMOVE, *POWER_TARGETS}


@dataclass
class Finding:
    """One line of the report: what was found, what is (or would be) done."""

    kind: str  # interrupted | unknown vm | vm gone | lock
    vmid: int | None
    found: str
    plan: str
    destructive: bool = False
    person: bool = False
    done: str | None = None
    action: str | None = None
    step: str | None = None
    request_id: str | None = None
    audit_id: int | None = None
    node: str | None = None
    decision: Decision | None = field(default=None, repr=False)
    # The record's owner (host, pid, process start) as the survey read it: what ``_take_over``
    # compares before this reconcile acts. Not part of the report.
    owner: tuple[str | None, int | None, str | None] | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("decision")
        data.pop("owner")
        return data


@dataclass
class Report:
    findings: list[Finding]

    @property
    def needs_person(self) -> bool:
        return any(f.person for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"needs_person": self.needs_person, "findings": [f.as_dict() for f in self.findings]}


# --- survey --------------------------------------------------------------------------------------


def _config(
    ops: Collaborators, node: str | None, vmid: int | None, *, tasks: bool = False
) -> dict[str, Any] | None:
    """The VM's config once a task still running for the dead caller has ended (a clone's or
    create's lock gone; with ``tasks``, no active task on the VM either, such as a template
    conversion; bounded by ``ops.lock_timeout``): only then does it say what the VM is. A
    conversion PVE finishes after its builder died makes a template, which must be kept,
    never removed half-way."""
    if node is None or vmid is None:
        return None
    settled = ops.settled_config(
        node,
        vmid,
        lambda config: (
            config.get("lock") in ("clone", "create") or (tasks and _task_running(ops, node, vmid))
        ),
    )
    return settled[0] if settled is not None else None


def _status(ops: Collaborators, node: str | None, vmid: int | None) -> str | None:
    if node is None or vmid is None:
        return None
    try:
        return str(ops.client.vm_status(node, vmid).get("status"))
    except VmMissing:
        return None


def _interrupted(ops: Collaborators, running: RunningRecord, node: str | None) -> Finding:
    record = running.record
    vmid = int(record.vmid) if record.vmid is not None else None
    if record.action == VM_CREATE:
        config = _config(ops, node, vmid)
        decision = decide_create(
            running, config, _status(ops, node, vmid), started=ops.defaults.start_after_create
        )
    elif record.action == TEMPLATE_BUILD:
        decision = decide_build(running, _config(ops, node, vmid, tasks=True))
    elif record.action == VM_REMOVE:
        if _config(ops, node, vmid) is None:
            decision = Decision("ok", f"closed by reconcile: PVE no longer has VM {vmid}")
        else:
            decision = Decision("ok", f"finished by reconcile: VM {vmid} removed", remove=True)
    elif record.action in POWER_TARGETS:
        decision = decide_power(running, _status(ops, node, vmid))
    elif record.action == REBUILD:
        from solti.provisioning.rebuild_journal import RebuildJournal

        entry = RebuildJournal(ops.audit).get(record.id)
        node = node or (entry.node if entry else None)
        decision = decide_rebuild(running, _config(ops, node, vmid), entry is not None)
    elif record.action.startswith("snapshot "):
        decision = _snapshot_decision(ops, running, node, vmid)
    else:
        decision = Decision("failed", step_text(running.step))
    return Finding(
        kind="interrupted",
        vmid=vmid,
        action=record.action,
        step=running.step,
        request_id=record.request_id,
        audit_id=record.id,
        node=node,
        found=f"`{record.action}` by {record.actor} ({running.step or 'start'})",
        plan=decision.text,
        destructive=decision.remove,
        person=decision.person,
        decision=decision,
        owner=(running.owner_host, running.owner_pid, running.owner_started),
    )


def _snapshot_decision(
    ops: Collaborators, running: RunningRecord, node: str | None, vmid: int | None
) -> Decision:
    """`snapshot create|rollback|delete`: judged by the VM's snapshot list once PVE's worker
    has ended (``snapshots_reconcile``), not closed blind."""
    from solti.provisioning.snapshots_reconcile import decide_snapshot, snapshot_facts

    record = running.record
    snapname = str((record.params or {}).get("snapshot") or "")
    facts = snapshot_facts(ops, node or record.node, vmid)
    verdict = decide_snapshot(record.action, vmid, snapname, running.step, facts)
    return Decision(verdict.result, verdict.text, person=verdict.person)


def survey(
    ops: Collaborators, *, stale_after: timedelta, now: datetime | None = None
) -> list[Finding]:
    """Everything reconcile would do, changing nothing."""
    now = now or datetime.now(UTC)
    cluster = {int(vm["vmid"]): vm for vm in ops.client.cluster_vms() if "vmid" in vm}
    findings: list[Finding] = []
    in_flight: set[int] = set()
    for running in ops.audit.running():
        if not _is_operation(running):
            continue
        vmid = running.record.vmid
        if interrupted_reason(running, now=now, stale_after=stale_after) is None:
            if vmid is not None:
                in_flight.add(int(vmid))
            continue
        entry = cluster.get(int(vmid)) if vmid is not None else None
        node = str(entry["node"]) if entry else running.record.node
        findings.append(_interrupted(ops, running, node))
    handled = {f.vmid for f in findings} | in_flight
    findings.extend(_drift(ops, cluster, handled))
    return findings


def _is_operation(running: RunningRecord) -> bool:
    """Whether a process runs this record: it names its owner, or it is an operation reconcile
    knows from before owners were recorded. A ``running`` record with neither is a request
    waiting for a person (the bot's approval requests, written without an owner), which no
    restart interrupts and no heartbeat keeps fresh: it stays until someone decides."""
    action = running.record.action
    return running.owner_host is not None or action in KNOWN_OPERATIONS


def _drift(
    ops: Collaborators, cluster: dict[int, dict[str, Any]], handled: set[Any]
) -> list[Finding]:
    made = {
        int(r.vmid)
        for r in ops.audit.query(limit=None)
        if r.vmid is not None and r.action in (VM_CREATE, TEMPLATE_BUILD)
    }
    out: list[Finding] = []
    for vmid, vm in sorted(cluster.items()):
        if vmid in handled:
            continue
        tags = str(vm.get("tags") or "").replace(",", ";").split(";")
        if SOLTI_TAG in tags and not vm.get("template") and vmid not in made:
            out.append(
                Finding(
                    "unknown vm",
                    vmid,
                    f"VM {vmid} ({vm.get('name') or '?'}) is "
                    "tagged solti but unknown to the audit log",
                    "listed, never touched",
                    person=True,
                    node=str(vm.get("node")),
                )
            )
        if vm.get("lock") and not _task_running(ops, str(vm.get("node")), vmid):
            out.append(
                Finding(
                    "lock",
                    vmid,
                    f"VM {vmid} holds lock `{vm['lock']}` with no running task",
                    f"a person runs `qm unlock {vmid}` on node {vm.get('node')}",
                    person=True,
                    node=str(vm.get("node")),
                )
            )
    from solti.provisioning.rebuild_journal import RebuildJournal

    journal = RebuildJournal(ops.audit)
    for vmid, owner in sorted(ops.audit.owners().items()):
        if vmid not in cluster and vmid not in handled and journal.unfinished(vmid):
            out.append(  # a failed rebuild destroyed it: not "removed outside solti"
                Finding(
                    "unfinished rebuild",
                    vmid,
                    f"VM {vmid} of {owner} was destroyed by a rebuild that failed",
                    f"`vm rebuild {vmid}` makes it again with its journaled settings",
                    person=True,
                )
            )
            continue
        if vmid not in cluster and vmid not in handled:
            out.append(
                Finding(
                    "vm gone",
                    vmid,
                    f"VM {vmid} of {owner} was removed outside solti",
                    "a `vm gone` record is written",
                )
            )
    return out


def _task_running(ops: Collaborators, node: str, vmid: int) -> bool:
    """Whether a task works on ``vmid`` now; without a task list (501) a lock is reported."""
    try:
        tasks = ops.client.node_tasks(node, vmid=vmid, active=True)
    except ProxmoxError:
        return False
    return bool(tasks)
