"""SimEnvironment in process: mirror + simulator + policy file, wired for `solti`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from proxmoxer.tools import Tasks

from solti.provisioning.catalog import Catalog
from solti.sandbox.environment import SimEnvironment


def test_env_points_solti_at_the_simulator_and_mirror(tmp_path: Path) -> None:
    policy = {"distributions": {"rocky9": {"tags": ["lab"]}}, "admins": ["U1"]}
    with SimEnvironment(nodes=2, workdir=tmp_path, policy=policy) as world:
        env = world.env
        assert set(env) == {
            "PROXMOX_URL",
            "PROXMOX_TOKEN_ID",
            "PROXMOX_TOKEN_SECRET",
            "PROXMOX_VERIFY_SSL",
            "PROXMOX_CA_BUNDLE",
            "SOLTI_CONFIG",
        }
        assert env["PROXMOX_URL"] == world.pve.url
        assert Path(env["SOLTI_CONFIG"]) == tmp_path / "policy.yaml"
        written = yaml.safe_load(world.config_path.read_text())
        assert written["admins"] == ["U1"]
        rocky = written["distributions"]["rocky9"]
        assert rocky["tags"] == ["lab"]
        assert rocky["image_url"].startswith(world.mirror.url)
        catalog = Catalog.load(written["distributions"])
        assert catalog.get("debian13").checksum_url == world.mirror.checksum_url("debian13")
        assert len(world.pve.client().nodes.get()) == 2
    # A caller's workdir is left in place; the servers are gone.
    assert (tmp_path / "policy.yaml").exists()
    assert world.pve is None


def test_simulator_downloads_from_the_mirror_in_process() -> None:
    with SimEnvironment() as world:
        image = world.mirror.image_bytes("ubuntu2404")
        api = world.pve.client()
        node = api.nodes.get()[0]["node"]
        upid = (
            api.nodes(node)
            .storage("local")("download-url")
            .post(
                url=world.mirror.image_url("ubuntu2404"),
                content="import",
                filename="noble-server-cloudimg-amd64.qcow2",
                checksum=hashlib.sha256(image).hexdigest(),
                **{"checksum-algorithm": "sha256"},
            )
        )
        status = Tasks.blocking_status(api, upid, timeout=30, polling_interval=0.05)
        assert status and status["exitstatus"] == "OK", status
        # import-from sizes the disk from the mirror image's qcow2 header (2 GiB for Ubuntu).
        upid = api.nodes(node).qemu.post(
            vmid=9000,
            scsi0="local-lvm:0,import-from=local:import/noble-server-cloudimg-amd64.qcow2",
        )
        assert Tasks.blocking_status(api, upid, timeout=30, polling_interval=0.05)
        assert "size=2G" in api.nodes(node).qemu(9000).config.get()["scsi0"]
        workdir = world.workdir
    assert not workdir.exists()
    assert [r.path for r in world.mirror.downloads("ubuntu2404")] == [
        "/ubuntu/noble/current/noble-server-cloudimg-amd64.img"
    ]
