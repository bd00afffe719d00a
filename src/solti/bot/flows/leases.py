"""Lease flows: `vm extend` (command and button), and the sweep's reminders as DMs.

The decisions are provisioning's (``Provisioner.extend_lease``, ``Provisioner.sweep_leases``);
here is who may ask and what people are told. Who may ask is the one authorization table's
(``bot.authorization``, verb ``vm extend``: the owner or an admin, usergroups included, as for
stop and remove), from a channel or from the person's own surfaces (the reminder DM, App
Home), where ``allowed_channels`` does not apply. A refusal is recorded in the audit log.
"""

from __future__ import annotations

import logging

from solti.bot.blocks import replies
from solti.bot.blocks.elements import when
from solti.bot.blocks.lease_blocks import reminder_message
from solti.bot.flows.caller import Caller, describe_error
from solti.bot.runtime import Runtime
from solti.provisioning.durations import format_duration

__all__ = ["extend", "run_sweep"]

log = logging.getLogger("solti.bot.flows.leases")


def _owner(runtime: Runtime, vmid: int) -> str | None:
    lease = runtime.provisioner.leases.get(vmid)
    return lease.owner if lease else runtime.provisioner.audit.owners().get(vmid)


def extend(caller: Caller, vmid: int, duration: str | None) -> None:
    """`/solti vm extend VMID [DURATION]`, and [Extend] in a reminder or App Home."""
    runtime = caller.runtime
    owner = _owner(runtime, vmid)
    if owner is None:
        caller.say_error(f"VM {vmid} has no lease and no owner I know of. `/solti vm list`.")
        return
    decision = caller.authorize("vm extend", owner=owner)
    if not decision:
        caller.record_denied("vm lease extend", decision.reason, vmid=vmid)
        caller.say_error(decision.reason)
        return
    try:
        lease = runtime.provisioner.extend_lease(
            vmid, duration, actor=caller.user, admin=True, via="slack"
        )
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    caller.reply(
        replies.info_message(
            f":hourglass: The lease of VM {vmid} now ends {when(lease.expires_at)}."
        )
    )


def run_sweep(runtime: Runtime) -> int:
    """One sweep: act on due leases and DM each reminder to its owner; returns actions taken."""
    report = runtime.provisioner.sweep_leases()
    if not report.actions:
        return 0
    policy = runtime.provisioner.leases.policy
    extend_by = format_duration(policy.default) if policy.default else None
    for action in report.actions:
        if action.action != "warn" or action.error:
            continue
        name = report.names.get(action.vmid, f"VM {action.vmid}")
        try:
            runtime.client.chat_postMessage(
                channel=action.owner,
                **reminder_message(
                    action.vmid, name, action.lease_expires_at, policy.on_expiry, extend_by
                ),
            )
        except Exception:
            log.warning("could not DM the lease reminder of VM %s to %s", action.vmid,
                        action.owner)  # fmt: skip
    return len(report.actions)
