"""The report's fleet sections (leases ending in the next 7 days, VMs on outdated templates),
and a VM's lease as lists show it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from solti.bot.blocks.elements import Block, escape, mention, section, when
from solti.bot.blocks.lease_blocks import lease_left
from solti.bot.fleet_facts import Outdated, by_owner

__all__ = ["fleet_blocks", "lease_note"]

LINES_PER_SECTION = 20  # a section's text stays far below Slack's 3,000 characters


def _chunked(title: str, lines: list[str], empty: str) -> list[Block]:
    if not lines:
        return [section(f"*{title}*: {empty}")]
    blocks = []
    for start in range(0, len(lines), LINES_PER_SECTION):
        head = f"*{title}*\n" if start == 0 else ""
        blocks.append(section(head + "\n".join(lines[start : start + LINES_PER_SECTION])))
    return blocks


def lease_note(vm: Any, now: datetime) -> str:
    """A VM's lease in a list line: ``lease 5d 3h left``, ``lease ended``, ``no lease``."""
    text = lease_left(getattr(vm, "lease_expires_at", None), now)
    return text if text.startswith(("lease", "no lease")) else f"lease {text}"


def fleet_blocks(ending: Sequence[Any], outdated: Sequence[Outdated]) -> list[Block]:
    leases = [
        f"{mention(vm.owner) if vm.owner else 'nobody recorded'} · `{vm.vmid}` "
        f"{escape(vm.name)} · {when(vm.lease_expires_at)}"
        for vm in ending
    ]
    stale = []
    for owner, items in by_owner(outdated).items():
        vms = ", ".join(
            f"`{i.vm.vmid}` {escape(i.vm.name)} ({escape(i.vm.template_version or '?')}, "
            f"newest {escape(i.latest.version or '?')}: {escape(i.behind)})"
            for i in items[:10]
        )
        more = f" and {len(items) - 10} more" if len(items) > 10 else ""
        who = mention(owner) if owner != "unknown" else "nobody recorded"
        stale.append(f"{who}: {vms}{more}")
    return [
        *_chunked("Leases ending in the next 7 days", leases, "none."),
        *_chunked("VMs on outdated templates", stale, "none."),
    ]
