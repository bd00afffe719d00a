"""Which node a new VM goes to: decided from one ``/cluster/resources`` snapshot, no I/O here.

The facts come from the rows the plan already reads (pve-manager ``PVE/API2/Cluster.pm``
``resources``): ``type: node`` rows (``status``, ``mem``, ``maxmem``), ``type: storage`` rows
(one per node where the storage is enabled, ``storage_check_enabled``; ``shared``) and the VM
rows (the live ``solti`` tag). Which node can take a clone of a template follows qemu-server
``src/PVE/API2/Qemu.pm`` ``clone_vm``: with ``target`` another node, every volume of the
template must be on shared storage (``$check_storage_access_clone``; otherwise "can't clone VM
to node 'X' (VM uses local storage)"), and a target ``storage`` must be shared. A shared
storage serves only the nodes it is enabled on (storage.cfg ``nodes``), so those are the nodes
a shared template reaches; a template on local storage reaches its own node only, and a
cluster on local storage needs a copy of the template per node.

The policy (``placement`` in the policy file, ``fleet_policy.PlacementPolicy``) picks among
the nodes that can take the VM: ``most-free-memory`` (the most free memory after this VM),
``spread`` (fewest solti VMs) or ``fixed`` (the template's node), within ``placement.nodes``
and outside ``placement.exclude``. An offline node is never chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from solti.provisioning.cross_node import StorageFacts, clone_refusal, storage_facts
from solti.provisioning.errors import InvalidRequest

__all__ = [
    "Choice",
    "NodeFacts",
    "Reach",
    "check_asked_node",
    "choose_node",
    "gib",
    "keep_shown",
    "node_facts",
    "reach_of",
    "shown_refusal",
    "solti_vm_counts",
    "storage_facts",
    "with_planned",
]

MIB = 1024**2
GIB = 1024**3


@dataclass(frozen=True)
class NodeFacts:
    """A ``/cluster/resources`` node row: status and memory (bytes) as pvestatd reported it."""

    name: str
    status: str
    mem: int = 0
    maxmem: int = 0

    @property
    def online(self) -> bool:
        return self.status == "online"

    def free_after(self, memory_mib: int) -> int:
        """Free memory in bytes once a VM of ``memory_mib`` runs here (may be negative)."""
        return self.maxmem - self.mem - memory_mib * MIB


@dataclass(frozen=True)
class Reach:
    """Where a template can be cloned to: node -> None (it can) or why not (a sentence part)."""

    why_not: Mapping[str, str | None]

    def nodes(self) -> list[str]:
        return [n for n, why in self.why_not.items() if why is None]


@dataclass(frozen=True)
class Choice:
    """The chosen node and why, as people read it in the plan ("pve2: 41 GiB free of 64")."""

    node: str
    reason: str


def gib(amount: int) -> str:
    """Bytes as GiB for people: whole numbers, one decimal below 10."""
    value = amount / GIB
    return f"{value:.1f}".removesuffix(".0") if abs(value) < 10 else f"{value:.0f}"


def node_facts(rows: Iterable[Mapping[str, Any]]) -> dict[str, NodeFacts]:
    """The ``type: node`` rows by name."""
    return {
        str(r["node"]): NodeFacts(
            name=str(r["node"]),
            status=str(r.get("status") or "unknown"),
            mem=int(r.get("mem") or 0),
            maxmem=int(r.get("maxmem") or 0),
        )
        for r in rows
        if r.get("type") == "node" and r.get("node")
    }


def with_planned(
    nodes: Mapping[str, NodeFacts], planned: Iterable[tuple[str, int]]
) -> dict[str, NodeFacts]:
    """Node facts with the memory (MiB) of VMs planned but not made yet added to ``mem``."""
    extra: dict[str, int] = {}
    for node, memory in planned:
        extra[node] = extra.get(node, 0) + memory * MIB
    return {
        n: NodeFacts(f.name, f.status, f.mem + extra.get(n, 0), f.maxmem) if n in extra else f
        for n, f in nodes.items()
    }


def solti_vm_counts(
    vm_rows: Iterable[Mapping[str, Any]],
    solti_tag: str = "solti",
    planned: Iterable[tuple[str, int]] = (),
) -> dict[str, int]:
    """Solti's VMs (not templates) per node, from the live ``tags`` of the VM rows, plus
    those ``planned`` (node, memory) and not made yet."""
    counts: dict[str, int] = {}
    for node, _memory in planned:
        counts[node] = counts.get(node, 0) + 1
    for r in vm_rows:
        tags = str(r.get("tags") or "").replace(",", ";").split(";")
        if solti_tag in tags and "template" not in tags and r.get("template") not in (1, "1"):
            node = str(r.get("node", ""))
            counts[node] = counts.get(node, 0) + 1
    return counts


def reach_of(
    template_node: str,
    volume_storages: Iterable[str],
    storages: Mapping[str, StorageFacts],
    nodes: Iterable[str],
    target_storage: str | None = None,
) -> Reach:
    """PVE's ``clone_vm`` rules (``cross_node``) for every node: can a clone go there?"""
    volumes = sorted(set(volume_storages))
    return Reach(
        {n: clone_refusal(template_node, volumes, storages, n, target_storage) for n in nodes}
    )


