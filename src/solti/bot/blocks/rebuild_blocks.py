"""Rebuild messages: the plan with its confirmed [Rebuild] button, the outdated-template
notice DM'd to an owner ([Rebuild] per VM, [Dismiss]), one button and one handler for both;
and the final states of the rebuild's live progress message (``bot.progress_message``)."""

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
    fields,
    message,
    section,
)
from solti.bot.blocks.progress import StepLine, failed_message

__all__ = [
    "DISMISS_ACTION",
    "REBUILD_ACTION",
    "notice_message",
    "rebuild_button",
    "rebuild_done_message",
    "rebuild_failed_message",
    "rebuild_prompt_message",
    "rebuild_title",
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


def rebuild_title(vmid: int, name: str | None = None) -> str:
    """The progress message's title (plain text); the name once the rebuild knows it."""
    return f"Rebuild of VM {vmid}" + (f" ({name})" if name else "")


def _who(requester: str | None) -> str:
    return f" for <@{requester}>" if requester else ""


def rebuild_done_message(title: str, result: Any, requester: str | None = None) -> dict[str, Any]:
    """The final state: the VM, its new template version and the one it had before."""
    vm, plan = result.vm, result.plan
    if result.nothing_to_do:
        text = f"{result.note}."
        return message(
            escape(text), [section(f":white_check_mark: *{escape(title)}*{_who(requester)}: "
                                   f"{escape(text)}")]
        )  # fmt: skip
    new = _version(vm.template_name, vm.template_version)
    was = _version(plan.old_template_name, plan.old_version)
    head = (
        f":white_check_mark: *{escape(title)}*{_who(requester)}: VM *{escape(vm.name)}* is "
        f"rebuilt from {escape(new)} and is {escape(vm.status)}."
    )
    blocks: list[Block] = [
        section(head),
        fields(
            [
                ("VM", escape(vm.name)),
                ("VMID", str(vm.vmid)),
                ("Node", escape(vm.node or "?")),
                ("Template", f"{escape(vm.template_name or '?')} (VMID {vm.template_vmid})"),
                ("Template version", escape(vm.template_version or "unknown")),
                ("Was", escape(was)),
                ("Kept", f"MAC `{escape(plan.macaddr or '?')}`, "
                         f"`{escape(plan.ipconfig or 'dhcp')}`, owner, lease"),
                ("Power", escape(vm.status)),
            ]
        ),
        context("The disk is new: what was on the old one is gone. Step timings in the thread."),
    ]  # fmt: skip
    fallback = f"VM {vm.name} (VMID {vm.vmid}) is rebuilt from {new} (was {was}): {vm.status}"
    return message(escape(fallback), blocks)


def rebuild_failed_message(
    title: str,
    steps: Sequence[StepLine],
    step: str | None,
    reason: str,
    requester: str | None = None,
) -> dict[str, Any]:
    """The progress message's failure, with what a person does next: the generic failure's
    last line ("nothing else was changed") is wrong once the old VM is destroyed, so the
    reason (which says so) is followed by how to finish, not by that line."""
    payload = failed_message(title, steps, step, reason, requester)
    blocks = [b for b in payload["blocks"] if b.get("type") != "context"]
    blocks.append(
        context(
            "Run the rebuild again to finish it: it puts back the VM's MAC, address, sizes "
            "and keys from its journal."
            if "destroyed" in reason or "re-made" in reason
            else "The VM was left as it was. Fix the cause and run the rebuild again."
        )
    )
    return {**payload, "blocks": blocks}
