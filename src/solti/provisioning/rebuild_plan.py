"""Planning a ``vm rebuild``: what the re-made VM keeps, from reads only (a dry run shows it).

A rebuild re-creates a VM Solti made from the newest build of its distribution (or a template
a person names), keeping what makes it *that* VM for its users: VMID, name, node, the MAC
address of ``net0`` (a DHCP reservation keeps its address), the static network settings
(``ipconfig0``, ``nameserver``, ``searchdomain``), cores, memory, disk size (never smaller),
tags, the cloud-init user and SSH keys; owner and lease are keyed by VMID and stay as they are.
Reads: one ``/cluster/resources`` snapshot, the VM's config, the chosen template's config.

A VM no Solti create record made is refused (its settings were never Solti's to repeat), and a
VM already on the chosen template has nothing to do. When an earlier rebuild destroyed the old
VM and did not finish, the plan puts back what that rebuild journaled, not the half-made VM's
settings (``rebuild_journal``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from solti.provisioning.cloudinit import decode_sshkeys, validate_ssh_keys
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.cross_node import clone_refusal, storage_facts
from solti.provisioning.errors import InvalidRequest, NotFound, PolicyDenied
from solti.provisioning.inventory import (
    Snapshot,
    boot_disk,
    choose_template,
    copies_on_nodes,
    disk_size,
    split_tags,
    template_from_config,
)
from solti.provisioning.models import TemplateInfo
from solti.provisioning.rebuild_journal import RebuildJournal
from solti.provisioning.rules import normalize_tags
from solti.provisioning.sizes import Size
from solti.provisioning.strict_models import StrictModel
from solti.provisioning.vm_plan import same_build

__all__ = ["KEPT_KEYS", "REBUILD", "RebuildPlan", "plan_rebuild"]

REBUILD = "vm rebuild"
# The settings of the old VM put back on the new one, as PVE names them.
KEPT_KEYS = ("net0", "ipconfig0", "nameserver", "searchdomain", "ciuser", "sshkeys", "cores",
             "memory", "tags")  # fmt: skip
LOST = "the disk's contents are lost: the VM is re-made from the template's image"


class RebuildPlan(StrictModel):
    """Everything a rebuild would do, decided before anything changes."""

    vmid: int
    name: str
    node: str
    owner: str
    status: str = Field(description="The VM's power state before; the new VM is left the same.")
    old_template_vmid: int | None = None
    old_template_name: str | None = None
    old_version: str | None = None
    template: TemplateInfo
    full: bool = False
    target_storage: str | None = None
    cores: int | None = None
    memory: int | None = None
    disk_before: Size | None = Field(None, description="The old VM's boot disk.")
    disk_after: Size | None = Field(None, description="The new VM's boot disk (never smaller).")
    resize: bool = False
    macaddr: str | None = None
    ipconfig: str | None = None
    nameserver: str | None = None
    searchdomain: str | None = None
    user: str | None = None
    ssh_key_fingerprints: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    nothing_to_do: bool = False
    vm_exists: bool = True
    resumes: int | None = Field(
        None, description="The audit id of an unfinished rebuild whose settings are put back."
    )
    warning: str = LOST
    restore: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @property
    def new_version(self) -> str | None:
        return self.template.version

    @property
    def start(self) -> bool:
        return self.status == "running"


def _origin(ops: Collaborators, vmid: int) -> Any:
    """The newest successful create of ``vmid``; refused when Solti never made it."""
    owner = ops.audit.owners().get(vmid)
    found = ops.audit.query(vmid=vmid, action="vm create", result="ok", limit=1)
    if not found or owner is None:
        raise PolicyDenied(
            f"VM {vmid} was not made by Solti (no create record); rebuild re-creates only "
            "VMs Solti made"
        )
    return found[0], owner


def _current_template(ops: Collaborators, vmid: int, create: Any) -> Any:
    """The template the VM runs now: its newest finished rebuild's, else its create's."""
    rebuilt = ops.audit.query(vmid=vmid, action=REBUILD, result="ok", limit=1)
    return rebuilt[0] if rebuilt and rebuilt[0].id > create.id else create


def _distribution(ops: Collaborators, snapshot: Snapshot, record: Any) -> str | None:
    names = set(ops.catalog.names)
    for t in snapshot.templates(names):
        if t.vmid == record.template_vmid and t.distribution:
            return str(t.distribution)
    name = str(record.template_name or "")
    candidate = name.removesuffix("-template")
    return candidate if candidate in names else None


def _keys(config: dict[str, Any]) -> list[str]:
    try:
        return [k.fingerprint for k in validate_ssh_keys(decode_sshkeys(str(config["sshkeys"])))]
    except (KeyError, InvalidRequest, ValueError):
        return []


def _mac(net0: str | None) -> str | None:
    for part in str(net0 or "").split(","):
        key, _, value = part.partition("=")
        if key in ("macaddr", "virtio", "e1000", "rtl8139", "vmxnet3") and ":" in value:
            return value.upper()
    return None


def plan_rebuild(ops: Collaborators, vmid: int, template: str | int | None = None) -> RebuildPlan:
    """Every decision of a rebuild, made with reads only."""
    create, owner = _origin(ops, vmid)
    current = _current_template(ops, vmid, create)
    journal = RebuildJournal(ops.audit)
    unfinished = journal.unfinished(vmid)
    snapshot = Snapshot.take(ops.client)
    entry = snapshot.entry(vmid)
    if entry is not None and (entry.get("type", "qemu") != "qemu" or Snapshot.is_template(entry)):
        raise InvalidRequest(f"{vmid} is not a VM Solti can rebuild", field="vmid")
    if entry is None and unfinished is None:
        raise NotFound(f"no VM with VMID {vmid} on this cluster")
    node = str(entry["node"]) if entry is not None else unfinished.node  # type: ignore[union-attr]
    config = ops.client.vm_config(node, vmid) if entry is not None else {}
    selector = template if template not in (None, "") else _distribution(ops, snapshot, current)
    if selector is None:
        raise InvalidRequest(
            f"cannot tell which distribution VM {vmid} runs (template "
            f"{current.template_name or current.template_vmid}); name one with --template",
            field="template",
        )
    chosen = choose_template(ops.client, snapshot, selector, set(ops.catalog.names))
    params = create.params or {}
    full = bool(params.get("full"))
    if chosen.node != node:  # local storage: the build's copy on the VM's node, if one is there
        chosen = _copy_on(ops, snapshot, chosen, selector, node)
    if chosen.node != node:
        refusal = clone_refusal(chosen.node, chosen.storages, storage_facts(snapshot.storages),
                                node, params.get("target_storage"))  # fmt: skip
        if refusal:
            raise InvalidRequest(
                f"template {chosen.vmid} is on {chosen.node}, VM {vmid} on {node}: {refusal}",
                field="template",
            )
    source = unfinished.restore if unfinished is not None else _kept(config)
    disk_before = Size(source["disk"]) if source.get("disk") else None
    grow = disk_before is not None and (chosen.disk_size is None or chosen.disk_size < disk_before)
    status = str(source.get("status") or _status(ops, node, vmid, entry))
    nothing = unfinished is None and (
        chosen.vmid == current.template_vmid
        or (template in (None, "") and chosen.version is not None
            and chosen.version == current.template_version)
    )  # fmt: skip
    plan = RebuildPlan(
        vmid=vmid,
        name=str(source.get("name") or create.name or f"vm{vmid}"),
        node=node,
        owner=owner,
        status=status,
        old_template_vmid=current.template_vmid,
        old_template_name=current.template_name,
        old_version=current.template_version,
        template=chosen,
        full=full,
        target_storage=params.get("target_storage"),
        cores=int(source["cores"]) if source.get("cores") else None,
        memory=int(str(source["memory"]).split(",")[0]) if source.get("memory") else None,
        disk_before=disk_before,
        disk_after=disk_before if grow else chosen.disk_size,
        resize=grow,
        macaddr=_mac(source.get("net0")),
        ipconfig=source.get("ipconfig0"),
        nameserver=source.get("nameserver"),
        searchdomain=source.get("searchdomain"),
        user=source.get("ciuser"),
        ssh_key_fingerprints=_keys(source),
        tags=split_tags(source.get("tags")),
        nothing_to_do=nothing,
        resumes=unfinished.audit_id if unfinished is not None else None,
        vm_exists=entry is not None,
    )
    plan.restore = {**source, "status": status}
    return plan


def _status(ops: Collaborators, node: str, vmid: int, entry: dict[str, Any] | None) -> str:
    status = (entry or {}).get("status")
    if status in ("running", "stopped"):
        return str(status)
    return str(ops.client.vm_status(node, vmid).get("status", "stopped"))


def _kept(config: dict[str, Any]) -> dict[str, Any]:
    """The old VM's settings a rebuild puts back (and its name and boot disk size)."""
    kept = {key: config[key] for key in KEPT_KEYS if config.get(key) not in (None, "")}
    kept["name"] = config.get("name")
    disk = boot_disk(config)
    size = disk_size(config.get(disk)) if disk else None
    if size is not None:
        kept["disk"] = size.pve()
    return kept