def _offline_text(facts: NodeFacts) -> str:
    return f"offline (status {facts.status!r} in /cluster/resources)"


def check_asked_node(
    asked: str,
    nodes: Mapping[str, NodeFacts],
    reach: Reach,
    *,
    template_label: str,
    fix: str,
    policy: Any = None,
) -> Choice:
    """``--node NODE`` checked before anything changes: one sentence for each mistake."""
    if asked not in nodes:
        known = ", ".join(sorted(nodes)) or "none"
        raise InvalidRequest(
            f"{asked!r} is not a node of this cluster; nodes: {known}", field="node"
        )
    facts = nodes[asked]
    if not facts.online:
        online = ", ".join(n for n in sorted(nodes) if nodes[n].online) or "none"
        raise InvalidRequest(
            f"{asked!r} is {_offline_text(facts)}; online nodes: {online}, "
            "or leave --node out and let Solti choose",
            field="node",
        )
    if policy is not None and policy.nodes and asked not in policy.nodes:
        raise InvalidRequest(
            f"{asked!r} is not in placement.nodes ({', '.join(policy.nodes)}) of the policy",
            field="node",
        )
    if policy is not None and asked in policy.exclude:
        raise InvalidRequest(f"{asked!r} is excluded by placement.exclude", field="node")
    why = reach.why_not.get(asked)
    if why is not None:
        raise InvalidRequest(
            f"{template_label} cannot be cloned to {asked}: {why}; {fix}", field="node"
        )
    return Choice(asked, f"{asked}: asked for with --node")


