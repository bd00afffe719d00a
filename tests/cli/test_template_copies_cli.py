"""`solti template build DISTRO --all-nodes`, copies in `template list`, `destroy --all-copies`
(issue 14, "Templates on many nodes"), against a 3-node simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.provisioning.notes import parse_notes
from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti


@pytest.fixture(scope="module")
def local() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=3) as env:
        yield env


@pytest.fixture(scope="module")
def shared() -> Iterator[SimEnvironment]:
    policy = {"defaults": {"template_storage": "shared"}}
    with SimEnvironment(nodes=3, shared_storage=True, policy=policy) as env:
        yield env


def _env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    world.reset()
    return {**world.env, "SOLTI_DB": str(tmp_path / "solti.db"), "USER": "ops"}


def _templates(world: SimEnvironment) -> dict[int, tuple[str, dict]]:
    return {
        g.vmid: (g.node, parse_notes(g.conf.get("description")))
        for g in world.pve.state.guests.values()
        if g.is_template
    }


def test_all_nodes_on_local_storage_builds_a_copy_per_node_from_one_checksum(
    local: SimEnvironment, tmp_path: Path
) -> None:
    env = _env(local, tmp_path)
    result = solti(env, "template", "build", "rocky9", "--all-nodes", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"] == "3 of 3 copies built"
    assert sorted(c["node"] for c in report["copies"]) == ["pve", "pve2", "pve3"]
    built = _templates(local)
    assert sorted(node for node, _ in built.values()) == ["pve", "pve2", "pve3"]
    assert all(9000 <= vmid <= 9999 for vmid in built)
    notes = [meta for _, meta in built.values()]
    assert len({m["checksum"] for m in notes}) == 1 and len({m["version"] for m in notes}) == 1
    assert {m["build"] for m in notes} == {report["build"]}
    assert sorted(m["copy"] for m in notes) == ["1 of 3 (pve)", "2 of 3 (pve2)", "3 of 3 (pve3)"]
    # `template list` shows the build once, with its copies together.
    listed = solti(env, "template", "list")
    assert listed.exit_code == 0
    row = next(line for line in listed.stdout.splitlines() if "rocky9" in line)
    assert "pve, pve2, pve3" in row
    assert sum("rocky9-template" in line for line in listed.stdout.splitlines()) == 1
    as_json = json.loads(solti(env, "template", "list", "--json").stdout)
    assert len(as_json) == 3  # scripts still get one entry per template


def test_destroy_names_the_copies_and_all_copies_removes_them(
    local: SimEnvironment, tmp_path: Path
) -> None:
    env = _env(local, tmp_path)
    assert solti(env, "template", "build", "rocky9", "--all-nodes").exit_code == 0
    first, *others = sorted(_templates(local))
    one = solti(env, "template", "destroy", str(first), "--yes")
    assert one.exit_code == 0 and f"template {first} destroyed" in one.stdout
    assert sorted(_templates(local)) == others
    alone = solti(env, "template", "destroy", str(others[0]), "--all-copies", "--yes", "--json")
    assert alone.exit_code == 0, alone.output
    assert sorted(d["vmid"] for d in json.loads(alone.stdout)) == others
    assert _templates(local) == {}


def test_all_nodes_with_shared_template_storage_builds_one(
    shared: SimEnvironment, tmp_path: Path
) -> None:
    env = _env(shared, tmp_path)
    result = solti(env, "template", "build", "rocky9", "--all-nodes", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"] == "one template on shared storage 'shared' serves every node"
    built = _templates(shared)
    assert len(built) == 1
    ((_node, meta),) = built.values()
    assert "copy" not in meta


def test_all_nodes_with_node_or_all_is_a_usage_error(local: SimEnvironment, tmp_path: Path):
    env = _env(local, tmp_path)
    result = solti(env, "template", "build", "rocky9", "--all-nodes", "--node", "pve2")
    assert result.exit_code == 2 and "drop --all and --node" in result.output
    assert _templates(local) == {}
