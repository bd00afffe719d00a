"""Moving a VM to another owner (`vm give`): an audit record, read back by ``AuditLog.owners``.

Ownership lives in the audit log (the create's actor), so a transfer is one more record there:
list, quotas and the owner-only verbs follow it at once. Who may give is the caller's rule (the
bot: the owner or an admin; the CLI: the operator), checked before this is called.
"""

from __future__ import annotations

from solti.provisioning.audit_log import VM_GIVE
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import InvalidRequest, NotFound
from solti.provisioning.inventory import Snapshot

__all__ = ["give_vm", "owner_of"]


def owner_of(ops: Collaborators, vmid: int) -> str | None:
    """The VM's owner as the audit log says (None: not made by Solti)."""
    return ops.audit.owners().get(vmid)


def give_vm(
    ops: Collaborators,
    vmid: int,
    to: str,
    *,
    actor: str,
    via: str = "cli",
    request_id: str | None = None,
) -> str | None:
    """Make ``to`` the owner of VM ``vmid``; returns the previous owner.

    Refused for a VM not on the cluster, a template, and a VM no create of Solti recorded
    (it has no owner to move).
    """
    receiver = to.strip()
    if not receiver:
        raise InvalidRequest("give the new owner", field="user")
    entry = Snapshot.take(ops.client).entry(vmid)
    if entry is None or Snapshot.is_template(entry):
        raise NotFound(f"there is no VM with VMID {vmid}")
    previous = owner_of(ops, vmid)
    if previous is None:
        raise InvalidRequest(
            f"VM {vmid} was not made by Solti, so it has no owner to move", field="vmid"
        )
    ops.audit.record(
        action=VM_GIVE,
        actor=actor,
        via=via,
        result="ok",
        vmid=vmid,
        name=entry.get("name"),
        request_id=request_id,
        params={"from": previous, "to": receiver},
    )
    return previous
