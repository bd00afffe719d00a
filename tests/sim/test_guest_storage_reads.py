"""Reads of guests and storages whose answers come from the model (issue 11): a volume's
size, the guest's root filesystem, RRD graphs of the VM's figures, backup defaults once a
storage takes backups. The every-GET walk checks the shape; these check the values."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import pytest

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, qcow2_image, run_ok
from tests.sim.test_every_get_path import get

VMID = 100
GIB = 1024**3


def data(pve: PveSimulator, path: str, **params: Any) -> Any:
    response = get(pve, path, params)
    assert response.status_code == 200, (response.status_code, response.reason)
    return response.json()["data"]


def error(pve: PveSimulator, path: str, **params: Any) -> tuple[int, str]:
    response = get(pve, path, params)
    return response.status_code, response.reason


@pytest.fixture
def running(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(VMID, "web", disk_size="8G")
    pve.faults.agent_boot(0)
    run_ok(api, api.nodes(NODE).qemu(VMID).status.start.post())


def test_volume_info_reads_the_model_disk(pve: PveSimulator) -> None:
    """Content.pm ``info``: LVM reports the LV's size (the model's), raw, used 0."""
    pve.state.add_vm(VMID, "web", disk_size="8G")
    disk = data(pve, f"/nodes/{NODE}/storage/local-lvm/content/local-lvm:vm-100-disk-0")
    assert disk == {"path": "/dev/pve/vm-100-disk-0", "size": 8 * GIB, "used": 0, "format": "raw"}
    # the storage may come from the volume ID alone
    assert data(pve, f"/nodes/{NODE}/storage/local-lvm/content/vm-100-disk-0") == disk


def test_a_directory_volume_keeps_its_slash_in_the_path(pve: PveSimulator, api: Any) -> None:
    """pve-storage API2/Storage/Status.pm registers ``{storage}/content`` with
    ``fragmentDelimiter => ''`` ("volume IDs may contain a slash"), so pve-common
    RESTHandler.pm map_path_to_methods takes the rest of the URI as the volume: proxmoxer's
    unencoded ``content("local:import/noble.qcow2")`` reaches Content.pm ``info``."""
    pve.state.add_import_image("noble.qcow2", qcow2_image(3 * GIB))
    info = api.nodes(NODE).storage("local").content("local:import/noble.qcow2").get()
    assert info["path"] == "/var/lib/vz/import/noble.qcow2"
    assert (info["size"], info["format"]) == (3 * GIB, "qcow2")
    assert error(pve, f"/nodes/{NODE}/storage/local/content/local:import/absent.qcow2")[0] == 500


def test_volume_info_errors_as_pve(pve: PveSimulator) -> None:
    base = f"/nodes/{NODE}/storage"
    assert error(pve, f"{base}/local/content/local-lvm:vm-1-disk-0") == (
        400,
        "Parameter verification failed.",
    )
    assert error(pve, f"{base}/local/content/local:bogus") == (
        500,
        "unable to parse directory volume name 'bogus'",
    )
    status, reason = error(pve, f"{base}/local-lvm/content/local-lvm:vm-100-disk-9")
    assert (status, reason.split(":")[0]) == (500, "can't get size of '/dev/pve/vm-100-disk-9'")


def test_fsinfo_is_the_root_partition_of_the_boot_disk(
    pve: PveSimulator, api: Any, running: None
) -> None:
    path = f"/nodes/{NODE}/qemu/{VMID}/agent/get-fsinfo"
    (root,) = data(pve, path)["result"]
    assert (root["mountpoint"], root["type"], root["name"]) == ("/", "ext4", "sda1")
    assert root["total-bytes"] == 8 * GIB - 128 * 1024**2
    upid = api.nodes(NODE).qemu(VMID).resize.put(disk="scsi0", size="+2G")
    if upid:
        run_ok(api, upid)
    assert data(pve, path)["result"][0]["total-bytes"] == 10 * GIB - 128 * 1024**2


def test_agent_reads_need_a_running_vm(pve: PveSimulator) -> None:
    pve.state.add_vm(VMID, "web")
    for sub, params in (("get-fsinfo", {}), ("exec-status", {"pid": 1}), ("file-read", {})):
        params = params or ({"file": "/etc/hostname"} if sub == "file-read" else {})
        assert error(pve, f"/nodes/{NODE}/qemu/{VMID}/agent/{sub}", **params) == (
            500,
            "VM 100 is not running",
        )


def _png_size(image: bytes) -> tuple[int, int]:
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", image[16:24])
    return width, height


def test_rrd_graph_draws_the_vm_figures(pve: PveSimulator, running: None) -> None:
    graph = data(pve, f"/nodes/{NODE}/qemu/{VMID}/rrd", timeframe="hour", ds="cpu,mem")
    assert graph["filename"] == "/var/lib/rrdcached/db/pve-vm-9.0/100_cpu_mem.png"
    image = graph["image"].encode("latin-1")
    assert _png_size(image) == (800, 200)
    idat = image[image.index(b"IDAT") + 4 : image.index(b"IEND") - 8]
    pixels = zlib.decompress(idat)
    assert bytes([0x00, 0xDD, 0xFF]) in pixels and bytes([0xFF, 0x00, 0x00]) in pixels
    # the container path reads the same per-VMID file
    same = data(pve, f"/nodes/{NODE}/lxc/{VMID}/rrd", timeframe="hour", ds="cpu,mem")
    assert same["filename"] == graph["filename"]


def test_rrd_graph_errors(pve: PveSimulator, running: None) -> None:
    assert error(pve, f"/nodes/{NODE}/qemu/999/rrd", timeframe="hour", ds="cpu") == (
        500,
        "RRD error: rrdcached@unix:/var/run/rrdcached.sock: rrd_fetch_r failed: opening "
        "'/var/lib/rrdcached/db/pve-vm-9.0/999': No such file or directory",
    )
    assert error(pve, f"/nodes/{NODE}/qemu/{VMID}/rrd", timeframe="hour", ds="cpu,mem,disk")[
        1
    ].startswith("fixme: no color definition")
    assert error(pve, f"/nodes/{NODE}/qemu/{VMID}/rrd", timeframe="hour", ds="bogus") == (
        500,
        "RRD error: No DS called 'bogus' in '/var/lib/rrdcached/db/pve-vm-9.0/100'",
    )


def test_container_reads_of_a_vm(pve: PveSimulator, running: None) -> None:
    base = f"/nodes/{NODE}/lxc/{VMID}"
    assert data(pve, f"{base}/snapshot/any") == [{"cmd": "rollback"}, {"cmd": "config"}]
    assert data(pve, f"{base}/interfaces") is None
    assert data(pve, f"{base}/rrddata", timeframe="hour") == data(
        pve, f"/nodes/{NODE}/qemu/{VMID}/rrddata", timeframe="hour"
    )
    assert data(pve, f"{base}/firewall/options") == data(
        pve, f"/nodes/{NODE}/qemu/{VMID}/firewall/options"
    )


def test_mtunnelwebsocket_answers_only_on_the_local_node(pve: PveSimulator) -> None:
    pve.state.add_vm(VMID, "web", node="pve2")
    params = {"socket": "/run/qemu-server/100.mtunnel", "ticket": "x"}
    assert error(pve, f"/nodes/pve2/qemu/{VMID}/mtunnelwebsocket", **params) == (
        400,
        "Parameter verification failed.",
    )


def test_vzdump_defaults_of_a_node_whose_local_takes_backups(pve: PveSimulator) -> None:
    """``local`` takes backups (the installer's ``iso,vztmpl,backup``, kept by docs/proxmox.md):
    the defaults of Common.pm's ``$confdesc``, its dump directory, prune-backups printed back."""
    assert "backup" in pve.state.storages["local"].content
    defaults = data(pve, f"/nodes/{NODE}/vzdump/defaults")
    assert defaults["storage"] == "local"
    assert defaults["dumpdir"] == "/var/lib/vz/dump"
    assert defaults["prune-backups"] == "keep-all=1"
    assert defaults["mode"] == "snapshot"
    assert defaults["performance"] == {"max-workers": 16, "pbs-entries-max": 1048576}
    assert error(pve, f"/nodes/{NODE}/vzdump/defaults", storage="local-lvm") == (
        500,
        "can't use storage 'local-lvm' for backups - wrong content type",
    )


def test_prune_backups_of_local_need_options(pve: PveSimulator) -> None:
    """Storage.pm prune_backups: no options configured or sent dies; with some, no backups."""
    path = f"/nodes/{NODE}/storage/local/prunebackups"
    assert error(pve, path) == (500, "no prune-backups options configured for storage 'local'")
    assert data(pve, path, **{"prune-backups": "keep-last=1"}) == []


def test_file_restore_needs_a_backup_volume(pve: PveSimulator) -> None:
    path = f"/nodes/{NODE}/storage/local/file-restore/list"
    assert error(pve, path, volume="local:iso/x.iso", filepath="/") == (
        500,
        "unable to use volume local:iso/x.iso - content type needs to be 'backup'",
    )
    name = base64.b64encode(b"/etc").decode()
    backup = "vzdump-qemu-100-2026_12_03-00_00_00.vma.zst"
    response = get(pve, path, {"volume": backup, "filepath": name})
    assert response.status_code == 400
    assert response.json()["errors"] == {"storage": "Only PBS storages supported for file-restore."}
    response = get(pve, path, {"volume": f"local-lvm:backup/{backup}", "filepath": name})
    assert response.json()["errors"] == {"volume": "storage ID mismatch (local-lvm != local)."}
