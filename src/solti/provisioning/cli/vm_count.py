"""`solti vm create TEMPLATE --count N`: N VMs at once, one row each.

Kept apart from ``cli.vm`` (one VM) because the output differs in kind: a table of N rows,
a bar per VM on a terminal, and an exit code that says whether any VM failed.
"""

from __future__ import annotations

from typing import Any

from solti.provisioning.cli.approval_note import approval_note
from solti.provisioning.cli.context import CliApp, fail
from solti.provisioning.cli.progress_rows import row_bars

__all__ = ["create_many"]

PLAN_COLUMNS = ("vmid", "name", "node", "cores", "memory", "disk_after", "user", "ipconfig")
RESULT_COLUMNS = ("vmid", "name", "node", "status", "lease_expires_at", "error")


def create_many(
    app: CliApp,
    request: dict[str, Any],
    count: int,
    *,
    as_json: bool,
    dry_run: bool,
    request_id: str | None,
    lease: str | None,
) -> None:
    """Plan (dry run) or make ``count`` VMs; exit 1 when any of them failed."""
    p = app.provisioner
    if dry_run:
        plans = p.plan_vms(request, count, actor=app.actor)
        title = f"Plan: {count} VMs from template {plans[0].template.vmid}"
        app.emit(plans, as_json, columns=PLAN_COLUMNS, title=title)
        reasons = p.create_approval_reasons(plans[0], actor=app.actor, lease=lease)
        approval_note(app, reasons, [], planned=True)  # the N are sized alike
        return
    with row_bars(app, [f"VM {i}" for i in range(1, count + 1)]) as progress:
        result = p.create_vms(
            request, count, actor=app.actor, via="cli", request_id=request_id, lease=lease,
            progress=progress,
        )  # fmt: skip
    made = [item.result for item in result.items if item.result is not None]
    if made and made[0].plan is not None:
        reasons = p.create_approval_reasons(made[0].plan, actor=app.actor, lease=lease)
        approval_note(app, reasons, made, planned=False)
    rows = [_row(item) for item in result.items]
    if as_json:
        app.emit({"summary": result.summary(), "vms": rows}, True)
    else:
        app.emit(rows, False, columns=RESULT_COLUMNS, title=result.summary())
    if result.failed:
        fail(result.summary())


def _row(item: Any) -> dict[str, Any]:
    if item.result is not None:
        vm = item.result.vm
        return {"vmid": vm.vmid, "name": vm.name, "node": vm.node, "status": vm.status,
                "error": None, "lease_expires_at": vm.lease_expires_at}  # fmt: skip
    plan = item.plan
    return {"vmid": None, "name": plan.name, "node": plan.node, "status": "failed",
            "error": item.error, "lease_expires_at": None}  # fmt: skip
