"""``GET /cluster/metrics/export``: pvestatd's metric cache, built from the simulator's figures.

- pve-manager ``PVE/API2/Cluster/MetricServer.pm`` ``export``: the answering node's metrics
  (unless ``node-list`` leaves it out), then, unless ``local-only`` without a ``node-list``,
  each other member's (``local-only=1`` on that node; offline members skipped; unknown names
  in ``node-list`` die "Requested node-list contains unknown nodes - a, b"); ``start-time``
  keeps only later timestamps; ``history`` asks for older generations (one per 10 s pvestatd
  cycle, ``(now - start-time) / 10`` of them, else ``max_generations`` = 181); sorted by
  timestamp; ``{data => [...]}``.
- ``PVE/PullMetric.pm`` ``get_node_metrics``, ``get_qemu_metrics``, ``get_storage_metrics``:
  which metric each figure of pvestatd's update becomes (``gauge``/``derive``), as listed in
  ``NODE_METRICS`` and ``qemu_metrics``; ``PVE/Service/pvestatd.pm`` ``update_node_status``,
  ``update_qemu_status``, ``update_storage_status`` give the figures (storage: every storage
  ``storage_info`` lists for the node).

The simulator keeps no history (as ``rrd_reads``): each generation carries the figures the
model has now, at the start of its 10 s cycle; counters it does not move (network, disk I/O,
I/O wait, swap) are 0, load averages are those ``/nodes/{node}/status`` reports.
"""

from __future__ import annotations

import re
from typing import Any

from solti.sandbox.pve.api_errors import server_error
from solti.sandbox.pve.handlers import Call, Handler

CYCLE = 10
MAX_GENERATIONS = 181
LOADAVG = (0.08, 0.05, 0.01)


def _metric(kind: str, metric_id: str, timestamp: int, name: str, value: float) -> dict:
    return {"metric": name, "id": metric_id, "value": value, "timestamp": timestamp, "type": kind}


def node_metrics(node: str, stats: dict[str, Any], ts: int) -> list[dict[str, Any]]:
    node_id = f"node/{node}"
    gauges = [
        ("cpu_avg1", LOADAVG[0]),
        ("cpu_avg5", LOADAVG[1]),
        ("cpu_avg15", LOADAVG[2]),
        ("cpu_max", stats["maxcpu"]),
        ("cpu_current", stats["cpu"]),
        ("cpu_iowait", 0),
        ("mem_total", stats["maxmem"]),
        ("mem_used", stats["mem"]),
        ("swap_total", 0),
        ("swap_used", 0),
        ("disk_total", stats["maxdisk"]),
        ("disk_used", stats["disk"]),
    ]
    out = [_metric("gauge", node_id, ts, "uptime", stats["uptime"])]
    out += [_metric("derive", node_id, ts, name, 0) for name in ("net_in", "net_out")]
    out += [_metric("gauge", node_id, ts, name, value) for name, value in gauges]
    return out


def qemu_metrics(summary: dict[str, Any], ts: int) -> list[dict[str, Any]]:
    vm_id = f"qemu/{summary['vmid']}"
    out = []
    if summary["status"] == "running":
        out += [_metric("gauge", vm_id, ts, "cpu_current", summary["cpu"])]
        out += [_metric("gauge", vm_id, ts, "mem_used", summary["mem"])]
        for name, key in (("disk_read", "diskread"), ("disk_write", "diskwrite")):
            out.append(_metric("derive", vm_id, ts, name, summary[key]))
        for name, key in (("net_in", "netin"), ("net_out", "netout")):
            out.append(_metric("derive", vm_id, ts, name, summary[key]))
    for name, key in (("uptime", "uptime"), ("cpu_max", "cpus")):
        out.append(_metric("gauge", vm_id, ts, name, summary[key]))
    for name, key in (("mem_total", "maxmem"), ("disk_total", "maxdisk")):
        out.append(_metric("gauge", vm_id, ts, name, summary[key]))
    return out


def _local_metrics(cluster: Any, node: str, stamps: list[int]) -> list[dict[str, Any]]:
    stats = cluster.nodes.stats(node, cluster.now, cluster.node_memory_used().get(node, 0))
    on_node = [cluster.guests[vmid] for vmid in sorted(cluster.guests)]
    guests = [cluster.guests.summary(g) for g in on_node if g.node == node]
    storages = [row for row in cluster.storages.status(node, {}) if row["enabled"]]
    out: list[dict[str, Any]] = []
    for ts in stamps:
        out += node_metrics(node, stats, ts)
        for summary in guests:
            out += qemu_metrics(summary, ts)
        for row in storages:
            storage_id = f"storage/{node}/{row['storage']}"
            out.append(_metric("gauge", storage_id, ts, "disk_total", row["total"]))
            out.append(_metric("gauge", storage_id, ts, "disk_used", row["used"]))
    return out


def _truthy(value: Any) -> bool:
    return value in (1, True, "1")


def metrics_export(call: Call) -> dict[str, list[dict[str, Any]]]:
    params = call.params
    start = params.get("start-time")
    with call.cluster() as cluster:
        now = int(cluster.now)
        generations = 0
        if _truthy(params.get("history")):
            generations = (now - int(start)) // CYCLE if start is not None else MAX_GENERATIONS
        last = now - now % CYCLE
        count = min(max(generations, 1), MAX_GENERATIONS)
        stamps = [last - CYCLE * i for i in range(count)]
        local = cluster.nodes.local()
        listed = [n for n in re.split(r"[,;\s]+", params.get("node-list") or "") if n]
        nodes = [local] if not listed or local in listed else []
        if not _truthy(params.get("local-only")) or listed:
            members = cluster.nodes.names
            unknown = [n for n in listed if n not in members]
            if unknown:
                raise server_error(
                    f"Requested node-list contains unknown nodes - {', '.join(unknown)}"
                )
            others = listed or members
            nodes += [n for n in others if n != local and cluster.nodes.is_online(n)]
        metrics = [m for node in nodes for m in _local_metrics(cluster, node, stamps)]
    if start is not None:
        metrics = [m for m in metrics if m["timestamp"] > int(start)]
    return {"data": sorted(metrics, key=lambda m: m["timestamp"])}


PULL_METRICS_READS: dict[str, Handler] = {"/cluster/metrics/export": metrics_export}
