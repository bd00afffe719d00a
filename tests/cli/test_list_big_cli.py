"""`solti vm list` of a long list: every VM, as plain padded columns (rich takes seconds)."""

from __future__ import annotations

from pathlib import Path

from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti


def test_a_list_longer_than_the_rich_table_limit_prints_every_vm(tmp_path: Path) -> None:
    with SimEnvironment(nodes=2) as world:
        for i in range(600):
            world.pve.state.add_vm(2000 + i, f"many-{i}", node=("pve", "pve2")[i % 2])
        env = {**world.env, "SOLTI_DB": str(tmp_path / "solti.db"), "USER": "ops"}
        result = solti(env, "vm", "list")
        requests = [r for r in world.pve.requests if r.path.endswith("/cluster/resources")]
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "VMs" and lines[1].split()[:4] == ["vmid", "name", "node", "status"]
    assert set(lines[2].replace(" ", "")) == {"-"}
    rows = lines[3:]
    assert len(rows) == 600 and rows[0].split()[:3] == ["2000", "many-0", "pve"]
    assert rows[-1].split()[:3] == ["2599", "many-599", "pve2"]
    assert len(requests) == 1