def choose_node(
    policy: Any,
    nodes: Mapping[str, NodeFacts],
    reach: Reach,
    *,
    template_node: str,
    memory_mib: int,
    solti_vms: Mapping[str, int],
    template_label: str,
) -> Choice:
    """The node a create without ``--node`` goes to, by ``placement.strategy``, and why."""
    allowed = [n for n in sorted(nodes) if _allowed(policy, n)]
    online = [n for n in allowed if nodes[n].online]
    able = [n for n in online if reach.why_not.get(n, "unknown") is None]
    if not able:
        raise InvalidRequest(_nobody(policy, nodes, reach, template_label), field="node")
    strategy = policy.strategy
    if strategy == "fixed":
        if template_node not in able:
            raise InvalidRequest(
                f"placement.strategy is fixed and the template's node {template_node} "
                f"cannot take the VM: {_nobody(policy, nodes, reach, template_label)}",
                field="node",
            )
        return Choice(template_node, f"{template_node}: the template's node (placement fixed)")
    # Free memory to the GiB, then fewer solti VMs: node rows lag ~10 s behind (pvestatd), the
    # live tags do not, so creates seconds apart on equal nodes still spread.
    by_memory = sorted(
        able, key=lambda n: (-(nodes[n].free_after(memory_mib) // GIB), solti_vms.get(n, 0), n)
    )
    of = f"of {len(able)} nodes that can take it" if len(able) > 1 else "of 1 node that can take it"
    # Without Sys.Audit on /nodes/NODE, PVE leaves a node row's memory out (pve-manager
    # ``resources``: ``extract_node_stats(..., !$can_audit)``): spread is all that is left.
    hidden = all(nodes[n].maxmem <= 0 for n in able)
    if strategy == "spread" or hidden:
        chosen = min(by_memory, key=lambda n: solti_vms.get(n, 0))  # ties: most free memory
        count = solti_vms.get(chosen, 0)
        vms = "solti VM" if count == 1 else "solti VMs"
        why = "placement spread" if strategy == "spread" else (
            "node memory is hidden from the token: grant Sys.Audit on /nodes to place by memory"
        )  # fmt: skip
        return Choice(chosen, f"{chosen}: {count} {vms}, the fewest {of} ({why})")
    chosen = by_memory[0]
    facts = nodes[chosen]
    free = f"{gib(facts.free_after(memory_mib))} GiB free of {gib(facts.maxmem)}"
    bucket = facts.free_after(memory_mib) // GIB
    tied = [n for n in by_memory[1:] if nodes[n].free_after(memory_mib) // GIB == bucket]
    tie = f" (as much as {', '.join(tied)}; fewer solti VMs)" if tied else ""
    if len(able) == 1:
        return Choice(chosen, f"{chosen}: {free} after this VM; the only node that can take it")
    return Choice(chosen, f"{chosen}: {free} after this VM, the most {of}{tie}")


def shown_refusal(
    shown: str,
    nodes: Mapping[str, NodeFacts],
    reach: Reach,
    policy: Any,
    *,
    template_node: str,
) -> str | None:
    """Why the node a person was shown earlier (a dry run) cannot take the VM now; None: it
    can. The rules are ``choose_node``'s: a node of the cluster, allowed by ``placement.nodes``
    and ``placement.exclude``, online, reached by the template or a copy (``reach``), and the
    template's node under ``placement.strategy: fixed``. Memory is not a rule: placement
    ranks by it and never refuses a node for it."""
    if shown not in nodes:
        return f"{shown} is no longer a node of this cluster"
    if not _allowed(policy, shown):
        key = "placement.exclude" if shown in policy.exclude else "not in placement.nodes"
        return f"{shown} is now excluded by the policy ({key})"
    facts = nodes[shown]
    if not facts.online:
        return f"{shown} is offline now, status {facts.status!r} in /cluster/resources"
    why = reach.why_not.get(shown, "unknown")
    if why is not None:
        return f"{shown} cannot take a clone of the template now: {why}"
    if policy.strategy == "fixed" and shown != template_node:
        return f"placement.strategy is fixed, so the template's node {template_node} takes it"
    return None


def keep_shown(shown: str, nodes: Mapping[str, NodeFacts], memory_mib: int) -> Choice:
    """The node a person was shown, kept (``shown_refusal`` found nothing against it)."""
    facts = nodes[shown]
    if facts.maxmem <= 0:
        return Choice(shown, f"{shown}: as shown before, and still able to take it")
    free = f"{gib(facts.free_after(memory_mib))} GiB free of {gib(facts.maxmem)} after this VM"
    return Choice(shown, f"{shown}: as shown before, and still able to take it; {free}")


def _allowed(policy: Any, node: str) -> bool:
    return (not policy.nodes or node in policy.nodes) and node not in policy.exclude


def _nobody(policy: Any, nodes: Mapping[str, NodeFacts], reach: Reach, label: str) -> str:
    """Why no node can take the VM: each node and its reason, in one sentence."""
    parts = []
    for n in sorted(nodes):
        if not _allowed(policy, n):
            key = "placement.exclude" if n in policy.exclude else "not in placement.nodes"
            parts.append(f"{n} ({key})")
        elif not nodes[n].online:
            parts.append(f"{n} ({_offline_text(nodes[n])})")
        elif reach.why_not.get(n) is not None:
            parts.append(f"{n} ({reach.why_not[n]})")
    listed = "; ".join(parts) if parts else "the cluster lists no nodes"
    return f"no node can take a clone of {label}: {listed}"
