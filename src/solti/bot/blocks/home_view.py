"""The App Home tab: your VMs (status, lease left, template version, buttons), your quota used
and left; for admins also the VMs whose lease ends this week.

Slack allows 100 blocks in a Home view; each VM takes two (facts, buttons: Extend, Start or
Stop, Remove, Snapshots, all in one actions block, so a button costs no block), so at most
``MAX_VMS`` are drawn and the rest are counted, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
from solti.bot.cluster_context import button_value
from solti.provisioning import Size

__all__ = [
    "SNAPSHOTS_ACTION", "START_ACTION", "STOP_ACTION", "ClusterHome", "home_view",
    "home_view_clusters", "quota_lines", "vm_blocks",
]  # fmt: skip

START_ACTION = "vm_start"
STOP_ACTION = "vm_stop"
# [Snapshots]: what `/solti snapshot list VMID` shows, with its take and rollback buttons.
SNAPSHOTS_ACTION = "vm_snapshots"
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
        button("Snapshots", SNAPSHOTS_ACTION, str(vm.vmid)),
        block_id=f"home-vm-{button_value(str(vm.vmid))}",  # unique over clusters: `500@lab`
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


def vm_blocks(mine: Sequence[Any], now: datetime, newer: dict[int, str], limit: int) -> list[Block]:
    """The first ``limit`` of ``mine``, two blocks each. Built while the VMs' cluster is the
    running one (``runtime.on_cluster``), so each button's value names it (``500@lab``)."""
    blocks: list[Block] = []
    for vm in mine[:limit]:
        blocks += _vm_blocks(vm, now, newer.get(vm.vmid))
    return blocks


@dataclass
class ClusterHome:
    """One cluster's part of the Home tab (several clusters configured)."""

    cluster: str
    mine: list[Any]
    blocks: list[Block]  # ``vm_blocks`` of ``mine``, built on the cluster
    quota: dict[str, Any] | None = None
    expiring: list[Any] | None = None  # admins only
    shown: int = field(default=0)


def home_view_clusters(
    parts: Sequence[ClusterHome], unanswered: Sequence[str], now: datetime
) -> dict[str, Any]:
    """The Home tab over several clusters: your VMs and your quota per cluster (quotas are
    per cluster), leases ending this week per cluster for admins, and one line per cluster
    that did not answer (``unanswered``, already worded)."""
    blocks: list[Block] = [header("Your VMs")]
    total = sum(len(p.mine) for p in parts)
    if not total:
        blocks.append(section("You have no VMs. `/solti vm create rocky9` makes one."))
    for part in parts:
        if part.mine:
            blocks.append(section(f"*Cluster `{part.cluster}`* ({len(part.mine)})"))
            blocks += part.blocks
            if len(part.mine) > part.shown:
                more = f"{len(part.mine) - part.shown} more: `/solti vm list --mine --cluster "
                blocks.append(context(more + f"{part.cluster}`."))
    for line in unanswered:
        blocks.append(section(f":warning: {line}"))
    blocks += [divider(), header("Your quota")]
    for part in parts:
        if part.quota is None:
            text = "could not be read just now; `/solti quota` asks again."
            blocks.append(section(f"*Cluster `{part.cluster}`*: {text}"))
        else:
            lines = quota_lines(part.quota)
            blocks.append(section(f"*Cluster `{part.cluster}`*\n" + "\n".join(lines)))
    admin = [p for p in parts if p.expiring is not None]
    if admin:
        blocks += [divider(), header("Leases ending this week (all VMs)")]
        per_cluster = max(1, MAX_EXPIRING // len(admin))
        for part in admin:
            ending = part.expiring or []
            lines = [
                f"`{vm.vmid}` {escape(vm.name)} · {mention(vm.owner) if vm.owner else 'nobody'}"
                f" · {when(vm.lease_expires_at)}"
                for vm in ending[:per_cluster]
            ]
            if len(ending) > per_cluster:
                lines.append(f"{len(ending) - per_cluster} more.")
            body = "\n".join(lines) if lines else "None."
            blocks.append(section(f"*Cluster `{part.cluster}`*\n{body}"))
    blocks.append(context(f"Updated {when(now)} · `/solti vm extend VMID DURATION`"))
    return {"type": "home", "blocks": blocks}
