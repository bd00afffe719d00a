"""Task status and log."""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call


def status(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.tasks.get(call.node, call.params["upid"]).as_status()


def log(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        task = cluster.tasks.get(call.node, call.params["upid"])
        start = int(call.params.get("start", 0))
        limit = int(call.params.get("limit", 50))
        return cluster.tasks.log_lines(task, start, limit)
