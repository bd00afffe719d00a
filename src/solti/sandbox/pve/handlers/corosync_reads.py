"""The cluster's ``corosync.conf`` as PVE wrote it, and the reads built on it.

With several nodes, ``corosync.conf`` is what pve-cluster ``src/PVE/Corosync.pm``
``create_conf`` wrote on the first node (``totem``: version 2, ``secauth on``, the cluster
name, ``ip_version ipv4-6``, ``link_mode passive``, link 0; ``quorum``: votequorum;
``logging``: syslog) plus one ``nodelist`` entry per joined node (``name``, ``nodeid``,
``quorum_votes``, ``ring0_addr``), ``config_version`` raised by each write
(``atomic_write_conf``): 1 at creation, one more per join. ``write_conf`` dumps it (sections
sorted by key, lists as repeated sections); ``parse_conf`` reads it back with string values
and the file's SHA1 as ``digest``. With one node there is no cluster and no file.

- ``src/PVE/API2/ClusterConfig.pm`` ``nodes``: ``hash_to_array`` of the node list
  (``[]`` without the file).
- ``totem``: the ``totem`` section (``null`` without the file, as PVE sends ``undef``).
- ``join_info``: HTTP 424 "node is not in a cluster, no join info available!" without the
  file; else the node list with each node's ``pve_fp`` (``get_node_fingerprint``, the
  ``ssl_fingerprint`` ``GET /nodes`` shows) and ``pve_addr``, ``preferred_node`` (the
  answering node, or ``node``), ``totem`` and ``config_digest``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler

CLUSTER_NAME = "solti-sim"  # as reads.cluster_status names it


def corosync_conf(names: list[str], address: Any) -> dict[str, Any] | None:
    """The parsed ``main`` section, or None without a cluster (one node)."""
    if len(names) == 1:
        return None
    return {
        "logging": {"debug": "off", "to_syslog": "yes"},
        "nodelist": {
            "node": {
                name: {
                    "name": name,
                    "nodeid": str(index),
                    "quorum_votes": "1",
                    "ring0_addr": address(name),
                }
                for index, name in enumerate(names, start=1)
            }
        },
        "quorum": {"provider": "corosync_votequorum"},
        "totem": {
            "cluster_name": CLUSTER_NAME,
            "config_version": str(len(names)),
            "interface": {"0": {"linknumber": "0"}},
            "ip_version": "ipv4-6",
            "link_mode": "passive",
            "secauth": "on",
            "version": "2",
        },
    }


def dump(section: dict[str, Any], prefix: str = "") -> str:
    """``write_conf``'s ``$dump_section``; ``node`` and ``interface`` hashes are lists."""
    raw = ""
    for key in sorted(section):
        value = section[key]
        if key in ("node", "interface"):
            for child_key in sorted(value):
                raw += f"{prefix}{key} {{\n{dump(value[child_key], prefix + '  ')}{prefix}}}\n"
        elif isinstance(value, dict):
            raw += f"{prefix}{key} {{\n{dump(value, prefix + '  ')}{prefix}}}\n"
            raw += "" if prefix else "\n"
        else:
            raw += f"{prefix}{key}: {value}\n"
    return raw


def _conf(call: Call) -> tuple[dict[str, Any] | None, str]:
    with call.cluster() as cluster:
        return corosync_conf(list(cluster.nodes.names), cluster.nodes.address), (
            cluster.nodes.local()
        )


def nodes(call: Call) -> list[dict[str, str]]:
    conf, _ = _conf(call)
    if conf is None:
        return []
    return [{"node": name, **entry} for name, entry in conf["nodelist"]["node"].items()]


def totem(call: Call) -> dict[str, Any] | None:
    conf, _ = _conf(call)
    return None if conf is None else conf["totem"]


def join_info(call: Call) -> dict[str, Any]:
    conf, local = _conf(call)
    if conf is None:
        raise PveError(424, "node is not in a cluster, no join info available!")
    wanted = call.params.get("node") or local
    members = conf["nodelist"]["node"]
    with call.cluster() as cluster:
        fingerprint = cluster.nodes.ssl_fingerprint
    if wanted not in members:
        raise PveError(500, f"unknown node '{wanted}'")
    nodelist = [
        {**entry, "pve_fp": fingerprint, "pve_addr": entry["ring0_addr"]}
        for entry in members.values()
    ]
    return {
        "nodelist": nodelist,
        "preferred_node": wanted,
        "totem": conf["totem"],
        "config_digest": hashlib.sha1(dump(conf).encode()).hexdigest(),
    }


COROSYNC_READS: dict[str, Handler] = {
    "/cluster/config/nodes": nodes,
    "/cluster/config/totem": totem,
    "/cluster/config/join": join_info,
}
