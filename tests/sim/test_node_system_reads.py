"""The node's system reads follow the simulator's model where it has one (issue 11).

The every-GET walk checks shapes; these check that the answers move with the model: the
thin pool fills as VMs get disks, corosync runs only in a cluster, the certificate is the one
the server presents, the log shows the tasks that ran, a loopback URL is really asked.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import GIB, NODE, create_vm, run_ok
from tests.sim.test_every_get_path import get


def data(pve: PveSimulator, path: str, **params: Any) -> Any:
    response = get(pve, f"/nodes/{NODE}{path}", params)
    assert response.status_code == 200, (response.status_code, response.reason)
    return response.json()["data"]


def test_the_thin_pool_and_the_volume_group_grow_with_the_vms_disks(
    pve: PveSimulator, api: Any
) -> None:
    """LVMThin.pm index / LVM.pm index: the pool's use is the VM disks on local-lvm."""
    before = data(pve, "/disks/lvmthin")[0]
    vg_before = data(pve, "/scan/lvm")[0]
    create_vm(api, 120, scsi0="local-lvm:4")
    after = data(pve, "/disks/lvmthin")[0]
    assert (after["lv"], after["vg"]) == ("data", "pve")
    assert after["used"] - before["used"] == 4 * GIB
    assert after["lv_size"] == pve.state.storages["local-lvm"].total
    assert data(pve, "/scan/lvm")[0]["lvcount"] == vg_before["lvcount"] + 1
    tree = data(pve, "/disks/lvm")
    vg = tree["children"][0]
    assert vg["size"] == vg["children"][0]["size"] == vg_before["size"]
    disk = data(pve, "/disks/list")[0]
    assert disk["devpath"] == "/dev/sda" and disk["size"] > vg["size"]
    other = get(pve, f"/nodes/{NODE}/scan/lvmthin", {"vg": "other"})
    assert other.status_code == 500
    assert other.reason.startswith("command '/sbin/lvs ") and other.reason.endswith(
        " other' failed: exit code 5"
    )


def test_disk_partitions_and_smart_of_a_device_that_is_not_there(pve: PveSimulator) -> None:
    rows = data(pve, "/disks/list", **{"include-partitions": 1})
    assert [r["used"] for r in rows] == ["partitions", "BIOS boot", "EFI", "LVM"]
    assert data(pve, "/disks/list", type="journal_disks") == []
    journal = data(pve, "/disks/list", type="journal_disks", **{"include-partitions": 1})
    assert [r["devpath"] for r in journal] == ["/dev/sda", "/dev/sda3"]
    missing = get(pve, f"/nodes/{NODE}/disks/smart", {"disk": "/dev/sdz"})
    assert (missing.status_code, missing.reason) == (500, "not a valid block device")


def test_corosync_runs_in_a_cluster_and_not_on_a_standalone_node(pve: PveSimulator) -> None:
    """Services.pm: corosync.service's ConditionPathExists fails without corosync.conf."""
    state = data(pve, "/services/corosync/state")
    assert (state["state"], state["active-state"]) == ("running", "active")
    with PveSimulator(nodes=1) as alone:
        response = get(alone, f"/nodes/{NODE}/services/corosync/state")
        assert response.json()["data"]["state"] == "dead"
    names = [row["service"] for row in data(pve, "/services")]
    assert names == sorted(names) and "pveproxy" in names


