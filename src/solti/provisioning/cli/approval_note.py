"""What the operator CLI says and records for a create over ``approvals.vm_create``.

The CLI is the operators' tool: whoever runs it holds the Proxmox token and could clone in the
Proxmox UI as well, so a gate here would only be in their way. It says so (stderr, so
``--json`` stays one document) and, for each VM made, writes an audit record naming the
rules, so big creates that skipped an approver can be found in ``solti audit``. Shared by
one create (``cli.vm``) and ``--count`` (``cli.vm_count``).
"""

from __future__ import annotations

from typing import Any

import click

from solti.provisioning.cli.context import CliApp

__all__ = ["approval_note"]


def approval_note(app: CliApp, reasons: list[str], made: list[Any], *, planned: bool) -> None:
    """``planned``: the dry run's sentence; else the note once and a record per VM ``made``."""
    if not reasons:
        return
    why = "; ".join(reasons)
    if planned:
        click.echo(f"would need approval in Slack ({why}); the CLI does not wait for one", err=True)
        return
    if not made:
        return
    click.echo(f"note: no approval asked ({why}): the CLI is the operators' tool", err=True)
    for result in made:  # one record per VM made (a --count create makes several)
        vm = result.vm
        app.provisioner.audit.record(
            action="vm create unapproved", actor=app.actor, via="cli", result="ok",
            vmid=vm.vmid, name=vm.name,
            params={"reasons": reasons, "create_audit_id": result.audit_id},
        )  # fmt: skip
