"""A VM's cloud-init state: the pending changes and the generated user/network/meta data.

- qemu-server ``src/PVE/API2/Qemu.pm`` ``cloudinit_pending``: one row per set option of
  ``$cloudinitoptions`` (``cicustom``, ``cipassword`` masked, ``citype``, ``ciuser``,
  ``ciupgrade``, ``nameserver``, ``searchdomain``, ``sshkeys``) with ``value``; a ``pending``
  value and deleted keys come from the config's ``[special:cloudinit]`` section, which records
  the values the drive was generated from. The simulator never generates a drive nor records
  that section, so every option reads as in sync (``value`` only), as after a regeneration.
- qemu-server ``src/PVE/API2/Qemu.pm`` ``cloudinit_generated_config_dump`` →
  ``src/PVE/QemuServer/Cloudinit.pm`` ``dump_cloudinit_config``: ``user`` is
  ``cloudinit_userdata`` (password masked without ``VM.Config.Cloudinit``); ``network`` is
  ``nocloud_network`` (or ``configdrive2_network`` when ``citype``/a Windows ``ostype`` says
  configdrive2); ``meta`` is the SHA1 of user + network data as the instance id, in the
  format's shape (``nocloud_gen_metadata``/``configdrive2_gen_metadata``). DNS falls back to
  the node's ``/etc/resolv.conf`` (``get_dns_conf``), as ``node_reads.dns`` answers it.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any
from urllib.parse import unquote

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.node_reads import DOMAIN, NAMESERVER
from solti.sandbox.pve.state.drives import parse_net, split_property_string

CLOUDINIT_OPTIONS = (
    "cicustom",
    "cipassword",
    "citype",
    "ciuser",
    "ciupgrade",
    "nameserver",
    "searchdomain",
    "sshkeys",
)
MASK = "**********"
# qemu-server QemuServer/Helpers.pm windows_version: the ostypes of Windows guests.
WINDOWS_OSTYPES = {"wxp", "w2k", "w2k3", "w2k8", "wvista", "win7", "win8", "win10", "win11"}


def _conf(call: Call) -> tuple[dict[str, str], bool]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        may_see = cluster.access.has(f"/vms/{call.vmid}", "VM.Config.Cloudinit")
        return dict(guest.conf), may_see


def cloudinit_pending(call: Call) -> list[dict[str, Any]]:
    conf, _ = _conf(call)
    rows = []
    for key in sorted(CLOUDINIT_OPTIONS):
        if conf.get(key):
            rows.append({"key": key, "value": MASK if key == "cipassword" else conf[key]})
    return rows


def cloudinit_format(conf: dict[str, str]) -> str:
    if conf.get("citype"):
        return conf["citype"]
    return "configdrive2" if conf.get("ostype") in WINDOWS_OSTYPES else "nocloud"


def hostname_fqdn(conf: dict[str, str], vmid: int) -> tuple[str, str]:
    hostname = conf.get("name", f"VM{vmid}")
    if "." in hostname:
        return hostname.split(".", 1)[0], hostname
    if conf.get("searchdomain"):
        return hostname, f"{hostname}.{conf['searchdomain']}"
    return hostname, hostname


def dns_conf(conf: dict[str, str]) -> tuple[list[str], list[str]]:
    search = (conf.get("searchdomain") or DOMAIN).split()
    servers = conf["nameserver"].split() if "nameserver" in conf else [NAMESERVER]
    return search, servers


def userdata(conf: dict[str, str], vmid: int, mask_password: bool) -> str:
    hostname, fqdn = hostname_fqdn(conf, vmid)
    lines = ["#cloud-config", f"hostname: {hostname}", "manage_etc_hosts: true", f"fqdn: {fqdn}"]
    user = conf.get("ciuser")
    if user is not None:
        lines.append(f"user: {user}")
        if user == "root":
            lines.append("disable_root: False")
    if "cipassword" in conf:
        lines.append(f"password: {MASK if mask_password else conf['cipassword']}")
    if "sshkeys" in conf:
        keys = [k.rstrip("\n") for k in unquote(conf["sshkeys"]).split("\n")]
        lines.append("ssh_authorized_keys:")
        lines += [f"  - {key}" for key in keys if key.strip()]
    lines += ["chpasswd:", "  expire: False"]
    if user != "root":
        lines += ["users:", "  - default"]
    if conf.get("ciupgrade", "1") not in ("0", ""):
        lines.append("package_upgrade: true")
    return "\n".join(lines) + "\n"


def _interfaces(conf: dict[str, str]) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """``(id, net, ipconfig)`` per ``netN`` with an ``ipconfigN``, in ``sort @ifaces`` order."""
    out = []
    for key in sorted(k for k in conf if k.startswith("net") and k[3:].isdigit()):
        ident = key[3:]
        if conf.get(f"ipconfig{ident}"):
            ipconfig = split_property_string(conf[f"ipconfig{ident}"], None)
            out.append((ident, parse_net(conf[key]), ipconfig))
    return out


def _split_ip4(cidr: str) -> tuple[str, str]:
    iface = ipaddress.ip_interface(cidr)
    return str(iface.ip), str(iface.network.netmask)


def nocloud_network(conf: dict[str, str]) -> str:
    out = "version: 1\nconfig:\n"
    i = "    "
    for ident, net, ipconfig in _interfaces(conf):
        mac = str(net.get("macaddr", "")).lower()
        out += f"{i}- type: physical\n{i}  name: eth{ident}\n{i}  mac_address: '{mac}'\n"
        out += f"{i}  subnets:\n"
        j = i + "  "
        ip = ipconfig.get("ip")
        if ip == "dhcp":
            out += f"{j}- type: dhcp4\n"
        elif ip:
            addr, mask = _split_ip4(ip)
            out += f"{j}- type: static\n{j}  address: '{addr}'\n{j}  netmask: '{mask}'\n"
            if ipconfig.get("gw"):
                out += f"{j}  gateway: '{ipconfig['gw']}'\n"
        ip6 = ipconfig.get("ip6")
        if ip6 == "dhcp":
            out += f"{j}- type: dhcp6\n"
        elif ip6 == "auto":
            out += f"{j}- type: ipv6_slaac\n"
        elif ip6:
            out += f"{j}- type: static6\n{j}  address: '{ip6}'\n"
            if ipconfig.get("gw6"):
                out += f"{j}  gateway: '{ipconfig['gw6']}'\n"
    search, servers = dns_conf(conf)
    out += f"{i}- type: nameserver\n"
    if servers:
        out += f"{i}  address:\n" + "".join(f"{i}  - '{s}'\n" for s in servers)
    if search:
        out += f"{i}  search:\n" + "".join(f"{i}  - '{s}'\n" for s in search)
    return out


def configdrive2_network(conf: dict[str, str]) -> str:
    out = "auto lo\niface lo inet loopback\n\n"
    search, servers = dns_conf(conf)
    pad = "        "
    if servers:
        out += f"{pad}dns_nameservers {' '.join(servers)}\n"
    if search:
        out += f"{pad}dns_search {' '.join(search)}\n"
    for ident, _net, ipconfig in _interfaces(conf):
        dev = f"eth{ident}"
        out += f"auto {dev}\n"
        ip = ipconfig.get("ip")
        if ip == "dhcp":
            out += f"iface {dev} inet dhcp\n"
        elif ip:
            addr, mask = _split_ip4(ip)
            out += f"iface {dev} inet static\n{pad}address {addr}\n{pad}netmask {mask}\n"
            if ipconfig.get("gw"):
                out += f"{pad}gateway {ipconfig['gw']}\n"
        ip6 = ipconfig.get("ip6")
        if ip6 in ("auto", "dhcp"):
            out += f"iface {dev} inet6 {ip6}\n"
        elif ip6:
            addr, _, mask = ip6.partition("/")
            out += f"iface {dev} inet6 static\n{pad}address {addr}\n{pad}netmask {mask}\n"
            if ipconfig.get("gw6"):
                out += f"{pad}gateway {ipconfig['gw6']}\n"
    return out


def metadata(conf: dict[str, str], vmid: int) -> str:
    nocloud = cloudinit_format(conf) == "nocloud"
    network = nocloud_network(conf) if nocloud else configdrive2_network(conf)
    uuid = hashlib.sha1((userdata(conf, vmid, False) + network).encode()).hexdigest()
    if nocloud:
        return f"instance-id: {uuid}\n"
    return (
        "{\n"
        f'     "uuid": "{uuid}",\n'
        '     "network_config": { "content_path": "/content/0000" }\n'
        "}\n"
    )


def cloudinit_dump(call: Call) -> str:
    conf, may_see = _conf(call)
    kind = call.params["type"]
    if kind == "user":
        return userdata(conf, call.vmid, not may_see)
    if kind == "network":
        if cloudinit_format(conf) == "nocloud":
            return nocloud_network(conf)
        return configdrive2_network(conf)
    return metadata(conf, call.vmid)


CLOUDINIT_READS: dict[str, Handler] = {
    "/nodes/{node}/qemu/{vmid}/cloudinit": cloudinit_pending,
    "/nodes/{node}/qemu/{vmid}/cloudinit/dump": cloudinit_dump,
}
