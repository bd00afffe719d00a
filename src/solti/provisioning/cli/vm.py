"""`solti vm create|list|verify|start|stop|shutdown|remove|rebuild`: one verb per function."""

from __future__ import annotations

from typing import Any

import click

from solti.provisioning.bounds import MAX_CORES, MAX_MEMORY, quoted
from solti.provisioning.cli.approval_note import approval_note
from solti.provisioning.cli.context import CliApp, GuardedGroup, json_option, pass_app, yes_option

__all__ = ["vm_group"]

VM_COLUMNS = (
    "vmid", "name", "node", "status", "owner", "template_name", "template_version",
    "lease_expires_at",
)  # fmt: skip


class BoundedInt(click.ParamType):
    """A whole number from ``low`` to ``high``; digits are counted before ``int()`` runs, so a
    5,000-digit value is refused with the bound, never converted."""

    name = "integer"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number: int | None = value
        else:
            text = str(value).strip()
            ok = text.isascii() and text.isdigit() and len(text.lstrip("0")) <= len(str(self.high))
            number = int(text) if ok else None
        if number is None or not self.low <= number <= self.high:
            self.fail(f"{quoted(value)} is not a whole number from {self.low} to {self.high}")
        return number


class SizeParam(click.ParamType):
    """A disk size (32G); a size too large to be real is refused before any arithmetic."""

    name = "size"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from solti.provisioning.sizes import Size, SizeError  # pydantic: only when used

        try:
            size = Size(value)
        except SizeError as exc:
            self.fail(str(exc))
        if size.bytes <= 0:
            self.fail(f"{quoted(value)} is not more than 0; use a size such as 32G")
        return size.pve()


@click.group("vm", cls=GuardedGroup)
def vm_group() -> None:
    """Create VMs from templates and manage them."""


