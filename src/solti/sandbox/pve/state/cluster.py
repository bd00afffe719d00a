"""Nodes, storages, volumes, the VMID registry, locks and datacenter options.

``Cluster`` is assembled from mixins, one per concern, so each file stays readable:
guests (qemu configs and their lifecycle) and storage (content, download-url) live apart.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from solti.sandbox.pve.errors import PveError
from solti.sandbox.pve.propstring import format_size
from solti.sandbox.pve.state.drives import is_drive_key, parse_drive, parse_size
from solti.sandbox.pve.state.guests import GuestsMixin
from solti.sandbox.pve.state.lifecycle import LifecycleMixin
from solti.sandbox.pve.state.network import NetworkMixin, default_interfaces
from solti.sandbox.pve.state.power import PowerMixin
from solti.sandbox.pve.state.seed import SeedMixin
from solti.sandbox.pve.state.storage import StorageMixin
from solti.sandbox.pve.state.tasks import Task, TaskBook, Work

ALL_PRIVILEGES = [
    "Datastore.Allocate",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "Datastore.Audit",
    "Group.Allocate",
    "Mapping.Audit",
    "Mapping.Modify",
    "Mapping.Use",
    "Permissions.Modify",
    "Pool.Allocate",
    "Pool.Audit",
    "Realm.Allocate",
    "Realm.AllocateUser",
    "SDN.Allocate",
    "SDN.Audit",
    "SDN.Use",
    "Sys.AccessNetwork",
    "Sys.Audit",
    "Sys.Console",
    "Sys.Incoming",
    "Sys.Modify",
    "Sys.PowerMgmt",
    "Sys.Syslog",
    "User.Modify",
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Replicate",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
]
# pvestatd refreshes the RRD cache /cluster/resources reads name/template/status from every
# ~10 s; until then a new VM is listed bare (pve-semantics.md section 10).
RRD_LAG = 10.0
PVE_VERSION = {"version": "9.1.4", "release": "9.1", "repoid": "5b2e3e3a2f0c4a1d"}


class TaskPolicy(Protocol):
    """Where task durations and injected failures come from (the faults)."""

    def duration_for(self, task_type: str) -> float: ...

    def take_failure(self, task_type: str) -> str | None: ...

    def agent_boot_for(self, vmid: int) -> float | None: ...

    def ignores_acpi(self, vmid: int) -> bool: ...


class _DefaultPolicy:
    def duration_for(self, task_type: str) -> float:
        return 0.1

    def take_failure(self, task_type: str) -> str | None:
        return None

    def agent_boot_for(self, vmid: int) -> float | None:
        return 0.0

    def ignores_acpi(self, vmid: int) -> bool:
        return False


@dataclass
class Storage:
    """A storage definition; ``path`` is set only for file-based storages."""

    id: str
    type: str
    content: set[str]
    shared: bool = False
    path: str | None = None
    total: int = 512 * 1024**3

    @property
    def file_based(self) -> bool:
        return self.path is not None


@dataclass
class Volume:
    """One volume on a storage; ``node`` is None on shared storages."""

    storage: str
    node: str | None
    volname: str
    content: str
    format: str
    size: int
    ctime: int
    vmid: int | None = None
    parent: str | None = None
    data: bytes | None = field(default=None, repr=False)

    @property
    def volid(self) -> str:
        return f"{self.storage}:{self.volname}"


@dataclass
class Guest:
    """A qemu VM: its config exactly as stored (strings) plus run state."""

    vmid: int
    node: str
    conf: dict[str, str]
    running: bool = False
    started_at: float = 0.0
    # When the VM's config first appeared (create, clone); seeded VMs are "long known".
    appeared_at: float = float("-inf")


class Cluster(GuestsMixin, LifecycleMixin, PowerMixin, StorageMixin, NetworkMixin, SeedMixin):
    """The whole simulated cluster."""

    def __init__(
        self, nodes: int = 1, shared_storage: bool = False, policy: TaskPolicy | None = None
    ) -> None:
        self._args = (nodes, shared_storage)
        self.mutex = threading.RLock()
        self.node_names = ["pve"] + [f"pve{i}" for i in range(2, nodes + 1)]
        self.policy: TaskPolicy = policy or _DefaultPolicy()
        self.storages: dict[str, Storage] = {
            "local": Storage(
                "local", "dir", {"iso", "vztmpl", "import", "snippets"}, False, "/var/lib/vz"
            ),
            "local-lvm": Storage("local-lvm", "lvmthin", {"images", "rootdir"}),
        }
        if shared_storage:
            self.storages["shared"] = Storage(
                "shared", "nfs", {"images", "import", "iso"}, True, "/mnt/pve/shared"
            )
        self.volumes: dict[tuple[str, str | None, str], Volume] = {}
        self.interfaces = {n: default_interfaces(i) for i, n in enumerate(self.node_names)}
        self.guests: dict[int, Guest] = {}
        self.tasks = TaskBook()
        self.options: dict[str, Any] = {}
        self.permissions: dict[str, dict[str, int]] = {"/": dict.fromkeys(ALL_PRIVILEGES, 1)}
        self._held_locks: dict[int, tuple[str, float]] = {}
        self.now = 0.0
        # State knob: seconds a new VM stays unknown to the RRD cache; 0 turns the lag off.
        self.rrd_lag = RRD_LAG

    def reset(self) -> None:
        """Back to the initial empty cluster (same object, so references stay valid)."""
        with self.mutex:
            mutex, policy, now = self.mutex, self.policy, self.now
            self.__init__(*self._args, policy=policy)  # type: ignore[misc]
            self.mutex, self.now = mutex, now

    # -- time ---------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Bring the model up to ``now``: finish due tasks, release expired held locks."""
        self.now = now
        self.tasks.due(now)
        for vmid, (lock, until) in list(self._held_locks.items()):
            if until <= now:
                del self._held_locks[vmid]
                guest = self.guests.get(vmid)
                if guest and guest.conf.get("lock") == lock:
                    del guest.conf["lock"]

    def hold_lock(self, vmid: int, lock: str, seconds: float, now: float) -> None:
        guest = self.guests.get(vmid)
        if guest is None:
            raise PveError(500, f"unable to find configuration file for VM {vmid}")
        guest.conf["lock"] = lock
        self._held_locks[vmid] = (lock, now + seconds)

    def start_task(
        self,
        node: str,
        task_type: str,
        task_id: str | int,
        user: str,
        work: Work | None,
        rollback: Any = None,
        duration: float | None = None,
    ) -> Task:
        """Start a worker whose ``work`` runs when its duration is over: ``duration`` when
        the caller knows it (a shutdown that waits for its timeout), else the faults' one."""
        return self.tasks.start(
            node=node,
            task_type=task_type,
            task_id=str(task_id),
            task_user=user,
            now=self.now,
            duration=self.policy.duration_for(task_type) if duration is None else duration,
            work=work,
            rollback=rollback,
            injected_error=self.policy.take_failure(task_type),
        )

    # -- nodes and ids ------------------------------------------------------------------
    def require_node(self, node: str) -> None:
        if node not in self.node_names:
            raise PveError(
                500,
                f"hostname lookup '{node}' failed - failed to get address info for: "
                f"{node}: Name or service not known",
            )

    def next_id_range(self) -> tuple[int, int]:
        next_id = self.options.get("next-id") or {}
        return int(next_id.get("lower", 100)), int(next_id.get("upper", 1000000))

    def set_next_id(self, lower: int = 100, upper: int = 1000000) -> None:
        self.options["next-id"] = {"lower": lower, "upper": upper}

    def next_id(self, vmid: int | None = None) -> str:
        if vmid is not None:
            if vmid in self.guests:
                raise PveError(
                    400, "Parameter verification failed.", {"vmid": f"VM {vmid} already exists"}
                )
            return str(vmid)
        lower, upper = self.next_id_range()
        for candidate in range(lower, upper):
            if candidate not in self.guests:
                return str(candidate)
        raise PveError(500, f"unable to get any free VMID in range [{lower}, {upper}]")

    # -- permissions --------------------------------------------------------------------
    def set_token_privileges(self, path: str, privileges: dict[str, int]) -> None:
        """Replace the privileges the token has on ``path`` (tests of ``solti check``)."""
        self.permissions[path] = dict(privileges)

    def revoke_token_privileges(self, path: str, *names: str) -> None:
        """Take ``names`` away from what the token has on ``path``; the rest stays."""
        kept = {n: v for n, v in self.permissions.get(path, {}).items() if n not in names}
        self.set_token_privileges(path, kept)

    def permissions_for(self, path: str | None) -> dict[str, dict[str, int]]:
        """The token's privileges: every ACL path, or the effective set on one ``path``.

        The nearest configured ancestor decides; on a proper ancestor only privileges with
        propagate ``1`` count, as with PVE ACLs.
        """
        if path is None:
            return {p: dict(v) for p, v in self.permissions.items()}
        best = max(
            (p for p in self.permissions if path == p or path.startswith(p.rstrip("/") + "/")),
            key=len,
            default=None,
        )
        if best is None:
            return {path: {}}
        privileges = self.permissions[best]
        if best != path:
            privileges = {k: v for k, v in privileges.items() if v}
        return {path: dict(privileges)}

    def check_privileges(self, path: str, privileges: list[str]) -> None:
        """403 unless the token holds one of ``privileges`` on ``path``."""
        held = self.permissions_for(path)[path]
        if not any(p in held for p in privileges):
            raise PveError(403, f"Permission check failed ({path}, {'|'.join(privileges)})")

    # -- helpers shared by the mixins ---------------------------------------------------
    def guest_on(self, node: str, vmid: int) -> Guest:
        """``load_config``: the VM must exist on this node."""
        guest = self.guests.get(vmid)
        if guest is None or guest.node != node:
            raise PveError(
                500, f"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist"
            )
        return guest

    def guest_assert_on(self, node: str, vmid: int) -> Guest:
        """``assert_config_exists_on_node``: other text, same meaning."""
        guest = self.guests.get(vmid)
        if guest is None or guest.node != node:
            raise PveError(500, f"unable to find configuration file for VM {vmid} on node '{node}'")
        return guest

    @staticmethod
    def check_lock(guest: Guest, skiplock: bool = False) -> None:
        lock = guest.conf.get("lock")
        if lock and not skiplock:
            raise PveError(500, f"VM is locked ({lock})")

    @staticmethod
    def digest(conf: dict[str, str]) -> str:
        """SHA1 of the config file text as qemu-server writes it."""
        lines = []
        description = conf.get("description")
        if description:
            lines += [f"#{line}" for line in description.split("\n")]
        lines += [f"{k}: {v}" for k, v in sorted(conf.items()) if k != "description"]
        return hashlib.sha1(("\n".join(lines) + "\n").encode()).hexdigest()

    @staticmethod
    def normalise_tags(value: str) -> str:
        tags = {t.lower() for t in re.split(r"[,;\s]+", value) if t}
        return ";".join(sorted(tags))

    @staticmethod
    def random_mac() -> str:
        return "BC:24:11:" + ":".join(f"{random.randint(0, 255):02X}" for _ in range(3))

    def guest_disk_bytes(self, guest: Guest) -> int:
        total = 0
        for key, value in guest.conf.items():
            if is_drive_key(key):
                drive = parse_drive(value)
                if drive.get("media") != "cdrom" and "size" in drive:
                    total += parse_size(drive["size"])
        return total

    @staticmethod
    def size_text(size: int) -> str:
        return format_size(size)

    def version(self) -> dict[str, str]:
        return dict(PVE_VERSION)
