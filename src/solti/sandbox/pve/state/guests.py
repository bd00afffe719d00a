"""The guests (qemu VMs): who exists where, VMIDs, held locks, and how a VM is listed.

``Guests`` owns the :class:`Guest` records; operations (configs, lifecycle, power) get a
record from it, check it, and change its fields inside their task's work. The module's
functions are the pure config rules several operations share.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Mapping
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state.drives import (
    is_drive_key,
    parse_drive,
    parse_size,
    split_property_string,
)
from solti.sandbox.pve.state.qemu_host import QEMU_VERSION, machine_at_start
from solti.sandbox.pve.state.records import Guest
from solti.sandbox.pve.state.tasks import Now

DEFAULT_ID_RANGE = (100, 1000000)


LOCK_CONFIG_TIMEOUT = 10.0


class LockTimeout(PveError):
    """The config file lock was not had within ``lock_config``'s 10 s."""


def check_lock(guest: Guest, skiplock: bool = False) -> None:
    """PVE refuses to touch a locked VM unless ``skiplock`` (root only) is given."""
    lock = guest.conf.get("lock")
    if lock and not skiplock:
        raise PveError(500, f"VM is locked ({lock})")


def digest(conf: dict[str, str]) -> str:
    """SHA1 of the config file text as qemu-server writes it."""
    lines = []
    description = conf.get("description")
    if description:
        lines += [f"#{line}" for line in description.split("\n")]
    lines += [f"{k}: {v}" for k, v in sorted(conf.items()) if k != "description"]
    return hashlib.sha1(("\n".join(lines) + "\n").encode()).hexdigest()


def normalise_tags(value: str) -> str:
    """Tags as PVE stores them: lower-case, unique, sorted, ``;``-separated."""
    tags = {t.lower() for t in re.split(r"[,;\s]+", value) if t}
    return ";".join(sorted(tags))


def random_mac() -> str:
    """A MAC in Proxmox's own OUI, as PVE generates for a NIC without one."""
    return "BC:24:11:" + ":".join(f"{random.randint(0, 255):02X}" for _ in range(3))


def disk_bytes(guest: Guest) -> int:
    """The sum of the guest's disk sizes (cd-roms excluded), its ``maxdisk``."""
    total = 0
    for key, value in guest.conf.items():
        if is_drive_key(key):
            drive = parse_drive(value)
            if drive.get("media") != "cdrom" and "size" in drive:
                total += parse_size(drive["size"])
    return total


def max_memory(guest: Guest) -> int:
    memory = guest.conf.get("memory", "512").split(",")[0].removeprefix("current=")
    return int(memory) * 1024 * 1024


