"""The whole simulated cluster: the parts, composed, each owning the state it changes.

``Nodes`` (fixed), ``Tasks``, ``Storages`` (storages and volumes), ``Guests`` (VM records,
VMIDs, held locks), ``Network`` (interfaces) and ``Access`` (the token's ACL) own state; the
operations (``Configs``, ``Lifecycle``, ``Power``, ``Downloads``, the ``Seeder``) own none and
are handed the parts they use. Every part reads the time from the cluster, which the HTTP
layer moves forward (``advance``) before each call, under ``mutex``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from solti.sandbox.pve.state.access import Access
from solti.sandbox.pve.state.configs import Configs
from solti.sandbox.pve.state.downloads import Downloads
from solti.sandbox.pve.state.guest_snapshots import Snapshots
from solti.sandbox.pve.state.guests import Guests
from solti.sandbox.pve.state.lifecycle import Lifecycle
from solti.sandbox.pve.state.network import Network
from solti.sandbox.pve.state.nodes import Nodes
from solti.sandbox.pve.state.power import Power
from solti.sandbox.pve.state.records import Guest, Volume
from solti.sandbox.pve.state.seed import Seeder
from solti.sandbox.pve.state.storages import Storages
from solti.sandbox.pve.state.tasks import DefaultPolicy, TaskPolicy, Tasks

# pvestatd refreshes the RRD cache /cluster/resources reads name/template/status from every
# ~10 s; until then a new VM is listed bare (pve-semantics.md section 10).
RRD_LAG = 10.0


class Cluster:
    """The cluster model; ``reset()`` rebuilds its state in place (same object, same lock)."""

    tasks: Tasks
    storages: Storages
    guests: Guests
    network: Network
    access: Access
    configs: Configs
    lifecycle: Lifecycle
    power: Power
    downloads: Downloads
    snapshots: Snapshots

    def __init__(
        self,
        nodes: int = 1,
        shared_storage: bool = False,
        policy: TaskPolicy | None = None,
        node_memory: Mapping[str, int] | None = None,
        storage_nodes: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.mutex = threading.RLock()
        self.policy: TaskPolicy = policy or DefaultPolicy()
        self.nodes = Nodes(nodes, node_memory)
        self.now = 0.0
        self._shared_storage = shared_storage
        # storage.cfg ``nodes`` options the cluster starts with (and a reset goes back to).
        self._storage_nodes = {k: list(v) for k, v in (storage_nodes or {}).items()}
        # The CA and node certificate (PEM) the simulator serves HTTPS with, when it does.
        self.certificate_pems: tuple[bytes, bytes] | None = None
        self._build()

    def _time(self) -> float:
        return self.now

    def _build(self) -> None:
        """A fresh empty cluster: every part new, wired to the parts it needs."""
        now = self._time
        # State knob: seconds a new VM stays unknown to the RRD cache; 0 turns the lag off.
        self.rrd_lag = RRD_LAG
        self.tasks = Tasks(now, self.policy)
        self.storages = Storages(now, self._shared_storage)
        for storage_id, allowed in self._storage_nodes.items():
            self.restrict_storage(storage_id, allowed)
        self.guests = Guests(now)
        self.network = Network(self.nodes)
        self.access = Access()
        self.configs = Configs(now, self.guests, self.storages, self.tasks, self.access)
        self.lifecycle = Lifecycle(self.nodes, self.guests, self.storages, self.tasks, self.access)
        self.power = Power(now, self.guests, self.tasks, self.policy, self.storages)
        self.downloads = Downloads(self.storages, self.tasks)
        self.snapshots = Snapshots(now, self.guests, self.storages, self.tasks)
        self._seeder = Seeder(now, self.guests, self.storages)

    def reset(self) -> None:
        """Back to the initial empty cluster; the time, lock and fault policy stay."""
        with self.mutex:
            self._build()

    def advance(self, now: float) -> None:
        """Bring the model up to ``now``: finish due tasks, release expired held locks."""
        self.now = now
        self.tasks.due(now)
        self.guests.release_expired_locks()

    # -- nodes going down and coming back -------------------------------------------------
    def node_offline(self, node: str) -> None:
        """``node`` stops answering (powered off): its VMs and configs stay where they are."""
        self.nodes.set_offline(node, self.now)

    def node_online(self, node: str) -> None:
        """``node`` is back, as after a reboot: VMs that ran on it are stopped, except those
        with ``onboot: 1``, which pve-guests starts at boot (pve-manager
        ``PVE/API2/Nodes.pm`` ``startall``)."""
        if self.nodes.set_online(node):
            self._boot(node)

    def all_nodes_online(self) -> None:
        for node in self.nodes.all_online():
            self._boot(node)

    def _boot(self, node: str) -> None:
        for vmid in list(self.guests):
            guest = self.guests[vmid]
            if guest.node != node or not guest.running:
                continue
            if guest.conf.get("onboot") == "1":
                guest.started_at = self.now
            else:
                guest.running = False

    def node_memory_used(self) -> dict[str, int]:
        """Per node, what its running VMs take (``Nodes.stats`` adds the host's base)."""
        return self.guests.running_memory()

    # -- cluster-wide views ---------------------------------------------------------------
    def resources(self, kind: str | None) -> list[dict[str, Any]]:
        """``/cluster/resources``: VMs, storages, nodes; new VMs bare until the RRD catches up.

        pve-manager ``PVE/API2/Cluster.pm`` ``resources``: guests without ``VM.Audit`` and
        storages without ``Datastore.Audit`` are left out; a storage has a row for each node it
        is enabled on (``storage_check_enabled``); rows of an offline node's guests, storages
        and itself keep their last RRD figures for five minutes, then lose them
        (``extract_vm_stats``, ``extract_storage_stats``, ``extract_node_stats``).
        """
        rows: list[dict[str, Any]] = []
        gone = frozenset(n for n in self.nodes.names if not self.nodes.rrd_fresh(n, self.now))
        if kind in (None, "vm"):
            rows += [
                row
                for row in self.guests.resources(self.rrd_lag, gone)
                if self.access.has(f"/vms/{row['vmid']}", "VM.Audit")
            ]
        if kind in (None, "storage"):
            for node in self.nodes.names:
                for status in self.storages.status(node, {}):
                    if not status["enabled"]:
                        continue
                    if not self.access.has(f"/storage/{status['storage']}", "Datastore.Audit"):
                        continue
                    row = {
                        "id": f"storage/{node}/{status['storage']}",
                        "type": "storage",
                        "storage": status["storage"],
                        "node": node,
                        "status": "unknown",
                        "plugintype": status["type"],
                        "content": status["content"],
                        "shared": status["shared"],
                    }
                    if node not in gone:
                        row.update(status="available", disk=status["used"], maxdisk=status["total"])
                    rows.append(row)
        if kind in (None, "node"):
            used = self.node_memory_used()
            rows += [
                self.nodes.stats(node, self.now, used.get(node, 0)) for node in self.nodes.names
            ]
        return rows

    def node_rows(self) -> list[dict[str, Any]]:
        """``GET /nodes``: every member, offline ones included."""
        return self.nodes.rows(self.now, self.node_memory_used())

    def options(self) -> dict[str, Any]:
        """``/cluster/options`` (only what the simulator keeps: ``next-id``)."""
        return self.guests.options()

    # -- seed helpers and knobs for tests (direct writes under the lock, no API, no task) --
    def add_vm(self, vmid: int, name: str | None = None, **kw: Any) -> Guest:
        """A VM as ``qm create`` + import + cloud-init would leave it (see ``Seeder.add_vm``)."""
        with self.mutex:
            return self._seeder.add_vm(vmid, name, **kw)

    def add_template(self, vmid: int, name: str | None = None, **kw: Any) -> Guest:
        with self.mutex:
            return self._seeder.add_template(vmid, name, **kw)

    def add_import_image(
        self, filename: str, data: bytes, *, storage: str = "local", node: str = "pve"
    ) -> Volume:
        """A file as download-url would have left it (``local:import/<filename>``)."""
        with self.mutex:
            return self._seeder.add_import_image(filename, data, storage=storage, node=node)

    def vm_config(self, vmid: int) -> dict[str, str]:
        """The stored config of a VM (a copy), for assertions."""
        with self.mutex:
            return dict(self.guests[vmid].conf)

    def set_token_privileges(self, path: str, privileges: dict[str, int]) -> None:
        """Replace the token's privileges on ``path`` (``0`` = does not propagate)."""
        with self.mutex:
            self.access.set_token_privileges(path, privileges)

    def revoke_token_privileges(self, path: str, *names: str) -> None:
        """Take ``names`` away from what the token has on ``path``; the rest stays."""
        with self.mutex:
            self.access.revoke_token_privileges(path, *names)

    def set_next_id(self, lower: int = 100, upper: int = 1000000) -> None:
        with self.mutex:
            self.guests.set_next_id(lower, upper)

    def add_bridge(self, node: str, iface: str, ports: str = "") -> None:
        """Another Linux bridge on ``node``."""
        with self.mutex:
            self.network.add_bridge(node, iface, ports)

    def remove_interface(self, node: str, iface: str) -> None:
        """Drop ``iface`` from ``node`` (e.g. a node without ``vmbr0``)."""
        with self.mutex:
            self.network.remove_interface(node, iface)

    def restrict_storage(self, storage_id: str, nodes: list[str] | None) -> None:
        """storage.cfg ``nodes`` for ``storage_id``: enabled on these nodes only (None: all)."""
        with self.mutex:
            for node in nodes or []:
                if node not in self.nodes:
                    raise ValueError(
                        f"no node {node!r} in this cluster; nodes: {', '.join(self.nodes.names)}"
                    )
            self.storages.restrict(storage_id, nodes)

    def hold_lock(self, vmid: int, lock: str, seconds: float, only_if_free: bool = False) -> None:
        """The ``hold_lock`` fault: ``vmid`` locked as by a long operation for ``seconds``
        (``only_if_free``: not when it is locked already, as ``check_lock`` refuses it)."""
        with self.mutex:
            self.guests.hold_lock(vmid, lock, seconds, only_if_free)
