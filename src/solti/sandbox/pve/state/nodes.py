"""The cluster's nodes: their names, the hostname check and the rows ``/nodes`` lists."""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.api_errors import PveError

PVE_VERSION = {"version": "9.1.4", "release": "9.1", "repoid": "5b2e3e3a2f0c4a1d"}


class Nodes:
    """``pve``, ``pve2``, ...: fixed for the simulator's life (a reset keeps them)."""

    def __init__(self, count: int = 1) -> None:
        self.names: list[str] = ["pve"] + [f"pve{i}" for i in range(2, count + 1)]

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

    @staticmethod
    def stats(node: str) -> dict[str, Any]:
        """A node as pve-manager ``PVE/API2Tools.pm`` ``extract_node_stats`` builds it (the
        ``/cluster/resources`` node row): RRD figures including ``disk``/``maxdisk``; every
        simulated node is online and reports to the RRD."""
        return {
            "id": f"node/{node}",
            "node": node,
            "type": "node",
            "status": "online",
            "uptime": 86400,
            "cpu": 0.02,
            "mem": 4 * 1024**3,
            "disk": 8 * 1024**3,
            "level": "",
            "maxcpu": 8,
            "maxmem": 32 * 1024**3,
            "maxdisk": 100 * 1024**3,
        }

    @classmethod
    def row(cls, node: str) -> dict[str, Any]:
        """One node as ``GET /nodes`` lists it (pve-manager ``PVE/API2/Nodes.pm`` ``index``:
        ``extract_node_stats`` plus the certificate's ``ssl_fingerprint``)."""
        return {**cls.stats(node), "ssl_fingerprint": "00:" * 31 + "00"}

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(n) for n in self.names]

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
