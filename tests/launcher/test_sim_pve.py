"""`solti sim pve` as a process: the JSON line, a real proxmoxer session, a clean exit.

The download-url step proves the whole chain the template build relies on: the mirror's
checksum file, parsed by provisioning.checksums, lets the simulator verify the mirror's image.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from proxmoxer import ProxmoxAPI, ResourceException
from proxmoxer.tools import Tasks

from solti.provisioning.checksums import find_image, parse_checksum_file, resolve_version

READY_TIMEOUT = 60


@dataclass
class Launched:
    process: subprocess.Popen[str]
    ready: dict[str, Any]


def _launch(*args: str) -> Launched:
    process = subprocess.Popen(
        [sys.executable, "-m", "solti.cli", "sim", "pve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(READY_TIMEOUT)
    if not lines or not lines[0]:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"no JSON line from solti sim pve; stderr:\n{stderr}")
    return Launched(process, json.loads(lines[0]))


def _terminate(launched: Launched, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
    launched.process.send_signal(sig)
    stdout, stderr = launched.process.communicate(timeout=30)
    return launched.process.returncode, stdout, stderr


@pytest.fixture(scope="module")
def launched() -> Iterator[Launched]:
    launched = _launch("--fail-next-task", "download=injected by the launcher test")
    yield launched
    if launched.process.poll() is None:
        launched.process.kill()
        launched.process.communicate()


def _client(env: dict[str, str]) -> ProxmoxAPI:
    url = urlsplit(env["PROXMOX_URL"])
    user, _, token_name = env["PROXMOX_TOKEN_ID"].partition("!")
    return ProxmoxAPI(
        url.hostname,
        port=url.port,
        user=user,
        token_name=token_name,
        token_value=env["PROXMOX_TOKEN_SECRET"],
        verify_ssl=env["PROXMOX_CA_BUNDLE"],
        backend="https",
        timeout=10,
    )


def _wait_task(api: ProxmoxAPI, upid: str) -> dict[str, Any]:
    status = Tasks.blocking_status(api, upid, timeout=30, polling_interval=0.05)
    if status is None:
        pytest.fail(f"task {upid} did not stop")
    return dict(status)


def test_json_line_carries_the_contract(launched: Launched) -> None:
    ready = launched.ready
    assert set(ready) == {"url", "env"}
    assert ready["url"].startswith("https://127.0.0.1:")
    env = ready["env"]
    assert env["PROXMOX_URL"] == ready["url"]
    assert env["PROXMOX_TOKEN_ID"] == "root@pam!solti"
    assert env["PROXMOX_VERIFY_SSL"] == "true"
    assert Path(env["PROXMOX_CA_BUNDLE"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    policy = yaml.safe_load(Path(env["SOLTI_CONFIG"]).read_text())
    assert "rocky9" in policy["distributions"]


def test_proxmoxer_reads_version(launched: Launched) -> None:
    version = _client(launched.ready["env"]).version.get()
    assert version["version"].startswith("9.")


def test_download_url_verified_with_the_mirror_checksum(launched: Launched) -> None:
    env = launched.ready["env"]
    entry = yaml.safe_load(Path(env["SOLTI_CONFIG"]).read_text())["distributions"]["rocky9"]
    text = requests.get(entry["checksum_url"], timeout=10).text
    parsed = parse_checksum_file(text, source=entry["checksum_url"])
    line = find_image(parsed, entry["image_url"], entry["checksum_algorithm"])
    assert resolve_version(parsed, line) == "9.7-20251123.2"

    api = _client(env)
    node = api.nodes.get()[0]["node"]
    filename = Path(urlsplit(entry["image_url"]).path).name
    params = {
        "url": entry["image_url"],
        "content": "import",
        "filename": filename,
        "checksum": line.hexdigest,
        "checksum-algorithm": line.algorithm,
    }
    storage = api.nodes(node).storage("local")
    # The launcher's --fail-next-task flag makes the first download fail with our text.
    failed = _wait_task(api, storage("download-url").post(**params))
    assert "injected by the launcher test" in failed["exitstatus"]

    done = _wait_task(api, storage("download-url").post(**params))
    assert done["exitstatus"] == "OK"
    volids = {item["volid"] for item in storage.content.get(content="import")}
    assert f"local:import/{filename}" in volids

    # A wrong digest of the right length is caught by the simulator, as PVE does.
    wrong = dict(params, filename="other.qcow2", checksum="0" * 64)
    mismatch = _wait_task(api, storage("download-url").post(**wrong))
    assert "checksum mismatch" in mismatch["exitstatus"]


def test_sigterm_exits_zero_without_traceback() -> None:
    launched = _launch()
    config = Path(launched.ready["env"]["SOLTI_CONFIG"])
    assert config.exists()
    code, stdout, stderr = _terminate(launched)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert stdout == ""  # nothing after the one JSON line
    assert not config.exists()  # the temporary policy directory is cleaned up
    with pytest.raises(requests.ConnectionError):
        requests.get(launched.ready["url"], verify=False, timeout=5)


def test_sigint_also_exits_zero() -> None:
    launched = _launch("--nodes", "3", "--shared-storage", "--latency", "0.01")
    try:
        nodes = _client(launched.ready["env"]).nodes.get()
        assert len(nodes) == 3
    finally:
        code, _, stderr = _terminate(launched, signal.SIGINT)
    assert code == 0, stderr
    assert "Traceback" not in stderr


def test_fault_flags_arm_errors_drops_agent_and_acpi() -> None:
    launched = _launch(
        "--http-errors", "2", "--drop-connections", "1", "--agent-boot", "never", "--ignore-acpi"
    )
    env = launched.ready["env"]
    url = launched.ready["url"]
    try:
        api = _client(env)
        ca = env["PROXMOX_CA_BUNDLE"]
        token = f"PVEAPIToken={env['PROXMOX_TOKEN_ID']}={env['PROXMOX_TOKEN_SECRET']}"

        def version() -> int:
            headers = {"Authorization": token}
            return requests.get(f"{url}/api2/json/version", headers=headers, verify=ca, timeout=10)

        # Rules are consumed in the order they were armed: two 500s, then one dropped socket.
        assert [version().status_code, version().status_code] == [500, 500]
        with pytest.raises(requests.ConnectionError):
            version()
        assert version().status_code == 200
        assert api.version.get()["release"]
        node = api.nodes.get()[0]["node"]
        _wait_task(api, api.nodes(node).qemu.post(vmid=100, agent=1, name="flags"))
        _wait_task(api, api.nodes(node).qemu(100).status.start.post())
        # Simulated time: ten minutes after start the agent of a "never" image is still down.
        requests.post(f"{url}/_sim/clock", json={"freeze": True}, verify=False, timeout=10)
        requests.post(f"{url}/_sim/clock", json={"advance": 600}, verify=False, timeout=10)
        with pytest.raises(ResourceException, match="QEMU guest agent is not running"):
            api.nodes(node).qemu(100).agent("network-get-interfaces").get()
        upid = api.nodes(node).qemu(100).status.shutdown.post(timeout=5)
        requests.post(f"{url}/_sim/clock", json={"advance": 10}, verify=False, timeout=10)
        assert api.nodes(node).qemu(100).status.current.get()["status"] == "running"
        assert _wait_task(api, upid)["exitstatus"] == "VM quit/powerdown failed - got timeout"
    finally:
        code, _, stderr = _terminate(launched)
    assert code == 0, stderr
