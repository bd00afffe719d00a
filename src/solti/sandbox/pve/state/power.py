"""Power (start, stop, shutdown) and the guest agent's readiness.

A shutdown is an ACPI request the guest may honour late or never: qemu-server's
``_do_vm_stop`` waits up to ``timeout`` seconds (60 when not given) for the VM to go, then
either dies with ``VM quit/powerdown failed - got timeout`` or, with ``forceStop=1``, warns
``VM still running - terminating now with SIGTERM`` and kills it (the task ends
``WARNINGS: 1``). Here a guest takes the ``qmshutdown`` duration to power down, or forever when
the ``ignore_acpi`` fault is armed for it, and the task lasts until it is down or the timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from solti.sandbox.pve.errors import PveError
from solti.sandbox.pve.state.drives import split_property_string
from solti.sandbox.pve.state.tasks import WARN_PREFIX, TaskError

if TYPE_CHECKING:
    from solti.sandbox.pve.state.cluster import Cluster, Guest

DEFAULT_SHUTDOWN_TIMEOUT = 60
AGENT_NOT_RUNNING = "QEMU guest agent is not running"
NO_AGENT = "No QEMU guest agent configured"
_TRUE = ("1", "on", "yes", "true")


class PowerMixin:
    """start/stop/shutdown as tasks; whether a running guest's agent answers yet."""

    def power(
        self: Cluster, node: str, vmid: int, action: str, params: dict[str, Any], user: str
    ) -> str:
        skiplock = bool(params.get("skiplock"))

        def start() -> list[str]:
            guest = self.guest_on(node, vmid)
            self.check_lock(guest, skiplock)
            if guest.conf.get("template") == "1":
                raise TaskError("you can't start a vm if it's a template")
            if guest.running:
                raise TaskError(f"VM {vmid} already running")
            guest.running, guest.started_at = True, self.now
            return [f"started VM {vmid}"]

        def stop() -> list[str]:
            guest = self.guest_assert_on(node, vmid)
            self.check_lock(guest, skiplock)
            guest.running = False
            return [f"stopped VM {vmid}"]

        if action == "shutdown":
            return self._shutdown(node, vmid, params, user)
        work = start if action == "start" else stop
        return self.start_task(node, f"qm{action}", vmid, user, work).upid

    def _shutdown(self: Cluster, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        guest = self.guest_assert_on(node, vmid)
        skiplock = bool(params.get("skiplock"))
        force = bool(params.get("forceStop"))
        timeout = float(params.get("timeout", DEFAULT_SHUTDOWN_TIMEOUT))
        takes = self.policy.duration_for("qmshutdown")
        if guest.running and self.policy.ignores_acpi(vmid):
            takes = float("inf")
        in_time = not guest.running or takes <= timeout

        def work() -> list[str]:
            self.check_lock(guest, skiplock)
            if not guest.running:
                return []
            if in_time:
                guest.running = False
                return [f"shut down VM {vmid}"]
            if not force:
                raise TaskError("VM quit/powerdown failed - got timeout")
            guest.running = False
            return [f"{WARN_PREFIX}VM still running - terminating now with SIGTERM"]

        duration = None if in_time else timeout
        return self.start_task(node, "qmshutdown", vmid, user, work, duration=duration).upid

    def agent_check(self: Cluster, guest: Guest) -> None:
        """Raise PVE's error unless the guest agent answers now (``agent_available``)."""
        agent = split_property_string(guest.conf.get("agent", "0"), "enabled")
        if str(agent.get("enabled", "0")).lower() not in _TRUE:
            raise PveError(500, NO_AGENT)
        if not guest.running:
            raise PveError(500, f"VM {guest.vmid} is not running")
        boot = self.policy.agent_boot_for(guest.vmid)
        if boot is None or self.now - guest.started_at < boot:
            raise PveError(500, AGENT_NOT_RUNNING)
