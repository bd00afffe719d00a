"""Reading the cluster: one ``/cluster/resources`` snapshot, and templates from their configs.

A create decides its VMID, its name and its template from ONE snapshot, so the decisions agree
with each other and cost one request. The snapshot has a known blind spot (pve-semantics §10):
``name`` and ``template`` come from an RRD cache refreshed every ~10 s, so a VM made seconds ago
appears without them. ``tags`` are read live, which is why templates carry a ``template`` tag,
and why a name lookup that finds nothing falls back to the live per-node list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from solti.provisioning.errors import NotFound
from solti.provisioning.models import TemplateInfo
from solti.provisioning.notes import parse_notes
from solti.provisioning.pve import PveClient
from solti.provisioning.rules import TEMPLATE_RANGE, pick_template, template_name
from solti.provisioning.sizes import Size, SizeError

__all__ = [
    "TEMPLATE_TAG",
    "Snapshot",
    "boot_disk",
    "copies_on_nodes",
    "disk_size",
    "split_tags",
    "template_from_config",
    "volume_storages",
]

TEMPLATE_TAG = "template"
SOLTI_TAG = "solti"
_DISK_KEYS = ("scsi0", "virtio0", "sata0", "ide0")


def split_tags(value: str | None) -> list[str]:
    """PVE's tag string (``a;b;c``) as a list."""
    return [t for t in (value or "").replace(",", ";").replace(" ", ";").split(";") if t]


def boot_disk(config: dict[str, Any]) -> str | None:
    """The disk key the VM boots from (``boot: order=scsi0;net0``), else the first disk."""
    order = str(config.get("boot", ""))
    if order.startswith("order="):
        for key in order.removeprefix("order=").split(";"):
            if key in config and "media=cdrom" not in str(config[key]):
                return key
    return next((k for k in _DISK_KEYS if k in config), None)


def disk_size(drive: str | None) -> Size | None:
    """``size=`` of a drive string (``local-lvm:vm-500-disk-0,size=32G``)."""
    for part in (drive or "").split(",")[1:]:
        key, _, value = part.partition("=")
        if key == "size":
            try:
                return Size.from_pve(value)
            except SizeError:
                return None
    return None


def template_from_config(vmid: int, node: str, config: dict[str, Any]) -> TemplateInfo:
    """A ``TemplateInfo`` from a GET config: name, tags, boot disk and the notes metadata."""
    meta = parse_notes(config.get("description"))
    disk = boot_disk(config)
    build_date = meta.get("build_date")
    if isinstance(build_date, str):
        try:
            build_date = datetime.fromisoformat(build_date)
        except ValueError:
            build_date = None
    virtual = meta.get("virtual_size")
    return TemplateInfo(
        vmid=vmid,
        name=str(config.get("name") or f"VM {vmid}"),
        node=node,
        distribution=meta.get("distribution"),
        version=_text(meta.get("version")),
        checksum=meta.get("checksum"),
        checksum_algorithm=meta.get("checksum_algorithm"),
        image_url=meta.get("image_url"),
        image_file=meta.get("image_file"),
        virtual_size=Size(str(virtual)) if virtual else None,
        build_date=build_date if isinstance(build_date, datetime) else None,
        builder=_text(meta.get("builder")),
        tags=split_tags(config.get("tags")),
        balloon=int(config["balloon"]) if str(config.get("balloon", "")).isdigit() else None,
        storages=volume_storages(config),
        disk_size=disk_size(config.get(disk)) if disk else None,
        status="template" if config.get("template") in (1, "1", True) else "not a template",
    )


_DRIVE_KEY = re.compile(r"^(?:ide|sata|scsi|virtio|efidisk|tpmstate)\d+$")


