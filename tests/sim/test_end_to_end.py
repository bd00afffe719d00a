"""The whole template -> VM flow through proxmoxer, each step observable through the API."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from proxmoxer import ResourceException
from proxmoxer.tools import Tasks

from tests.sim.conftest import GIB, NODE, qcow2_image
from tests.sim.test_create import ED25519

IMAGE = qcow2_image(3584 * 1024**2)


class _Image(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(IMAGE)))
        self.end_headers()
        self.wfile.write(IMAGE)

    def log_message(self, *args: object) -> None:
        pass


def _blocking(api, upid: str) -> None:
    """The real proxmoxer waiter, as the provisioning code uses it."""
    status = Tasks.blocking_status(api, upid, timeout=30, polling_interval=0.05)
    assert status["exitstatus"] == "OK", status


def test_template_to_vm_flow(pve, api):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Image)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/noble-server-cloudimg-amd64.img"
        node = api.nodes(NODE)
        _blocking(
            api,
            node.storage("local")("download-url").post(
                url=url,
                content="import",
                filename="noble.qcow2",
                checksum=hashlib.sha256(IMAGE).hexdigest(),
                **{"checksum-algorithm": "sha256"},
            ),
        )
    finally:
        server.shutdown()
        server.server_close()

    vmid = int(api.cluster.nextid.get(vmid=9000))
    _blocking(
        api,
        node.qemu.post(
            vmid=vmid,
            name="ubuntu-template",
            memory="2048",
            cores=2,
            scsihw="virtio-scsi-single",
            scsi0="local-lvm:0,import-from=local:import/noble.qcow2,discard=on,ssd=1",
            ide2="local-lvm:cloudinit",
            net0="virtio,bridge=vmbr0",
            agent="1",
            tags="ubuntu,template",
        ),
    )
    assert node.qemu(vmid).config.get()["scsi0"] == (
        "local-lvm:vm-9000-disk-0,discard=on,size=3584M,ssd=1"
    )

    _blocking(api, node.qemu(vmid).template.post())
    assert node.qemu(vmid).config.get()["template"] == 1

    _blocking(api, node.qemu(vmid).clone.post(newid=500, name="web-1"))
    clone = node.qemu(500)
    assert clone.config.get()["scsi0"].startswith("local-lvm:vm-500-disk-0,")

    _blocking(api, clone.resize.put(disk="scsi0", size="20G"))
    assert "size=20G" in clone.config.get()["scsi0"]

    keys = quote(ED25519, safe="")
    clone.config.put(ciuser="ops", sshkeys=keys, ipconfig0="ip=10.1.0.5/24,gw=10.1.0.1")
    conf = clone.config.get()
    assert conf["sshkeys"] == keys and conf["ipconfig0"] == "ip=10.1.0.5/24,gw=10.1.0.1"

    _blocking(api, clone.status.start.post())
    assert clone.status.current.get()["status"] == "running"
    # The guest boots before its agent answers (default 1.5 s of simulator time).
    with pytest.raises(ResourceException, match="QEMU guest agent is not running"):
        clone.agent("network-get-interfaces").get()
    pve.advance(2)
    ips = clone.agent("network-get-interfaces").get()["result"]
    assert any(a["ip-address"] == "10.1.0.5" for i in ips for a in i["ip-addresses"])
    assert {r["vmid"] for r in api.cluster.resources.get(type="vm")} == {9000, 500}

    _blocking(api, clone.status.stop.post())
    assert clone.status.current.get()["status"] == "stopped"
    _blocking(api, clone.delete(purge=1))
    assert [r["vmid"] for r in api.cluster.resources.get(type="vm")] == [9000]
    images = node.storage("local-lvm").content.get(content="images")
    assert {i["volid"] for i in images} == {
        "local-lvm:base-9000-disk-0",
        "local-lvm:vm-9000-cloudinit",
    }
    assert all(i["size"] < 4 * GIB for i in images)
