"""The cluster's nodes: their names, the hostname check, which are up, and the rows
``/nodes`` lists.

A node that goes offline (powered off, crashed, cut off) stays a cluster member: PVE still
knows its address and its configs (``/etc/pve`` is replicated), but its pvestatd no longer
reports, so its RRD entries age out of pmxcfs's cache after five minutes (pve-cluster
``src/pmxcfs/status.c`` ``rrd_entry_is_old``: "remove everything older than 5 minutes").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from solti.sandbox.pve.api_errors import PveError

PVE_VERSION = {"version": "9.1.4", "release": "9.1", "repoid": "5b2e3e3a2f0c4a1d"}
GIB = 1024**3
DEFAULT_NODE_MEMORY = 32 * GIB
# What the host itself uses (kernel, pmxcfs, pveproxy...) before any VM runs.
BASE_NODE_MEMORY = 4 * GIB
# pmxcfs drops RRD entries not updated for this many seconds (``rrd_entry_is_old``).
RRD_EXPIRE = 300.0
# What pveproxy answers for a request proxied to a node that does not answer: AnyEvent::HTTP's
# status 595 ("errors during connection establishment") with the socket error as reason,
# passed through by pve-http-server ``PVE/APIServer/AnyEvent.pm`` ``proxy_request``.
PROXY_STATUS = 595
PROXY_REASON = "No route to host"


class Nodes:
    """``pve``, ``pve2``, ...: names fixed for the simulator's life (a reset keeps them), as
    are their total memories; which are offline changes at run time (``set_offline``)."""

    def __init__(self, count: int = 1, memory: Mapping[str, int] | None = None) -> None:
        self.names: list[str] = ["pve"] + [f"pve{i}" for i in range(2, count + 1)]
        unknown = sorted(set(memory or {}) - set(self.names))
        if unknown:
            raise ValueError(
                f"no node {', '.join(unknown)} in this cluster; nodes: {', '.join(self.names)}"
            )
        self.memory: dict[str, int] = {n: DEFAULT_NODE_MEMORY for n in self.names}
        self.memory.update(memory or {})
        # node -> simulator time it went offline
        self._offline_since: dict[str, float] = {}
        # The SHA-256 fingerprint of the node certificate (``GET /nodes``); the simulator sets
        # the one it serves HTTPS with, so a client may pin what it reads there.
        self.ssl_fingerprint = "00:" * 31 + "00"

    def check_exists(self, node: str) -> None:
        """pve-cluster ``PVE/Cluster.pm`` ``check_node_exists`` (clone's ``target``): only
        membership counts, an offline member passes."""
        if node not in self.names:
            raise PveError(500, f"no such cluster node '{node}'")

    # -- which nodes are up ---------------------------------------------------------------
    def set_offline(self, node: str, now: float) -> None:
        """``node`` stops answering; the last one up cannot go (nobody would answer then)."""
        self._require_known(node)
        if node in self._offline_since:
            return
        if len(self.online()) == 1:
            raise ValueError(f"node '{node}' is the last one online; at least one must answer")
        self._offline_since[node] = now

    def set_online(self, node: str) -> bool:
        """``node`` answers again; True if it was offline."""
        self._require_known(node)
        return self._offline_since.pop(node, None) is not None

    def all_online(self) -> list[str]:
        """Bring every node back; the names of those that were offline."""
        back = sorted(self._offline_since)
        self._offline_since.clear()
        return back

    def is_online(self, node: str) -> bool:
        return node not in self._offline_since

    def online(self) -> list[str]:
        return [n for n in self.names if n not in self._offline_since]

    def offline_since(self, node: str) -> float | None:
        return self._offline_since.get(node)

    def local(self) -> str:
        """The node answering the API: the first one online (as behind a name with one
        address per node, the client reaches a node that is up)."""
        return self.online()[0]

    def quorate(self) -> bool:
        """corosync's quorum with one vote per node: more than half of them online."""
        return 2 * len(self.online()) > len(self.names)

    def check_quorum(self) -> None:
        """pve-cluster ``PVE/Cluster.pm`` ``check_cfs_quorum``: /etc/pve is read-only without
        quorum, so operations that write a config refuse before they start."""
        if not self.quorate():
            raise PveError(500, "cluster not ready - no quorum?")

    def _require_known(self, node: str) -> None:
        if node not in self.names:
            raise ValueError(f"no node {node!r} in this cluster; nodes: {', '.join(self.names)}")

    def __contains__(self, node: object) -> bool:
        return node in self.names

    def require(self, node: str) -> None:
        """PVE's answer for a node that is not in the cluster (a failed hostname lookup)."""
        if node not in self.names:
            raise PveError(
                500,
                f"hostname lookup '{node}' failed - failed to get address info for: "
                f"{node}: Name or service not known",
            )

    def rrd_fresh(self, node: str, now: float) -> bool:
        """Whether pmxcfs still holds the node's (and its guests' and storages') RRD entries:
        always for a node that is up, for five minutes after one went offline."""
        since = self._offline_since.get(node)
        return since is None or now - since <= RRD_EXPIRE

    def stats(self, node: str, now: float = 0.0, vm_memory: int = 0) -> dict[str, Any]:
        """A node as pve-manager ``PVE/API2Tools.pm`` ``extract_node_stats`` builds it (the
        ``/cluster/resources`` node row): ``mem`` is the host's base use plus ``vm_memory``
        (the running VMs on it). An offline node is ``status: offline`` with only ``level``
        and the ``max*`` figures while its RRD entry lasts, then with nothing but its id."""
        row: dict[str, Any] = {"id": f"node/{node}", "node": node, "type": "node"}
        if self.is_online(node):
            row.update(
                status="online",
                uptime=86400,
                cpu=0.02,
                mem=BASE_NODE_MEMORY + vm_memory,
                disk=8 * GIB,
            )
        else:
            row["status"] = "offline"
        if self.rrd_fresh(node, now):
            row.update(level="", maxcpu=8, maxmem=self.memory[node], maxdisk=100 * GIB)
        return row

    def row(self, node: str, now: float = 0.0, vm_memory: int = 0) -> dict[str, Any]:
        """One node as ``GET /nodes`` lists it (pve-manager ``PVE/API2/Nodes.pm`` ``index``:
        ``extract_node_stats`` plus the certificate's ``ssl_fingerprint``, read from
        /etc/pve, so an offline node has one too)."""
        return {**self.stats(node, now, vm_memory), "ssl_fingerprint": self.ssl_fingerprint}

    def rows(self, now: float = 0.0, vm_memory: Mapping[str, int] | None = None) -> list[dict]:
        used = vm_memory or {}
        return [self.row(n, now, used.get(n, 0)) for n in self.names]

    def address(self, node: str) -> str:
        """The node's cluster address (its ``vmbr0`` address, ``state/network.py``)."""
        return f"192.168.100.{11 + self.names.index(node)}"

    @staticmethod
    def hardware() -> dict[str, Any]:
        """The simulated node's kernel and CPU (``/nodes/{node}/status``), PVE 9.1's kernel."""
        release = "6.17.2-1-pve"
        version = "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)"
        return {
            "kversion": f"Linux {release} {version}",
            "current-kernel": {
                "sysname": "Linux",
                "release": release,
                "version": version,
                "machine": "x86_64",
            },
            "cpuinfo": {
                "model": "QEMU Virtual CPU version 2.5+",
                "sockets": 1,
                "cores": 8,
                "cpus": 8,
                "mhz": "2400.000",
                "hvm": "1",
                "flags": "",
                "user_hz": 100,
            },
        }

    @staticmethod
    def version() -> dict[str, str]:
        return dict(PVE_VERSION)
