"""qemu endpoints: create, list, config, clone, template, resize, status, power, destroy."""

from __future__ import annotations

import ipaddress
from typing import Any

from solti.sandbox.pve.handlers import Call
from solti.sandbox.pve.handlers.create_checks import check_create, check_update
from solti.sandbox.pve.state.drives import parse_net, split_property_string
from solti.sandbox.pve.state.guests import LockTimeout
from solti.sandbox.pve.state.tasks import TaskError


def create(call: Call) -> str:
    """qemu-server ``API2/Qemu.pm`` ``create_vm``: ``check_cfs_quorum`` before anything, then
    the permission checks of its code (``create_checks.py``)."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        cluster.nodes.check_quorum()
        check_create(cluster, call.identity, call.params)  # ``create_vm``'s own checks
        return cluster.configs.create(call.node, call.params, call.user)


def vm_list(call: Call) -> list[dict[str, Any]]:
    """qemu-server ``API2/Qemu.pm`` ``vmlist``: ``vmstatus(undef, $full)``, leaving out the
    VMs the caller may not ``VM.Audit`` (no error: the list is shorter)."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        rows = cluster.guests.listed_on(call.node, full=bool(call.params.get("full")))
        return [r for r in rows if cluster.access.has(f"/vms/{r['vmid']}", "VM.Audit")]


def vm_index(call: Call) -> list[dict[str, str]]:
    with call.cluster() as cluster:
        cluster.guests.on(call.node, call.vmid)
    subdirs = ("config", "status", "clone", "template", "resize", "agent", "pending", "firewall")
    return [{"subdir": s} for s in subdirs]


def config_get(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.configs.read(call.node, call.vmid)


def config_put(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        check_update(cluster, call.identity, call.params)  # ``$update_vm_api``'s own checks
        cluster.configs.update(call.node, call.vmid, call.params)
    return None


def config_post(call: Call) -> str:
    """The async variant: same checks and change, reported through a ``qmconfig`` task."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        check_update(cluster, call.identity, call.params)  # ``$update_vm_api``'s own checks
        try:
            cluster.configs.update(call.node, call.vmid, call.params)
        except LockTimeout as timeout:
            # The worker takes the lock (``$update_vm_api`` forks first): a task error.
            message = timeout.message

            def fail() -> list[str]:
                raise TaskError(message)

            return cluster.tasks.start(call.node, "qmconfig", call.vmid, call.user, fail).upid
        return cluster.tasks.start(call.node, "qmconfig", call.vmid, call.user, None).upid


def clone(call: Call) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.lifecycle.clone(call.node, call.vmid, call.params, call.user)


def template(call: Call) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.lifecycle.make_template(call.node, call.vmid, call.user)


def resize(call: Call) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.lifecycle.resize(call.node, call.vmid, call.params, call.user)


def status_current(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.guests.status(call.node, call.vmid)


def _power(call: Call, action: str) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        if action == "start":  # ``vm_start`` runs ``check_cfs_quorum`` before it forks
            cluster.nodes.check_quorum()
        return cluster.power.act(call.node, call.vmid, action, call.params, call.user)


def start(call: Call) -> str:
    return _power(call, "start")


def stop(call: Call) -> str:
    return _power(call, "stop")


def shutdown(call: Call) -> str:
    return _power(call, "shutdown")


def destroy(call: Call) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.lifecycle.destroy(call.node, call.vmid, call.params, call.user)


def agent_interfaces(call: Call) -> dict[str, Any]:
    """The guest agent's view of the NICs, once it runs (``agent_available`` order of checks:
    agent configured, VM running, agent up ``agent_boot`` seconds after start).

    The address is the static ``ipconfig0`` one, else a stable fake DHCP lease per VMID.
    """
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        cluster.power.check_agent(guest)
        ipconfig = split_property_string(guest.conf.get("ipconfig0", "ip=dhcp"), None)
        ip = ipconfig.get("ip", "dhcp")
        if "/" in ip:
            iface = ipaddress.ip_interface(ip)
            address, prefix = str(iface.ip), iface.network.prefixlen
        else:
            address, prefix = f"10.0.{call.vmid // 250 % 250}.{call.vmid % 250 + 2}", 24
        mac = _mac_of(guest.conf.get("net0", ""))
    return {
        "result": [
            {
                "name": "lo",
                "hardware-address": "00:00:00:00:00:00",
                "ip-addresses": [
                    {"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8},
                    {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128},
                ],
            },
            {
                "name": "eth0",
                "hardware-address": mac,
                "ip-addresses": [
                    {"ip-address-type": "ipv4", "ip-address": address, "prefix": prefix},
                    {"ip-address-type": "ipv6", "ip-address": _link_local(mac), "prefix": 64},
                ],
            },
        ]
    }


def _mac_of(net: str) -> str:
    """The MAC of a ``net0`` value (``virtio=BC:24:11:..,bridge=vmbr0``), lower-case."""
    mac = parse_net(net).get("macaddr") if net else None
    return str(mac or "bc:24:11:00:00:01").lower()


def _link_local(mac: str) -> str:
    """The EUI-64 fe80:: address a guest derives from its MAC (what agents report)."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80, 0, 0, 0, 0, 0, 0, *eui])))