@vm_group.command("create")
@click.argument("template", required=False)
@click.option("--vmid", type=int, help="Explicit VMID (100-499, or any free id below 9000).")
@click.option("--name", help="DNS label; default {distribution}-{YYMMDD}.")
@click.option("--disk", type=SizeParam(), help="Minimum boot disk, e.g. 32G (grown, never shrunk).")
@click.option("--cores", type=BoundedInt(1, MAX_CORES))
@click.option("--memory", type=BoundedInt(16, MAX_MEMORY), help="Memory in MiB.")
@click.option("--size", help="A flavor (policy `flavors`); --cores/--memory/--disk win over it.")
@click.option("--full", is_flag=True, help="Full clone instead of a linked clone.")
@click.option("--node", help="Target node (full clones from shared storage).")
@click.option("--storage", "target_storage", help="Target storage of a full clone.")
@click.option("--ip", help="Static IPv4 in CIDR form; default DHCP.")
@click.option("--gw", help="Gateway for --ip.")
@click.option("--nameserver", help="DNS server.")
@click.option("--ssh-key", "ssh_keys", multiple=True, help="OpenSSH public key (repeatable).")
@click.option("--user", help="Cloud-init user; default: the image's user.")
@click.option("--request-id", help="Re-running with the same id makes no second VM.")
@click.option(
    "--lease",
    metavar="DURATION|none",
    help="How long the VM may live: 30m, 12h, 7d, 2w (default leases.default); "
    "none only for leases.exempt.",
)
@click.option(
    "--count",
    type=BoundedInt(1, 100),
    help="Make N VMs named NAME-1 ... NAME-N at once (at most policy limits.max_count).",
)
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
@click.option("--keep-on-failure", is_flag=True, help="Keep a half-made VM for debugging.")
@click.option(
    "--address-wait",
    type=click.IntRange(0, 3600),
    metavar="SECONDS",
    help="Wait this long for the guest agent to report the IP address "
    "(default: defaults.address_wait_seconds; 0 does not wait).",
)
@json_option
@pass_app
def create(app: CliApp, as_json: bool, dry_run: bool, request_id: str | None,
           address_wait: int | None, lease: str | None, count: int | None,
           **options: Any) -> None:  # fmt: skip
    """Clone TEMPLATE (distribution, template name or VMID) into a cloud-init ready VM.

    Once it runs, prints how to log in: `ssh user@address`, with the address from --ip or
    from the QEMU guest agent (waited for up to --address-wait seconds).
    """
    app.authorize("vm create")
    request = {k: v for k, v in options.items() if v not in (None, ())}
    if "ssh_keys" in request:
        request["ssh_keys"] = list(request["ssh_keys"])
    if count is not None:
        from solti.provisioning.cli.vm_count import create_many

        create_many(app, request, count, as_json=as_json, dry_run=dry_run,
                    request_id=request_id, lease=lease)  # fmt: skip
        return
    p = app.provisioner
    if dry_run:
        plan = p.plan_vm(request, actor=app.actor)  # refused over a quota, as the create
        columns = ("vmid", "name", "node", "full", "cores", "memory", "disk_before", "disk_after",
                   "user", "ipconfig")  # fmt: skip
        app.emit(plan, as_json, columns=columns, title=f"Plan (template {plan.template.vmid})")
        if plan.placement and not as_json:  # the reason is a sentence: below the table
            app.out.print(f"placed: {plan.placement}", highlight=False)
        _approval_note(app, p.create_approval_reasons(plan, actor=app.actor, lease=lease))
        return
    with app.progress("vm create") as progress:
        result = p.create_vm(
            request, progress=progress, actor=app.actor, via="cli", request_id=request_id,
            lease=lease,
        )  # fmt: skip
    if result.plan is not None and not result.reused:
        reasons = p.create_approval_reasons(result.plan, actor=app.actor, lease=lease)
        _approval_note(app, reasons, made=result)
    login = None
    if result.vm.status == "running" and result.plan is not None:
        if app.err_is_terminal and not as_json:
            app.err.print(f"waiting for the address of VM {result.vm.vmid} ...", style="dim")
        found = p.vm_address(
            result.vm.node,
            result.vm.vmid,
            timeout=address_wait,
            ipconfig=result.plan.ipconfig,
            distribution=result.plan.template.distribution,
        )
        result.vm.address = found.address
        login = _login(result.plan.user, result.vm.vmid, found)
    app.emit(result, as_json, text=_created(result, login))


def _approval_note(app: CliApp, reasons: list[str], made: Any = None) -> None:
    approval_note(app, reasons, [] if made is None else [made], planned=made is None)


def _login(user: str, vmid: int, found: Any) -> str:
    """``ssh user@host`` when the address is known, else why not and where to look."""
    if found.address:
        return f"ssh {user}@{found.address}"
    return f"{found.reason}; find the address in the Proxmox console (VMID {vmid})"


def _created(result: Any, login: str | None = None) -> str:
    vm = result.vm
    again = " (already made by this request id)" if result.reused else ""
    version = f" {vm.template_version}" if vm.template_version else ""
    ends = (
        f"; lease ends {lease_end_text(vm.lease_expires_at)}"
        if vm.lease_expires_at
        else "; no lease"
    )
    line = (
        f"VM {vm.vmid} ({vm.name}) on {vm.node} from {vm.template_name}{version}: "
        f"{vm.status}{again}{ends}"
    )
    placed = result.plan.placement if result.plan is not None else None
    line = f"{line}\nplaced: {placed}" if placed else line
    return f"{line}\nlog in: {login}" if login else line


@vm_group.command("list")
@click.option("--mine", is_flag=True, help="Only VMs created by the local user.")
@click.option(
    "--addresses", is_flag=True, help="Ask each running VM's guest agent for its IP (1 call each)."
)
@json_option
@pass_app
def list_(app: CliApp, mine: bool, addresses: bool, as_json: bool) -> None:
    """VMs with their owner and template (from the audit log) and status."""
    app.authorize("vm list")
    from solti.provisioning.cli.cluster_lists import list_on_clusters

    owner = app.actor if mine else None
    columns = (*VM_COLUMNS, "address") if addresses else VM_COLUMNS
    list_on_clusters(app, lambda p: p.list_vms(owner=owner, addresses=addresses), as_json,
                     columns=columns, title="VMs", optional=("note",))  # fmt: skip


