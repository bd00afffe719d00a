"""Templates once built: list, verify, destroy, and update detection, over the PVE API.

List and verify read each template's config (the notes carry the build metadata); destroy
refuses while linked clones still use the base disk, naming them; update detection compares the
upstream digest with the one recorded on the latest template. The build is ``template_build``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import Conflict, InvalidRequest, SoltiError
from solti.provisioning.inventory import Snapshot, boot_disk, template_from_config
from solti.provisioning.models import Progress, TemplateInfo, UpdateStatus
from solti.provisioning.operation import Operation
from solti.provisioning.template_users import linked_clones_on_record, linked_clones_on_storage
from solti.provisioning.upstream import fetch_upstream

__all__ = [
    "check_updates",
    "destroy_template",
    "list_templates",
    "verified_template",
    "verify_template",
]


def verified_template(ops: Collaborators, node: str, vmid: int) -> TemplateInfo:
    """Read a template's config and check it is complete; raises naming every problem."""
    config = ops.client.vm_config(node, vmid)
    info = template_from_config(vmid, node, config)
    problems = []
    if info.status != "template":
        problems.append("it is not marked as a template")
    disk = boot_disk(config)
    if not disk or "base-" not in str(config.get(disk, "")):
        problems.append("its boot disk is not a base volume")
    if not any("cloudinit" in str(v) for v in config.values()):
        problems.append("it has no cloud-init drive")
    if info.distribution is None:
        problems.append("its notes carry no solti metadata")
    if problems:
        raise SoltiError(f"template {vmid} failed verification: {'; '.join(problems)}")
    return info


def verify_template(ops: Collaborators, vmid: int) -> TemplateInfo:
    """Check a template is complete: template flag, base disk, cloud-init drive, metadata."""
    entry = Snapshot.take(ops.client).require(vmid)
    return verified_template(ops, str(entry["node"]), vmid)


def list_templates(ops: Collaborators, distribution: str | None = None) -> list[TemplateInfo]:
    """Every template with its metadata, grouped by distribution, latest build first."""
    snapshot = Snapshot.take(ops.client)
    found = []
    for light in snapshot.templates(set(ops.catalog.names)):
        info = template_from_config(
            light.vmid, light.node, ops.client.vm_config(light.node, light.vmid)
        )
        if info.status != "template":
            continue
        if distribution and (info.distribution or light.distribution) != distribution:
            continue
        found.append(info)
    return sorted(found, key=lambda t: (t.distribution or "~", -t.vmid))


def _linked_clones(
    ops: Collaborators, snapshot: Snapshot, node: str, vmid: int, config: dict[str, Any]
) -> list[int]:
    users = set(linked_clones_on_record(ops.audit, vmid, snapshot.used_ids()))
    users |= linked_clones_on_storage(ops.client, node, vmid, config)
    return sorted(users)


def destroy_template(
    ops: Collaborators,
    vmid: int,
    *,
    actor: str = "unknown",
    via: str = "cli",
    approver: str | None = None,
    request_id: str | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> None:
    """Remove a template; refuses while linked clones still use its base disk, naming them.

    ``approver`` (who allowed the destroy) is written to the audit record, refused or not.
    With a ``request_id`` already completed, nothing is done again (idempotent re-runs).
    """
    op = Operation(ops, "template destroy", actor=actor, via=via, request_id=request_id,
                   approver=approver, steps=["destroy"], progress=progress)  # fmt: skip
    if op.earlier(vmid) is not None:
        return
    snapshot = Snapshot.take(ops.client)
    node = str(snapshot.require(vmid)["node"])
    config = ops.client.vm_config(node, vmid)
    info = template_from_config(vmid, node, config)
    if info.status != "template":
        raise InvalidRequest(f"VM {vmid} is not a template; use `vm remove {vmid}`", field="vmid")
    # One record shape for the refusal and for the real destroy.
    fields = {
        "vmid": vmid,
        "name": info.name,
        "node": node,
        "template_vmid": vmid,
        "template_name": info.name,
        "template_version": info.version,
    }
    clones = _linked_clones(ops, snapshot, node, vmid, config)
    if clones:
        snapshot.complete_vm_names(ops.client)
        names = snapshot.non_templates()
        listed = ", ".join(f"{c} ({names.get(c, '?')})" for c in clones)
        refusal = Conflict(
            f"template {vmid} ({info.name}) is used by linked clones {listed}; remove them first"
        )
        op.refused(refusal, **fields)
        raise refusal
    with op.audited(**fields), op.step("destroy", f"template {vmid} ({info.name})"):
        ops.waiter.wait(ops.client.delete_vm(node, vmid), node=node, step="destroy")


def check_updates(ops: Collaborators, distribution: str | None = None) -> list[UpdateStatus]:
    """Upstream digest vs the latest template's recorded one, per distribution."""
    names = [distribution] if distribution else list(ops.catalog.names)
    latest: dict[str, TemplateInfo] = {}
    for info in list_templates(ops):
        if info.distribution and info.distribution not in latest:
            latest[info.distribution] = info
    statuses = []
    for name in names:
        ops.catalog.get(name)
        template = latest.get(name)
        base = {
            "distribution": name,
            "template_vmid": template.vmid if template else None,
            "template_checksum": template.checksum if template else None,
            "template_version": template.version if template else None,
            "build_date": template.build_date if template else None,
        }
        try:
            upstream = fetch_upstream(ops, name)
        except SoltiError as exc:
            statuses.append(UpdateStatus(**base, state="unknown", reason=str(exc)))
            continue
        up = {"upstream_checksum": upstream["checksum"], "upstream_version": upstream["version"]}
        if template is None or not template.checksum:
            reason = "no template built yet" if template is None else "template has no checksum"
            statuses.append(UpdateStatus(**base, **up, state="unknown", reason=reason))
        elif template.checksum.lower() == upstream["checksum"]:
            statuses.append(UpdateStatus(**base, **up, state="current"))
        else:
            statuses.append(UpdateStatus(**base, **up, state="update_available"))
    return statuses
