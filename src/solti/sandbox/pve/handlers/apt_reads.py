"""The node's packages and APT repositories (``/nodes/{node}/apt/*``).

pve-manager ``PVE/API2/APT.pm``:

- ``versions`` (pve-manager 9.1.4, commit 5ac30304): ``proxmox-ve`` first (with
  ``RunningKernel``, the node's ``uname`` release), ``pve-manager`` (with ``ManagerVersion``,
  ``pvecfg::version_text``), the installed ``/^(?:pve|proxmox)-kernel-/`` packages newest
  first, then the fixed ``@pkgs``/``@opt_pack`` names sorted together, each as
  ``$assemble_pkginfo`` builds it (``Title`` the short description, ``Description`` the long
  one without its first line, ``Section``/``Arch``/``Priority`` of the version, ``Version`` the
  candidate, ``OldVersion`` the installed one). The Proxmox packages in ``PACKAGES`` were
  checked against their repositories: ``debian/control``, and the newest release in
  ``debian/changelog`` on or before pve-manager 9.1.4's (2025-12-22, the version
  ``/nodes/{node}/version`` reports) but ``pve-qemu-kvm``, which is the node's QEMU
  (``state/qemu_host.py``: 10.1.2-7, the build the machine lists come from). The rest
  (``proxmox-ve``, the Debian-based ``corosync``, ``lvm2``, ``smartmontools``, ``swtpm``, ...)
  are in ``data/apt-base-packages.json``, whose SOURCE.md says where each value comes from.
  The kernels are the signed image of the release ``/nodes/{node}/status`` reports and its
  series metapackage. (``livpve-notify-perl`` in ``@pkgs`` is misspelt in PVE 9.1.4 and
  ``libknet1``/``libqb0`` have other names in trixie, so none of them shows.) Not listed yet,
  though a fresh 9.1 node has them, for want of a checked source of their control data or
  version: ``proxmox-kernel-helper`` (PVE lists it twice: among the kernels, its version
  sorting first, and in ``@opt_pack``), ``libjs-extjs``, ``libproxmox-acme-perl``,
  ``novnc-pve``, ``proxmox-backup-client``, ``proxmox-backup-file-restore``,
  ``proxmox-backup-restore-image``, ``proxmox-mini-journalreader``,
  ``proxmox-offline-mirror-helper``, ``pve-esxi-import-tools``, ``pve-firmware``, ``vncterm``,
  ``zfsutils-linux`` and the CPU vendor's microcode: no invented rows.
- ``list_updates`` (``update``): the packages whose candidate is newer than the installed
  version; the node runs the newest release the simulator knows of, so none.
- ``changelog``: ``apt-get changelog`` output (stdout and stderr), plus "RC: <code>" when it
  failed: "E: No packages found" for a package apt does not know; for a known one the
  download from the repository fails, as no simulated node reaches it (apt's wording of that
  failure is approximated).
- ``repositories``: proxmox-apt ``repositories("pve")``: the files the 9.1 installer writes
  (Debian trixie in ``debian.sources``, the enterprise repositories for PVE and Ceph Squid),
  each with its SHA-256 ``digest`` as bytes, the ``infos`` (the origin of each repository),
  the common ``digest`` and the ``standard-repos`` with the configured ones' ``status``.
  Booleans travel as ``1`` (perlmod's conversion, as captured PVE 9 answers show).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.qemu_host import QEMU_PACKAGE_VERSION

# name -> (version, Arch, Section, Priority, Title, long Description)
PACKAGES: dict[str, tuple[str, str, str, str, str, str]] = {
    "pve-manager": ("9.1.4", "all", "admin", "optional",
        "Proxmox Virtual Environment Management Tools",
        "This package contains the Proxmox Virtual Environment management tools."),
    "libpve-access-control": ("9.0.5", "all", "perl", "optional",
        "Proxmox VE access control library",
        "This package contains the role based user management and access control function "
        "used by Proxmox VE."),
    "libpve-cluster-api-perl": ("9.0.7", "all", "admin", "optional",
        "Proxmox Virtual Environment cluster Perl API modules.",
        "This package contains the API2 endpoints and CLI binary 'pvecm'."),
    "libpve-cluster-perl": ("9.0.7", "all", "admin", "optional",
        "Proxmox Virtual Environment cluster Perl modules.",
        "This package contains various cluster-related perl modules."),
    "libpve-common-perl": ("9.1.3", "all", "perl", "optional", "Proxmox VE base library",
        "This package contains the base library used by other Proxmox VE components."),
    "libpve-guest-common-perl": ("6.0.2", "all", "perl", "optional",
        "Proxmox VE common guest-related modules",
        "This package contains a common code base for Proxmox VE guests. It is mainly used "
        "by pve-container and qemu-server."),
    "libpve-http-server-perl": ("6.0.5", "all", "perl", "optional",
        "Proxmox Asynchrounous HTTP Server Implementation",
        "This package is used as base to implement the REST API in all perl based Proxmox "
        "projects."),
    "libpve-network-perl": ("1.2.4", "all", "perl", "optional",
        "Proxmox VE's SDN (Software Defined Network) stack",
        "This package contains the perl side of the Software Defined Network implementation "
        "for Proxmox VE."),
    "libpve-storage-perl": ("9.1.0", "all", "perl", "optional",
        "Proxmox VE storage management library",
        "This package contains the storage management library used by Proxmox VE."),
    "pve-cluster": ("9.0.7", "amd64", "admin", "optional",
        '"pmxcfs" distributed cluster filesystem for Proxmox Virtual Environment.',
        "This FUSE filesystem is using corosync and sqlite3 to provide a cluster-wide, "
        "consistent view of config and other files."),
    "pve-container": ("6.0.18", "all", "perl", "optional",
        "Proxmox VE Container management tool", "Tool to manage Linux Containers on Proxmox VE."),
    "pve-firewall": ("6.0.4", "amd64", "admin", "optional", "Proxmox VE Firewall",
        "This package contains the Proxmox VE Firewall."),
    "pve-ha-manager": ("5.1.0", "amd64", "perl", "optional", "Proxmox VE HA Manager",
        "HA Manager Proxmox VE."),
    "qemu-server": ("9.1.3", "amd64", "admin", "optional", "Qemu Server Tools",
        "This package contains the Qemu Server tools used by Proxmox VE"),
    "proxmox-widget-toolkit": ("5.1.5", "all", "web", "optional",
        "Core Widgets and ExtJS Helper Classes for Proxmox Web UIs",
        "The base framework providing widgets, models, and general utilities for the ExtJS "
        "based Web UIs of various Proxmox projects"),
    "pve-qemu-kvm": (QEMU_PACKAGE_VERSION, "amd64", "admin", "optional",
        "Full virtualization on x86 hardware",
        "Using KVM, one can run multiple virtual PCs, each running unmodified Linux or Windows "
        "images. Each virtual machine has private virtualized hardware: a network card, disk, "
        "graphics adapter, etc."),
}  # fmt: skip


def kernel_packages(release: str) -> dict[str, tuple[str, str, str, str, str, str]]:
    """The running kernel's packages (pve-kernel ``debian/control.in`` and
    ``signing-template/control.in``): the signed image of ``release`` and the
    ``proxmox-kernel-<major.minor>`` metapackage that pulls it in."""
    version = release.removesuffix("-pve")
    series = ".".join(version.split(".")[:2])
    return {
        f"proxmox-kernel-{series}": (version, "all", "admin", "optional",
            "Latest Proxmox Kernel Image",
            "This is a metapackage which will install the latest available proxmox kernel "
            f"from the {series} series."),
        f"proxmox-kernel-{release}-signed": (version, "amd64", "admin", "optional",
            "Proxmox Kernel Image (signed)",
            "This package contains the linux kernel and initial ramdisk used for booting . "
            "This package contains the kernel image signed by the Proxmox Secure Boot CA."),
    }  # fmt: skip


def _require_node(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)


def package_row(name: str, packages: dict[str, tuple[str, ...]] = PACKAGES) -> dict[str, Any]:
    version, arch, section, priority, title, description = packages[name]
    return {
        "Package": name,
        "Title": title,
        "Origin": "Proxmox",
        "Description": description,
        "Section": section,
        "Arch": arch,
        "Priority": priority,
        "Version": version,
        "OldVersion": version,
        "CurrentState": "Installed",
    }


@cache
def base_packages() -> dict[str, dict[str, str]]:
    """``data/apt-base-packages.json``: ``proxmox-ve`` and the packages beyond ``PACKAGES``."""
    text = resources.files("solti.sandbox.pve.data").joinpath("apt-base-packages.json")
    return json.loads(text.read_text())


def known_packages() -> set[str]:
    """Every package the simulated node's apt knows (all of them installed)."""
    return set(PACKAGES) | set(base_packages())


