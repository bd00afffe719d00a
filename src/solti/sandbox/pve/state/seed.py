"""Seed helpers: put VMs, templates and image files straight into the model for tests.

Direct writes through ``Guests`` and ``Storages``, bypassing the API and its tasks; the
``Cluster`` takes its lock around them.
"""

from __future__ import annotations

import uuid
from typing import Any

from solti.sandbox.pve.propstring import format_size
from solti.sandbox.pve.state.drives import parse_size, print_drive, print_net
from solti.sandbox.pve.state.guests import Guests, normalise_tags, random_mac
from solti.sandbox.pve.state.qemu_host import QEMU_VERSION, machine_at_start
from solti.sandbox.pve.state.records import Guest, Volume
from solti.sandbox.pve.state.storages import Storages
from solti.sandbox.pve.state.tasks import Now

GUEST_AGENT_ON = "1"
SEEDED_UPTIME = 86400.0


class Seeder:
    """VMs and files as if created long ago (no task, known to the RRD cache at once)."""

    def __init__(self, now: Now, guests: Guests, storages: Storages) -> None:
        self._now = now
        self._guests = guests
        self._storages = storages

    def add_vm(
        self,
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
        size = disk_size if isinstance(disk_size, int) else parse_size(str(disk_size))
        disk = self._storages.alloc_disk(storage, node, vmid, size)
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
            "net0": print_net({"model": "virtio", "macaddr": random_mac(), "bridge": "vmbr0"}),
            "boot": "order=scsi0",
            "meta": f"creation-qemu={QEMU_VERSION},ctime={int(self._now())}",
            "smbios1": f"uuid={uuid.uuid4()}",
            "vmgenid": str(uuid.uuid4()),
        }
        if cloudinit:
            ci = self._storages.alloc_disk(
                storage, node, vmid, 4 * 1024**2, name=f"vm-{vmid}-cloudinit"
            )
            config["ide2"] = f"{ci.volid},media=cdrom"
        if tags:
            config["tags"] = normalise_tags(tags if isinstance(tags, str) else ",".join(tags))
        config.update({k: str(v) for k, v in conf.items()})
        if template:
            self._storages.rename_to_base(disk)
            config["scsi0"] = config["scsi0"].replace(f"vm-{vmid}-disk", f"base-{vmid}-disk")
            config["template"] = "1"
        guest = self._guests.add(vmid, node, config)
        guest.running = running and not template
        # A seeded running VM has long booted (its guest agent answers at once).
        now = self._now()
        guest.started_at = now - SEEDED_UPTIME if guest.running else now
        if guest.running:
            guest.started_machine = (guest.started_at, machine_at_start(guest.conf))
        return guest

    def add_template(self, vmid: int, name: str | None = None, **kw: Any) -> Guest:
        return self.add_vm(vmid, name, template=True, **kw)

    def add_import_image(
        self, filename: str, data: bytes, *, storage: str = "local", node: str = "pve"
    ) -> Volume:
        """A file as download-url would have left it (``local:import/<filename>``)."""
        return self._storages.add_file(storage, "import", filename, data, node)
