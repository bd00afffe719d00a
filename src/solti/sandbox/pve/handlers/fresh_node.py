"""GET answers of a fresh 9.1 node for features nobody has set up yet, read from each handler.

- pve-network ``src/PVE/API2/Network/SDN/Fabrics.pm`` ``list_all`` and
  ``Fabrics/Fabric.pm``/``Fabrics/Node.pm`` indexes: ``sdn/fabrics.cfg`` has no fabrics or
  nodes (``{fabrics: [], nodes: []}``, ``[]``, ``[]``). ``Nodes/Zones.pm`` ``index``: one row
  per zone of ``PVE::Network::SDN::Zones::status``, none without zones.
- pve-manager ``PVE/API2/ACMEPlugin.pm`` ``index`` over ``load_config``, whose parser
  (proxmox-acme ``PVE/ACME/Challenge.pm`` ``parse_config``) always adds the ``standalone``
  plugin; ``$modify_cfg_for_api`` adds ``plugin`` and the digest of the (empty) file.
- pve-manager ``PVE/API2/NodeConfig.pm`` ``get_config`` → ``PVE/NodeConfig.pm``
  ``load_config``: ``{}`` while ``/etc/pve/nodes/<node>/config`` does not exist.
- pve-firewall ``src/PVE/API2/Firewall/Host.pm`` and ``VM.pm`` ``log`` →
  ``PVE/Firewall/Helpers.pm`` ``dump_fw_logfile`` → pve-common ``PVE/Tools.pm``
  ``dump_logfile``: ``pvefw-logger`` keeps ``/var/log/pve-firewall.log`` open, empty while no
  rule logs, and an empty result becomes the single line ``{n: 1, t: "no content"}``.
- pve-firewall ``src/PVE/API2/Firewall/Cluster.pm`` ``get_macros``: every built-in macro of
  ``PVE/Firewall.pm`` (``$pve_fw_macros``, then the IPv6-only ``$pve_ipv6fw_macros``) with its
  description (``init_firewall_macros``), or its name when it has none.
- pve-storage ``src/PVE/API2/Disks/ZFS.pm`` ``index`` (``zpool list``), ``Disks/Directory.pm``
  ``index`` (``mnt-pve-*.mount`` units) and ``API2/Storage/Scan.pm`` ``zfsscan``: an LVM
  install has no ZFS pool and no directory storage made from a disk.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.unconfigured import EMPTY_DIGEST

NO_CONTENT = [{"n": 1, "t": "no content"}]
# PVE/Firewall.pm: macro -> description.
FIREWALL_MACROS = {
    "Amanda": "Amanda Backup",
    "Auth": "Auth (identd) traffic",
    "BGP": "Border Gateway Protocol traffic",
    "BitTorrent": "BitTorrent traffic for BitTorrent 3.1 and earlier",
    "BitTorrent32": "BitTorrent traffic for BitTorrent 3.2 and later",
    "CVS": "Concurrent Versions System pserver traffic",
    "Ceph": "Ceph Storage Cluster traffic (Ceph Monitors, OSD & MDS Daemons)",
    "Citrix": "Citrix/ICA traffic (ICA, ICA Browser, CGP)",
    "DAAP": "Digital Audio Access Protocol traffic (iTunes, Rythmbox daemons)",
    "DCC": "Distributed Checksum Clearinghouse spam filtering mechanism",
    "DHCPfwd": "Forwarded DHCP traffic",
    "DHCPv6": "DHCPv6 traffic",
    "DNS": "Domain Name System traffic (upd and tcp)",
    "Distcc": "Distributed Compiler service",
    "FTP": "File Transfer Protocol",
    "Finger": "Finger protocol (RFC 742)",
    "GNUnet": "GNUnet secure peer-to-peer networking traffic",
    "GRE": "Generic Routing Encapsulation tunneling protocol",
    "Git": "Git distributed revision control traffic",
    "HKP": "OpenPGP HTTP key server protocol traffic",
    "HTTP": "Hypertext Transfer Protocol (WWW)",
    "HTTPS": "Hypertext Transfer Protocol (WWW) over SSL",
    "ICPV2": "Internet Cache Protocol V2 (Squid) traffic",
    "ICQ": "AOL Instant Messenger traffic",
    "IMAP": "Internet Message Access Protocol",
    "IMAPS": "Internet Message Access Protocol over SSL",
    "IPIP": "IPIP capsulation traffic",
    "IPsec": "IPsec traffic",
    "IPsecah": "IPsec authentication (AH) traffic",
    "IPsecnat": "IPsec traffic and Nat-Traversal",
    "IRC": "Internet Relay Chat traffic",
    "Jetdirect": "HP Jetdirect printing",
    "L2TP": "Layer 2 Tunneling Protocol traffic",
    "LDAP": "Lightweight Directory Access Protocol traffic",
    "LDAPS": "Secure Lightweight Directory Access Protocol traffic",
    "MDNS": "Multicast DNS",
    "MSNP": "Microsoft Notification Protocol",
    "MSSQL": "Microsoft SQL Server",
    "Mail": "Mail traffic (SMTP, SMTPS, Submission)",
    "Munin": "Munin networked resource monitoring traffic",
    "MySQL": "MySQL server",
    "NNTP": "NNTP traffic (Usenet).",
    "NNTPS": "Encrypted NNTP traffic (Usenet)",
    "NTP": "Network Time Protocol (ntpd)",
    "NeighborDiscovery": "IPv6 neighbor solicitation, neighbor and router advertisement",
    "OSPF": "OSPF multicast traffic",
    "OpenVPN": "OpenVPN traffic",
    "PCA": "Symantec PCAnywere (tm)",
    "PMG": "Proxmox Mail Gateway web interface",
    "POP3": "POP3 traffic",
    "POP3S": "Encrypted POP3 traffic",
    "PPtP": "Point-to-Point Tunneling Protocol",
    "Ping": "ICMP echo request",
    "PostgreSQL": "PostgreSQL server",
    "Printer": "Line Printer protocol printing",
    "RDP": "Microsoft Remote Desktop Protocol traffic",
    "RIP": "Routing Information Protocol (bidirectional)",
    "RNDC": "BIND remote management protocol",
    "Razor": "Razor Antispam System",
    "Rdate": "Remote time retrieval (rdate)",
    "Rsync": "Rsync server",
    "SANE": "SANE network scanning",
    "SMB": "Microsoft SMB traffic",
    "SMBswat": "Samba Web Administration Tool",
    "SMTP": "Simple Mail Transfer Protocol",
    "SMTPS": "Encrypted Simple Mail Transfer Protocol",
    "SNMP": "Simple Network Management Protocol",
    "SPAMD": "Spam Assassin SPAMD traffic",
    "SPICEproxy": "Proxmox VE SPICE display proxy traffic",
    "SSH": "Secure shell traffic",
    "SVN": "Subversion server (svnserve)",
    "SixXS": "SixXS IPv6 Deployment and Tunnel Broker",
    "Squid": "Squid web proxy traffic",
    "Submission": "Mail message submission traffic",
    "Syslog": "Syslog protocol (RFC 5424) traffic",
    "TFTP": "Trivial File Transfer Protocol traffic",
    "Telnet": "Telnet traffic",
    "Telnets": "Telnet over SSL",
    "Time": "RFC 868 Time protocol",
    "Trcrt": "Traceroute (for up to 30 hops) traffic",
    "VNC": "VNC traffic for VNC display's 0 - 99",
    "VNCL": "VNC traffic from Vncservers to Vncviewers in listen mode",
    "Web": "WWW traffic (HTTP and HTTPS)",
    "Webcache": "Web Cache/Proxy traffic (port 8080)",
    "Webmin": "Webmin traffic",
    "Whois": "Whois (nicname, RFC 3912) traffic",
}


def _on_node(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        if "vmid" in call.params:
            cluster.guests.on(call.node, call.vmid)


def node_list(call: Call) -> list[Any]:
    _on_node(call)
    return []


def cluster_list(call: Call) -> list[Any]:
    return []


def fabrics_all(call: Call) -> dict[str, list[Any]]:
    return {"fabrics": [], "nodes": []}


def acme_plugins(call: Call) -> list[dict[str, str]]:
    if call.params.get("type") not in (None, "standalone"):
        return []
    return [{"plugin": "standalone", "type": "standalone", "digest": EMPTY_DIGEST}]


def node_config(call: Call) -> dict[str, Any]:
    _on_node(call)
    return {}


def firewall_log(call: Call) -> list[dict[str, Any]]:
    _on_node(call)
    return [dict(line) for line in NO_CONTENT]


def firewall_macros(call: Call) -> list[dict[str, str]]:
    return [{"macro": name, "descr": descr} for name, descr in FIREWALL_MACROS.items()]


FRESH_NODE_READS: dict[str, Handler] = {
    "/cluster/sdn/fabrics/all": fabrics_all,
    "/cluster/sdn/fabrics/fabric": cluster_list,
    "/cluster/sdn/fabrics/node": cluster_list,
    "/nodes/{node}/sdn/zones": node_list,
    "/cluster/acme/plugins": acme_plugins,
    "/nodes/{node}/config": node_config,
    "/nodes/{node}/firewall/log": firewall_log,
    "/nodes/{node}/qemu/{vmid}/firewall/log": firewall_log,
    "/cluster/firewall/macros": firewall_macros,
    "/nodes/{node}/disks/zfs": node_list,
    "/nodes/{node}/disks/directory": node_list,
    "/nodes/{node}/scan/zfs": node_list,
}
