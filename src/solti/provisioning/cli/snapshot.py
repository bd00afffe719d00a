"""`solti snapshot create|list|rollback|delete`: VM snapshots within the policy's limits.

The CLI is the operators' tool (as `vm extend`): it acts on any VM. Rollback and delete ask
first (or take `--yes`); the rollback question says what is lost.
"""

from __future__ import annotations

from typing import Any

import click

from solti.provisioning.cli.context import CliApp, GuardedGroup, json_option, pass_app, yes_option

__all__ = ["snapshot_group"]

SNAPSHOT_COLUMNS = ("name", "taken_at", "memory", "parent", "description")


@click.group("snapshot", cls=GuardedGroup)
def snapshot_group() -> None:
    """Take, list, roll back and delete VM snapshots."""


@snapshot_group.command("create")
@click.argument("vmid", type=click.IntRange(100, 999_999_999))
@click.argument("name", required=False)
@click.option("--description", help="A note kept with the snapshot.")
@click.option(
    "--memory", is_flag=True, help="Save the RAM of a running VM too (policy allow_memory)."
)
@click.option("--request-id", help="Re-running with the same id takes no second snapshot.")
@json_option
@pass_app
def create(app: CliApp, vmid: int, name: str | None, description: str | None, memory: bool,
           request_id: str | None, as_json: bool) -> None:  # fmt: skip
    """Snapshot VM VMID as NAME (default solti-YYMMDD-HHMM, UTC)."""
    app.authorize("snapshot create", vmid)
    result = app.provisioner.create_snapshot(
        vmid, name, description=description, memory=memory, actor=app.actor, via="cli",
        request_id=request_id,
    )  # fmt: skip
    again = " (already taken by this request id)" if result.reused else ""
    ram = " with its RAM" if memory else ""
    text = f"VM {vmid} ({result.name}): snapshot {result.snapshot} taken{ram}{again}"
    app.emit(result, as_json, text=text)


@snapshot_group.command("list")
@click.argument("vmid", type=click.IntRange(100, 999_999_999))
@json_option
@pass_app
def list_(app: CliApp, vmid: int, as_json: bool) -> None:
    """VMID's snapshots, oldest first; the current state grew from the last `parent`."""
    app.authorize("snapshot list", vmid)
    listing = app.provisioner.list_snapshots(vmid)
    if as_json:
        app.emit(listing, True)
        return
    if not listing.snapshots:
        app.emit(listing, False, text=f"VM {vmid} ({listing.name}) has no snapshots")
        return
    rows = [_row(s) for s in listing.snapshots]
    app.emit(
        rows, False, columns=SNAPSHOT_COLUMNS, title=f"Snapshots of VM {vmid} ({listing.name})"
    )


def _row(snap: Any) -> dict[str, Any]:
    taken = f"{snap.taken_at:%Y-%m-%d %H:%M} UTC" if snap.taken_at else ""
    return {
        "name": snap.name,
        "taken_at": taken,
        "memory": "yes" if snap.memory else "no",
        "parent": snap.parent or "",
        "description": snap.description,
    }


@snapshot_group.command("rollback")
@click.argument("vmid", type=click.IntRange(100, 999_999_999))
@click.argument("name")
@click.option(
    "--no-start",
    is_flag=True,
    help="Leave a VM that was running stopped after the rollback (default: started again).",
)
@yes_option
@json_option
@pass_app
def rollback(app: CliApp, vmid: int, name: str, no_start: bool, yes: bool,
             as_json: bool) -> None:  # fmt: skip
    """Put VM VMID back to snapshot NAME; every change since NAME was taken is lost.

    A VM that was running is started again (a RAM snapshot resumes it) unless --no-start."""
    app.authorize("snapshot rollback", vmid)
    if not yes:  # with --yes the rollback itself checks (and records a refusal)
        preview = app.provisioner.rollback_preview(vmid, name, start=not no_start)
        app.err.print(preview.lost, markup=False, highlight=False, soft_wrap=True)
        app.confirm(f"Roll VM {vmid} ({preview.name}) back to {name}?", yes)
    result = app.provisioner.rollback_snapshot(
        vmid, name, actor=app.actor, via="cli", start=not no_start
    )
    text = f"VM {vmid} ({result.name}) rolled back to {name}: {result.status}"
    app.emit(result, as_json, text=text)


@snapshot_group.command("delete")
@click.argument("vmid", type=click.IntRange(100, 999_999_999))
@click.argument("name")
@yes_option
@json_option
@pass_app
def delete(app: CliApp, vmid: int, name: str, yes: bool, as_json: bool) -> None:
    """Delete snapshot NAME of VM VMID (the VM as it is now is not changed)."""
    app.authorize("snapshot delete", vmid)
    app.confirm(f"Delete snapshot {name} of VM {vmid}?", yes)
    result = app.provisioner.delete_snapshot(vmid, name, actor=app.actor, via="cli")
    app.emit(result, as_json, text=f"VM {vmid} ({result.name}): snapshot {name} deleted")
