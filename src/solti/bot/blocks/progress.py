"""The one progress message a create or build edits in place, and its thread details."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from solti.bot.blocks.elements import (
    Block,
    clip,
    context,
    escape,
    fields,
    mention,
    message,
    section,
    size_text,
    when,
)


@dataclass(frozen=True)
class StepLine:
    """A step as shown: its name, state (done, running, failed) and optional detail."""

    name: str
    state: str
    detail: str | None = None
    seconds: float | None = None


_ICONS = {"done": ":white_check_mark:", "running": ":hourglass_flowing_sand:", "failed": ":x:"}


def _steps_text(steps: Sequence[StepLine]) -> str:
    lines = []
    for s in steps:
        line = f"{_ICONS.get(s.state, '•')} {escape(s.name)}"
        if s.detail:
            line += f" — {escape(clip(s.detail, 200))}"
        lines.append(line)
    return "\n".join(lines) or "Starting…"


def _for(requester: str | None) -> str:
    """`` for <@U…>``: the mention is built, not escaped, so Slack renders it."""
    return f" for {mention(requester)}" if requester else ""


def running_message(
    title: str, steps: Sequence[StepLine], total: int | None, requester: str | None = None
) -> dict[str, Any]:
    """``title`` is plain text (escaped here); ``requester`` a Slack user id (mentioned)."""
    done = sum(1 for s in steps if s.state == "done")
    count = f" ({done}/{total})" if total else ""
    who = _for(requester)
    blocks = [section(f":gear: *{escape(title)}*{who}{count}"), section(_steps_text(steps))]
    return message(f"{escape(title)}{who}{count}", blocks)


def failed_message(
    title: str,
    steps: Sequence[StepLine],
    step: str | None,
    reason: str,
    requester: str | None = None,
) -> dict[str, Any]:
    where = f" at step *{escape(step)}*" if step else ""
    who = _for(requester)
    text = f":x: *{escape(title)}*{who} failed{where}: {escape(clip(reason, 1500))}"
    blocks: list[Block] = [section(text), section(_steps_text(steps))]
    blocks.append(context("Nothing else was changed. Fix the cause and run the command again."))
    fallback = f"{escape(title)}{who} failed{(' at ' + escape(step)) if step else ''}"
    return message(f"{fallback}: {escape(reason)}", blocks)


def vm_done_message(title: str, vm: Any, plan: Any | None, login: str) -> dict[str, Any]:
    """The final state: what was made, from which template version, and how to log in."""
    template = plan.template if plan is not None else None
    template_text = (
        f"{escape(template.name)} (VMID {template.vmid})"
        if template is not None
        else escape(vm.template_name or "?")
    )
    version = (template.version if template is not None else vm.template_version) or "unknown"
    disk = size_text(plan.disk_after if plan is not None else vm.disk_size)
    clone = ("full" if plan.full else "linked") if plan is not None else "?"
    blocks = [
        section(f":white_check_mark: *{escape(title)}*: VM *{escape(vm.name)}* is ready."),
        fields(
            [
                ("VM", escape(vm.name)),
                ("VMID", str(vm.vmid)),
                ("Node", escape(getattr(plan, "placement", None) or vm.node)),
                ("Template", template_text),
                ("Template version", escape(version)),
                ("Clone", clone),
                ("Disk", disk),
                ("Lease", lease_text(getattr(vm, "lease_expires_at", None))),
                ("Log in", login),
            ]
        ),
        context("Task ids and timings are in the thread."),
    ]
    return message(f"VM {vm.name} (VMID {vm.vmid}) is ready on {vm.node}: {login}", blocks)


def lease_text(ends: Any) -> str:
    """The ready message's Lease field: when it ends, and how to extend it."""
    return f"ends {when(ends)}" if ends is not None else "none (no end)"


def login_text(
    user: str | None,
    vmid: int,
    *,
    address: str | None = None,
    waiting: float | None = None,
    reason: str | None = None,
) -> str:
    """The "Log in" field: ``ssh user@host`` once the address is known, else what is
    happening (waiting for the guest agent, or why there is none) and the VMID to look for."""
    who = f"`{user}`" if user else "the image's user"
    if address:
        return f"`ssh {user}@{address}`" if user else f"`ssh {address}`"
    if waiting:
        return (
            f"{who} once the guest agent reports the address (waiting up to {waiting:g} s; "
            f"VMID {vmid})"
        )
    if reason:
        return (
            f"{escape(clip(reason, 300))}; look it up in your DHCP server's leases (the MAC "
            f"is on VM {vmid}'s Hardware tab in Proxmox) "
            f"and log in as {who}"
        )
    return f"{who} once the VM is started and has an address (VMID {vmid})"


def template_done_message(title: str, template: Any, replaced: Any | None) -> dict[str, Any]:
    pairs = [
        ("Template", escape(template.name)),
        ("VMID", str(template.vmid)),
        ("Node", escape(template.node)),
        ("Distribution", escape(template.distribution or "?")),
        ("Version", escape(template.version or "unknown")),
        ("Checksum", f"`{(template.checksum or '?')[:12]}`"),
    ]
    if replaced is not None:
        pairs.append(("Replaces as latest", f"{escape(replaced.name)} (VMID {replaced.vmid})"))
    blocks = [
        section(
            f":white_check_mark: *{escape(title)}*: template *{escape(template.name)}* is built."
        ),
        fields(pairs),
    ]
    return message(f"Template {template.name} (VMID {template.vmid}) is built", blocks)


def step_log_line(step: StepLine) -> str:
    """A step for the thread details: name, what it did and how long it took, on one line."""
    parts = [p for p in (step.detail, _seconds(step.seconds)) if p]
    if step.state == "failed":
        parts.append("failed")
    return f"{step.name}: {', '.join(parts)}" if parts else step.name


def _seconds(seconds: float | None) -> str | None:
    return f"{seconds:.1f}s" if seconds is not None else None


def details_message(lines: Sequence[str], note: str | None = None) -> dict[str, Any]:
    """Plain details in a code block; ``note`` is mrkdwn shown above it, outside the code
    formatting, so a mention (``<@U…>``) in it renders as a name and not as a raw id."""
    body = "\n".join(escape(line) for line in lines) or "No details."
    blocks: list[Block] = []
    if note:
        blocks.append(section(clip(note, 2900)))
    blocks.append(section(f"```{clip(body, 2900)}```"))
    return message("Details", blocks)