@vm_group.command("extend")
@click.argument("vmid", type=int)
@click.argument("duration", required=False)
@json_option
@pass_app
def extend(app: CliApp, vmid: int, duration: str | None, as_json: bool) -> None:
    """Extend VMID's lease by DURATION (30m, 12h, 7d, 2w; default leases.default), from its
    current end or from now, whichever is later; never past leases.max from now.

    An operator (policy `cli.operators`) may extend any VM, as an admin in Slack may; another
    user only a VM they own.
    """
    app.authorize("vm extend", vmid)
    from solti.provisioning.lease_book import stamp_z

    lease = app.provisioner.extend_lease(vmid, duration, actor=app.actor, admin=True, via="cli")
    data = {"vmid": vmid, "owner": lease.owner, "lease_expires_at": stamp_z(lease.expires_at)}
    text = f"VM {vmid}: lease ends {lease_end_text(lease.expires_at)}"
    app.emit(data, as_json, text=text)


def lease_end_text(moment: Any) -> str:
    from solti.provisioning.lease_book import when

    return when(moment) if moment is not None else "never"


@vm_group.command("verify")
@click.argument("vmid", type=int)
@json_option
@pass_app
def verify(app: CliApp, vmid: int, as_json: bool) -> None:
    """Check a VM exists, is unlocked and has its cloud-init drive."""
    app.authorize("vm verify", vmid)
    info = app.provisioner.verify_vm(vmid)
    at = f", address {info.address}" if info.address else ""
    app.emit(info, as_json, text=f"VM {vmid} ({info.name}) is OK: {info.status}{at}")


@vm_group.command("start")
@click.argument("vmid", type=int)
@json_option
@pass_app
def start(app: CliApp, vmid: int, as_json: bool) -> None:
    """Start a VM."""
    app.authorize("vm start", vmid)
    info = app.provisioner.start_vm(vmid, actor=app.actor, via="cli")
    app.emit(info, as_json, text=f"VM {vmid} ({info.name}): {info.status}")


@vm_group.command("stop")
@click.argument("vmid", type=int)
@yes_option
@json_option
@pass_app
def stop(app: CliApp, vmid: int, yes: bool, as_json: bool) -> None:
    """Power a VM off at once (like pulling the plug)."""
    app.authorize("vm stop", vmid)
    app.confirm(f"Power off VM {vmid}?", yes)
    info = app.provisioner.stop_vm(vmid, actor=app.actor, via="cli")
    app.emit(info, as_json, text=f"VM {vmid} ({info.name}): {info.status}")


@vm_group.command("shutdown")
@click.argument("vmid", type=int)
@click.option(
    "--timeout", type=click.IntRange(min=0), default=120, show_default=True,
    help="Seconds the guest has to shut down.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Power the VM off if it is still up after --timeout.")
@json_option
@pass_app
def shutdown(app: CliApp, vmid: int, timeout: int, force: bool, as_json: bool) -> None:
    """Ask the guest to shut down; reports when it does not within --timeout (or, with
    --force, then stops it hard)."""
    app.authorize("vm shutdown", vmid)
    info = app.provisioner.shutdown_vm(
        vmid, timeout=timeout, force=force, actor=app.actor, via="cli"
    )
    note = f" ({info.note})" if info.note else ""
    app.emit(info, as_json, text=f"VM {vmid} ({info.name}): {info.status}{note}")


@vm_group.command("remove")
@click.argument("vmid", type=int)
@yes_option
@json_option
@pass_app
def remove(app: CliApp, vmid: int, yes: bool, as_json: bool) -> None:
    """Stop (if running) and destroy a VM with its disks."""
    app.authorize("vm remove", vmid)
    app.confirm(f"Remove VM {vmid} and its disks?", yes)
    info = app.provisioner.remove_vm(vmid, actor=app.actor, via="cli")
    app.emit(info, as_json, text=f"VM {vmid} ({info.name}) removed")