def _served_certificate(pve: PveSimulator) -> bytes:
    split = urlsplit(pve.url)
    context = ssl.create_default_context(cafile=pve.ca_path)
    with (
        socket.create_connection((split.hostname, split.port)) as raw,
        context.wrap_socket(raw, server_hostname=split.hostname) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def test_certificates_info_is_the_certificate_the_node_serves(pve: PveSimulator) -> None:
    rows = {row["filename"]: row for row in data(pve, "/certificates/info")}
    assert set(rows) == {"pve-root-ca.pem", "pve-ssl.pem"}
    digest = hashlib.sha256(_served_certificate(pve)).hexdigest().upper()
    assert rows["pve-ssl.pem"]["fingerprint"].replace(":", "") == digest
    assert rows["pve-ssl.pem"]["issuer"] == rows["pve-root-ca.pem"]["subject"]
    with open(pve.ca_path) as handle:
        assert rows["pve-root-ca.pem"]["pem"].strip() == handle.read().strip()
    assert "127.0.0.1" in rows["pve-ssl.pem"]["san"]


def test_syslog_and_journal_show_the_tasks_that_ran(pve: PveSimulator, api: Any) -> None:
    assert data(pve, "/syslog") == [{"n": 1, "t": "no content"}]
    pve.state.add_vm(130, "logged")
    upid = api.nodes(NODE).qemu(130).status.start.post()
    run_ok(api, upid)
    lines = [row["t"] for row in data(pve, "/syslog")]
    assert any(line.endswith(f"starting task {upid}") for line in lines)
    assert any(line.endswith(f"end task {upid} OK") for line in lines)
    assert data(pve, "/syslog", start=1, limit=1) == [{"n": 2, "t": lines[1]}]
    assert data(pve, "/syslog", service="pveproxy") == [{"n": 1, "t": "no content"}]
    journal = data(pve, "/journal")
    assert journal[0].startswith("s=") and journal[-1].startswith("s=")
    assert journal[1:-1] == lines
    assert data(pve, "/journal", lastentries=1)[1:-1] == lines[-1:]


def test_an_interface_of_the_node_and_one_that_does_not_exist(pve: PveSimulator) -> None:
    """Network.pm network_config: the entry, or raise_param_exc for an unknown iface."""
    assert data(pve, "/network/eno1")["type"] == "eth"
    missing = get(pve, f"/nodes/{NODE}/network/vmbr9")
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"iface": "interface does not exist"}


