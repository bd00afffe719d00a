"""How to log in to a new VM: the ready message's "Log in" field, then its one later edit.

Apart from the create flow because it has its own life: it starts when the VM is ready and
runs (in a thread of its own) for up to ``defaults.address_wait_seconds`` after the flow ended.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import Any

from solti.bot.blocks import progress as progress_views
from solti.bot.flows.caller import Caller
from solti.bot.progress_message import ProgressMessage

__all__ = ["address_later", "address_wait", "first_login"]

log = logging.getLogger("solti.bot.flows.login")


def address_later(
    caller: Caller, progress: ProgressMessage, vm: Any, plan: Any, timeout: float
) -> None:
    """Wait (in its own thread) for the guest agent's address, then edit the final message.

    The VM is shown as ready at once; the address comes when the guest has booted, which
    takes a while or never happens (no qemu-guest-agent in the image). A thread of its own,
    not a pool worker: the wait is long and mostly asleep, and must not hold up other work.
    """
    provisioner = caller.runtime.provisioner
    title = progress.title

    def wait() -> None:
        try:
            found = provisioner.vm_address(
                vm.node,
                vm.vmid,
                timeout=timeout,
                ipconfig=plan.ipconfig,
                distribution=plan.template.distribution,
            )
            login = progress_views.login_text(
                plan.user, vm.vmid, address=found.address, reason=found.reason
            )
        except Exception as exc:  # never a traceback in Slack; the VM itself is fine
            log.warning("address lookup of VM %s failed: %s", vm.vmid, type(exc).__name__)
            login = progress_views.login_text(
                plan.user, vm.vmid, reason="the guest agent could not be asked"
            )
        progress.edit(progress_views.vm_done_message(title, vm, plan, login))

    context = contextvars.copy_context()
    name = f"solti-address-{vm.vmid}"
    threading.Thread(target=context.run, args=(wait,), name=name, daemon=True).start()


def address_wait(caller: Caller) -> float:
    """``defaults.address_wait_seconds`` of the bot's policy (120 s without one)."""
    defaults = getattr(caller.runtime.policy, "defaults", None)
    return float(getattr(defaults, "address_wait_seconds", 120))


def first_login(caller: Caller, vm: Any, plan: Any) -> tuple[str, float]:
    """The "Log in" text of the ready message, and how long to wait for the agent after it
    (0: do not).

    A static address is known from the plan (no API call); a VM that is not running will
    not get one; ``defaults.address_wait_seconds: 0`` means nobody waits.
    """
    found = caller.runtime.provisioner.vm_address(
        vm.node, vm.vmid, timeout=0, ipconfig=plan.ipconfig, distribution=plan.template.distribution
    )
    if found.address:
        return progress_views.login_text(plan.user, vm.vmid, address=found.address), 0
    if found.outcome == "no-agent":
        return progress_views.login_text(plan.user, vm.vmid, reason=found.reason), 0
    if vm.status != "running":
        return progress_views.login_text(plan.user, vm.vmid), 0
    wait = address_wait(caller)
    if wait <= 0:
        reason = "address lookup is off (defaults.address_wait_seconds: 0)"
        return progress_views.login_text(plan.user, vm.vmid, reason=reason), 0
    return progress_views.login_text(plan.user, vm.vmid, waiting=wait), wait
