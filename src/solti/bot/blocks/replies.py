"""Ephemeral replies: help, errors, dry-run plans, lists, keys and audit records."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from solti.bot.blocks.elements import (
    Block,
    actions,
    button,
    clip,
    confirm_dialog,
    context,
    divider,
    escape,
    fields,
    header,
    message,
    section,
    size_text,
    when,
)
from solti.bot.blocks.snapshot_blocks import HELP_SNAPSHOT
from solti.provisioning.template_copies import copies_of

OPEN_MODAL_ACTION = "open_create_modal"
REMOVE_ACTION = "vm_remove"

HELP_SECTIONS: dict[str, tuple[str, list[str]]] = {
    "vm": (
        "*VMs*\n"
        "`/solti vm create [TEMPLATE] [--vmid N] [--name NAME] [--size FLAVOR] [--disk SIZE] "
        "[--cores N] [--memory MB] [--full] [--node NODE] [--ip CIDR --gw IP] "
        "[--lease DURATION|none] [--dry-run]`\n"
        "TEMPLATE is a distribution (`rocky9`), a template name or a template VMID; "
        "leave it out to open a form.\n"
        "`/solti vm list [--mine] [--page N]`   `/solti vm verify|start|stop|shutdown|remove VMID`"
        "   `/solti vm give VMID @someone`   `/solti vm extend VMID [DURATION]`"
        "   `/solti quota [@someone]`   `/solti vm rebuild VMID [TEMPLATE]`",
        [
            "/solti vm create rocky9",
            "/solti vm create rocky9 --size small",
            "/solti vm create debian12 --disk 50G --cores 4 --memory 8192 --dry-run",
            "/solti vm create 9001 --name web-1 --full --ip 10.0.0.5/24 --gw 10.0.0.1",
            "/solti vm stop 512",
        ],
    ),
    "template": (
        "*Templates* (build and destroy wait for an approver)\n"
        "`/solti template list`   `/solti template build DISTRO`   "
        "`/solti template destroy VMID`",
        ["/solti template build rocky9", "/solti template destroy 9001"],
    ),
    "key": (
        "*Your SSH key* (every VM you create gets it)\n"
        "`/solti key set SSH_PUBLIC_KEY`   `/solti key show`   `/solti key remove`",
        ["/solti key set ssh-ed25519 AAAAC3Nza... you@laptop"],
    ),
    "audit": (
        "*Audit and reports*\n`/solti audit [--user @someone] [--vmid N]`   `/solti report`",
        ["/solti audit --vmid 512", "/solti audit --user @alice"],
    ),
}
HELP_SECTIONS["report"] = HELP_SECTIONS["audit"]
HELP_SECTIONS["snapshot"] = HELP_SNAPSHOT


def help_blocks(topic: str | None = None) -> list[Block]:
    """The grammar with examples; a Customize… button opens the create form straight away."""
    chosen = [topic] if topic in HELP_SECTIONS else ["vm", "template", "key", "audit"]
    blocks: list[Block] = [header("Solti: VMs on Proxmox from Slack")]
    for name in chosen:
        text, examples = HELP_SECTIONS[name]
        blocks.append(section(text))
        blocks.append(context("Examples: " + "  ·  ".join(f"`{e}`" for e in examples)))
    blocks.append(
        actions(button("Customize…", OPEN_MODAL_ACTION, "{}", style="primary"), block_id="help")
    )
    return blocks


def help_message(topic: str | None = None) -> dict[str, Any]:
    return message("Solti help: /solti vm create rocky9, /solti help vm", help_blocks(topic))


HELP_HINT = "Type `/solti help` for the commands and examples."


def error_message(text: str, topic: str | None = None, *, usage: bool = False) -> dict[str, Any]:
    """An ephemeral refusal: what was wrong and what is allowed.

    ``usage`` marks a mistyped slash command (a grammar error): only then is the usage of
    ``topic`` (or a pointer to `/solti help` when no topic fits) shown under it. A refused
    click, a provisioning or a policy error is not fixed by reading the help, so it gets
    the sentence alone, whatever the topic.
    """
    blocks: list[Block] = [section(f":warning: {text}")]
    if usage and topic in HELP_SECTIONS:
        usage_text, examples = HELP_SECTIONS[topic]
        blocks.append(context(clip(usage_text, 1900)))
        blocks.append(context("Try: " + "  ·  ".join(f"`{e}`" for e in examples[:2])))
    elif usage:
        blocks.append(context(HELP_HINT))
    return message(text, blocks)


def info_message(text: str) -> dict[str, Any]:
    return message(text, [section(text)])


def plan_blocks(plan: Any, prefill: dict[str, Any]) -> list[Block]:
    """A dry run: everything the create would do, and a button to adjust it in the form."""
    template = plan.template
    version = template.version or "unknown version"
    disk = size_text(plan.disk_after)
    if plan.resize:
        disk += f" (grown from {size_text(plan.disk_before)})"
    if plan.cores and plan.memory:  # Slack allows 10 fields: the size shares the disk's
        disk = f"{plan.cores} cores, {plan.memory} MiB, {disk}"
    network = "DHCP" if plan.ipconfig in ("ip=dhcp", "") else plan.ipconfig
    blocks = [
        section(
            f":mag: *Dry run*: nothing was changed. `/solti vm create` would make *{plan.name}*."
        ),
        fields(
            [
                ("Template", f"{escape(template.name)} (VMID {template.vmid})"),
                ("Version", escape(version)),
                ("Node", escape(getattr(plan, "placement", None) or plan.node)),
                ("VMID", str(plan.vmid)),
                ("Name", escape(plan.name)),
                ("Size", disk),
                ("Clone", "full" if plan.full else "linked"),
                ("Network", escape(network)),
                ("Login user", escape(plan.user)),
                ("SSH keys", str(len(plan.ssh_key_fingerprints))),
            ]
        ),
        actions(
            button("Customize…", OPEN_MODAL_ACTION, json.dumps(prefill)[:1900]),
            block_id="plan",
        ),
    ]
    return blocks


def plan_message(plan: Any, prefill: dict[str, Any]) -> dict[str, Any]:
    return message(
        f"Dry run: would create {plan.name} (VMID {plan.vmid})", plan_blocks(plan, prefill)
    )


VMS_PER_PAGE = 100


def vm_list_message(
    vms: Sequence[Any],
    mine: bool,
    quota_left: int | None,
    page: int = 1,
    per_page: int = VMS_PER_PAGE,
    lease_of: Callable[[Any], str] | None = None,
    cluster: str | None = None,
) -> dict[str, Any]:
    """One page of the VM list; a longer list says which part this is and how to see more
    (never cut silently: 100 lines fit well within Slack's 50 blocks). ``lease_of`` words a
    VM's lease (``lease 5d 3h left``: ``fleet_blocks.lease_note``), as `solti vm list` and
    App Home show it. ``cluster``: its name, said when several clusters are configured."""
    title = "Your VMs" if mine else "VMs"
    if cluster:
        title += f" on cluster {cluster}"
    pages = max(1, -(-len(vms) // per_page))
    if not vms:
        text = "You have no VMs" if mine else "No VMs on the cluster"
        text += f" (cluster {cluster})." if cluster else "."
        blocks = [section(text)]
    elif page > pages:
        text = f"Page {page} is past the end: {len(vms)} VMs fill {pages} page(s)."
        blocks = [section(text)]
    else:
        first = (page - 1) * per_page
        shown = vms[first : first + per_page]
        lines = [_vm_line(vm, mine, lease_of) for vm in shown]
        blocks = [header(f"{title} ({len(vms)})")]
        chunk: list[str] = []
        for line in lines:
            if sum(len(x) + 1 for x in chunk) + len(line) > 2800:
                blocks.append(section("\n".join(chunk)))
                chunk = []
            chunk.append(line)
        if chunk:
            blocks.append(section("\n".join(chunk)))
        text = f"{title}: {len(vms)}"
        if pages > 1:
            where = f"{first + 1}-{first + len(shown)} of {len(vms)}"
            more = f"`/solti vm list{' --mine' if mine else ''} --page {page + 1}`"
            tail = f"; {more}" if page < pages else " (the last page)"
            blocks.append(context(f"{where}{tail}"))
            text = f"{title}: {where}"
    if quota_left is not None:
        blocks.append(context(f"You can create {quota_left} more VM(s) under your quota."))
    return message(text, blocks)


def _vm_line(vm: Any, mine: bool, lease_of: Callable[[Any], str] | None) -> str:
    return (
        f"`{vm.vmid}` *{escape(vm.name)}* on {escape(vm.node)}: {escape(vm.status)}"
        + (f", from {escape(vm.template_name)}" if vm.template_name else "")
        + (f", owner <@{vm.owner}>" if vm.owner and not mine else "")
        + (f", {lease_of(vm)}" if lease_of is not None else "")
        + (f" :warning: {escape(vm.note)}" if getattr(vm, "note", None) else "")
    )


def vm_lists_message(
    groups: Sequence[tuple[str, Sequence[Any]]],
    unanswered: Sequence[str],
    mine: bool,
    quota_left: dict[str, int] | None = None,
    page: int = 1,
    per_page: int = VMS_PER_PAGE,
    lease_of: Callable[[Any], str] | None = None,
) -> dict[str, Any]:
    """The VM list over several clusters: a heading per cluster, its VMs under it (a cluster
    with none says so), then one line per cluster that did not answer (``unanswered``, already
    worded). Pages count VMs over all clusters, in the clusters' order; ``quota_left`` is per
    cluster (quotas are)."""
    title = "Your VMs" if mine else "VMs"
    rows = [(cluster, vm) for cluster, vms in groups for vm in vms]
    pages = max(1, -(-len(rows) // per_page))
    names = ", ".join(cluster for cluster, _ in groups) or "none"
    blocks: list[Block] = [header(f"{title} on clusters {names} ({len(rows)})")]
    text = f"{title} on clusters {names}: {len(rows)}"
    first = (page - 1) * per_page
    shown = rows[first : first + per_page]
    if page > pages:
        blocks.append(
            section(f"Page {page} is past the end: {len(rows)} VMs fill {pages} page(s).")
        )
    for cluster, vms in groups:
        lines = [_vm_line(vm, mine, lease_of) for where, vm in shown if where == cluster]
        if not lines and (vms or page > pages):
            continue  # its VMs are on another page
        heading = f"*Cluster `{cluster}`* ({len(vms)})"
        body = "\n".join(lines) or ("You have no VMs here." if mine else "No VMs here.")
        chunk = [heading]
        for line in body.split("\n"):
            if sum(len(x) + 1 for x in chunk) + len(line) > 2800:
                blocks.append(section("\n".join(chunk)))
                chunk = []
            chunk.append(line)
        blocks.append(section("\n".join(chunk)))
    for line in unanswered:
        blocks.append(section(f":warning: {line}"))
    if pages > 1 and page <= pages:
        where = f"{first + 1}-{first + len(shown)} of {len(rows)}"
        more = f"`/solti vm list{' --mine' if mine else ''} --cluster all --page {page + 1}`"
        blocks.append(context(f"{where}; {more}" if page < pages else f"{where} (the last page)"))
        text = f"{title}: {where}"
    if quota_left:
        left = ", ".join(f"`{cluster}` {n}" for cluster, n in quota_left.items())
        blocks.append(context(f"VMs you can still create under your quotas: {left}."))
    return message(text, blocks)


def quota_message(report: dict[str, Any]) -> dict[str, Any]:
    """A person's usage against each quota, and the VMs that hold it."""
    used, limits = report["used"], report["limits"]
    names = {"vms": "VMs", "cores": "cores", "memory": "memory (MiB)", "disk": "disk"}
    lines = [
        f"{label}: {used[key]} of {limits[key] if limits[key] is not None else 'no limit'}"
        for key, label in names.items()
    ]
    held = ", ".join(f"`{v['vmid']}` {escape(v['name'])}" for v in report["vms"]) or "none"
    text = f"Quota of <@{report['user']}>"
    return message(text, [section(f"*{text}*\n" + "\n".join(lines)), context(f"VMs: {held}")])


def template_list_message(templates: Sequence[Any]) -> dict[str, Any]:
    if not templates:
        return info_message("No templates yet. Ask for one with `/solti template build rocky9`.")
    lines = [
        f"{', '.join(f'`{t.vmid}`' for t in copies)} *{escape(copies[0].name)}* on "
        f"{escape(', '.join(t.node for t in copies))}: {escape(copies[0].distribution or '?')} "
        f"{escape(copies[0].version or '')}, built {when(copies[0].build_date)}"
        for copies in copies_of(list(templates)).values()
    ]
    blocks: list[Block] = [header(f"Templates ({len(templates)})")]
    for start in range(0, len(lines), 20):
        blocks.append(section("\n".join(lines[start : start + 20])))
    return message(f"Templates: {len(templates)}", blocks[:48])


def key_message(label: str, fingerprint: str, key_type: str) -> dict[str, Any]:
    text = f"Your SSH key: `{key_type}` {escape(label)}\nFingerprint `{fingerprint}`"
    return message(text, [section(f":key: {text}"), context("Every VM you create gets this key.")])


_ADD_KEY = (
    "Add yours once with `/solti key set ssh-ed25519 AAAA... you@laptop` "
    "(paste the contents of `~/.ssh/id_ed25519.pub`)"
)
# `/solti key show` with nothing registered: a fact and how to change it.
NO_KEY_SHOW_TEXT = f"You have no SSH key registered. {_ADD_KEY}."
# A create refused for want of a key: why it matters, how to fix it, and to run it again.
NO_KEY_TEXT = (
    f"You have no SSH key registered, so you could not log in to the VM. {_ADD_KEY}, "
    "then try again."
)


def audit_message(records: Sequence[Any]) -> dict[str, Any]:
    if not records:
        return info_message("No audit records match.")
    lines = []
    for r in records:
        target = f" VMID {r.vmid}" if r.vmid else ""
        target += f" ({escape(r.name)})" if getattr(r, "name", None) else ""
        who = f"<@{r.actor}>" if str(r.actor).startswith(("U", "W")) else escape(str(r.actor))
        line = f"{when(r.at)} {who} `{r.action}`{target}: *{r.result}*"
        if getattr(r, "approver", None):
            line += f", approver <@{r.approver}>"
        if getattr(r, "error", None):
            line += f" — {escape(clip(str(r.error), 200))}"
        lines.append(line)
    blocks: list[Block] = [header(f"Audit ({len(records)} most recent)")]
    for start in range(0, len(lines), 10):
        blocks.append(section("\n".join(lines[start : start + 10])))
    return message(f"Audit: {len(records)} records", blocks[:48])


def remove_prompt_message(vm: Any) -> dict[str, Any]:
    """`vm remove` never removes at once: a danger button with a confirm dialog does it."""
    text = f"Remove VM {vm.vmid} ({vm.name}) on {vm.node}? This deletes its disks."
    return message(
        text,
        [
            section(f":wastebasket: {escape(text)}"),
            actions(
                button(
                    f"Remove VM {vm.vmid}",
                    REMOVE_ACTION,
                    str(vm.vmid),
                    style="danger",
                    confirm=confirm_dialog(
                        "Remove this VM?",
                        f"VM {vm.vmid} ({escape(vm.name)}) and its disks will be deleted. "
                        "This cannot be undone.",
                        "Remove",
                    ),
                ),
                block_id="remove",
            ),
        ],
    )


def done_message(text: str) -> dict[str, Any]:
    return message(text, [section(text), divider()][:1])
