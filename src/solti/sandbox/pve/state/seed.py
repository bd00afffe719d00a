"""Seed helpers: put VMs, templates and image files straight into the model for tests."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from solti.sandbox.pve.propstring import format_size
from solti.sandbox.pve.state.drives import parse_size, print_drive, print_net

if TYPE_CHECKING:
    from solti.sandbox.pve.state.cluster import Cluster, Guest, Volume

GUEST_AGENT_ON = "1"
SEEDED_UPTIME = 86400.0


class SeedMixin:
    """Direct writes, taken under the model lock, bypassing the API and its tasks."""

    def add_vm(
        self: Cluster,
        vmid: int,
        name: str | None = None,
        *,
        node: str = "pve",
        template: bool = False,
        running: bool = False,
        storage: str = "local-lvm",
        disk_size: str | int = "3584M",
        tags: str | list[str] | None = None,
        cloudinit: bool = True,
        **conf: Any,
    ) -> Guest:
        """A VM as ``qm create`` + import + cloud-init would leave it (``template=True`` too)."""
        with self.mutex:
            size = disk_size if isinstance(disk_size, int) else parse_size(str(disk_size))
            disk = self.alloc_disk(storage, node, vmid, size)
            config: dict[str, str] = {
                "name": name or f"vm{vmid}",
                "memory": "2048",
                "cores": "2",
                "ostype": "l26",
                "scsihw": "virtio-scsi-single",
                "agent": GUEST_AGENT_ON,
                "scsi0": print_drive(
                    {"file": disk.volid, "discard": "on", "size": format_size(size), "ssd": "1"}
                ),
                "net0": print_net(
                    {"model": "virtio", "macaddr": self.random_mac(), "bridge": "vmbr0"}
                ),
                "boot": "order=scsi0",
                "meta": f"creation-qemu=9.2.0,ctime={int(self.now)}",
                "smbios1": f"uuid={uuid.uuid4()}",
                "vmgenid": str(uuid.uuid4()),
            }
            if cloudinit:
                ci = self.alloc_disk(storage, node, vmid, 4 * 1024**2, name=f"vm-{vmid}-cloudinit")
                config["ide2"] = f"{ci.volid},media=cdrom"
            if tags:
                config["tags"] = self.normalise_tags(
                    tags if isinstance(tags, str) else ",".join(tags)
                )
            config.update({k: str(v) for k, v in conf.items()})
            if template:
                self.rename_to_base(disk)
                config["scsi0"] = config["scsi0"].replace(f"vm-{vmid}-disk", f"base-{vmid}-disk")
                config["template"] = "1"
            guest = self.add_guest(vmid, node, config)
            guest.running = running and not template
            # A seeded running VM has long booted (its guest agent answers at once).
            guest.started_at = self.now - SEEDED_UPTIME if guest.running else self.now
            return guest

    def add_template(self: Cluster, vmid: int, name: str | None = None, **kw: Any) -> Guest:
        return self.add_vm(vmid, name, template=True, **kw)

    def add_import_image(
        self: Cluster, filename: str, data: bytes, *, storage: str = "local", node: str = "pve"
    ) -> Volume:
        """A file as download-url would have left it (``local:import/<filename>``)."""
        with self.mutex:
            return self.add_file(storage, "import", filename, data, node)

    def vm_config(self: Cluster, vmid: int) -> dict[str, str]:
        """The stored config of a VM (a copy), for assertions."""
        with self.mutex:
            return dict(self.guests[vmid].conf)