def _row(name: str) -> dict[str, Any]:
    if name in PACKAGES:
        return package_row(name)
    fields = base_packages()[name]
    return {
        "Package": name,
        "Title": fields["Title"],
        "Origin": fields["Origin"],
        "Description": fields["Description"],
        "Section": fields["Section"],
        "Arch": fields["Arch"],
        "Priority": fields["Priority"],
        "Version": fields["Version"],
        "OldVersion": fields["Version"],
        "CurrentState": "Installed",
    }


def version_rows(info: dict[str, str], release: str) -> list[dict[str, Any]]:
    """``versions``' answer for a node running pve-manager ``info`` on kernel ``release``."""
    rows = [
        {**_row("proxmox-ve"), "RunningKernel": release},
        {**_row("pve-manager"), "ManagerVersion": f"{info['version']}/{info['repoid']}"},
    ]
    kernels = kernel_packages(release)
    # Equal versions: the signed image before its metapackage, as PVE 9.1 nodes list them.
    rows += [package_row(name, kernels) for name in sorted(kernels, reverse=True)]
    rest = sorted(known_packages() - {"proxmox-ve", "pve-manager"})
    return rows + [_row(name) for name in rest]


def versions(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        info = cluster.nodes.version()
        release = cluster.nodes.hardware()["current-kernel"]["release"]
    return version_rows(info, release)


def updates(call: Call) -> list[Any]:
    _require_node(call)
    return []


def changelog(call: Call) -> str:
    _require_node(call)
    name = call.params["name"]
    if name not in known_packages():
        return "E: No packages found\nRC: 100"
    version = call.params.get("version") or _row(name)["Version"]
    return (
        f"E: Failed to fetch changelog:/{name}.changelog  Could not resolve "
        "'enterprise.proxmox.com'\n"
        f"E: changelog download for {name}={version} failed\nRC: 100"
    )


SIGNED_BY_DEBIAN = "/usr/share/keyrings/debian-archive-keyring.gpg"
SIGNED_BY_PROXMOX = "/usr/share/keyrings/proxmox-archive-keyring.gpg"
# (path, [(URI, suites, components, signed-by, origin)]) as the installer writes them.
SOURCES = [
    ("/etc/apt/sources.list.d/debian.sources", [
        ("http://deb.debian.org/debian/", ["trixie", "trixie-updates"],
         ["main", "contrib", "non-free-firmware"], SIGNED_BY_DEBIAN, "Debian"),
        ("http://security.debian.org/debian-security/", ["trixie-security"],
         ["main", "contrib", "non-free-firmware"], SIGNED_BY_DEBIAN, "Debian"),
    ]),
    ("/etc/apt/sources.list.d/pve-enterprise.sources", [
        ("https://enterprise.proxmox.com/debian/pve", ["trixie"], ["pve-enterprise"],
         SIGNED_BY_PROXMOX, "Proxmox"),
    ]),
    ("/etc/apt/sources.list.d/ceph.sources", [
        ("https://enterprise.proxmox.com/debian/ceph-squid", ["trixie"], ["enterprise"],
         SIGNED_BY_PROXMOX, "Proxmox"),
    ]),
]  # fmt: skip
# proxmox-apt standard repositories of the "pve" product: handle -> name.
STANDARD_REPOS = {
    "enterprise": "Enterprise",
    "no-subscription": "No-Subscription",
    "test": "Test",
    "ceph-squid-enterprise": "Ceph Squid Enterprise",
    "ceph-squid-no-subscription": "Ceph Squid No-Subscription",
    "ceph-squid-test": "Ceph Squid Test",
}
CONFIGURED = {"enterprise", "ceph-squid-enterprise"}


def _deb822(entries: list[tuple[str, list[str], list[str], str, str]]) -> str:
    stanzas = [
        f"Types: deb\nURIs: {uri}\nSuites: {' '.join(suites)}\n"
        f"Components: {' '.join(components)}\nSigned-By: {signed}\n"
        for uri, suites, components, signed, _ in entries
    ]
    return "\n".join(stanzas)


def repositories(call: Call) -> dict[str, Any]:
    _require_node(call)
    files, infos, digests = [], [], []
    for path, entries in SOURCES:
        digest = hashlib.sha256(_deb822(entries).encode()).digest()
        digests.append((path, digest))
        repos = []
        for index, (uri, suites, components, signed, origin) in enumerate(entries):
            repos.append(
                {
                    "Types": ["deb"],
                    "URIs": [uri],
                    "Suites": suites,
                    "Components": components,
                    "Options": [{"Key": "Signed-By", "Values": [signed]}],
                    "FileType": "sources",
                    "Enabled": 1,
                }
            )
            infos.append({"path": path, "index": str(index), "kind": "origin", "message": origin})
        files.append(
            {"path": path, "file-type": "sources", "repositories": repos, "digest": list(digest)}
        )
    common = hashlib.sha256(b"".join(d for _, d in sorted(digests))).hexdigest()
    standard = []
    for handle, name in STANDARD_REPOS.items():
        row: dict[str, Any] = {"handle": handle, "name": name}
        if handle in CONFIGURED:
            row["status"] = 1
        standard.append(row)
    return {
        "files": files,
        "errors": [],
        "digest": common,
        "infos": infos,
        "standard-repos": standard,
    }


APT_READS: dict[str, Handler] = {
    "/nodes/{node}/apt/versions": versions,
    "/nodes/{node}/apt/update": updates,
    "/nodes/{node}/apt/changelog": changelog,
    "/nodes/{node}/apt/repositories": repositories,
}
