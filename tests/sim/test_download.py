"""download-url: real loopback fetches, checksums, storage and filename rules."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from proxmoxer import ResourceException

from tests.sim.conftest import GIB, NODE, create_vm, qcow2_image, run_ok, wait_task

IMAGE = qcow2_image(10 * GIB)


class _Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/noble.img":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(IMAGE)))
        self.end_headers()
        self.wfile.write(IMAGE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def image_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/noble.img"
    server.shutdown()
    server.server_close()


def _download(api, url: str, storage: str = "local", **kw):
    params = {"content": "import", "filename": "noble.qcow2", "url": url, **kw}
    return api.nodes(NODE).storage(storage)("download-url").post(**params)


def test_download_with_checksum_lists_the_file(api, image_url):
    digest = hashlib.sha256(IMAGE).hexdigest()
    upid = _download(api, image_url, checksum=digest, **{"checksum-algorithm": "sha256"})
    assert ":download:noble.qcow2:" in upid
    run_ok(api, upid)
    content = api.nodes(NODE).storage("local").content.get(content="import")
    assert content == [
        {
            "volid": "local:import/noble.qcow2",
            "format": "qcow2",
            "size": len(IMAGE),
            "content": "import",
            "ctime": content[0]["ctime"],
        }
    ]
    conf = create_vm(api, 300, scsi0="local-lvm:0,import-from=local:import/noble.qcow2")
    assert "size=10G" in conf["scsi0"]


def test_fresh_download_with_wrong_checksum(api, image_url):
    status = wait_task(
        api, _download(api, image_url, checksum="ab" * 32, **{"checksum-algorithm": "sha256"})
    )
    got = hashlib.sha256(IMAGE).hexdigest()
    assert status["exitstatus"] == f"checksum mismatch: got '{got}' != expect '{'ab' * 32}'"
    assert api.nodes(NODE).storage("local").content.get(content="import") == []


def test_existing_file_rules(pve, api, image_url):
    pve.state.add_import_image("noble.qcow2", IMAGE)
    good = hashlib.sha512(IMAGE).hexdigest()
    status = wait_task(
        api,
        _download(
            api, "http://127.0.0.1:9/gone.img", checksum=good, **{"checksum-algorithm": "sha512"}
        ),
    )
    assert status["exitstatus"] == "OK"
    status = wait_task(api, _download(api, image_url))
    assert status["exitstatus"] == (
        "refusing to override existing file '/var/lib/vz/import/noble.qcow2'"
    )
    status = wait_task(
        api, _download(api, image_url, checksum="0" * 128, **{"checksum-algorithm": "sha512"})
    )
    assert (
        status["exitstatus"] == f"checksum mismatch: got '{good}' != expect '{'0' * 128}', aborting"
    )


def test_only_loopback_hosts_are_fetched(api):
    status = wait_task(api, _download(api, "https://cloud-images.ubuntu.com/noble.img"))
    assert status["exitstatus"].startswith("download failed:")
    assert "loopback" in status["exitstatus"]


def test_http_error_fails_the_task(api, image_url):
    status = wait_task(api, _download(api, image_url.replace("noble.img", "missing.img")))
    assert status["exitstatus"] == "download failed: 404 Not Found"


def test_bad_extension_is_400(api, image_url):
    with pytest.raises(ResourceException) as info:
        _download(api, image_url, filename="noble.img")
    assert info.value.status_code == 400
    assert info.value.errors == {"filename": "invalid filename or wrong extension"}


def test_block_storage_and_missing_content_are_500(api, image_url):
    with pytest.raises(ResourceException) as info:
        _download(api, image_url, storage="local-lvm")
    assert info.value.content == "can't upload to storage type 'lvmthin', not a file based storage!"
    with pytest.raises(ResourceException) as info:
        _download(api, image_url, storage="shared", content="vztmpl", filename="a.tar.gz")
    assert info.value.content == "storage 'shared' is not configured for content-type 'vztmpl'"


def test_checksum_requires_algorithm(api, image_url):
    with pytest.raises(ResourceException) as info:
        _download(api, image_url, checksum="ab")
    assert info.value.status_code == 400
    assert "checksum-algorithm" in info.value.errors
