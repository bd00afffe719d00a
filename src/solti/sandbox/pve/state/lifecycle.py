"""clone, template, resize and destroy: each splits into pre-fork checks (HTTP errors)
and the worker's part (task exit status), exactly where qemu-server splits them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from solti.sandbox.pve.errors import PveError
from solti.sandbox.pve.propstring import format_size
from solti.sandbox.pve.state.drives import (
    is_drive_key,
    parse_drive,
    parse_net,
    parse_size,
    print_drive,
    print_net,
)
from solti.sandbox.pve.state.tasks import TaskError

if TYPE_CHECKING:
    from solti.sandbox.pve.state.cluster import Cluster, Guest

CLONE_SKIP = ("template", "lock", "digest", "pending", "parent", "snapstate", "vmstate")


class LifecycleMixin:
    """VM operations that run as tasks (power is in ``power``)."""

    # -- clone --------------------------------------------------------------------------
    def clone_vm(self: Cluster, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        from solti.sandbox.pve.state.cluster import Guest

        source = self.guest_assert_on(node, vmid)
        self.check_lock(source)
        newid = int(params["newid"])
        if newid in self.guests:
            raise PveError(500, f"unable to create VM {newid}: config file already exists")
        is_template = source.conf.get("template") == "1"
        full = bool(params["full"]) if "full" in params else not is_template
        storage_id = params.get("storage")
        if (storage_id or params.get("format")) and not full:
            raise PveError(500, "parameter 'storage' not allowed for linked clones")
        target = params.get("target") or node
        self.require_node(target)
        disks = self._clone_disks(source)
        if not full:
            for key, volume in disks.items():
                if (
                    volume
                    and volume.content == "images"
                    and "cloudinit" not in volume.volname  # always copied in full (PVE)
                    and not volume.volname.split("/")[-1].startswith("base-")
                ):
                    raise PveError(
                        500, f"Linked clone feature is not supported for '{volume.volid}' ({key})"
                    )
        if storage_id:
            self._require_images(target, storage_id)
        if target != node:
            for volume in disks.values():
                if (
                    volume
                    and not self.storages[volume.storage].shared
                    and not (storage_id and self.storages[storage_id].shared)
                ):
                    raise PveError(
                        500, f"can't clone VM to node '{target}' (VM uses local storage)"
                    )
        self.guests[newid] = clone = Guest(newid, target, {"lock": "clone"}, appeared_at=self.now)

        def work() -> list[str]:
            conf = {
                k: v
                for k, v in source.conf.items()
                if k not in CLONE_SKIP and not k.startswith("unused")
            }
            for key, volume in disks.items():
                drive = parse_drive(conf[key])
                if volume is None:
                    continue
                cloudinit = "cloudinit" in volume.volname
                dest = storage_id or volume.storage
                if cloudinit:
                    new = self.alloc_disk(
                        dest, target, newid, volume.size, name=f"vm-{newid}-cloudinit"
                    )
                elif full:
                    new = self.alloc_disk(dest, target, newid, volume.size)
                else:
                    new = self.alloc_disk(
                        volume.storage, target, newid, volume.size, parent=volume.volname
                    )
                drive["file"] = new.volid
                if not cloudinit:
                    drive["size"] = format_size(new.size)
                conf[key] = print_drive(drive)
            for key in [k for k in conf if k.startswith("net") and k[3:].isdigit()]:
                net = parse_net(conf[key])
                net["macaddr"] = self.random_mac()
                conf[key] = print_net(net)
            smbios = [
                p for p in conf.get("smbios1", "").split(",") if p and not p.startswith("uuid=")
            ]
            conf["smbios1"] = ",".join([f"uuid={uuid.uuid4()}", *smbios])
            if "vmgenid" in conf:
                conf["vmgenid"] = str(uuid.uuid4())
            conf["name"] = params.get("name") or f"Copy-of-VM-{source.conf.get('name', vmid)}"
            if params.get("description") is not None:
                conf["description"] = self.normalise_value("description", params["description"])
            clone.conf = conf
            return [f"create {'full' if full else 'linked'} clone of drives"]

        def rollback() -> None:
            for volume in [v for v in self.volumes.values() if v.vmid == newid]:
                self.remove_volume(volume)
            self.guests.pop(newid, None)

        def wrapped() -> list[str]:
            try:
                return work()
            except TaskError as exc:
                raise TaskError(f"clone failed: {exc}") from exc

        return self.start_task(node, "qmclone", vmid, user, wrapped, rollback).upid

    def _clone_disks(self: Cluster, guest: Guest) -> dict[str, Any]:
        disks: dict[str, Any] = {}
        for key, value in sorted(guest.conf.items()):
            if is_drive_key(key):
                drive = parse_drive(value)
                if drive.get("media") == "cdrom" and "cloudinit" not in drive.get("file", ""):
                    continue
                disks[key] = self.find_volume(drive.get("file", ""), guest.node)
        return disks

    # -- template -----------------------------------------------------------------------
    def make_template(self: Cluster, node: str, vmid: int, user: str) -> str:
        guest = self.guest_on(node, vmid)
        self.check_lock(guest)
        if guest.conf.get("template") == "1":
            raise PveError(500, "you can't convert a template to a template")
        if guest.running:
            raise PveError(500, "you can't convert a VM to template if VM is running")

        def work() -> list[str]:
            for key, value in list(guest.conf.items()):
                if not is_drive_key(key):
                    continue
                drive = parse_drive(value)
                volume = self.find_volume(drive.get("file", ""), guest.node)
                if volume is None or volume.vmid != vmid or "cloudinit" in volume.volname:
                    continue
                self.rename_to_base(volume)
                drive["file"] = volume.volid
                guest.conf[key] = print_drive(drive)
            guest.conf["template"] = "1"
            return ["converted VM to template"]

        return self.start_task(node, "qmtemplate", vmid, user, work).upid

    # -- resize -------------------------------------------------------------------------
    def resize_disk(self: Cluster, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        disk, size_text = params["disk"], str(params["size"])

        def work() -> list[str]:
            guest = self.guest_on(node, vmid)
            self.check_lock(guest, bool(params.get("skiplock")))
            if params.get("digest") and params["digest"] != self.digest(guest.conf):
                raise TaskError("checksum mismatch (file change by other user?)")
            if disk not in guest.conf:
                raise TaskError(f"disk '{disk}' does not exist")
            drive = parse_drive(guest.conf[disk])
            if drive.get("media") == "cdrom":
                raise TaskError("you can't resize a cdrom")
            current = parse_size(drive.get("size", "0"))
            delta = parse_size(size_text.lstrip("+"))
            new = current + delta if size_text.startswith("+") else delta
            if new < current:
                raise TaskError("shrinking disks is not supported")
            if new == current:
                return [f"disk {disk} already has size {format_size(new)}"]
            volume = self.find_volume(drive.get("file", ""), guest.node)
            if volume is not None:
                volume.size = new
            drive["size"] = format_size(new)
            guest.conf[disk] = print_drive(drive)
            return [f"resized {disk} to {format_size(new)}"]

        return self.start_task(node, "resize", vmid, user, work).upid

    # -- destroy ------------------------------------------------------------------------
    def destroy_vm(self: Cluster, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        guest = self.guest_on(node, vmid)
        if guest.conf.get("protection") == "1":
            raise PveError(500, f"can't remove VM {vmid} - protection mode enabled")
        if guest.running:
            raise PveError(500, f"VM {vmid} is running - destroy failed")

        def work() -> list[str]:
            self.check_lock(guest, bool(params.get("skiplock")))
            owned = [v for v in self.volumes.values() if v.vmid == vmid]
            referenced = {
                parse_drive(v).get("file")
                for k, v in guest.conf.items()
                if is_drive_key(k) or k.startswith("unused")
            }
            for volume in owned:
                if self.linked_children(volume):
                    raise TaskError(
                        f"base volume '{volume.volid}' is still in use by linked cloned"
                    )
            for volume in owned:
                if volume.volid in referenced or params.get("destroy-unreferenced-disks"):
                    self.remove_volume(volume)
            self.guests.pop(vmid, None)
            return [f"destroyed VM {vmid}"]

        return self.start_task(node, "qmdestroy", vmid, user, work).upid

    def guest_uptime(self: Cluster, guest: Guest) -> int:
        return int(self.now - guest.started_at) if guest.running else 0

    def guest_maxmem(self: Cluster, guest: Guest) -> int:
        memory = guest.conf.get("memory", "512").split(",")[0].removeprefix("current=")
        return int(memory) * 1024 * 1024

    def guest_summary(self: Cluster, guest: Guest) -> dict[str, Any]:
        """The fields shared by status/current, the node VM list and cluster resources."""
        data: dict[str, Any] = {
            "vmid": guest.vmid,
            "name": guest.conf.get("name", f"VM {guest.vmid}"),
            "status": "running" if guest.running else "stopped",
            "uptime": self.guest_uptime(guest),
            "maxmem": self.guest_maxmem(guest),
            "maxdisk": self.guest_disk_bytes(guest),
            "cpus": int(guest.conf.get("cores", "1")) * int(guest.conf.get("sockets", "1")),
            "cpu": 0.01 if guest.running else 0,
            "mem": self.guest_maxmem(guest) // 2 if guest.running else 0,
            "disk": 0,
            "diskread": 0,
            "diskwrite": 0,
            "netin": 0,
            "netout": 0,
        }
        if guest.conf.get("template") == "1":
            data["template"] = 1
        for key in ("tags", "lock"):
            if guest.conf.get(key):
                data[key] = guest.conf[key]
        return data

    def vm_status(self: Cluster, node: str, vmid: int) -> dict[str, Any]:
        guest = self.guest_on(node, vmid)
        data = self.guest_summary(guest)
        data.update({"ha": {"managed": 0}, "qmpstatus": data["status"]})
        if guest.running:
            data["pid"] = 10000 + guest.vmid
        return data

    def vm_list(self: Cluster, node: str) -> list[dict[str, Any]]:
        return [
            self.guest_summary(g)
            for g in sorted(self.guests.values(), key=lambda g: g.vmid)
            if g.node == node
        ]

    def resources(self: Cluster, kind: str | None) -> list[dict[str, Any]]:
        """``/cluster/resources``: VMs, storages, nodes; new VMs bare until the RRD catches up."""
        rows: list[dict[str, Any]] = []
        if kind in (None, "vm"):
            for guest in sorted(self.guests.values(), key=lambda g: g.vmid):
                rows.append(self.vm_resource(guest))
        if kind in (None, "storage"):
            for node in self.node_names:
                for status in self.storage_status(node, {}):
                    rows.append(
                        {
                            "id": f"storage/{node}/{status['storage']}",
                            "type": "storage",
                            "storage": status["storage"],
                            "node": node,
                            "status": "available",
                            "plugintype": status["type"],
                            "content": status["content"],
                            "shared": status["shared"],
                            "disk": status["used"],
                            "maxdisk": status["total"],
                        }
                    )
        if kind in (None, "node"):
            rows += [
                {**self.node_row(n), "id": f"node/{n}", "type": "node"} for n in self.node_names
            ]
        return rows

    def vm_resource(self: Cluster, guest: Guest) -> dict[str, Any]:
        """One VM row, as ``extract_vm_stats`` builds it.

        ``name``, ``template``, sizes and ``status`` come from pvestatd's RRD cache, so for
        ``rrd_lag`` seconds after a VM appears only ``id``, ``vmid``, ``node``, ``type``,
        ``status: unknown`` and the live ``tags``/``lock`` are there.
        """
        base = {"id": f"qemu/{guest.vmid}", "type": "qemu", "vmid": guest.vmid, "node": guest.node}
        if self.now - guest.appeared_at < self.rrd_lag:
            row = {**base, "status": "unknown"}
            row.update({k: guest.conf[k] for k in ("tags", "lock") if guest.conf.get(k)})
            return row
        row = self.guest_summary(guest)
        row.update({**base, "maxcpu": row.pop("cpus")})
        row.setdefault("template", 0)
        return row

    def node_row(self: Cluster, node: str) -> dict[str, Any]:
        return {
            "node": node,
            "status": "online",
            "cpu": 0.02,
            "maxcpu": 8,
            "mem": 4 * 1024**3,
            "maxmem": 32 * 1024**3,
            "uptime": 86400,
            "level": "",
            "ssl_fingerprint": "00:" * 31 + "00",
        }
