"""Rebuild messages: the plan with its confirmed [Rebuild] button, and the outdated-template
notice DM'd to an owner ([Rebuild] per VM, [Dismiss]). One button, one handler, for both."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from solti.bot.blocks.elements import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    escape,
    message,
    section,
)

__all__ = [
    "DISMISS_ACTION",
    "REBUILD_ACTION",
    "notice_message",
    "rebuild_button",
    "rebuild_prompt_message",
    "rebuild_value",
]

REBUILD_ACTION = "vm_rebuild"
DISMISS_ACTION = "template_notice_dismiss"


def rebuild_value(vmid: int, template: str | int | None = None) -> str:
    """The button's value: which VM, and the template a person named (None: the newest)."""
    return json.dumps({"vmid": vmid, "template": template})


def rebuild_button(vmid: int, name: str, old: str, new: str, template: Any = None) -> Block:
    """The confirmed [Rebuild]: the dialog says the versions and that the disk is lost."""
    return button(
        f"Rebuild {vmid}",
        REBUILD_ACTION,
        rebuild_value(vmid, template),
        style="danger",
        confirm=confirm_dialog(
            "Rebuild this VM?",
            f"VM {vmid} ({escape(name)}) is re-made from {escape(new)} (now {escape(old)}). "
            "The disk's contents are lost; MAC, address, sizes, keys, owner and lease are kept.",
            "Rebuild",
        ),
    )


def _version(name: str | None, version: str | None) -> str:
    return f"{name or '?'} {version or '?'}".strip()


def rebuild_prompt_message(plan: Any, template: str | None = None) -> dict[str, Any]:
    """`vm rebuild` never rebuilds at once: the plan, then a danger button with a confirm."""
    new = plan.template
    old = _version(plan.old_template_name, plan.old_version)
    newer = _version(new.name, new.version)
    net = plan.ipconfig or "?"
    text = f"Rebuild VM {plan.vmid} ({plan.name}) on {plan.node}: {old} -> {newer}?"
    kept = (
        f"Keeps MAC `{plan.macaddr or '?'}`, `{escape(net)}`, {plan.cores} cores, "
        f"{plan.memory} MiB, disk {plan.disk_after}, user `{escape(plan.user or '?')}`, "
        f"{len(plan.ssh_key_fingerprints)} SSH key(s), tags, owner <@{plan.owner}> and lease."
    )
    return message(
        text,
        [
            section(f":arrows_counterclockwise: {escape(text)}\n{kept}"),
            context(f":warning: {escape(plan.warning)}."),
            actions(rebuild_button(plan.vmid, plan.name, old, newer, template), block_id="rebuild"),
        ],
    )


def notice_message(items: Sequence[Any], latest: Any) -> dict[str, Any]:
    """The owner's DM: their VMs on builds older than ``latest``, by how much, with buttons."""
    newer = _version(latest.name, latest.version)
    text = f"A newer {latest.distribution or latest.name} template is out: {newer}"
    blocks: list[Block] = [section(f":new: {escape(text)}. Your VMs on an older build:")]
    for item in items[:20]:
        vm = item.vm
        old = _version(vm.template_name, vm.template_version)
        blocks.append(
            section(
                f"`{vm.vmid}` {escape(vm.name)}: {escape(old)} ({escape(item.behind)})",
                accessory=rebuild_button(vm.vmid, vm.name, old, newer),
            )
        )
    blocks.append(context("Rebuilding re-makes the VM from the new image: its disk is lost."))
    blocks.append(
        actions(
            button("Dismiss", DISMISS_ACTION, str(latest.vmid)),
            block_id=f"notice-{latest.vmid}",
        )
    )
    return message(text, blocks)
