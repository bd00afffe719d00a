"""The node's system services (``/nodes/{node}/services``), as a fresh 9.1 node reports them.

pve-manager ``PVE/API2/Services.pm``:

- ``index`` walks ``$service_name_list`` (sorted), keeps each unit ``systemctl show`` gives a
  ``Description`` for (``get_service_list``; a unit that is not installed still has one, its
  own unit name) and adds ``$service_state``: ``state`` is systemd's ``SubState``,
  ``unit-state`` ``UnitFileState`` (``not-found`` when ``LoadState`` is), ``active-state``
  ``ActiveState``.
- ``srvcmdidx`` (``{service}``): the fixed list of sub-commands, for any listed service.
- ``service_state`` (``{service}/state``): one row of the same shape.

The simulator runs no systemd, so each unit is in the state it has on a healthy node installed
from the 9.1 ISO; descriptions are the units' own ``Description=``:

- PVE's daemons (``pve-manager`` ``services/*.service``, ``pve-firewall``, ``pve-ha-manager``,
  ``pve-cluster``, ``qemu-server`` ``qmeventd``, ``pve-lxc-syscalld``, ``proxmox-firewall``
  ``debian/*.service``): enabled and running.
- ``corosync``: its unit has ``ConditionPathExists=/etc/corosync/corosync.conf``; on a node
  that never joined a cluster the condition fails and it stays ``dead``/``inactive``. The
  simulator's cluster has corosync once it has more than one node.
- ``postfix``: Debian's ``postfix.service`` is a ``oneshot`` with ``RemainAfterExit`` (the
  real daemon runs in ``postfix@-``), so ``exited``/``active``.
- ``syslog``: the ISO installs no syslog daemon (the journal keeps the log), and
  ``systemd-timesyncd`` is replaced by ``chrony``: both ``not-found``, ``dead``, ``inactive``,
  described by their unit name as ``systemctl show`` does for a unit it cannot load.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call, Handler

RUNNING = {"state": "running", "unit-state": "enabled", "active-state": "active"}
NOT_FOUND = {"state": "dead", "unit-state": "not-found", "active-state": "inactive"}

# Services.pm $service_name_list -> (unit Description, state on a fresh standalone node).
SERVICES: dict[str, tuple[str, dict[str, str]]] = {
    "chrony": ("chrony, an NTP client/server", RUNNING),
    "corosync": ("Corosync Cluster Engine", RUNNING),  # see standalone_corosync()
    "cron": ("Regular background program processing daemon", RUNNING),
    "ksmtuned": ("Kernel Samepage Merging (KSM) Tuning Daemon", RUNNING),
    "lxcfs": ("FUSE filesystem for LXC", RUNNING),
    "postfix": (
        "Postfix Mail Transport Agent",
        {"state": "exited", "unit-state": "enabled", "active-state": "active"},
    ),
    "proxmox-firewall": ("Proxmox nftables firewall", RUNNING),
    "pve-cluster": ("The Proxmox VE cluster filesystem", RUNNING),
    "pve-firewall": ("Proxmox VE firewall", RUNNING),
    "pve-ha-crm": ("PVE Cluster HA Resource Manager Daemon", RUNNING),
    "pve-ha-lrm": ("PVE Local HA Resource Manager Daemon", RUNNING),
    "pve-lxc-syscalld": ("Proxmox VE LXC Syscall Daemon", RUNNING),
    "pvedaemon": ("PVE API Daemon", RUNNING),
    "pvefw-logger": ("Proxmox VE firewall logger", RUNNING),
    "pveproxy": ("PVE API Proxy Server", RUNNING),
    "pvescheduler": ("Proxmox VE scheduler", RUNNING),
    "pvestatd": ("PVE Status Daemon", RUNNING),
    "qmeventd": ("PVE Qemu Event Daemon", RUNNING),
    "spiceproxy": ("PVE SPICE Proxy Server", RUNNING),
    "sshd": ("OpenBSD Secure Shell server", RUNNING),
    "syslog": ("syslog.service", NOT_FOUND),
    "systemd-journald": (
        "Journal Service",
        {"state": "running", "unit-state": "static", "active-state": "active"},
    ),
    "systemd-timesyncd": ("systemd-timesyncd.service", NOT_FOUND),
}
# corosync.service's failed ConditionPathExists on a node outside a cluster.
CONDITION_FAILED = {"state": "dead", "unit-state": "enabled", "active-state": "inactive"}
SUBCOMMANDS = ["state", "start", "stop", "restart", "reload"]


def service_row(service: str, clustered: bool) -> dict[str, Any]:
    """``{service, name, desc, state, unit-state, active-state}`` of one listed service."""
    desc, state = SERVICES[service]
    if service == "corosync" and not clustered:
        state = CONDITION_FAILED
    return {"service": service, "name": service, "desc": desc, **state}


def _clustered(call: Call) -> bool:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return len(cluster.nodes.names) > 1


def service_index(call: Call) -> list[dict[str, Any]]:
    clustered = _clustered(call)
    return [service_row(name, clustered) for name in sorted(SERVICES)]


def service_subdirs(call: Call) -> list[dict[str, str]]:
    _clustered(call)
    return [{"subdir": name} for name in SUBCOMMANDS]


def service_state(call: Call) -> dict[str, Any]:
    return service_row(call.params["service"], _clustered(call))


SERVICES_READS: dict[str, Handler] = {
    "/nodes/{node}/services": service_index,
    "/nodes/{node}/services/{service}": service_subdirs,
    "/nodes/{node}/services/{service}/state": service_state,
}