def volume_storages(config: dict[str, Any]) -> list[str]:
    """Storages of every volume of a config (disks, cloud-init drive, a CD-ROM image): what
    qemu-server's ``clone_vm`` (``$check_storage_access_clone``) looks at."""
    found = set()
    for key, value in config.items():
        if not _DRIVE_KEY.match(key):
            continue
        volid = str(value).split(",", 1)[0]
        if ":" in volid and volid not in ("none", "cdrom"):
            found.add(volid.split(":", 1)[0])
    return sorted(found)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


_GUEST_TYPES = ("qemu", "lxc", "openvz")


@dataclass
class Snapshot:
    """One ``/cluster/resources`` answer, with the questions the verbs ask of it.

    ``entries`` are the guests (what ``type=vm`` lists); ``nodes`` and ``storages`` the node
    and storage rows of the same answer, which placement decides from (``placement``) at no
    extra request.
    """

    entries: list[dict[str, Any]]
    nodes: list[dict[str, Any]] = field(default_factory=list)
    storages: list[dict[str, Any]] = field(default_factory=list)
    # VMs planned from this snapshot but not made yet (a ``--count`` set): node and memory,
    # which placement counts; never entries (quotas count holds, not these).
    planned: list[tuple[str, int]] = field(default_factory=list)
    # Template configs read while planning from this snapshot (a copy on another node),
    # so a set of N placed on that node reads it once.
    configs: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def take(cls, client: PveClient) -> Snapshot:
        rows = client.cluster_resources()
        return cls(
            [r for r in rows if r.get("type", "qemu") in _GUEST_TYPES],
            [r for r in rows if r.get("type") == "node"],
            [r for r in rows if r.get("type") == "storage"],
        )

    def add_planned(self, plan: Any) -> None:
        """A VM planned but not made yet: the next placement sees its node busier."""
        self.planned.append((str(plan.node), int(plan.memory or 0)))

    def template_config(self, client: PveClient, node: str, vmid: int) -> dict[str, Any]:
        """A template's config, read once per snapshot."""
        if vmid not in self.configs:
            self.configs[vmid] = client.vm_config(node, vmid)
        return self.configs[vmid]

    def offline_nodes(self) -> set[str]:
        """Nodes whose row says anything but ``online`` (PVE's proxy cannot reach them)."""
        return {str(r["node"]) for r in self.nodes if r.get("status") != "online"}

    def used_ids(self) -> set[int]:
        return {int(e["vmid"]) for e in self.entries if "vmid" in e}

    def names(self) -> set[str]:
        return {str(e["name"]) for e in self.entries if e.get("name")}

    def entry(self, vmid: int) -> dict[str, Any] | None:
        return next((e for e in self.entries if int(e.get("vmid", -1)) == vmid), None)

    def require(self, vmid: int) -> dict[str, Any]:
        found = self.entry(vmid)
        if found is None:
            raise NotFound(f"no VM with VMID {vmid} on this cluster")
        return found

    @staticmethod
    def is_template(entry: dict[str, Any]) -> bool:
        """Template flag, or (flag not yet in the RRD cache) the live ``template`` tag."""
        flag = entry.get("template")
        if flag is not None:
            return flag in (1, "1", True)
        return (
            TEMPLATE_TAG in split_tags(entry.get("tags")) and int(entry["vmid"]) in TEMPLATE_RANGE
        )

    def templates(self, distributions: set[str]) -> list[TemplateInfo]:
        """Light ``TemplateInfo`` records (no notes) for choosing; the chosen one is re-read."""
        found = []
        for e in self.entries:
            if e.get("type", "qemu") != "qemu" or not self.is_template(e):
                continue
            vmid = int(e["vmid"])
            name = e.get("name") or ""
            tags = split_tags(e.get("tags"))
            dist = next((d for d in sorted(distributions) if name == template_name(d)), None)
            if dist is None:
                dist = next((d for d in sorted(distributions) if d.lower() in tags), None)
            found.append(
                TemplateInfo(
                    vmid=vmid,
                    name=name or (template_name(dist) if dist else f"VM {vmid}"),
                    node=str(e.get("node", "")),
                    distribution=dist,
                    tags=tags,
                )
            )
        return found

    def non_templates(self) -> dict[int, str]:
        return {
            int(e["vmid"]): str(e.get("name") or f"VM {e['vmid']}")
            for e in self.entries
            if not self.is_template(e)
        }

    def missing_names(self) -> bool:
        """Some entry came from a VM too new for the RRD cache (no name yet)."""
        return any(not e.get("name") for e in self.entries)

    def complete_vm_names(self, client: PveClient) -> None:
        """Fill in names when a VM (not a template) is too new for the RRD cache.

        Needed wherever a VM's name matters: a default name must not repeat one given seconds
        ago, and people read names in lists and errors. Costs one call per node, only then.
        """
        if any(not e.get("name") and not self.is_template(e) for e in self.entries):
            self.fill_names(client)

    def fill_names(self, client: PveClient) -> None:
        """Complete names, template flags and run status from the live per-node lists.

        One call per online node (a request to an offline one would only fail); the per-node
        list is read from the configs, not the RRD cache.
        """
        by_id = {int(e["vmid"]): e for e in self.entries}
        offline = self.offline_nodes()
        for node in sorted({str(e["node"]) for e in self.entries if e.get("node")} - offline):
            for live in client.node_vms(node):
                entry = by_id.get(int(live["vmid"]))
                if entry is None:
                    continue
                if live.get("name"):
                    entry["name"] = live["name"]
                if entry.get("template") is None:
                    entry["template"] = 1 if live.get("template") in (1, "1", True) else 0
                if entry.get("status") in (None, "unknown") and live.get("status"):
                    entry["status"] = live["status"]


