"""Power (start, stop, shutdown) and the guest agent's readiness.

A shutdown is an ACPI request the guest may honour late or never: qemu-server's
``_do_vm_stop`` waits up to ``timeout`` seconds (60 when not given) for the VM to go, then
either dies with ``VM quit/powerdown failed - got timeout`` or, with ``forceStop=1``, warns
``VM still running - terminating now with SIGTERM`` and kills it (a plain ``warn``: the
task ends ``OK``). Here a guest takes the ``qmshutdown`` duration to power down, or forever when
the ``ignore_acpi`` fault is armed for it, and the task lasts until it is down or the timeout.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state.drives import is_drive_key, split_property_string
from solti.sandbox.pve.state.guests import Guests, check_lock
from solti.sandbox.pve.state.qemu_host import machine_at_start
from solti.sandbox.pve.state.records import Guest
from solti.sandbox.pve.state.storages import Storages
from solti.sandbox.pve.state.tasks import Now, TaskError, TaskPolicy, Tasks

DEFAULT_SHUTDOWN_TIMEOUT = 60
AGENT_NOT_RUNNING = "QEMU guest agent is not running"
NO_AGENT = "No QEMU guest agent configured"
_TRUE = ("1", "on", "yes", "true")


class Power:
    """start/stop/shutdown as tasks; whether a running guest's agent answers yet."""

    def __init__(
        self,
        now: Now,
        guests: Guests,
        tasks: Tasks,
        policy: TaskPolicy,
        storages: Storages | None = None,
    ) -> None:
        self._storages = storages
        self._now = now
        self._guests = guests
        self._tasks = tasks
        self._policy = policy

    def act(self, node: str, vmid: int, action: str, params: dict[str, Any], user: str) -> str:
        skiplock = bool(params.get("skiplock"))

        def start() -> list[str]:
            guest = self._guests.on(node, vmid)
            self._guests.check_file_lock(vmid)
            check_lock(guest, skiplock)
            if guest.is_template:
                raise TaskError("you can't start a vm if it's a template")
            if guest.running:
                raise TaskError(f"VM {vmid} already running")
            self._activate_volumes(node, guest)
            guest.running, guest.started_at = True, self._now()
            guest.started_machine = (guest.started_at, machine_at_start(guest.conf))
            return [f"started VM {vmid}"]

        def stop() -> list[str]:
            # qemu-server ``_do_vm_stop``: ``check_running`` (config exists, else die) returns
            # early for a stopped VM, before ``check_lock``; so a locked stopped VM stops OK.
            guest = self._guests.assert_on(node, vmid)
            self._guests.check_file_lock(vmid)  # ``vm_stop`` runs under ``lock_config``
            if not guest.running:
                return []
            check_lock(guest, skiplock)
            guest.running = False
            return [f"stopped VM {vmid}"]

        if action == "shutdown":
            return self._shutdown(node, vmid, params, user)
        work = start if action == "start" else stop
        return self._tasks.start(node, f"qm{action}", vmid, user, work).upid

    def _activate_volumes(self, node: str, guest: Guest) -> None:
        """qemu-server ``vm_start_nolock`` activates the VM's volumes (``Storage.pm``
        ``activate_volumes`` -> ``activate_storage`` -> ``storage_check_enabled``): a disk on a
        storage whose ``nodes`` leave this node out fails the start task."""
        if self._storages is None:
            return
        for key, value in sorted(guest.conf.items()):
            if not is_drive_key(key):
                continue
            storage_id = split_property_string(value, "file").get("file", "").partition(":")[0]
            if storage_id in self._storages and not self._storages.enabled_on(storage_id, node):
                raise TaskError(f"storage '{storage_id}' is not available on node '{node}'")

    def _shutdown(self, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        """qemu-server ``API2/Qemu.pm`` ``vm_shutdown`` forks its worker without looking the VM
        up: a missing VM gets a UPID and the task fails in ``check_running``."""
        guest = self._guests.get(vmid)
        if guest is None or guest.node != node:

            def missing() -> list[str]:
                self._guests.assert_on(node, vmid)
                return []

            return self._tasks.start(node, "qmshutdown", vmid, user, missing).upid
        skiplock = bool(params.get("skiplock"))
        force = bool(params.get("forceStop"))
        timeout = float(params.get("timeout", DEFAULT_SHUTDOWN_TIMEOUT))
        takes = self._policy.duration_for("qmshutdown")
        if guest.running and self._policy.ignores_acpi(vmid):
            takes = float("inf")
        in_time = not guest.running or takes <= timeout

        def work() -> list[str]:
            self._guests.check_file_lock(vmid)
            if not guest.running:  # ``_do_vm_stop`` returns before ``check_lock``
                return []
            check_lock(guest, skiplock)
            if in_time:
                guest.running = False
                return [f"shut down VM {vmid}"]
            if not force:
                raise TaskError("VM quit/powerdown failed - got timeout")
            guest.running = False
            # A plain Perl ``warn`` in ``_do_vm_stop``: logged, not counted (the task ends OK).
            return ["VM still running - terminating now with SIGTERM"]

        duration = None if in_time else timeout
        return self._tasks.start(node, "qmshutdown", vmid, user, work, duration=duration).upid

    def check_agent(self, guest: Guest) -> None:
        """Raise PVE's error unless the guest agent answers now (``agent_available``)."""
        # qemu-server ``QemuServer/Agent.pm`` ``assert_agent_available``: only a config
        # without ``agent`` is "not configured"; ``agent: 0`` fails like an agent not up
        # (``qga_check_running`` asks QEMU, which has no agent channel then).
        if "agent" not in guest.conf:
            raise PveError(500, NO_AGENT)
        if not guest.running:
            raise PveError(500, f"VM {guest.vmid} is not running")
        agent = split_property_string(guest.conf["agent"], "enabled")
        if str(agent.get("enabled", "0")).lower() not in _TRUE:
            raise PveError(500, AGENT_NOT_RUNNING)
        boot = self._policy.agent_boot_for(guest.vmid)
        if boot is None or self._now() - guest.started_at < boot:
            raise PveError(500, AGENT_NOT_RUNNING)