class Guests(Mapping[int, Guest]):
    """Every VM by VMID (a read-only mapping; ``add``/``drop`` change it)."""

    def __init__(self, now: Now) -> None:
        self._now = now
        self._guests: dict[int, Guest] = {}
        self._held_locks: dict[int, tuple[str, float]] = {}
        self._file_locks: dict[int, float] = {}
        self._id_range: tuple[int, int] | None = None

    # -- the mapping ---------------------------------------------------------------------
    def __getitem__(self, vmid: int) -> Guest:
        return self._guests[vmid]

    def __iter__(self) -> Iterator[int]:
        return iter(self._guests)

    def __len__(self) -> int:
        return len(self._guests)

    def add(self, vmid: int, node: str, conf: dict[str, str], *, new: bool = False) -> Guest:
        """File a VM; ``new`` ones (create, clone) are too new for the RRD cache for a while."""
        guest = Guest(vmid, node, dict(conf))
        if new:
            guest.appeared_at = self._now()
        self._guests[vmid] = guest
        return guest

    def drop(self, vmid: int) -> None:
        self._guests.pop(vmid, None)
        self._held_locks.pop(vmid, None)

    def on(self, node: str, vmid: int) -> Guest:
        """``load_config``: the VM must exist on this node."""
        guest = self._guests.get(vmid)
        if guest is None or guest.node != node:
            raise PveError(
                500, f"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist"
            )
        return guest

    def assert_on(self, node: str, vmid: int) -> Guest:
        """``assert_config_exists_on_node``: other text, same meaning."""
        guest = self._guests.get(vmid)
        if guest is None or guest.node != node:
            raise PveError(500, f"unable to find configuration file for VM {vmid} on node '{node}'")
        return guest

    # -- VMIDs ---------------------------------------------------------------------------
    def set_next_id(self, lower: int = 100, upper: int = 1000000) -> None:
        """The datacenter's ``next-id`` option: where ``/cluster/nextid`` looks."""
        self._id_range = (lower, upper)

    def options(self) -> dict[str, Any]:
        """The datacenter options this part keeps (``/cluster/options``)."""
        if self._id_range is None:
            return {}
        return {"next-id": {"lower": self._id_range[0], "upper": self._id_range[1]}}

    def next_id(self, vmid: int | None = None) -> str:
        if vmid is not None:
            if vmid in self._guests:
                raise PveError(
                    400, "Parameter verification failed.", {"vmid": f"VM {vmid} already exists"}
                )
            return str(vmid)
        lower, upper = self._id_range or DEFAULT_ID_RANGE
        for candidate in range(lower, upper):
            if candidate not in self._guests:
                return str(candidate)
        raise PveError(500, f"unable to get any free VMID in range [{lower}, {upper}]")

    # -- config file locks (the hold_file_lock fault) ------------------------------------
    def hold_file_lock(self, vmid: int, seconds: float) -> None:
        """Another worker holds the flock on ``lock-VMID.conf`` for ``seconds`` from now."""
        self._file_locks[vmid] = self._now() + seconds

    def check_file_lock(self, vmid: int) -> None:
        """pve-guest-common ``AbstractConfig.pm`` ``lock_config`` waits 10 s for the flock;
        pve-common ``Tools.pm`` ``lock_file_full`` then dies "can't lock file ... - got
        timeout". A lock released within 10 s is simply waited for."""
        until = self._file_locks.get(vmid)
        if until is not None and until - self._now() > LOCK_CONFIG_TIMEOUT:
            raise LockTimeout(
                500, f"can't lock file '/var/lock/qemu-server/lock-{vmid}.conf' - got timeout"
            )

    # -- held locks (the hold_lock fault) ------------------------------------------------
    def hold_lock(self, vmid: int, lock: str, seconds: float, only_if_free: bool = False) -> None:
        """Lock a VM as another admin's long operation would, for ``seconds``."""
        guest = self._guests.get(vmid)
        if guest is None:
            raise PveError(500, f"unable to find configuration file for VM {vmid}")
        if only_if_free and guest.conf.get("lock"):
            raise PveError(500, f"VM is locked ({guest.conf['lock']})")
        guest.conf["lock"] = lock
        self._held_locks[vmid] = (lock, self._now() + seconds)

    def release_expired_locks(self) -> None:
        now = self._now()
        for vmid, (lock, until) in list(self._held_locks.items()):
            if until <= now:
                del self._held_locks[vmid]
                guest = self._guests.get(vmid)
                if guest and guest.conf.get("lock") == lock:
                    del guest.conf["lock"]

    # -- how VMs are listed --------------------------------------------------------------
    def uptime(self, guest: Guest) -> int:
        return int(self._now() - guest.started_at) if guest.running else 0

    def summary(self, guest: Guest) -> dict[str, Any]:
        """The fields shared by status/current, the node VM list and cluster resources."""
        data: dict[str, Any] = {
            "vmid": guest.vmid,
            "name": guest.conf.get("name", f"VM {guest.vmid}"),
            "status": "running" if guest.running else "stopped",
            "uptime": self.uptime(guest),
            "maxmem": max_memory(guest),
            "maxdisk": disk_bytes(guest),
            "cpus": int(guest.conf.get("cores", "1")) * int(guest.conf.get("sockets", "1")),
            "cpu": 0.01 if guest.running else 0,
            "mem": max_memory(guest) // 2 if guest.running else 0,
            # PVE 9 ``vmstatus``: the cgroup's memory on the host (QEMU maps all of it here).
            "memhost": max_memory(guest) if guest.running else 0,
            "disk": 0,
            "diskread": 0,
            "diskwrite": 0,
            "netin": 0,
            "netout": 0,
        }
        if guest.is_template:
            data["template"] = 1
        for key in ("tags", "lock"):
            if guest.conf.get(key):
                data[key] = guest.conf[key]
        return data

    def status(self, node: str, vmid: int) -> dict[str, Any]:
        """``GET .../status/current``: qemu-server ``PVE/API2/Qemu.pm`` ``vm_status`` adds
        ``ha`` and ``agent: 1`` when the config enables the guest agent (``get_qga_key($conf,
        'enabled')``), which is how clients learn whether to ask the agent at all."""
        guest = self.on(node, vmid)
        data = self.summary(guest)
        data.update({"ha": {"managed": 0}, "qmpstatus": data["status"]})
        if guest.running:
            data["pid"] = self.pid(guest)
            data.update(self.running_versions(guest))
        agent = split_property_string(guest.conf.get("agent", "0"), "enabled")
        if str(agent.get("enabled", "0")).lower() in ("1", "on", "yes", "true"):
            data["agent"] = 1
        return data

    @staticmethod
    def running_versions(guest: Guest) -> dict[str, str]:
        """``vmstatus`` with ``full`` asks a running VM's QMP ``query-machines`` and
        ``query-version`` (qemu-server ``PVE/QemuServer.pm`` ``$machinecb``/``$versioncb``):
        the machine it was started with (``Machine.pm`` ``current_from_query_machines``) and
        the QEMU version of its process, which is the host's at start (``qemu_host``)."""
        recorded = guest.started_machine
        if recorded is None or recorded[0] != guest.started_at:
            recorded = (guest.started_at, machine_at_start(guest.conf))
            guest.started_machine = recorded
        return {"running-machine": recorded[1], "running-qemu": QEMU_VERSION}

    @staticmethod
    def pid(guest: Guest) -> int:
        """The QEMU process id of a running VM (made up, stable per VMID)."""
        return 10000 + guest.vmid

    def listed_on(self, node: str, full: bool = False) -> list[dict[str, Any]]:
        """``GET /nodes/{node}/qemu``: qemu-server ``vmlist`` returns ``QemuServer.pm``
        ``vmstatus``, which names the ``pid`` of each running VM even without ``full``;
        ``diskread``/``diskwrite`` (QMP blockstats of running VMs), ``running-machine`` and
        ``running-qemu`` (running VMs) and ``qmpstatus`` (every VM: QMP's, else ``status``)
        only with ``full``."""
        rows = []
        for guest in self._sorted():
            if guest.node != node:
                continue
            row = self.summary(guest)
            if not (full and guest.running):
                del row["diskread"], row["diskwrite"]
            if guest.running:
                row["pid"] = self.pid(guest)
            if full and guest.running:
                row.update(self.running_versions(guest))
            if full:
                row["qmpstatus"] = row["status"]
            rows.append(row)
        return rows

    def resources(
        self, rrd_lag: float, rrd_gone: frozenset[str] = frozenset()
    ) -> list[dict[str, Any]]:
        """The VM rows of ``/cluster/resources``."""
        return [self.resource(g, rrd_lag, g.node in rrd_gone) for g in self._sorted()]

    def running_memory(self) -> dict[str, int]:
        """Per node, the memory its running VMs take from the host: each VM's configured
        ``memory`` (QEMU maps all of it; what the guest uses inside is its own ``mem``)."""
        used: dict[str, int] = {}
        for guest in self._guests.values():
            if guest.running:
                used[guest.node] = used.get(guest.node, 0) + max_memory(guest)
        return used

    def resource(self, guest: Guest, rrd_lag: float, rrd_gone: bool = False) -> dict[str, Any]:
        """One VM row, as ``extract_vm_stats`` builds it.

        ``name``, ``template``, sizes and ``status`` come from pvestatd's RRD cache, so for
        ``rrd_lag`` seconds after a VM appears only ``id``, ``vmid``, ``node``, ``type``,
        ``status: unknown`` and the live ``tags``/``lock`` are there; the same once its node
        has been offline long enough for pmxcfs to drop the entry (``rrd_gone``).
        """
        base = {"id": f"qemu/{guest.vmid}", "type": "qemu", "vmid": guest.vmid, "node": guest.node}
        if rrd_gone or self._now() - guest.appeared_at < rrd_lag:
            row = {**base, "status": "unknown"}
            row.update({k: guest.conf[k] for k in ("tags", "lock") if guest.conf.get(k)})
            return row
        row = self.summary(guest)
        row.update({**base, "maxcpu": row.pop("cpus")})
        row.setdefault("template", 0)
        return row

    def _sorted(self) -> list[Guest]:
        return sorted(self._guests.values(), key=lambda g: g.vmid)