def copies_on_nodes(
    snapshot: Snapshot, chosen: TemplateInfo, selector: int | str | None, distributions: set[str]
) -> dict[str, TemplateInfo]:
    """Per other node, the newest template of ``chosen``'s distribution there (light records).

    A selector by distribution (or by the shared name ``{distribution}-template``) means "the
    latest build", and on a cluster on local storage each node holds its own copy of a build;
    a VMID or any other name means that one template, with no copies.
    """
    templates = snapshot.templates(distributions)
    light = next((t for t in templates if t.vmid == chosen.vmid), None)
    dist = chosen.distribution or (light.distribution if light else None)  # notes, else name
    if dist is None or selector is None:
        return {}
    text = str(selector).strip()
    if isinstance(selector, int) or text.isdigit() or text not in (dist, template_name(dist)):
        return {}
    newest: dict[str, TemplateInfo] = {}
    for t in templates:
        if t.distribution != dist or t.node == chosen.node:
            continue
        if t.node not in newest or t.vmid > newest[t.node].vmid:
            newest[t.node] = t
    return newest


def choose_template(
    client: PveClient,
    snapshot: Snapshot,
    selector: int | str | None,
    distributions: set[str],
    *,
    attempts: int = 3,
) -> TemplateInfo:
    """Resolve a selector (VMID > name > distribution) and read the chosen template's config.

    Reading the config verifies it is really a template (a build in progress carries the tag
    before it is converted); such a candidate is dropped and the choice made again.
    """
    excluded: set[int] = set()
    refreshed = False
    for _ in range(attempts + 1):
        candidates = [t for t in snapshot.templates(distributions) if t.vmid not in excluded]
        try:
            light = pick_template(
                candidates,
                selector,
                distributions=distributions,
                non_templates=snapshot.non_templates(),
            )
        except NotFound:
            if refreshed or not snapshot.missing_names():
                raise
            snapshot.fill_names(client)
            refreshed = True
            continue
        config = client.vm_config(light.node, light.vmid)
        info = template_from_config(light.vmid, light.node, config)
        if info.status == "template":
            return info
        excluded.add(light.vmid)
    raise NotFound(f"template: no finished template matches {selector!r}")
