"""``GET /nodes/{node}/apt/versions`` as pve-manager ``PVE/API2/APT.pm`` ``versions`` builds it.

pve-manager 9.1.4 (commit 5ac30304): ``proxmox-ve`` then ``pve-manager`` first, the installed
kernels newest first, then the fixed ``@pkgs`` and ``@opt_pack`` names sorted together (each
``@pkgs`` name apt knows, each ``@opt_pack`` name only when installed). Values:
``handlers/apt_reads.py`` and ``data/apt-base-packages.SOURCE.md``.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.state.qemu_host import QEMU_PACKAGE_VERSION, QEMU_VERSION
from tests.sim.conftest import NODE

# APT.pm versions at pve-manager 9.1.4: @opt_pack and @pkgs, as PVE spells them.
OPT_PACK = [
    "amd64-microcode",
    "ceph",
    "criu",
    "dnsmasq",
    "frr-pythontools",
    "gfs2-utils",
    "ifupdown",
    "ifupdown2",
    "intel-microcode",
    "ksm-control-daemon",
    "ksmtuned",
    "libpve-apiclient-perl",
    "libpve-network-perl",
    "openvswitch-switch",
    "proxmox-backup-file-restore",
    "proxmox-firewall",
    "proxmox-kernel-helper",
    "proxmox-offline-mirror-helper",
    "pve-esxi-import-tools",
    "pve-zsync",
    "zfsutils-linux",
]
PKGS = [
    "ceph-fuse",
    "corosync",
    "libjs-extjs",
    "libknet1",
    "libproxmox-acme-perl",
    "libproxmox-backup-qemu0",
    "libproxmox-rs-perl",
    "libpve-access-control",
    "libpve-cluster-api-perl",
    "libpve-cluster-perl",
    "libpve-common-perl",
    "libpve-guest-common-perl",
    "libpve-http-server-perl",
    "livpve-notify-perl",
    "libpve-rs-perl",
    "libpve-storage-perl",
    "libqb0",
    "libspice-server1",
    "lvm2",
    "lxc-pve",
    "lxcfs",
    "novnc-pve",
    "proxmox-backup-client",
    "proxmox-backup-restore-image",
    "proxmox-mail-forward",
    "proxmox-mini-journalreader",
    "proxmox-widget-toolkit",
    "pve-cluster",
    "pve-container",
    "pve-docs",
    "pve-edk2-firmware",
    "pve-firewall",
    "pve-firmware",
    "pve-ha-manager",
    "pve-i18n",
    "pve-qemu-kvm",
    "pve-xtermjs",
    "qemu-server",
    "smartmontools",
    "spiceterm",
    "swtpm",
    "vncterm",
]


def versions(api: Any) -> list[dict[str, Any]]:
    return api.nodes(NODE).apt.versions.get()


def test_proxmox_ve_leads_with_the_running_kernel(api: Any) -> None:
    """``my @list = qw(proxmox-ve pve-manager)``; ``RunningKernel`` is ``uname -r`` (the
    ``release`` of ``/nodes/{node}/status``), ``ManagerVersion`` ``pvecfg::version_text``."""
    rows = versions(api)
    release = api.nodes(NODE).status.get()["current-kernel"]["release"]
    assert rows[0]["Package"] == "proxmox-ve"
    assert rows[0]["RunningKernel"] == release
    assert rows[0]["Version"].startswith("9.1.")
    assert "ManagerVersion" not in rows[0]
    assert rows[1]["Package"] == "pve-manager"
    assert "RunningKernel" not in rows[1]


def test_kernels_then_the_fixed_names_sorted(api: Any) -> None:
    """The kernels follow the first two; every other row is one of PVE's fixed names, in
    ``sort @pkgs, @opt_pack`` order, none listed twice."""
    names = [row["Package"] for row in versions(api)]
    kernels = [name for name in names[2:] if name.startswith("proxmox-kernel-")]
    assert names[2 : 2 + len(kernels)] == kernels and kernels
    rest = names[2 + len(kernels) :]
    assert rest == sorted(rest) and len(rest) == len(set(rest))
    assert set(rest) <= set(PKGS) | set(OPT_PACK)


def test_the_debian_base_packages_are_listed(api: Any) -> None:
    """The Debian-based packages PVE 9.1 lists, with the origin of their build; trixie's
    renamed libknet1/libqb0 and the misspelt livpve-notify-perl never show."""
    rows = {row["Package"]: row for row in versions(api)}
    for name in ("corosync", "lvm2", "smartmontools", "swtpm", "libspice-server1", "criu"):
        assert rows[name]["CurrentState"] == "Installed"
        assert rows[name]["Version"] == rows[name]["OldVersion"]
    assert rows["lvm2"]["Origin"] == "Proxmox" and "+pmx" in rows["lvm2"]["Version"]
    assert rows["libspice-server1"]["Origin"] == "Debian"
    assert not {"libknet1", "libqb0", "livpve-notify-perl"} & set(rows)


def test_proxmox_packages_are_at_their_release_of_late_2025(api: Any) -> None:
    """The newest release on or before pve-manager 9.1.4's (2025-12-22) in each repository's
    ``debian/changelog``: pve-docs 9.1.2 (2025-12-12), proxmox-i18n's pve-i18n 3.6.6
    (2025-12-10), lxc-pve 6.0.5-3; Section/Arch from ``debian/control`` (an ``Architecture:
    any`` package is amd64 here)."""
    rows = {row["Package"]: row for row in versions(api)}
    assert rows["pve-docs"]["Version"] == "9.1.2" and rows["pve-docs"]["Section"] == "doc"
    assert rows["pve-i18n"]["Version"] == "3.6.6"
    assert (rows["lxc-pve"]["Version"], rows["lxc-pve"]["Arch"]) == ("6.0.5-3", "amd64")
    assert rows["libpve-rs-perl"]["Version"] == "0.11.4"


def test_pve_qemu_kvm_is_the_nodes_qemu(pve: PveSimulator, api: Any) -> None:
    """One QEMU per node: the package version ``state/qemu_host.py`` names, whose upstream
    part is what a running VM's ``running-qemu`` reports."""
    rows = {row["Package"]: row for row in versions(api)}
    assert rows["pve-qemu-kvm"]["Version"] == QEMU_PACKAGE_VERSION
    pve.state.add_vm(100, running=True)
    running = api.nodes(NODE).qemu(100).status.current.get()["running-qemu"]
    assert rows["pve-qemu-kvm"]["Version"].split("-")[0] == running == QEMU_VERSION


def test_the_report_prints_pveversion_verbose(api: Any) -> None:
    """``bin/pveversion`` ``print_status``: one line per row, the running kernel beside
    ``proxmox-ve``."""
    rows = versions(api)
    report = api.nodes(NODE).report.get()
    first = f"proxmox-ve: {rows[0]['Version']} (running kernel: {rows[0]['RunningKernel']})"
    assert f"\n{first}\n" in report
    assert f"\ncorosync: {next(r for r in rows if r['Package'] == 'corosync')['Version']}\n" in (
        report
    )


def test_changelog_knows_the_base_packages(api: Any) -> None:
    """``changelog``: apt knows every listed package, so the download is attempted."""
    text = api.nodes(NODE).apt.changelog.get(name="corosync")
    assert "No packages found" not in text
    assert "corosync=3.1.9-pve2" in text
