"""The CLI side of templates on many nodes: `build --all-nodes`, copies grouped in `list`,
and `destroy` that names every copy of a build (`--all-copies` removes them all)."""

from __future__ import annotations

from typing import Any

from solti.provisioning.cli.context import CliApp, fail
from solti.provisioning.cli.progress_rows import row_bars

__all__ = ["build_on_all_nodes", "destroy_with_copies", "grouped_rows"]

COPY_COLUMNS = ("node", "result", "vmid", "version", "downloaded", "error")


def build_on_all_nodes(app: CliApp, request: dict[str, Any], request_id: str | None,
                       as_json: bool) -> None:  # fmt: skip
    """One copy per online node (a bar each), or one template on shared storage."""
    p = app.provisioner
    targets, _shared = p.template_copy_nodes(request)
    with row_bars(app, [f"copy on {node}" for node in targets]) as progress:
        result = p.build_template_copies(
            request, actor=app.actor, via="cli", request_id=request_id, progress=progress
        )
    rows = [_copy_row(item) for item in result.items]
    if as_json:
        app.emit({"build": result.build, "summary": result.summary(), "copies": rows}, True)
    else:
        app.emit(rows, False, columns=COPY_COLUMNS, title=f"Build {result.build}: "
                 f"{result.summary()}")  # fmt: skip
    if result.failed:
        fail(result.summary())


def _copy_row(item: Any) -> dict[str, Any]:
    if item.result is None:
        return {"node": item.node, "result": "failed", "vmid": None, "version": None,
                "downloaded": None, "error": item.error}  # fmt: skip
    t = item.result.template
    return {"node": item.node, "result": "reused" if item.result.reused else "built",
            "vmid": t.vmid, "version": t.version, "downloaded": item.result.downloaded,
            "error": None}  # fmt: skip


def grouped_rows(templates: list[Any]) -> list[dict[str, Any]]:
    """One row per build: the copies of one (distribution, version) on several nodes are
    listed together (``9000, 9001`` on ``pve, pve2``), newest build first as given."""
    from solti.provisioning.template_copies import copies_of

    rows = []
    for copies in copies_of(templates).values():
        first = copies[0]
        row = first.model_dump(mode="json")
        row["vmid"] = ", ".join(str(t.vmid) for t in copies)
        row["node"] = ", ".join(t.node for t in copies)
        rows.append(row)
    return rows


def destroy_with_copies(app: CliApp, vmid: int, all_copies: bool, yes: bool) -> list[int]:
    """Ask once, naming every copy of the build ``vmid`` belongs to; the VMIDs to destroy."""
    templates = app.provisioner.list_templates()
    mine = next((t for t in templates if t.vmid == vmid), None)
    siblings = [] if mine is None or mine.version is None else [
        t for t in templates
        if t.distribution == mine.distribution and t.version == mine.version and t.vmid != vmid
    ]  # fmt: skip
    if mine is None or not siblings:
        if all_copies:
            fail(f"template {vmid} has no other copies; drop --all-copies")
        app.confirm(f"Destroy template {vmid}?", yes)
        return [vmid]
    others = ", ".join(f"{t.vmid} on {t.node}" for t in siblings)
    if all_copies:
        app.confirm(f"Destroy template {vmid} and its copies {others} "
                    f"({mine.distribution} {mine.version})?", yes)  # fmt: skip
        return [vmid, *(t.vmid for t in siblings)]
    app.confirm(f"Destroy template {vmid} on {mine.node}? Its copies {others} stay; nodes "
                "without a copy can no longer clone this build (--all-copies removes "
                "them too).", yes)  # fmt: skip
    return [vmid]
