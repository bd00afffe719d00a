"""App Home: ``app_home_opened`` -> ``views.publish`` of the person's VMs (``blocks.home``).

The view is built after the event is acknowledged (Slack wants events acked within 3 s; a
list of VMs asks Proxmox). Per opening: the VM list's ``/cluster/resources``, one template
list, and the quota's own snapshot (``Provisioner.quota``, which also counts creates in flight).

With several clusters configured, every cluster is asked at once (``every_cluster``): the
person's VMs and quota per cluster, each VM's buttons naming its cluster (``500@lab``), and a
cluster that does not answer named in one line while the others are shown.
"""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.blocks.home_view import (
    MAX_VMS,
    ClusterHome,
    home_view,
    home_view_clusters,
    vm_blocks,
)
from solti.bot.every_cluster import on_every_cluster, unanswered_text
from solti.bot.fleet_facts import ending_within, outdated_vms
from solti.bot.runtime import Runtime
from solti.provisioning.clusters import split

__all__ = ["publish_home", "register"]

log = logging.getLogger("solti.bot.home")


def publish_home(runtime: Runtime, user: str) -> dict[str, Any]:
    """Build and publish ``user``'s Home tab; returns the view sent."""
    if runtime.clusters.many:
        view = _view_of_clusters(runtime, user)
        runtime.client.views_publish(user_id=user, view=view)
        return view
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


def _view_of_clusters(runtime: Runtime, user: str) -> dict[str, Any]:
    """Every cluster's part at once; VMs shown are shared out so the view stays in bounds."""
    admin = runtime.rules.is_admin(user, runtime.groups_of(user))
    now = runtime.clock()
    share = max(1, MAX_VMS // len(runtime.clusters.names))

    def part() -> ClusterHome:  # runs on one cluster (runtime.on_cluster)
        provisioner = runtime.provisioner
        vms = provisioner.list_vms()
        mine = [vm for vm in vms if vm.owner == user]
        templates = provisioner.list_templates()
        newer = {
            o.vm.vmid: o.latest.version or o.latest.name for o in outdated_vms(mine, templates)
        }
        try:
            quota = provisioner.quota(user)
        except Exception as exc:
            log.warning("could not read the quota of %s: %s", user, type(exc).__name__)
            quota = None
        return ClusterHome(
            runtime.cluster, mine, vm_blocks(mine, now, newer, share), quota,
            ending_within(vms, now) if admin else None, shown=min(share, len(mine)),
        )  # fmt: skip

    answered, unanswered = split(on_every_cluster(runtime, part))
    return home_view_clusters(
        [a.value for a in answered], [unanswered_text(a) for a in unanswered], now
    )


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
