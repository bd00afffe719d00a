"""The node a dry run showed, judged again at the form's submit (``placement.shown_refusal``,
``keep_shown``): kept by the rules ``choose_node`` applies, memory ranks but never refuses.

Rows as pve-manager ``PVE/API2/Cluster.pm`` ``resources`` gives them; the clone rule is
qemu-server ``API2/Qemu.pm`` ``clone_vm`` (local storage reaches the template's node only).
"""

from __future__ import annotations

from typing import Any

import pytest

from solti.provisioning.fleet_policy import PlacementPolicy
from solti.provisioning.placement import (
    GIB,
    keep_shown,
    node_facts,
    reach_of,
    shown_refusal,
    storage_facts,
)


def _node(name: str, used_gib: int, status: str = "online") -> dict[str, Any]:
    return {"type": "node", "node": name, "status": status, "mem": used_gib * GIB,
            "maxmem": 64 * GIB}  # fmt: skip


NODES = node_facts([_node("pve", 60), _node("pve2", 4), _node("pve3", 4, status="offline")])
SHARED = storage_facts(
    [{"type": "storage", "storage": "shared", "node": n, "shared": 1} for n in ("pve", "pve2")]
    + [{"type": "storage", "storage": "local-lvm", "node": n, "shared": 0}
       for n in ("pve", "pve2", "pve3")]
)  # fmt: skip
ON_SHARED = reach_of("pve", ["shared"], SHARED, NODES)
ON_LOCAL = reach_of("pve2", ["local-lvm"], SHARED, NODES)


@pytest.mark.parametrize(
    ("shown", "policy", "reach", "why"),
    [
        ("pve", {}, ON_SHARED, None),  # nearly full, still eligible: memory only ranks
        ("pve9", {}, ON_SHARED, "pve9 is no longer a node of this cluster"),
        ("pve3", {}, ON_SHARED, "pve3 is offline now, status 'offline' in /cluster/resources"),
        ("pve", {"exclude": ["pve"]}, ON_SHARED,
         "pve is now excluded by the policy (placement.exclude)"),
        ("pve", {"nodes": ["pve2"]}, ON_SHARED,
         "pve is now excluded by the policy (not in placement.nodes)"),
        ("pve", {"strategy": "fixed"}, ON_LOCAL, "pve cannot take a clone of the template now"),
        ("pve2", {"strategy": "fixed"}, ON_SHARED,
         "placement.strategy is fixed, so the template's node pve takes it"),
    ],
)  # fmt: skip
def test_shown_node_judged_by_the_placement_rules(
    shown: str, policy: dict[str, Any], reach: Any, why: str | None
) -> None:
    found = shown_refusal(shown, NODES, reach, PlacementPolicy(**policy), template_node="pve")
    if why is None:
        assert found is None
    else:
        assert found is not None and found.startswith(why), found


def test_the_kept_node_says_so_with_its_memory() -> None:
    kept = keep_shown("pve2", NODES, 2048)
    assert (kept.node, kept.reason) == (
        "pve2", "pve2: as shown before, and still able to take it; 58 GiB free of 64 after this VM"
    )  # fmt: skip
