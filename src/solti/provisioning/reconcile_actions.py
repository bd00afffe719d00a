"""Carrying out what ``reconciliation.survey`` found: once, however many reconciles run.

Apart from the survey because acting is where processes race: every change here is claimed
under the audit file's write lock first (an interrupted record taken over by a compare-and-set
of its owner, ``vm gone`` written only while the VM is still someone's), and handed back when
the action fails, so the next reconcile (a bot's too) tries again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from solti.provisioning.audit_log import VM_GONE
from solti.provisioning.audit_schema import TABLE
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import ProxmoxError, SoltiError
from solti.provisioning.ownership import process_identity
from solti.provisioning.pve import VmMissing
from solti.provisioning.reconciliation import VIA, Finding, Report
from solti.provisioning.sqlite_files import write_locked

__all__ = ["carry_out"]


def carry_out(ops: Collaborators, findings: list[Finding], *, destructive: bool) -> Report:
    """Do what each finding plans (the destructive ones only when allowed); fill ``done``."""
    present = _present_now(ops, findings)
    for finding in findings:
        if finding.kind == "vm gone" and finding.vmid in present:
            finding.done = "it exists again; nothing recorded"
            continue
        try:
            finding.done = _do(ops, finding, destructive)
        except ProxmoxError as exc:
            finding.done = f"could not: {exc.reason}"
            finding.person = True
        except SoltiError as exc:  # a rebuild that cannot be finished: a person looks
            finding.done = f"could not: {exc}"
            finding.person = True
    return Report(findings)


def _present_now(ops: Collaborators, findings: list[Finding]) -> set[int]:
    """The VMIDs PVE has now, when some finding would record a VM gone (else nothing asked).

    The survey's snapshot is older than its reading of the audit log, and the bot runs it
    beside its own creates: one that started after the snapshot and ended before the owners
    were read would look removed. A second look just before writing ``vm gone`` (once per
    run) keeps such a VM counted as its owner's."""
    gone = {int(f.vmid) for f in findings if f.kind == "vm gone" and f.vmid is not None}
    if not gone:
        return set()
    try:
        return {int(vm["vmid"]) for vm in ops.client.cluster_vms() if "vmid" in vm}
    except ProxmoxError:  # no second look: record nothing this time
        return gone


def _do(ops: Collaborators, finding: Finding, destructive: bool) -> str | None:
    if finding.kind == "vm gone":
        return _record_gone(ops, finding)
    if finding.kind != "interrupted" or finding.decision is None:
        return None
    decision = finding.decision
    if decision.remove and not destructive:
        finding.person = True
        return "refused without --yes (nothing changed)"
    if not _take_over(ops, finding):
        return "left alone: another reconcile took it over"
    try:
        if decision.remove and finding.vmid is not None and finding.node:
            _remove(ops, finding.node, finding.vmid)
        if decision.finish_rebuild:
            _finish_rebuild(ops, finding)
    except BaseException:
        _give_back(ops, finding)  # the next reconcile (this bot's too) tries again
        raise
    assert finding.audit_id is not None
    error = None if decision.result == "ok" else decision.text
    note = {"note": decision.text} if decision.result == "ok" else None
    ops.audit.finish(finding.audit_id, decision.result, error, params=note)  # type: ignore[arg-type]
    return f"closed `{decision.result}`"


def _record_gone(ops: Collaborators, finding: Finding) -> str:
    """``vm gone`` once, however many reconciles run at once: whether the VM still has an
    owner is read, and the record written, under the file's write lock (CI saw two parallel
    reconciles both record one VM gone when the check and the write were apart)."""
    audit = ops.audit
    with audit.lock, write_locked(audit.conn):
        if finding.vmid not in audit.owners():
            return "left alone: another reconcile recorded it"
        audit.record(VM_GONE, VIA, VIA, "ok", vmid=finding.vmid, params={"note": finding.found})
    return "recorded `vm gone`"


def _take_over(ops: Collaborators, finding: Finding) -> bool:
    """Make this process the owner of the interrupted record, if it still has the owner the
    survey saw and is still ``running``; False when another reconcile got there first."""
    if finding.owner is None or finding.audit_id is None:
        return True
    host, pid, started = finding.owner
    me = process_identity()
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    audit = ops.audit
    with audit.lock, audit.conn:
        cursor = audit.conn.execute(
            f"UPDATE [{TABLE}] SET owner_host = ?, owner_pid = ?, owner_started = ?,"
            " heartbeat = ? WHERE id = ? AND result = 'running' AND owner_host IS ?"
            " AND owner_pid IS ? AND owner_started IS ?",
            [me.host, me.pid, me.started, now, finding.audit_id, host, pid, started],
        )
    return cursor.rowcount == 1


def _give_back(ops: Collaborators, finding: Finding) -> None:
    """Hand a record this reconcile could not finish back to its dead owner: a bot judges its
    own process's records alive, so a record left owned by it would never be tried again."""
    if finding.owner is None or finding.audit_id is None:
        return
    me = process_identity()
    with ops.audit.lock, ops.audit.conn:
        ops.audit.conn.execute(
            f"UPDATE [{TABLE}] SET owner_host = ?, owner_pid = ?, owner_started = ?"
            " WHERE id = ? AND result = 'running' AND owner_host IS ? AND owner_pid IS ?"
            " AND owner_started IS ?",
            [*finding.owner, finding.audit_id, me.host, me.pid, me.started],
        )


def _finish_rebuild(ops: Collaborators, finding: Finding) -> None:
    """Clone, configure, resize and start what the rebuild's journal says (vm_rebuild)."""
    from solti.provisioning.rebuild_journal import RebuildJournal
    from solti.provisioning.vm_rebuild import resume

    assert finding.audit_id is not None
    entry = RebuildJournal(ops.audit).get(finding.audit_id)
    assert entry is not None
    resume(ops, ops.audit.get(finding.audit_id), entry)


def _remove(ops: Collaborators, node: str, vmid: int) -> None:
    """Stop and destroy with purge, as a create's own cleanup does, waiting out a lock (a
    clone still running after its caller died)."""
    try:
        if ops.client.vm_status(node, vmid).get("status") == "running":
            ops.waiter.wait(ops.until_unlocked(lambda: ops.client.stop(node, vmid)), node=node)
        ops.waiter.wait(ops.until_unlocked(lambda: ops.client.delete_vm(node, vmid)), node=node)
    except VmMissing:
        return
