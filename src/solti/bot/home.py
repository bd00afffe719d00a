"""App Home: ``app_home_opened`` -> ``views.publish`` of the person's VMs (``blocks.home``).

The view is built after the event is acknowledged (Slack wants events acked within 3 s; a
list of VMs asks Proxmox). Per opening: the VM list's ``/cluster/resources``, one template
list, and the quota's own snapshot (``Provisioner.quota``, which also counts creates in flight).
"""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.blocks.home_view import home_view
from solti.bot.fleet_facts import ending_within, outdated_vms
from solti.bot.runtime import Runtime

__all__ = ["publish_home", "register"]

log = logging.getLogger("solti.bot.home")


def publish_home(runtime: Runtime, user: str) -> dict[str, Any]:
    """Build and publish ``user``'s Home tab; returns the view sent."""
    provisioner = runtime.provisioner
    vms = provisioner.list_vms()
    templates = provisioner.list_templates()
    now = runtime.clock()
    mine = [vm for vm in vms if vm.owner == user]
    newer = {o.vm.vmid: o.latest.version or o.latest.name for o in outdated_vms(mine, templates)}
    admin = runtime.rules.is_admin(user, runtime.groups_of(user))
    try:
        quota = provisioner.quota(user)
    except Exception as exc:  # the rest of the tab is still worth showing
        log.warning("could not read the quota of %s: %s", user, type(exc).__name__)
        quota = None
    expiring = ending_within(vms, now) if admin else None
    view = home_view(mine, now, newer, expiring, quota=quota)
    runtime.client.views_publish(user_id=user, view=view)
    return view


def _opened(event: dict[str, Any], context: Any) -> None:
    runtime: Runtime = context["runtime"]
    user = event.get("user")
    if event.get("tab", "home") != "home" or not user:
        return

    def work() -> None:
        try:
            publish_home(runtime, str(user))
        except Exception:
            log.warning("could not publish the Home tab of %s", user, exc_info=True)

    runtime.work.quick(work)


def register(app: Any) -> None:
    app.event("app_home_opened")(_opened)
