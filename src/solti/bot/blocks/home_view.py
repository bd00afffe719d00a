"""The App Home tab: your VMs (status, lease left, template version, buttons); for admins
also the VMs whose lease ends this week.

Slack allows 100 blocks in a Home view; each VM takes two (facts, buttons), so at most
``MAX_VMS`` are drawn and the rest are counted, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from solti.bot.blocks.elements import (
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    mention,
    section,
    when,
)
from solti.bot.blocks.lease_blocks import extend_button, lease_left, remove_button

__all__ = ["START_ACTION", "STOP_ACTION", "home_view"]

START_ACTION = "vm_start"
STOP_ACTION = "vm_stop"
MAX_VMS = 30
MAX_EXPIRING = 20


def _vm_blocks(vm: Any, now: datetime, newest: str | None) -> list[Block]:
    version = escape(vm.template_version or "?")
    flag = f" :warning: newer template {escape(newest)}" if newest else ""
    ends = f" (ends {when(vm.lease_expires_at)})" if vm.lease_expires_at else ""
    facts = (
        f"*{escape(vm.name)}* `{vm.vmid}` on {escape(vm.node)} · {escape(vm.status)}\n"
        f"Lease: {lease_left(vm.lease_expires_at, now)}{ends}\n"
        f"Template: {escape(vm.template_name or '?')} {version}{flag}"
    )
    power = (
        button("Stop", STOP_ACTION, str(vm.vmid))
        if vm.status == "running"
        else button("Start", START_ACTION, str(vm.vmid))
    )
    buttons = actions(
        extend_button(vm.vmid),
        power,
        remove_button(vm.vmid, vm.name, "Remove"),
        block_id=f"home-vm-{vm.vmid}",
    )
    return [section(facts), buttons]


def home_view(
    mine: Sequence[Any],
    now: datetime,
    newer: dict[int, str],
    expiring: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """``newer``: VMID -> newest template version, for VMs on an outdated template;
    ``expiring`` (admins only): every VM whose lease ends within 7 days."""
    blocks: list[Block] = [header("Your VMs")]
    if not mine:
        blocks.append(section("You have no VMs. `/solti vm create rocky9` makes one."))
    for vm in mine[:MAX_VMS]:
        blocks += _vm_blocks(vm, now, newer.get(vm.vmid))
    if len(mine) > MAX_VMS:
        blocks.append(context(f"{len(mine) - MAX_VMS} more: `/solti vm list --mine`."))
    if expiring is not None:
        blocks += [divider(), header("Leases ending this week (all VMs)")]
        lines = [
            f"`{vm.vmid}` {escape(vm.name)} · {mention(vm.owner) if vm.owner else 'nobody'}"
            f" · {when(vm.lease_expires_at)}"
            for vm in expiring[:MAX_EXPIRING]
        ]
        blocks.append(section("\n".join(lines) if lines else "None."))
        if len(expiring) > MAX_EXPIRING:
            blocks.append(context(f"{len(expiring) - MAX_EXPIRING} more."))
    blocks.append(context(f"Updated {when(now)} · `/solti vm extend VMID DURATION`"))
    return {"type": "home", "blocks": blocks}
