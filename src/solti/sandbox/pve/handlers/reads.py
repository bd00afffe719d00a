"""GET paths outside the product's own use: what monitoring, inventory and discovery clients read.

Read-only clients walk much more of the API than the product does; an answer here is either
built from the model (tasks, guests, nodes) or the value real PVE gives for a cluster without
that feature, each taken from the handler named beside it. Directory indexes list the children
the schema registers below them (the ``{subdir}``/``{name}`` rows each index handler returns).
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from solti.sandbox.pve import path_catalog
from solti.sandbox.pve.handlers import Call, Handler, inventory_routes
from solti.sandbox.pve.handlers.absent_features import ABSENT_FEATURES
from solti.sandbox.pve.handlers.access_reads import ACCESS_READS
from solti.sandbox.pve.handlers.acme_reads import ACME_READS
from solti.sandbox.pve.handlers.agent_reads import AGENT_READS
from solti.sandbox.pve.handlers.apt_reads import APT_READS
from solti.sandbox.pve.handlers.builtin_reads import BUILTIN_READS
from solti.sandbox.pve.handlers.certificate_reads import CERTIFICATE_READS
from solti.sandbox.pve.handlers.cloudinit_reads import CLOUDINIT_READS
from solti.sandbox.pve.handlers.cluster_item_reads import CLUSTER_ITEM_READS
from solti.sandbox.pve.handlers.cluster_log_reads import CLUSTER_LOG_READS
from solti.sandbox.pve.handlers.console_socket_reads import CONSOLE_SOCKET_READS
from solti.sandbox.pve.handlers.corosync_reads import COROSYNC_READS
from solti.sandbox.pve.handlers.cpu_models import CPU_READS
from solti.sandbox.pve.handlers.feature_reads import FEATURE_READS
from solti.sandbox.pve.handlers.fresh_node import FRESH_NODE_READS
from solti.sandbox.pve.handlers.graph_reads import GRAPH_READS
from solti.sandbox.pve.handlers.guest_agent_file_reads import GUEST_AGENT_FILE_READS
from solti.sandbox.pve.handlers.guest_firewall_reads import GUEST_FIREWALL_READS
from solti.sandbox.pve.handlers.host_disk_reads import HOST_DISK_READS
from solti.sandbox.pve.handlers.lxc_absent_reads import LXC_ABSENT_READS
from solti.sandbox.pve.handlers.machine_type_reads import MACHINE_TYPE_READS
from solti.sandbox.pve.handlers.migrate_reads import MIGRATE_READS
from solti.sandbox.pve.handlers.node_item_reads import NODE_ITEM_READS
from solti.sandbox.pve.handlers.node_log_reads import NODE_LOG_READS
from solti.sandbox.pve.handlers.node_reads import NODE_READS
from solti.sandbox.pve.handlers.notification_reads import NOTIFICATION_READS
from solti.sandbox.pve.handlers.pull_metrics_reads import PULL_METRICS_READS
from solti.sandbox.pve.handlers.qemu_capability_reads import QEMU_CAPABILITY_READS
from solti.sandbox.pve.handlers.remote_scan_reads import REMOTE_SCAN_READS
from solti.sandbox.pve.handlers.rrd_reads import RRD_READS
from solti.sandbox.pve.handlers.schedule_reads import SCHEDULE_READS
from solti.sandbox.pve.handlers.sdn_dry_run_reads import SDN_DRY_RUN_READS
from solti.sandbox.pve.handlers.sdn_reads import SDN_READS
from solti.sandbox.pve.handlers.services_reads import SERVICES_READS
from solti.sandbox.pve.handlers.storage_item_reads import STORAGE_ITEM_READS
from solti.sandbox.pve.handlers.unconfigured import UNCONFIGURED
from solti.sandbox.pve.handlers.vzdump_reads import VZDUMP_READS

# The guest agent's version, as QGA ``guest-info`` reports it: the agent runs inside the guest,
# so it is the guest distribution's package, not the host's QEMU (``state/qemu_host.py``,
# 10.1.2). The simulated guest is a Debian 13 (trixie) cloud image (``agent_reads.OSINFO``),
# whose qemu-guest-agent is trixie's qemu 1:10.0.2+ds: QEMU_VERSION 10.0.2.
QGA_VERSION = "10.0.2"
QGA_COMMANDS = ["guest-info", "guest-ping", "guest-network-get-interfaces"]
# ... and the reads ``agent_reads`` answers (the ``guest-`` commands behind each path).
QGA_COMMANDS += [
    "guest-get-host-name", "guest-get-osinfo", "guest-get-time", "guest-get-timezone",
    "guest-get-users", "guest-get-vcpus", "guest-get-memory-blocks",
    "guest-get-memory-block-info",
]  # fmt: skip
CLUSTER_NAME = "solti-sim"
SUBSCRIPTION_URL = "https://www.proxmox.com/en/proxmox-virtual-environment/pricing"


def directory(template: str) -> Handler:
    """An index handler: one row per registered child, keyed as its ``links`` href says."""
    links = path_catalog.returns("GET", template).get("links") or [{"href": "{name}"}]
    key = links[0]["href"].strip("{}")
    rows = [{key: child} for child in path_catalog.children(template)]

    def index(call: Call) -> list[dict[str, str]]:
        if "node" in call.params:
            with call.cluster() as cluster:
                cluster.nodes.require(call.node)
        return [dict(row) for row in rows]

    return index


def cluster_status(call: Call) -> list[dict[str, Any]]:
    """pve-manager ``PVE/API2/Cluster.pm`` ``get_status``: with one node there is no cluster
    (no corosync members) and it answers the fake local entry (``nodeid`` 0); with more, a
    ``cluster`` entry (``quorate`` while more than half the nodes are up) then one entry per
    member: ``online`` from corosync's membership, ``local`` for the answering node."""
    with call.cluster() as cluster:
        names = cluster.nodes.names
        local = cluster.nodes.local()
        if len(names) == 1:
            node = names[0]
            return [
                {
                    "type": "node",
                    "id": f"node/{node}",
                    "name": node,
                    "ip": cluster.nodes.address(node),
                    "local": 1,
                    "nodeid": 0,
                    "online": 1,
                    "level": "",
                }
            ]
        rows: list[dict[str, Any]] = [
            {
                "type": "cluster",
                "id": "cluster",
                "nodes": len(names),
                "version": len(names),
                "name": CLUSTER_NAME,
                "quorate": int(cluster.nodes.quorate()),
            }
        ]
        for index, node in enumerate(names, start=1):
            rows.append(
                {
                    "type": "node",
                    "id": f"node/{node}",
                    "name": node,
                    "nodeid": index,
                    "local": int(node == local),
                    "online": int(cluster.nodes.is_online(node)),
                    "ip": cluster.nodes.address(node),
                    "level": "",
                }
            )
        return rows