@vm_group.command("give")
@click.argument("vmid", type=BoundedInt(100, 999_999_999))
@click.argument("user")
@json_option
@pass_app
def give(app: CliApp, vmid: int, user: str, as_json: bool) -> None:
    """Make USER the owner of VM VMID (audited); quotas and lists follow the new owner."""
    app.authorize("vm give", vmid)
    previous = app.provisioner.give_vm(vmid, user, actor=app.actor, via="cli")
    result = {"vmid": vmid, "from": previous, "to": user}
    app.emit(result, as_json, text=f"VM {vmid} now belongs to {user} (was {previous}).")


@vm_group.command("rebuild")
@click.argument("vmid", type=BoundedInt(100, 999_999_999))
@click.option("--template", help="Template (distribution, name or VMID); default: the newest "
              "build of the VM's distribution.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
@click.option("--request-id", help="Re-running with the same id rebuilds once.")
@yes_option
@json_option
@pass_app
def rebuild(app: CliApp, vmid: int, template: str | None, dry_run: bool, request_id: str | None,
            yes: bool, as_json: bool) -> None:  # fmt: skip
    """Re-create VMID from a newer template, keeping its VMID, name, node, MAC address,
    static network, cores, memory, disk size, tags, user, SSH keys, owner and lease.

    The disk's contents are lost: the VM starts again from the template's image.
    """
    app.authorize("vm rebuild", vmid)
    p = app.provisioner
    planned = p.rebuild_vm(vmid, template=template, dry_run=True, actor=app.actor, via="cli")
    plan = planned.plan
    if planned.nothing_to_do or dry_run:
        text = planned.note if planned.nothing_to_do else rebuild_plan_text(plan)
        app.emit(planned if as_json else plan, as_json, text=text)
        return
    if not yes:  # the plan first, then the question (or the refusal without a terminal)
        app.err.print(rebuild_plan_text(plan), markup=False, highlight=False)
    app.confirm(f"Rebuild VM {vmid} ({plan.name}) from {plan.template.name} "
                f"{plan.template.version or ''}, losing its disk's contents?", yes)  # fmt: skip
    with app.progress("vm rebuild") as progress:
        result = p.rebuild_vm(vmid, template=template, progress=progress, actor=app.actor,
                              via="cli", request_id=request_id)  # fmt: skip
    vm = result.vm
    again = " (already done by this request id)" if result.reused else ""
    was = f" (was {plan.old_version or plan.old_template_name or '?'})"
    text = (f"VM {vm.vmid} ({vm.name}) rebuilt on {vm.node} from {vm.template_name} "
            f"{vm.template_version or ''}{was}: {vm.status}{again}")  # fmt: skip
    app.emit(result, as_json, text=text)


def rebuild_plan_text(plan: Any) -> str:
    """The plan a person reads before saying yes: versions, what is kept, what is lost."""
    new = plan.template
    net = plan.ipconfig or "?"
    if plan.nameserver:
        net += f", nameserver {plan.nameserver}"
    lines = [
        f"Rebuild VM {plan.vmid} ({plan.name}) on {plan.node}, owner {plan.owner}",
        f"  template: {plan.old_template_name or '?'} {plan.old_version or '?'} "
        f"(VMID {plan.old_template_vmid}) -> {new.name} {new.version or '?'} (VMID {new.vmid})",
        f"  keeps: MAC {plan.macaddr or '?'}, {net}, {plan.cores} cores, {plan.memory} MiB, "
        f"disk {plan.disk_after}{' (the template is smaller: grown)' if plan.resize else ''}, "
        f"user {plan.user}, "
        f"{len(plan.ssh_key_fingerprints)} SSH key(s), tags {';'.join(plan.tags) or '-'}, "
        "owner and lease",
        f"  {'starts it again' if plan.start else 'leaves it stopped'} afterwards",
        f"  WARNING: {plan.warning}",
    ]
    return "\n".join(lines)
