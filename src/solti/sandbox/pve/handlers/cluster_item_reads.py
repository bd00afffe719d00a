"""GET of one configured object under /cluster, on a cluster that configured none of them.

The simulator writes none of the files these handlers read (``replication.cfg``,
``status.cfg``, ``cluster.fw``, ``vzdump.cron``/``jobs.cfg``, ``ha/*.cfg``, ``mapping/*.cfg``),
so every id is unknown and each path answers the error its handler dies with, status and
message as the Perl has them (``die "...\\n"``: 500; ``raise_param_exc``: 400 with the
per-parameter map). The handler of each is named beside it; the checks before the lookup
(a sid's VMID shortcut, the ceph install check) are kept in their order. Each method's
``permissions`` (mostly ``Sys.Audit`` on ``/``) are checked before the handler runs, as for
every GET (``api_permissions``).
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import param_error, server_error
from solti.sandbox.pve.handlers import Call, Handler

# --- Replication and metric servers (pve-manager) -----------------------------------------


def replication_job(call: Call) -> NoReturn:
    """``PVE/API2/ReplicationConfig.pm`` ``read``: the job is looked up before any
    permission check, ``die "no such replication job '$id'\\n"``."""
    raise server_error(f"no such replication job '{call.params['id']}'")


def metric_server(call: Call) -> NoReturn:
    """``PVE/API2/Cluster/MetricServer.pm`` ``read``: status.cfg has no entry."""
    raise server_error(f"status server entry '{call.params['id']}' does not exist")


# --- Backup jobs (pve-manager PVE/API2/Backup.pm) ----------------------------------------


def backup_job(call: Call) -> NoReturn:
    """``read_job`` and ``get_volume_backup_included``: neither vzdump.cron nor jobs.cfg has
    the job, ``raise_param_exc({ id => "No such job '$id'" })``."""
    raise param_error({"id": f"No such job '{call.params['id']}'"})


# --- Firewall (pve-firewall src/PVE/API2/Firewall/*.pm) -------------------------------------


def security_group(call: Call) -> NoReturn:
    """``Rules.pm`` ``PVE::API2::Firewall::GroupRules::load_config`` (both ``get_rules`` of
    ``groups/{group}`` and ``get_rule`` of ``groups/{group}/{pos}``): cluster.fw has no
    groups, ``die "no such security group '$group'\\n"``."""
    raise server_error(f"no such security group '{call.params['group']}'")


def cluster_rule(call: Call) -> NoReturn:
    """``Rules.pm`` ``register_get_rule`` for the cluster: the rule list is empty, so any
    position dies "no rule at position $pos\\n"."""
    raise server_error(f"no rule at position {call.params['pos']}")


def cluster_ipset(call: Call) -> NoReturn:
    """``IPSet.pm`` ``PVE::API2::Firewall::ClusterIPset::load_config`` (``get_ipset`` and
    ``read_ip``): ``die "no such IPSet '$name'\\n"`` before the cidr is looked at."""
    raise server_error(f"no such IPSet '{call.params['name']}'")


def cluster_alias(call: Call) -> NoReturn:
    """``Aliases.pm`` ``read_alias``: ``raise_param_exc({ name => "no such alias" })``."""
    raise param_error({"name": "no such alias"})


# --- High availability (pve-ha-manager src/PVE/API2/HA/*.pm) -------------------------------


def ha_resource(call: Call) -> NoReturn:
    """``Resources.pm`` ``read``: ``PVE::HA::Config::parse_sid`` first (a bare VMID becomes
    ``vm:<id>`` when the guest exists, else "unable to detect SID from VMID - VM/CT N does not
    exist"; other text without ``type:name`` "unable to parse service id"), then
    ``$api_copy_config`` dies "no such resource '$sid'" (resources.cfg is empty)."""
    sid = call.params["sid"]
    if re.fullmatch(r"\d+", sid):
        with call.cluster() as cluster:
            exists = int(sid) in cluster.guests
        if not exists:
            raise server_error(f"unable to detect SID from VMID - VM/CT {sid} does not exist")
        sid = f"vm:{sid}"
    elif not re.fullmatch(r"(\S+):(\S+)", sid):
        raise server_error(f"unable to parse service id '{sid}'")
    raise server_error(f"no such resource '{sid}'")


def ha_group(call: Call) -> NoReturn:
    """``Groups.pm`` ``read``: a fresh 9.x cluster has no groups, so
    ``have_groups_been_migrated`` holds and it dies before the lookup."""
    raise server_error("cannot read group: ha groups have been migrated to rules")


def ha_rule(call: Call) -> NoReturn:
    """``Rules.pm`` ``read_rule`` -> ``$get_api_ha_rule``: rules.cfg has no sections."""
    raise server_error(f"no such ha rule '{call.params['rule']}'")


# --- Jobs and mappings ---------------------------------------------------------------------


def realm_sync_job(call: Call) -> NoReturn:
    """pve-access-control ``src/PVE/API2/Jobs/RealmSync.pm`` ``read_job``: jobs.cfg has no
    realm-sync job, ``raise_param_exc({ id => "No such job '$id'" })``."""
    raise param_error({"id": f"No such job '{call.params['id']}'"})


def _mapping_reader(kind: str) -> Handler:
    def mapping(call: Call) -> NoReturn:
        """pve-manager ``PVE/API2/Cluster/Mapping/{Dir,PCI,USB}.pm`` ``get``: the mapping
        config has no entry, ``die "mapping '$id' not found\\n"``."""
        raise server_error(f"mapping '{call.params['id']}' not found")

    return mapping


# --- Ceph item indexes (pve-manager PVE/API2/Ceph/{OSD,Pool}.pm) ----------------------------


def _node_index(names: list[str]) -> Handler:
    rows = [{"name": name} for name in names]

    def index(call: Call) -> list[dict[str, Any]]:
        with call.cluster() as cluster:
            cluster.nodes.require(call.node)
        return [dict(row) for row in rows]

    return index


# ``osdindex`` and ``poolindex`` return their fixed child list without any Ceph check (the
# children, ``absent_features``, are where "binary not installed" comes from).
osd_index = _node_index(["metadata", "lv-info"])
pool_index = _node_index(["status"])


CLUSTER_ITEM_READS: dict[str, Handler] = {
    "/cluster/replication/{id}": replication_job,
    "/cluster/metrics/server/{id}": metric_server,
    "/cluster/backup/{id}": backup_job,
    "/cluster/backup/{id}/included_volumes": backup_job,
    "/cluster/firewall/groups/{group}": security_group,
    "/cluster/firewall/groups/{group}/{pos}": security_group,
    "/cluster/firewall/rules/{pos}": cluster_rule,
    "/cluster/firewall/ipset/{name}": cluster_ipset,
    "/cluster/firewall/ipset/{name}/{cidr}": cluster_ipset,
    "/cluster/firewall/aliases/{name}": cluster_alias,
    "/cluster/ha/resources/{sid}": ha_resource,
    "/cluster/ha/groups/{group}": ha_group,
    "/cluster/ha/rules/{rule}": ha_rule,
    "/cluster/jobs/realm-sync/{id}": realm_sync_job,
    **{f"/cluster/mapping/{kind}/{{id}}": _mapping_reader(kind) for kind in ("dir", "pci", "usb")},
    "/nodes/{node}/ceph/osd/{osdid}": osd_index,
    "/nodes/{node}/ceph/pool/{name}": pool_index,
}
