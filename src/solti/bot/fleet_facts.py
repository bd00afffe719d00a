"""Facts about the fleet the report and App Home share: leases ending soon, outdated clones.

Pure functions over provisioning's ``VmInfo`` and ``TemplateInfo`` lists (no Slack, no
Proxmox), so both views say the same thing and tests can feed them lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["Outdated", "by_owner", "ending_within", "latest_templates", "outdated_vms"]

SOON = timedelta(days=7)


@dataclass(frozen=True)
class Outdated:
    vm: Any
    latest: Any  # the newest template of the VM's distribution


def latest_templates(templates: Sequence[Any]) -> dict[str, Any]:
    """Distribution -> its newest template (highest VMID: builds count up)."""
    newest: dict[str, Any] = {}
    for t in templates:
        key = t.distribution or t.name
        if key not in newest or t.vmid > newest[key].vmid:
            newest[key] = t
    return newest


def _distribution_of(vm: Any, by_vmid: dict[int, Any], newest: dict[str, Any]) -> str | None:
    template = by_vmid.get(vm.template_vmid)
    if template is not None:
        return template.distribution or template.name
    for key, latest in newest.items():  # its template was destroyed: match by name
        if vm.template_name and vm.template_name in (latest.name, f"{key}-template"):
            return str(key)
    return None


def outdated_vms(vms: Sequence[Any], templates: Sequence[Any]) -> list[Outdated]:
    """VMs cloned from a template that is no longer its distribution's newest."""
    newest = latest_templates(templates)
    by_vmid = {t.vmid: t for t in templates}
    found = []
    for vm in vms:
        if vm.template_vmid is None:
            continue
        key = _distribution_of(vm, by_vmid, newest)
        latest = newest.get(key) if key else None
        if latest is not None and latest.vmid != vm.template_vmid:
            found.append(Outdated(vm, latest))
    return found


def ending_within(vms: Sequence[Any], now: datetime, within: timedelta = SOON) -> list[Any]:
    """VMs whose lease ends between now and ``now + within``, soonest first."""
    ending = [
        vm
        for vm in vms
        if vm.lease_expires_at is not None and now <= vm.lease_expires_at < now + within
    ]
    return sorted(ending, key=lambda vm: (vm.lease_expires_at, vm.vmid))


def by_owner(items: Sequence[Outdated]) -> dict[str, list[Outdated]]:
    grouped: dict[str, list[Outdated]] = defaultdict(list)
    for item in items:
        grouped[item.vm.owner or "unknown"].append(item)
    return dict(sorted(grouped.items()))
