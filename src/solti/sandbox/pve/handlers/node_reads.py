"""Node facts and the built-in roles, read as real PVE answers them.

Each answer is built from the simulator's model (its nodes, their cluster addresses, the
running VMs' network devices) in the shape of the handler named beside it:

- pve-manager ``PVE/API2/Nodes.pm`` ``dns``: ``PVE::INotify::read_file('resolvconf')``, the
  ``search`` domain and ``dns1``..``dns3`` of ``/etc/resolv.conf``.
- pve-manager ``PVE/API2/Nodes.pm`` ``get_etc_hosts``: ``/etc/hosts`` as ``data`` with the
  file's SHA1 ``digest`` (what a ``POST`` must send back to change it).
- pve-manager ``PVE/API2/Nodes.pm`` ``netstat``: one row per ``tap<VMID>i<N>`` device in
  ``/proc/net/dev``, i.e. per network device of a running VM, with the counters swapped
  (``in`` is what the host transmitted to the guest). The values are the regex captures of
  ``PVE::ProcFSTools::read_proc_net_dev``, so JSON strings, as real PVE sends them. The
  simulator moves no packets: the counters are "0".
- pve-access-control ``src/PVE/AccessControl.pm`` ``create_roles`` (``$privgroups``,
  ``$special_roles``) and ``src/PVE/API2/Role.pm`` ``index``/``read_role``: the built-in
  roles a fresh 9.1 cluster lists, all ``special``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler

__all__ = ["NODE_READS", "builtin_roles"]

DOMAIN = "solti-sim.lan"
NAMESERVER = "192.168.100.1"  # the simulated LAN's router (state/network.py's gateway)

# pve-access-control src/PVE/AccessControl.pm $privgroups (9.1.1): category -> (root, admin,
# user, audit) privileges.
PRIVGROUPS: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "VM": (
        [],
        ["VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network",
         "VM.Config.HWType", "VM.Config.Options", "VM.Allocate", "VM.Clone",
         "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.Replicate", "VM.Snapshot",
         "VM.Snapshot.Rollback"],
        ["VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.Backup",
         "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite",
         "VM.PowerMgmt"],
        ["VM.Audit", "VM.GuestAgent.Audit"],
    ),
    "Sys": (
        ["Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork"],
        ["Sys.Console", "Sys.Syslog"],
        [],
        ["Sys.Audit"],
    ),
    "Datastore": (
        [],
        ["Datastore.Allocate", "Datastore.AllocateTemplate"],
        ["Datastore.AllocateSpace"],
        ["Datastore.Audit"],
    ),
    "SDN": ([], ["SDN.Allocate", "SDN.Audit"], ["SDN.Use"], ["SDN.Audit"]),
    "User": (["Realm.Allocate"], ["User.Modify", "Group.Allocate", "Realm.AllocateUser"], [], []),
    "Pool": ([], ["Pool.Allocate"], ["Pool.Audit"], ["Pool.Audit"]),
    "Mapping": ([], ["Mapping.Modify"], ["Mapping.Use"], ["Mapping.Audit"]),
}  # fmt: skip


def builtin_roles() -> dict[str, set[str]]:
    """``create_roles``: per category an Admin role (admin + user + audit privileges) and,
    when it has user privileges, a User role (user + audit); PVEAdmin and PVEAuditor across
    categories; PVEAdmin without Mapping.Modify; Administrator holds every privilege
    (``Permissions.Modify`` included); NoAccess none; PVETemplateUser VM.Clone and VM.Audit."""
    valid = {"Permissions.Modify"}
    roles: dict[str, set[str]] = {"NoAccess": set(), "PVEAdmin": set(), "PVEAuditor": set()}
    for category, (root, admin, user, audit) in PRIVGROUPS.items():
        valid.update(root, admin, user, audit)
        roles.setdefault(f"PVE{category}Admin", set()).update(admin, user, audit)
        roles["PVEAdmin"].update(admin, user, audit)
        if user:
            roles.setdefault(f"PVE{category}User", set()).update(user, audit)
        roles["PVEAuditor"].update(audit)
    roles["PVEAdmin"].discard("Mapping.Modify")
    roles["PVETemplateUser"] = {"VM.Clone", "VM.Audit"}
    roles["Administrator"] = valid
    return roles


def role_index(call: Call) -> list[dict[str, Any]]:
    return [
        {"roleid": name, "privs": ",".join(sorted(privs)), "special": 1}
        for name, privs in sorted(builtin_roles().items())
    ]


def read_role(call: Call) -> dict[str, Any]:
    """``read_role``: the role's privileges as ``{priv: 1}``; an unknown role dies."""
    role = call.params["roleid"]
    privs = builtin_roles().get(role)
    if privs is None:
        raise PveError(500, f"role '{role}' does not exist\n")
    return dict.fromkeys(sorted(privs), 1)


def dns(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    return {"search": DOMAIN, "dns1": NAMESERVER}


def hosts_file(names: list[str], address: Any) -> str:
    """``/etc/hosts`` of a node installed from the PVE ISO, with every cluster member."""
    lines = ["127.0.0.1 localhost.localdomain localhost"]
    lines += [f"{address(n)} {n}.{DOMAIN} {n}" for n in names]
    lines += [
        "",
        "# The following lines are desirable for IPv6 capable hosts",
        "",
        "::1     ip6-localhost ip6-loopback",
        "fe00::0 ip6-localnet",
        "ff00::0 ip6-mcastprefix",
        "ff02::1 ip6-allnodes",
        "ff02::2 ip6-allrouters",
        "ff02::3 ip6-allhosts",
    ]
    return "\n".join(lines) + "\n"


def hosts(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        data = hosts_file(cluster.nodes.names, cluster.nodes.address)
    return {"data": data, "digest": hashlib.sha1(data.encode()).hexdigest()}


_NET = re.compile(r"^net(\d+)$")


def netstat(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        rows = []
        for vmid in sorted(cluster.guests):
            guest = cluster.guests[vmid]
            if guest.node != call.node or not guest.running:
                continue
            for key in sorted(guest.conf, key=lambda k: (len(k), k)):
                found = _NET.match(key)
                if found:
                    rows.append({"vmid": str(vmid), "dev": key, "in": "0", "out": "0"})
    return rows


NODE_READS: dict[str, Handler] = {
    "/access/roles": role_index,
    "/access/roles/{roleid}": read_role,
    "/nodes/{node}/dns": dns,
    "/nodes/{node}/hosts": hosts,
    "/nodes/{node}/netstat": netstat,
}