def new_config(plan: RebuildPlan, actor: str, distribution: str | None) -> dict[str, Any]:
    """The one config write that makes the clone the old VM again (PVE's option names).

    ``net0`` is the old NIC line, MAC included: qemu-server keeps a ``macaddr`` it is given
    (``PVE::QemuServer::parse_net`` only generates one when none is set). The distribution tag
    follows the template when a rebuild moves the VM to another distribution.
    """
    restore = plan.restore
    params = {key: restore[key] for key in KEPT_KEYS if key in restore and key != "tags"}
    tags = [t for t in split_tags(restore.get("tags")) if t != _old_dist(plan)]
    params["tags"] = ";".join(
        normalize_tags([*tags, "solti", *([distribution] if distribution else [])])
    )
    if plan.template.balloon and plan.memory and plan.template.balloon > plan.memory:
        params["balloon"] = plan.memory  # as vm_create: PVE refuses a balloon above memory
    version = f" {plan.template.version}" if plan.template.version else ""
    params["description"] = (
        f"Made by solti for {plan.owner} from template {plan.template.vmid} "
        f"({plan.template.name}{version}); rebuilt by {actor}."
    )
    return params


def _old_dist(plan: RebuildPlan) -> str | None:
    name = str(plan.old_template_name or "")
    return name.removesuffix("-template") if name.endswith("-template") else None


def _copy_on(ops: Any, snapshot: Any, chosen: Any, selector: Any, node: str) -> Any:
    """The copy of ``chosen``'s build on ``node`` (``template build --all-nodes``), read
    only when one is listed there; else ``chosen`` itself."""
    light = copies_on_nodes(snapshot, chosen, selector, set(ops.catalog.names)).get(node)
    if light is None:
        return chosen
    config = snapshot.template_config(ops.client, light.node, light.vmid)
    copy = template_from_config(light.vmid, light.node, config)
    return copy if copy.status == "template" and same_build(copy, chosen) else chosen
