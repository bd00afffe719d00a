"""`solti sim pve --offline / --node-memory / --storage-nodes`: parsed, refused, served."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from proxmoxer import ProxmoxAPI, ResourceException

from solti.sandbox.launcher import pve_command

GIB = 1024**3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--nodes", "2", "--offline", "pve3"],
            "no node 'pve3' in this cluster (nodes: pve, pve2)",
        ),
        (["--nodes", "2", "--offline", "pve", "--offline", "pve2"], "every node would be offline"),
        (["--node-memory", "pve=lots"], "'lots' is not a number of GiB (for node pve)"),
        (["--node-memory", "pve=2"], "more than 4 (the host's own use) up to 16384"),
        (["--node-memory", "pve2=64"], "no node 'pve2' in this cluster (nodes: pve)"),
        (["--node-memory", "pve"], "expected TYPE=VALUE"),
        (["--storage-nodes", "shared=pve"], "no storage 'shared' (storages: local, local-lvm)"),
        (["--storage-nodes", "local-lvm=pve9"], "no node 'pve9' in this cluster"),
    ],
)
def test_bad_node_options_are_one_sentence_and_start_nothing(args: list[str], message: str) -> None:
    result = CliRunner().invoke(pve_command, args)
    assert result.exit_code == 2
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert '"url"' not in result.output


def test_the_launched_simulator_has_the_nodes_it_was_given() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "solti.cli",
            "sim",
            "pve",
            "--port",
            "0",
            "--nodes",
            "3",
            "--shared-storage",
            "--offline",
            "pve3",
            "--node-memory",
            "pve=64,pve2=16",
            "--storage-nodes",
            "shared=pve,pve2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))
        reader.start()
        reader.join(60)
        assert lines and lines[0], process.stderr.read() if process.poll() is not None else ""
        env = json.loads(lines[0])["env"]
        url = urlsplit(env["PROXMOX_URL"])
        user, _, token_name = env["PROXMOX_TOKEN_ID"].partition("!")
        api = ProxmoxAPI(
            url.hostname,
            port=url.port,
            user=user,
            token_name=token_name,
            token_value=env["PROXMOX_TOKEN_SECRET"],
            verify_ssl=env["PROXMOX_CA_BUNDLE"],
            backend="https",
        )
        nodes = {r["node"]: r for r in api.cluster.resources.get(type="node")}
        assert {n: r["status"] for n, r in nodes.items()} == {
            "pve": "online",
            "pve2": "online",
            "pve3": "offline",
        }
        assert (nodes["pve"]["maxmem"], nodes["pve2"]["maxmem"]) == (64 * GIB, 16 * GIB)
        every = {r["node"] for r in api.cluster.resources.get(type="storage")}
        assert every == {"pve", "pve2", "pve3"}
        shared = {
            r["node"] for r in api.cluster.resources.get(type="storage") if r["storage"] == "shared"
        }
        assert shared == {"pve", "pve2"}
        with pytest.raises(ResourceException) as info:
            api.nodes("pve3").qemu.get()
        assert info.value.status_code == 595
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in stderr
