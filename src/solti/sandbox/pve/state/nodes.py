"""The cluster's nodes: their names, the hostname check and the rows ``/nodes`` lists."""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.errors import PveError

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
    def row(node: str) -> dict[str, Any]:
        """One node as ``/nodes`` and ``/cluster/resources`` describe it (always online)."""
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

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(n) for n in self.names]

    @staticmethod
    def version() -> dict[str, str]:
        return dict(PVE_VERSION)
