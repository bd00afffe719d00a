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
    versions_behind: int | None = None  # builds of its distribution newer than the VM's
    days_behind: int | None = None  # the newest build's date minus the VM's build's

    @property
    def behind(self) -> str:
        """``2 versions behind, 30 days older``: how far back the VM's template is."""
        parts = []
        if self.versions_behind:
            plural = "s" if self.versions_behind != 1 else ""
            parts.append(f"{self.versions_behind} version{plural} behind")
        if self.days_behind is not None:
            parts.append(f"{self.days_behind} day{'s' if self.days_behind != 1 else ''} older")
        return ", ".join(parts) or "an older build"


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
            builds = [t for t in templates if (t.distribution or t.name) == key]
            found.append(Outdated(vm, latest, *_behind(vm, by_vmid.get(vm.template_vmid),
                                                       latest, builds)))  # fmt: skip
    return found


def _behind(vm: Any, own: Any, latest: Any, builds: Sequence[Any]) -> tuple[int, int | None]:
    """Builds newer than the VM's (by VMID: builds count up) and the days between the two
    builds (None when the VM's template is gone or either date is unknown)."""
    versions = sum(1 for t in builds if t.vmid > (vm.template_vmid or 0))
    if own is None or own.build_date is None or latest.build_date is None:
        return versions, None
    return versions, max(0, (latest.build_date - own.build_date).days)


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