class _Files(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        if self.path != "/images/disk.qcow2":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream; charset=binary")
        self.send_header("Content-Length", "4096")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def file_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_metadata_asks_a_loopback_server(pve: PveSimulator, file_server: str) -> None:
    """Nodes.pm query_url_metadata: HEAD, then filename, size and mimetype."""
    found = data(pve, "/query-url-metadata", url=f"{file_server}/images/disk.qcow2")
    assert found == {"filename": "disk.qcow2", "size": 4096, "mimetype": "application/octet-stream"}
    missing = get(pve, f"/nodes/{NODE}/query-url-metadata", {"url": f"{file_server}/nope.iso"})
    expected = (500, "invalid server response: '404 Not Found'")
    assert (missing.status_code, missing.reason) == expected


def test_scans_of_a_cluster_node_reach_it_and_find_no_server(pve: PveSimulator) -> None:
    """Scan.pm: a resolvable server runs showmount (which fails), an iSCSI portal that does
    not answer is skipped."""
    other = pve.state.nodes.names[1]
    address = pve.state.nodes.address(other)
    nfs = get(pve, f"/nodes/{NODE}/scan/nfs", {"server": other})
    assert nfs.reason == (
        f"command '/sbin/showmount --no-headers --exports {address}' failed: exit code 1"
    )
    assert data(pve, "/scan/iscsi", portal=f"{address}:3260") == []


def test_versions_and_report_agree_with_the_node_version(pve: PveSimulator) -> None:
    version = data(pve, "/version")
    rows = data(pve, "/apt/versions")
    release = data(pve, "/status")["current-kernel"]["release"]
    # pve-manager PVE/API2/APT.pm versions: proxmox-ve (RunningKernel) first, pve-manager next.
    assert (rows[0]["Package"], rows[0]["RunningKernel"]) == ("proxmox-ve", release)
    assert rows[1]["Package"] == "pve-manager"
    assert rows[1]["Version"] == version["version"]
    running = f"{version['version']}/{version['repoid']}"
    assert rows[1]["ManagerVersion"] == running
    kernel = next(row for row in rows if row["Package"] == f"proxmox-kernel-{release}-signed")
    assert kernel["Version"] == release.removesuffix("-pve")
    report = data(pve, "/report")
    # bin/pveversion print_status: the running kernel and version beside the first two.
    assert f"\nproxmox-ve: {rows[0]['Version']} (running kernel: {release})\n" in report
    assert f"\npve-manager: {version['version']} (running version: {running})\n" in report
    for row in rows[2:]:
        assert f"\n{row['Package']}: {row['Version']}\n" in report
    assert f"\n# hostname\n{NODE}\n" in report


def test_rrd_graph_names_its_file_and_refuses_an_unknown_source(pve: PveSimulator) -> None:
    """RRD.pm create_rrd_graph: ``{filename, image}``; RRDs fails on a source not in the file."""
    graph = data(pve, "/rrd", timeframe="hour", ds="cpu,memused")
    assert graph["filename"].endswith(f"/pve-node-9.0/{NODE}_cpu_memused.png")
    assert graph["image"].encode("latin-1").startswith(b"\x89PNG\r\n\x1a\n")
    wrong = get(pve, f"/nodes/{NODE}/rrd", {"timeframe": "hour", "ds": "mem"})
    assert wrong.status_code == 500 and wrong.reason.startswith("RRD error: No DS called 'mem'")


def test_pci_class_blacklist_filters_bridges_by_default(pve: PveSimulator) -> None:
    default = {row["id"] for row in data(pve, "/hardware/pci")}
    everything = {row["id"] for row in data(pve, "/hardware/pci", **{"pci-class-blacklist": ""})}
    assert "0000:00:00.0" in everything - default
    assert "0000:00:02.0" in default


def test_each_read_checks_its_privileges_for_a_token(pve: PveSimulator) -> None:
    """RPCEnvironment.pm exec_api2_perm_check: a 'perm' names what is missing, an 'or' not."""
    pve.state.revoke_token_privileges("/", "Sys.Syslog", "Sys.Audit", "Sys.Modify")
    syslog = get(pve, f"/nodes/{NODE}/syslog")
    assert (syslog.status_code, syslog.reason) == (
        403,
        f"Permission check failed (/nodes/{NODE}, Sys.Syslog)",
    )
    disks = get(pve, f"/nodes/{NODE}/disks/list")
    assert (disks.status_code, disks.reason) == (403, "Permission check failed")
    pve.state.set_token_privileges(f"/nodes/{NODE}", {"Sys.Audit": 1})
    assert get(pve, f"/nodes/{NODE}/disks/list").status_code == 200
    pci = get(pve, f"/nodes/{NODE}/hardware/pci")
    assert pci.reason == "Permission check failed (/, Sys.Audit|Sys.Modify)"


def test_the_node_fingerprint_is_the_served_certificates(pve: PveSimulator, api: Any) -> None:
    """pve-manager Nodes.pm index reads ``ssl_fingerprint`` from the node's pve-ssl.pem
    (Cluster.pm join info's ``pve_fp`` too): the certificate the client really talks to, so a
    client that pins the fingerprint it read there can connect."""
    context = ssl.create_default_context(cafile=pve.ca_path)
    with (
        socket.create_connection((pve.host, pve.port)) as raw,
        context.wrap_socket(raw, server_hostname=pve.host) as tls,
    ):
        served = hashlib.sha256(tls.getpeercert(binary_form=True) or b"").hexdigest()
    expected = ":".join(served[i : i + 2] for i in range(0, 64, 2)).upper()
    assert {row["ssl_fingerprint"] for row in api.nodes.get()} == {expected}
    joined = api.cluster.config.join.get()
    assert {entry["pve_fp"] for entry in joined["nodelist"]} == {expected}
    info = api.nodes(NODE).certificates.info.get()
    assert [c["fingerprint"] for c in info if c["filename"] == "pve-ssl.pem"] == [expected]
