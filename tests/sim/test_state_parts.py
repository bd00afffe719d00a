"""The cluster model's shape: records in a leaf module, parts that own their state, a reset
that rebuilds the parts in place."""

from __future__ import annotations

import ast
from pathlib import Path

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.state import Cluster
from solti.sandbox.pve.state import records as records_module

STATE_DIR = Path(records_module.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_records_import_nothing_of_the_model() -> None:
    assert not {m for m in _imports(STATE_DIR / "records.py") if m.startswith("solti")}


def test_no_part_is_a_mixin_or_imports_the_cluster() -> None:
    for path in STATE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        assert not [c.name for c in classes if c.name.endswith("Mixin")], path.name
        if path.name not in ("cluster.py", "__init__.py"):
            assert "solti.sandbox.pve.state.cluster" not in _imports(path), path.name


def test_reset_rebuilds_the_parts_and_keeps_lock_time_and_policy() -> None:
    cluster = Cluster(nodes=2)
    mutex, policy = cluster.mutex, cluster.policy
    cluster.advance(123.0)
    cluster.add_vm(500, "web", running=True)
    cluster.add_import_image("noble.qcow2", b"QFI\xfb")
    cluster.revoke_token_privileges("/", "VM.Audit")
    cluster.remove_interface("pve2", "vmbr0")
    cluster.set_next_id(lower=700)
    cluster.rrd_lag = 0
    cluster.reset()
    assert cluster.mutex is mutex and cluster.policy is policy and cluster.now == 123.0
    assert not cluster.guests and cluster.storages.volumes_of(500) == []
    assert cluster.storages.content("pve", "local", "import", None) == []
    assert "VM.Audit" in cluster.access.permissions_for("/")["/"]
    assert [r["iface"] for r in cluster.network.interfaces("pve2")] == ["eno1", "vmbr0"]
    assert cluster.options() == {} and cluster.guests.next_id() == "100"
    assert cluster.rrd_lag == 10


def test_guests_and_storages_are_read_only_mappings(pve: PveSimulator) -> None:
    pve.state.add_vm(500, "web")
    assert sorted(pve.state.guests) == [500] and 500 in pve.state.guests
    assert set(pve.state.storages) == {"local", "local-lvm", "shared"}
    assert not hasattr(pve.state.guests, "__setitem__")
    assert not hasattr(pve.state.storages, "__setitem__")