def not_backed_up(call: Call) -> list[dict[str, Any]]:
    """pve-manager ``PVE/API2/Cluster/BackupInfo.pm`` ``get_guests_not_in_backup``: the
    simulator has no backup jobs, so every guest the token may ``VM.Audit`` (templates too)."""
    with call.cluster() as cluster:
        rows = []
        for vmid in sorted(cluster.guests):
            if not cluster.access.has(f"/vms/{vmid}", "VM.Audit"):
                continue
            row: dict[str, Any] = {"vmid": vmid, "type": "qemu"}
            if "name" in cluster.guests[vmid].conf:
                row["name"] = cluster.guests[vmid].conf["name"]
            rows.append(row)
        return rows


def qdevice(call: Call) -> dict[str, Any]:
    """pve-cluster ``PVE/API2/ClusterConfig.pm`` ``status`` (``config/qdevice``): ``{}`` when
    no corosync-qdevice socket exists, as on a cluster without a QDevice."""
    return {}


def node_empty_list(call: Call) -> list[Any]:
    """No objects of this kind on the node (see ``NODE_EMPTY`` for the handler of each)."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    return []


def cluster_empty_list(call: Call) -> list[Any]:
    """No objects of this kind configured (see ``CLUSTER_EMPTY`` for the handler of each)."""
    return []


def subscription(call: Call) -> dict[str, Any]:
    """pve-manager ``PVE/API2/Subscription.pm`` ``get`` without a key: ``notfound``, and the
    server ID only for callers with ``Sys.Audit`` on the node."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        answer = {
            "status": "notfound",
            "message": "There is no subscription key",
            "url": SUBSCRIPTION_URL,
        }
        if cluster.access.has(f"/nodes/{call.node}", "Sys.Audit"):
            answer["serverid"] = hashlib.md5(call.node.encode()).hexdigest().upper()
        return answer


def agent_info(call: Call) -> dict[str, Any]:
    """qemu-server ``PVE/API2/Qemu/Agent.pm`` ``register_command('info')``: the config must
    exist, ``assert_agent_available`` must pass, then ``{result: <guest-info>}``."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        cluster.power.check_agent(guest)
    commands = [{"name": name, "enabled": True, "success-response": True} for name in QGA_COMMANDS]
    return {"result": {"version": QGA_VERSION, "supported_commands": commands}}


def node_tasks(call: Call) -> list[dict[str, Any]]:
    """pve-manager ``PVE/API2/Tasks.pm`` ``node_tasks`` (see ``Tasks.node_list``)."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        auditor = cluster.access.has(f"/nodes/{call.node}", "Sys.Audit")
        return cluster.tasks.node_list(call.node, call.params, call.user, auditor)


