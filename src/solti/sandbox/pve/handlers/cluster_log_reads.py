"""``GET /cluster/log``: the cluster log a fresh cluster holds, which is its workers' log lines.

- pve-manager ``PVE/API2/Cluster.pm`` ``log``: ``PVE::Cluster::get_cluster_log($loguser,
  $max)``, where ``$loguser`` is '' for callers with ``Sys.Syslog`` on ``/`` and the caller
  otherwise; each entry gets ``id = "$uid:$node"``.
- pve-cluster ``src/pmxcfs/server.c`` (``CFS_IPC_GET_CLUSTER_LOG``): ``max`` 0 means 50;
  ``src/pmxcfs/logger.c`` ``clog_dump_json``: newest first, entries of other users skipped
  when a user is given, each ``{uid, time, pri, tag, pid, node, user, msg}``; ``uid`` counts
  the node's entries from 1 (``clog_pack``); the merged log orders by time, node, uid.
- What is logged (``PVE::Cluster::log_msg`` via ``RPCEnvironment::log_cluster_msg``): on a
  cluster with API-token clients only, the worker lines of pve-common
  ``src/PVE/RESTEnvironment.pm`` ``fork_worker`` ("starting task UPID", priority info) and
  ``$log_task_result`` ("end task UPID <status>", priority err when the worker failed). Token
  requests log no "successful auth" line (that is the ticket login's).

The simulator's tasks run in the API daemon that handles protected calls (``pvedaemon``);
the log's ``pid`` is that daemon worker's, which the simulator does not model apart from the
task's own, so each node gets one fixed daemon pid (``DAEMON_PID``).
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.tasks import status_type

DEFAULT_MAX = 50
PRI_INFO = 6
PRI_ERR = 3
TAG = "pvedaemon"
DAEMON_PID = 1234


def _events(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The log entries the tasks in ``rows`` wrote, oldest first, numbered per node."""
    events: list[tuple[int, int, int, dict[str, Any]]] = []
    for row in rows:
        user = f"{row['user']}!{row['tokenid']}" if row.get("tokenid") else row["user"]
        base = {"tag": TAG, "pid": DAEMON_PID, "node": row["node"], "user": user}
        start = {**base, "time": row["starttime"], "pri": PRI_INFO}
        events.append(
            (row["starttime"], 0, row["pid"], {**start, "msg": f"starting task {row['upid']}"})
        )
        if "endtime" in row:
            failed = status_type(row["status"]) == "error"
            end = {**base, "time": row["endtime"], "pri": PRI_ERR if failed else PRI_INFO}
            msg = f"end task {row['upid']} {row['status']}"
            events.append((row["endtime"], 1, row["pid"], {**end, "msg": msg}))
    events.sort(key=lambda e: e[:3])
    counters: dict[str, int] = {}
    out = []
    for *_, entry in events:
        counters[entry["node"]] = counters.get(entry["node"], 0) + 1
        out.append({"uid": counters[entry["node"]], **entry})
    return out


def cluster_log(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        admin = cluster.access.has("/", "Sys.Syslog")
        rows = cluster.tasks.cluster_list()
    entries = _events(rows)
    entries.sort(key=lambda e: (e["time"], e["node"], e["uid"]), reverse=True)
    if not admin:
        entries = [e for e in entries if e["user"] == call.user]
    limit = int(call.params.get("max") or DEFAULT_MAX)
    return [{**e, "id": f"{e['uid']}:{e['node']}"} for e in entries[:limit]]


CLUSTER_LOG_READS: dict[str, Handler] = {"/cluster/log": cluster_log}
