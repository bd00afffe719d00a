"""GET answers for features a fresh cluster has never configured: firewall, HA, SDN, realms.

The simulator writes none of these config files (``cluster.fw``, ``ha/*.cfg``, ``sdn/*.cfg``,
``domains.cfg``), so each answer is what the named handler returns when its file is absent:
an empty list, an options object carrying only the ``digest`` of nothing, or the defaults the
parser adds on its own. Grouped by the handler they follow.
"""

from __future__ import annotations

import hashlib
from typing import Any

from solti.sandbox.pve.handlers import Call, Handler

# sha1 over no input: the digest both pve-firewall ``copy_opject_with_digest`` (nothing fed to
# the Digest::SHA object) and pve-common ``SectionConfig::parse_config`` (``sha1_hex('')`` for a
# missing file) give when there is no configuration.
EMPTY_DIGEST = hashlib.sha1(b"").hexdigest()


def _node_list(call: Call) -> list[Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    return []


def _guest_list(call: Call) -> list[Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        cluster.guests.on(call.node, call.vmid)
    return []


def _cluster_list(call: Call) -> list[Any]:
    return []


# --- Firewall -----------------------------------------------------------------------------
# pve-firewall src/PVE/API2/Firewall/Cluster.pm (get_options, refs, ipset), Groups.pm
# (list_security_groups), Aliases.pm (get_aliases), Rules.pm (get_rules), Host.pm
# (get_options), VM.pm (get_options): with no cluster.fw / host.fw / <vmid>.fw the rule,
# alias, ipset and group lists are empty, and get_options returns
# ``copy_opject_with_digest($conf->{options})`` of an empty hash: only ``digest``.


def cluster_firewall_options(call: Call) -> dict[str, str]:
    return {"digest": EMPTY_DIGEST}


def node_firewall_options(call: Call) -> dict[str, str]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    return {"digest": EMPTY_DIGEST}


def guest_firewall_options(call: Call) -> dict[str, str]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        cluster.guests.on(call.node, call.vmid)
    return {"digest": EMPTY_DIGEST}


FIREWALL: dict[str, Handler] = {
    "/cluster/firewall/groups": _cluster_list,
    "/cluster/firewall/rules": _cluster_list,
    "/cluster/firewall/ipset": _cluster_list,
    "/cluster/firewall/aliases": _cluster_list,
    "/cluster/firewall/refs": _cluster_list,
    "/cluster/firewall/options": cluster_firewall_options,
    "/nodes/{node}/firewall/rules": _node_list,
    "/nodes/{node}/firewall/options": node_firewall_options,
    "/nodes/{node}/qemu/{vmid}/firewall/rules": _guest_list,
    "/nodes/{node}/qemu/{vmid}/firewall/aliases": _guest_list,
    "/nodes/{node}/qemu/{vmid}/firewall/ipset": _guest_list,
    "/nodes/{node}/qemu/{vmid}/firewall/refs": _guest_list,
    "/nodes/{node}/qemu/{vmid}/firewall/options": guest_firewall_options,
}

# --- High availability --------------------------------------------------------------------
# pve-ha-manager src/PVE/API2/HA/Resources.pm index and Rules.pm index: resources.cfg and
# rules.cfg have no sections. src/PVE/API2/HA/Status.pm ``status`` (current): always the
# ``quorum`` entry for the answering node; ``master``/``lrm`` entries only once a CRM has
# written manager_status, which never happens without HA resources. ``manager_status``:
# ``{manager_status => read_manager_status() (empty), quorum => {node, quorate}}``.


def _local_node(call: Call) -> str:
    with call.cluster() as cluster:
        return cluster.nodes.local()


def _quorate(call: Call) -> int:
    """``check_cfs_quorum(1)``: whether more than half the nodes are up."""
    with call.cluster() as cluster:
        return int(cluster.nodes.quorate())


def ha_status_current(call: Call) -> list[dict[str, Any]]:
    node, quorate = _local_node(call), _quorate(call)
    status = "OK" if quorate else f"No quorum on node '{node}'!"
    return [{"id": "quorum", "type": "quorum", "node": node, "status": status, "quorate": quorate}]


def ha_manager_status(call: Call) -> dict[str, Any]:
    return {"manager_status": {}, "quorum": {"node": _local_node(call), "quorate": _quorate(call)}}


HA: dict[str, Handler] = {
    "/cluster/ha/resources": _cluster_list,
    "/cluster/ha/rules": _cluster_list,
    "/cluster/ha/status/current": ha_status_current,
    "/cluster/ha/status/manager_status": ha_manager_status,
}

# --- SDN ----------------------------------------------------------------------------------
# pve-network src/PVE/API2/Network/SDN/{Vnets,Zones,Controllers,Dns}.pm index: no sections in
# sdn/*.cfg. Ipams.pm index over ``PVE::Network::SDN::Ipams::config()``, which always adds
# the internal ``pve`` IPAM ("add default internal pve"), for callers with SDN.Audit or
# SDN.Allocate on /sdn/ipams/pve; ``$api_sdn_ipams_config`` adds ``ipam`` and the digest.


def sdn_ipams(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        allowed = cluster.access.has("/sdn/ipams/pve", "SDN.Audit") or cluster.access.has(
            "/sdn/ipams/pve", "SDN.Allocate"
        )
    if not allowed or call.params.get("type") not in (None, "pve"):
        return []
    return [{"ipam": "pve", "type": "pve", "digest": EMPTY_DIGEST}]


SDN: dict[str, Handler] = {
    "/cluster/sdn/vnets": _cluster_list,
    "/cluster/sdn/zones": _cluster_list,
    "/cluster/sdn/controllers": _cluster_list,
    "/cluster/sdn/dns": _cluster_list,
    "/cluster/sdn/ipams": sdn_ipams,
}

# --- Access -------------------------------------------------------------------------------
# pve-access-control src/PVE/API2/Domains.pm index over domains.cfg, whose parser
# (src/PVE/Auth/Plugin.pm parse_config, "add default domains") always adds ``pve`` and
# ``pam`` with their built-in comments. src/PVE/API2/Group.pm index: a fresh user.cfg has no
# groups. pve-manager PVE/API2/Cluster/Jobs/RealmSync.pm syncjob_index: jobs.cfg has no
# realm-sync jobs.

DEFAULT_REALMS = [
    {"realm": "pam", "type": "pam", "comment": "Linux PAM standard authentication"},
    {"realm": "pve", "type": "pve", "comment": "Proxmox VE authentication server"},
]


def domains(call: Call) -> list[dict[str, str]]:
    return [dict(row) for row in DEFAULT_REALMS]


def users(call: Call) -> list[dict[str, Any]]:
    """pve-access-control src/PVE/API2/User.pm ``index``: user.cfg holds the installer's
    ``root@pam`` (enabled, no expiry) and the simulator's token; listed only for callers with
    User.Modify or Sys.Audit on /access/groups (a token is never the user itself). With
    ``full``, ``$extract_user_data`` adds the (empty) group list and the tokens."""
    with call.cluster() as cluster:
        visible = cluster.access.has("/access/groups", "User.Modify") or cluster.access.has(
            "/access/groups", "Sys.Audit"
        )
    if not visible or call.params.get("enabled") in (0, False, "0"):
        return []
    user, _, token = call.auth.token_id.partition("!")
    entry: dict[str, Any] = {"userid": user, "enable": 1, "expire": 0, "realm-type": "pam"}
    if call.params.get("full") in (1, True, "1"):
        entry["groups"] = ""
        # The token has its own ACL (the simulator's privileges), i.e. privilege separation.
        entry["tokens"] = [{"tokenid": token, "expire": 0, "privsep": 1}]
    return [entry]


ACCESS: dict[str, Handler] = {
    "/access/domains": domains,
    "/access/users": users,
    "/access/groups": _cluster_list,
    "/cluster/jobs/realm-sync": _cluster_list,
}

# --- Node time and ACME accounts ----------------------------------------------------------
# pve-manager PVE/API2/Nodes.pm ``time``: ``timezone`` from /etc/timezone, ``time`` now and
# ``localtime`` shifted by the zone's offset; the simulated nodes run on the simulator's clock
# in UTC, so both are the clock's time. PVE/API2/ACMEAccount.pm ``account_index``: one row per
# file in /etc/pve/priv/acme, none on a cluster that never registered an account.


def node_time(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    now = int(call.now())
    return {"timezone": "UTC", "time": now, "localtime": now}


NODE: dict[str, Handler] = {
    "/nodes/{node}/time": node_time,
    "/cluster/acme/account": _cluster_list,
}

UNCONFIGURED: dict[str, Handler] = {**FIREWALL, **HA, **SDN, **ACCESS, **NODE}