def node_version(call: Call) -> dict[str, str]:
    """pve-manager ``PVE/API2/Nodes.pm`` ``version``: ``pvecfg::version_info``, as ``/version``."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.nodes.version()


# pve-manager PVE/API2/ACMEAccount.pm get_directories: the fixed $acme_directories list.
ACME_DIRECTORIES = [
    {"name": "Let's Encrypt V2", "url": "https://acme-v02.api.letsencrypt.org/directory"},
    {
        "name": "Let's Encrypt V2 Staging",
        "url": "https://acme-staging-v02.api.letsencrypt.org/directory",
    },
]
# pve-cluster src/PVE/API2/ClusterConfig.pm (config/apiversion): Setup.pm JOIN_API_VERSION.
JOIN_API_VERSION = 1


def acme_directories(call: Call) -> list[dict[str, str]]:
    return [dict(row) for row in ACME_DIRECTORIES]


def join_api_version(call: Call) -> int:
    return JOIN_API_VERSION


# Node lists that are empty on a node without the feature, by handler read:
NODE_EMPTY = {
    # pve-container src/PVE/API2/LXC.pm vmlist: PVE::LXC::vmstatus() has no containers.
    "/nodes/{node}/lxc",
    # pve-manager PVE/API2/Replication.pm status: ReplicationState::job_status has no jobs.
    "/nodes/{node}/replication",
}
# Cluster lists read from config files the simulator never writes (no entries = []):
CLUSTER_EMPTY = {
    # pve-manager PVE/API2/ReplicationConfig.pm index: replication.cfg ids.
    "/cluster/replication",
    # pve-manager PVE/API2/Cluster/MetricServer.pm server_index: status.cfg ids.
    "/cluster/metrics/server",
    # pve-manager PVE/API2/Backup.pm index: vzdump.cron jobs plus jobs.cfg vzdump jobs.
    "/cluster/backup",
    # pve-manager PVE/API2/Cluster/Mapping/{PCI,USB,Dir}.pm index: mapping config ids.
    "/cluster/mapping/pci",
    "/cluster/mapping/usb",
    "/cluster/mapping/dir",
    # pve-manager PVE/API2/Pool.pm index without poolid: user.cfg pools.
    "/pools",
}

READS: dict[str, Handler] = {
    "/cluster/status": cluster_status,
    "/cluster/backup-info/not-backed-up": not_backed_up,
    "/cluster/config/qdevice": qdevice,
    "/cluster/config/apiversion": join_api_version,
    "/cluster/acme/directories": acme_directories,
    "/nodes/{node}/subscription": subscription,
    "/nodes/{node}/qemu/{vmid}/agent/info": agent_info,
    "/nodes/{node}/tasks": node_tasks,
    "/nodes/{node}/version": node_version,
    "/nodes/{node}/status": inventory_routes.node_status,
    "/nodes/{node}/storage/{storage}/status": inventory_routes.storage_status,
    "/nodes/{node}/qemu/{vmid}/pending": inventory_routes.vm_pending,
    "/storage": inventory_routes.storage_config_rows,
    "/storage/{storage}": inventory_routes.storage_config,
    "/cluster/tasks": inventory_routes.cluster_tasks,
    **dict.fromkeys(NODE_EMPTY, node_empty_list),
    **dict.fromkeys(CLUSTER_EMPTY, cluster_empty_list),
    **UNCONFIGURED,
    **NODE_READS,
    **RRD_READS,
    **AGENT_READS,
    **BUILTIN_READS,
    **CLOUDINIT_READS,
    **FEATURE_READS,
    **CPU_READS,
    **MIGRATE_READS,
    **ABSENT_FEATURES,
    **FRESH_NODE_READS,
    **COROSYNC_READS,
    **CLUSTER_ITEM_READS,
    **NOTIFICATION_READS,
    **ACME_READS,
    **CLUSTER_LOG_READS,
    **PULL_METRICS_READS,
    **SCHEDULE_READS,
    **ACCESS_READS,
    **SDN_READS,
    **LXC_ABSENT_READS,
    **GUEST_FIREWALL_READS,
    **CONSOLE_SOCKET_READS,
    **GUEST_AGENT_FILE_READS,
    **STORAGE_ITEM_READS,
    **VZDUMP_READS,
    **GRAPH_READS,
    **QEMU_CAPABILITY_READS,
    **SERVICES_READS,
    **HOST_DISK_READS,
    **REMOTE_SCAN_READS,
    **NODE_ITEM_READS,
    **CERTIFICATE_READS,
    **APT_READS,
    **NODE_LOG_READS,
    **MACHINE_TYPE_READS,
    **SDN_DRY_RUN_READS,
}

# Path parameters whose values the simulator models; an index under any other id (an LXC
# container, a Ceph OSD, a firewall group) is not routed: real PVE would look the id up first.
MODELLED_IDS = {"node", "vmid", "storage", "upid"}


@cache
def _directories() -> dict[str, Handler]:
    out: dict[str, Handler] = {}
    for template in path_catalog.get_paths():
        names = path_catalog.children(template)
        ids = {part.strip("{}") for part in template.split("/") if part.startswith("{")}
        if not names or any(name.startswith("{") for name in names):
            continue
        if not path_catalog.returns("GET", template).get("links") or not ids <= MODELLED_IDS:
            continue
        if "/lxc/" in template:
            continue
        out[template] = directory(template)
    return out


def read_handler(template: str) -> Handler | None:
    """The handler answering GET ``template`` outside ``routes.ROUTES``, if any. Its
    ``permissions`` (none: root@pam only) are checked before it runs, for every GET alike, by
    ``http.py`` through ``api_permissions.check_api2_permissions``."""
    return READS.get(template) or _directories().get(template)
