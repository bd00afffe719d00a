"""PVE's refusals of a clone to another node, decided from facts the plan already has.

qemu-server ``src/PVE/API2/Qemu.pm`` ``clone_vm``: with ``target`` another node, a target
``storage`` must be shared ("can't clone to non-shared storage 'Y'"), and any volume of the
source (disks, CD-ROMs, the cloud-init drive) on local storage makes the VM "local"
(``$check_storage_access_clone``): "can't clone VM to node 'X' (VM uses local storage)",
even when the target storage is shared. A shared storage serves only the nodes it is enabled
on (storage.cfg ``nodes``; pve-storage ``storage_check_enabled``), which is also where
``/cluster/resources`` lists it (pve-manager ``PVE/API2/Cluster.pm`` ``resources``), so a
clone there would be made but could never start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["StorageFacts", "clone_refusal", "storage_facts"]


@dataclass(frozen=True)
class StorageFacts:
    """One storage: shared or not, and the nodes it is enabled on (its storage rows)."""

    shared: bool
    nodes: frozenset[str]


def storage_facts(rows: Iterable[Mapping[str, Any]]) -> dict[str, StorageFacts]:
    """The ``type: storage`` rows of ``/cluster/resources`` folded per storage."""
    shared: dict[str, bool] = {}
    nodes: dict[str, set[str]] = {}
    for r in rows:
        if r.get("type") != "storage" or not r.get("storage"):
            continue
        sid = str(r["storage"])
        shared[sid] = shared.get(sid, False) or r.get("shared") in (1, "1", True)
        nodes.setdefault(sid, set()).add(str(r.get("node", "")))
    return {sid: StorageFacts(shared[sid], frozenset(nodes[sid])) for sid in shared}


def clone_refusal(
    template_node: str,
    volume_storages: Iterable[str],
    storages: Mapping[str, StorageFacts],
    node: str,
    target_storage: str | None = None,
) -> str | None:
    """Why a clone of a template on ``template_node`` cannot go to ``node`` (None: it can).

    The text starts with PVE's own words where PVE would refuse, then names the storage.
    """
    if node == template_node:
        return None
    if target_storage is not None:
        facts = storages.get(target_storage)
        if facts is None or not facts.shared:
            return f"can't clone to non-shared storage '{target_storage}'"
        if node not in facts.nodes:
            return f"storage {target_storage} is not enabled on {node}"
    for sid in sorted(set(volume_storages)):
        facts = storages.get(sid)
        if facts is None or not facts.shared:
            return (
                f"can't clone VM to node '{node}' (VM uses local storage): its disks are on "
                f"{sid}, local storage of {template_node}"
            )
        if node not in facts.nodes:
            return f"its disks are on {sid}, shared storage not enabled on {node}"
    return None
