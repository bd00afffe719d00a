"""``template build DISTRO --all-nodes``: a template every node can clone from.

PVE clones a template only on its own node when any of its volumes is on local storage
(qemu-server ``API2/Qemu.pm`` ``clone_vm``, ``$check_storage_access_clone``): a cluster on
local storage needs a copy per node. On shared storage one template serves every node where
the storage is enabled, so one is built. The copies come from one checksum answer (the same
image, the same version, even if upstream publishes a new one mid-build), are built in
parallel (each node downloads into its own import storage), each on its own VMID in
9000-9999 with notes saying which copy of which build it is (``build``, ``copy``). Each copy
is an ordinary build with its own audit record and request id ``{build}-{node}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import SoltiError
from solti.provisioning.models import Progress, TemplateBuildRequest, TemplateBuildResult
from solti.provisioning.template_build import build_template
from solti.provisioning.upstream import fetch_upstream

__all__ = ["CopiesResult", "CopyItem", "build_copies", "copy_nodes"]


@dataclass
class CopyItem:
    index: int
    node: str
    result: TemplateBuildResult | None = None
    error: str | None = None


@dataclass
class CopiesResult:
    build: str
    items: list[CopyItem] = field(default_factory=list)
    # Why one template was built for all nodes (shared storage), when it was.
    shared_storage: str | None = None

    @property
    def failed(self) -> list[CopyItem]:
        return [i for i in self.items if i.error is not None]

    def summary(self) -> str:
        made = len(self.items) - len(self.failed)
        if self.shared_storage:
            return f"one template on shared storage '{self.shared_storage}' serves every node"
        line = f"{made} of {len(self.items)} copies built"
        if self.failed:
            line += "; failed on " + ", ".join(i.node for i in self.failed)
        return line


def copy_nodes(ops: Collaborators, request: TemplateBuildRequest) -> tuple[list[str], str | None]:
    """The online nodes to build on, or ([one node], storage) when the template storage is
    shared: then one template serves them all."""
    storage = request.vm_storage or ops.defaults.template_storage or ops.defaults.vm_storage
    home = ops.node_for(request.node)
    rows = ops.client.storages(home)
    if any(str(r.get("storage")) == storage and r.get("shared") for r in rows):
        return [home], storage
    return ops.online_nodes(), None


def build_copies(
    ops: Collaborators,
    request: TemplateBuildRequest,
    *,
    actor: str,
    via: str,
    approver: str | None = None,
    progress: Callable[[int, Progress], None] | None = None,
    finished: Callable[[CopyItem], None] | None = None,
    nodes: tuple[list[str], str | None] | None = None,
) -> CopiesResult:
    """Build one copy per online node (or one template on shared storage), in parallel."""
    targets, shared = nodes if nodes is not None else copy_nodes(ops, request)
    build = request.request_id or uuid.uuid4().hex[:12]
    upstream = fetch_upstream(ops, request.distribution)  # once: every copy the same image
    items = [CopyItem(index=i, node=node) for i, node in enumerate(targets, start=1)]

    def one(item: CopyItem) -> CopyItem:
        copy = None
        if shared is None:
            copy = {"build": build, "copy": f"{item.index} of {len(items)} ({item.node})"}
        own = request.model_copy(update={"node": item.node, "request_id": f"{build}-{item.node}"})
        row = None if progress is None else (lambda p, i=item.index: progress(i, p))
        try:
            item.result = build_template(
                ops, own, progress=row, actor=actor, via=via, approver=approver,
                upstream=upstream, copy=copy,
            )  # fmt: skip
        except SoltiError as exc:
            item.error = str(exc)
        except Exception as exc:  # one node's surprise must not sink the other copies
            item.error = f"unexpected error: {type(exc).__name__}"
        if finished is not None:
            finished(item)
        return item

    with ThreadPoolExecutor(max_workers=len(items), thread_name_prefix="copies") as pool:
        list(pool.map(one, items))
    return CopiesResult(build=build, items=items, shared_storage=shared)


def copies_of(templates: list[Any]) -> dict[tuple[str, str], list[Any]]:
    """Templates grouped by build: (distribution, version) -> the copies, by node."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for t in templates:
        key = (str(t.distribution or t.name), str(t.version or f"vmid {t.vmid}"))
        groups.setdefault(key, []).append(t)
    for copies in groups.values():
        copies.sort(key=lambda t: (t.node, t.vmid))
    return groups
