"""Guest agent reads of a running VM, as qemu-server passes them through from QGA.

qemu-server ``src/PVE/API2/Qemu/Agent.pm``: ``$guest_agent_commands`` registers one GET per
read-only command (``get-host-name``, ``get-osinfo``, ``get-time``, ``get-timezone``,
``get-users``, ``get-vcpus``, ``get-memory-blocks``, ``get-memory-block-info``), and
``register_command`` answers ``{result => <QGA's answer>}`` once
``PVE::QemuServer::Agent::assert_agent_available`` passed (the same checks, in the same order,
as ``network-get-interfaces``: ``Power.check_agent``).

The answers are QGA's (qemu ``qga/qapi-schema.json``), for the guest the simulator runs: a
Debian 13 (trixie) cloud image (the agent version ``reads.QGA_VERSION`` comes from), whose
hostname cloud-init set to the VM's ``name``, in UTC, nobody logged in (``get-users`` lists
logged-in sessions only), one vCPU per configured core and 128 MiB memory blocks (x86_64's
``/sys/devices/system/memory/block_size_bytes``) covering the VM's memory.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.guests import max_memory

MEMORY_BLOCK = 128 * 1024 * 1024
# /etc/os-release and uname of the Debian 13 genericcloud image.
OSINFO = {
    "id": "debian",
    "name": "Debian GNU/Linux",
    "pretty-name": "Debian GNU/Linux 13 (trixie)",
    "version": "13 (trixie)",
    "version-id": "13",
    "kernel-release": "6.12.48+deb13-cloud-amd64",
    "kernel-version": "#1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20)",
    "machine": "x86_64",
}


def _guest_facts(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        cluster.power.check_agent(guest)
        cpus = int(guest.conf.get("cores", "1")) * int(guest.conf.get("sockets", "1"))
        if guest.conf.get("vcpus"):
            cpus = int(guest.conf["vcpus"])
        return {
            "name": guest.conf.get("name", f"VM{call.vmid}"),
            "cpus": cpus,
            "memory": max_memory(guest),
            "now": cluster.now,
        }


def host_name(call: Call) -> dict[str, Any]:
    return {"result": {"host-name": _guest_facts(call)["name"]}}


def osinfo(call: Call) -> dict[str, Any]:
    _guest_facts(call)
    return {"result": dict(OSINFO)}


def guest_time(call: Call) -> dict[str, Any]:
    """``guest-get-time``: nanoseconds since the epoch, by the guest's clock."""
    return {"result": int(_guest_facts(call)["now"] * 1_000_000_000)}


def timezone(call: Call) -> dict[str, Any]:
    _guest_facts(call)
    return {"result": {"zone": "UTC", "offset": 0}}


def users(call: Call) -> dict[str, Any]:
    _guest_facts(call)
    return {"result": []}


def vcpus(call: Call) -> dict[str, Any]:
    """``guest-get-vcpus``: the boot CPU cannot be taken offline, the others can."""
    count = _guest_facts(call)["cpus"]
    return {
        "result": [{"logical-id": i, "online": True, "can-offline": i != 0} for i in range(count)]
    }


def memory_blocks(call: Call) -> dict[str, Any]:
    count = _guest_facts(call)["memory"] // MEMORY_BLOCK
    return {
        "result": [{"phys-index": i, "online": True, "can-offline": i != 0} for i in range(count)]
    }


def memory_block_info(call: Call) -> dict[str, Any]:
    _guest_facts(call)
    return {"result": {"size": MEMORY_BLOCK}}


AGENT = "/nodes/{node}/qemu/{vmid}/agent"
AGENT_READS: dict[str, Handler] = {
    f"{AGENT}/get-host-name": host_name,
    f"{AGENT}/get-osinfo": osinfo,
    f"{AGENT}/get-time": guest_time,
    f"{AGENT}/get-timezone": timezone,
    f"{AGENT}/get-users": users,
    f"{AGENT}/get-vcpus": vcpus,
    f"{AGENT}/get-memory-blocks": memory_blocks,
    f"{AGENT}/get-memory-block-info": memory_block_info,
}
