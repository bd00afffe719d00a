"""An offline node is never chosen, `--node` of one is refused, and lists say which VMs are on it.

The simulator's offline node is PVE's (``POST /_sim/faults {"node_offline": "pve2"}``):
``status: offline`` in ``/cluster/resources`` (pve-manager ``PVE/API2Tools.pm``
``extract_node_stats``) and HTTP 595 for any request proxied to it, so a plan or a list that
sent one there would fail instead of saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.errors import InvalidRequest
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti


@pytest.fixture(scope="module")
def shared3() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=3, shared_storage=True) as env:
        yield env


@pytest.fixture
def world(shared3: SimEnvironment) -> Iterator[SimEnvironment]:
    shared3.reset()
    shared3.pve.state.add_template(9000, "rocky9-template", storage="shared",
                                   tags=["solti", "template", "rocky9"])  # fmt: skip
    yield shared3
    shared3.reset()


def _provisioner(world: SimEnvironment, tmp_path: Path) -> Provisioner:
    settings = ProxmoxSettings.from_env(world.env)
    return Provisioner.from_settings(settings, load_policy(world.config_path), tmp_path / "a.db")


def _offline(world: SimEnvironment, node: str) -> None:
    answer = requests.post(f"{world.pve.url}/_sim/faults", json={"node_offline": node},
                           verify=world.pve.ca_path, timeout=5)  # fmt: skip
    assert answer.status_code == 200, answer.text


def test_an_offline_node_is_never_chosen(
    world: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    p = _provisioner(world, tmp_path)
    _offline(world, "pve2")
    nodes = [p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}).vm.node for _ in range(4)]
    assert "pve2" not in nodes and set(nodes) == {"pve", "pve3"}
    assert not [r for r in world.pve.requests if r.path.startswith("/nodes/pve2/")]


def test_asking_for_an_offline_node_is_refused_before_anything(
    world: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    p = _provisioner(world, tmp_path)
    _offline(world, "pve3")
    start = len(world.pve.requests)
    with pytest.raises(InvalidRequest) as refused:
        p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key], "node": "pve3"})
    assert str(refused.value) == (
        "node: 'pve3' is offline (status 'offline' in /cluster/resources); online nodes: pve, "
        "pve2, or leave --node out and let Solti choose"
    )
    assert [r for r in world.pve.requests[start:] if r.method != "GET"] == []


def test_the_cli_refuses_it_with_the_sentence_and_exit_1(
    world: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    env = {**world.env, "SOLTI_DB": str(tmp_path / "cli.db")}
    _offline(world, "pve2")
    done = solti(env, "vm", "create", "rocky9", "--ssh-key", ssh_key, "--node", "pve2")
    assert done.exit_code == 1
    assert "node: 'pve2' is offline (status 'offline' in /cluster/resources)" in done.output
    assert "Traceback" not in done.output
    assert not [r for r in world.pve.requests if r.method == "POST" and "clone" in r.path]


def test_lists_say_which_vms_are_on_an_offline_node(
    world: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    p = _provisioner(world, tmp_path)
    made = p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key], "node": "pve2"}).vm
    world.pve.state.add_vm(700, "elsewhere", node="pve3", running=True, tags=["solti"])
    fresh = p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key], "node": "pve"}).vm
    _offline(world, "pve2")  # both new VMs are bare in the RRD cache: names from live lists
    listed = {vm.vmid: vm for vm in p.list_vms(addresses=True)}
    assert listed[made.vmid].note == "node pve2 is offline"
    assert listed[made.vmid].name == made.name
    assert listed[700].note is None and listed[fresh.vmid].note is None
    assert listed[fresh.vmid].name == fresh.name
    env = {**world.env, "SOLTI_DB": str(tmp_path / "a.db"), "COLUMNS": "200"}
    done = solti(env, "vm", "list")
    assert done.exit_code == 0, done.output
    line = next(x for x in done.output.splitlines() if f" {made.vmid} " in x)
    assert "node pve2 is offline" in line
    assert not [r for r in world.pve.requests if r.path.startswith("/nodes/pve2/")
                and r.status == 595]  # fmt: skip
