"""The App Home tab: your VMs (status, lease left, template version, buttons), your quota used
and left; for admins also the VMs whose lease ends this week.

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
from solti.provisioning import Size

__all__ = ["START_ACTION", "STOP_ACTION", "home_view", "quota_lines"]

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


_QUOTA_WORDS = (("vms", "VMs", ""), ("cores", "Cores", ""), ("memory", "Memory", " MiB"),
                ("disk", "Disk", ""))  # fmt: skip


def _left(key: str, used: Any, limit: Any) -> str:
    if key == "disk":
        return Size(max(Size(limit).bytes - Size(used or 0).bytes, 0)).pve()
    return str(max(int(limit) - int(used or 0), 0))


def quota_lines(report: dict[str, Any]) -> list[str]:
    """``Cores: 4 of 16 used, 12 left`` for each quota (``no limit`` where none is set), from
    ``Provisioner.quota`` (the same figures as `/solti quota` and `solti quota`)."""
    used, limits = report["used"], report["limits"]
    lines = []
    for key, label, unit in _QUOTA_WORDS:
        limit = limits.get(key)
        if limit is None:
            lines.append(f"{label}: {used.get(key)}{unit} used, no limit")
        else:
            left = _left(key, used.get(key), limit)
            lines.append(f"{label}: {used.get(key)} of {limit}{unit} used, *{left}{unit} left*")
    return lines


def home_view(
    mine: Sequence[Any],
    now: datetime,
    newer: dict[int, str],
    expiring: Sequence[Any] | None = None,
    quota: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``newer``: VMID -> newest template version, for VMs on an outdated template;
    ``expiring`` (admins only): every VM whose lease ends within 7 days; ``quota``: the
    person's ``Provisioner.quota`` report (None: it could not be read, said so)."""
    blocks: list[Block] = [header("Your VMs")]
    if not mine:
        blocks.append(section("You have no VMs. `/solti vm create rocky9` makes one."))
    for vm in mine[:MAX_VMS]:
        blocks += _vm_blocks(vm, now, newer.get(vm.vmid))
    if len(mine) > MAX_VMS:
        blocks.append(context(f"{len(mine) - MAX_VMS} more: `/solti vm list --mine`."))
    blocks += [divider(), header("Your quota")]
    if quota is None:
        blocks.append(section("Your quota could not be read just now; `/solti quota` asks again."))
    else:
        blocks.append(section("\n".join(quota_lines(quota))))
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
