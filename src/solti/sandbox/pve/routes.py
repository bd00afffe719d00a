"""Which handler serves which schema path template and method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from solti.sandbox.pve import path_catalog
from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import (
    Handler,
    cluster_routes,
    qemu,
    snapshot_routes,
    storage,
    task_routes,
)
from solti.sandbox.pve.state.access import Access

VM = "/nodes/{node}/qemu/{vmid}"
SNAP = "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}"

ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/version"): cluster_routes.version,
    ("GET", "/nodes"): cluster_routes.nodes,
    ("GET", "/cluster/resources"): cluster_routes.resources,
    ("GET", "/cluster/nextid"): cluster_routes.nextid,
    ("GET", "/cluster/options"): cluster_routes.options,
    ("POST", "/access/ticket"): cluster_routes.ticket,
    ("GET", "/access/permissions"): cluster_routes.permissions,
    ("GET", "/nodes/{node}/qemu"): qemu.vm_list,
    ("POST", "/nodes/{node}/qemu"): qemu.create,
    ("GET", VM): qemu.vm_index,
    ("DELETE", VM): qemu.destroy,
    ("GET", f"{VM}/config"): qemu.config_get,
    ("PUT", f"{VM}/config"): qemu.config_put,
    ("POST", f"{VM}/config"): qemu.config_post,
    ("POST", f"{VM}/clone"): qemu.clone,
    ("POST", f"{VM}/template"): qemu.template,
    ("PUT", f"{VM}/resize"): qemu.resize,
    ("GET", f"{VM}/status/current"): qemu.status_current,
    ("POST", f"{VM}/status/start"): qemu.start,
    ("POST", f"{VM}/status/stop"): qemu.stop,
    ("POST", f"{VM}/status/shutdown"): qemu.shutdown,
    ("GET", f"{VM}/agent/network-get-interfaces"): qemu.agent_interfaces,
    ("GET", "/nodes/{node}/network"): cluster_routes.network,
    ("GET", "/nodes/{node}/storage"): storage.storage_list,
    ("GET", "/nodes/{node}/storage/{storage}/content"): storage.content,
    ("POST", "/nodes/{node}/storage/{storage}/download-url"): storage.download_url,
    ("GET", "/nodes/{node}/tasks/{upid}/status"): task_routes.status,
    ("GET", "/nodes/{node}/tasks/{upid}/log"): task_routes.log,
    ("GET", f"{VM}/snapshot"): snapshot_routes.snapshot_list,
    ("POST", f"{VM}/snapshot"): snapshot_routes.snapshot_create,
    ("GET", SNAP): snapshot_routes.snapshot_index,
    ("DELETE", SNAP): snapshot_routes.snapshot_delete,
    ("GET", f"{SNAP}/config"): snapshot_routes.snapshot_config_get,
    ("PUT", f"{SNAP}/config"): snapshot_routes.snapshot_config_put,
    ("POST", f"{SNAP}/rollback"): snapshot_routes.rollback,
}

# Reachable without credentials, as pveproxy allows: pve-manager ``PVE/HTTPServer.pm``
# ``auth_handler`` skips authentication for a method whose ``permissions`` say
# ``user => 'world'`` (the ticket calls, and ``/access/domains`` for the login form's realm list).
NO_AUTH = {
    (method, path)
    for path, methods in path_catalog.endpoints().items()
    for method, info in methods.items()
    if (info.get("permissions") or {}).get("user") == "world"
}

CONFIG_PRIVS = [
    "VM.Config.Disk",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.HWType",
    "VM.Config.Options",
    "VM.Config.Cloudinit",
]
POWER = ["VM.PowerMgmt"]

# Privilege checks applied to API-token calls of the modelled writes: (ACL path template, any
# of these privileges). GETs are checked from the schema's ``permissions`` by ``http.py``
# (``handlers/api_permissions.py``), as every read is.
PERMISSIONS: dict[tuple[str, str], list[tuple[str, list[str]]]] = {
    ("POST", "/nodes/{node}/qemu"): [("/vms/{vmid}", ["VM.Allocate"])],
    ("DELETE", VM): [("/vms/{vmid}", ["VM.Allocate"])],
    ("PUT", f"{VM}/config"): [("/vms/{vmid}", CONFIG_PRIVS)],
    ("POST", f"{VM}/config"): [("/vms/{vmid}", CONFIG_PRIVS)],
    ("POST", f"{VM}/clone"): [("/vms/{vmid}", ["VM.Clone"]), ("/vms/{newid}", ["VM.Allocate"])],
    ("POST", f"{VM}/template"): [("/vms/{vmid}", ["VM.Allocate"])],
    ("PUT", f"{VM}/resize"): [("/vms/{vmid}", ["VM.Config.Disk"])],
    ("POST", f"{VM}/status/start"): [("/vms/{vmid}", POWER)],
    ("POST", f"{VM}/status/stop"): [("/vms/{vmid}", POWER)],
    ("POST", f"{VM}/status/shutdown"): [("/vms/{vmid}", POWER)],
    ("POST", "/nodes/{node}/storage/{storage}/download-url"): [
        ("/storage/{storage}", ["Datastore.AllocateTemplate"])
    ],
    # qemu-server ``API2/Qemu.pm`` snapshot subs' ``permissions`` (``any => 1`` lists).
    ("POST", f"{VM}/snapshot"): [("/vms/{vmid}", ["VM.Snapshot"])],
    ("DELETE", SNAP): [("/vms/{vmid}", ["VM.Snapshot"])],
    ("PUT", f"{SNAP}/config"): [("/vms/{vmid}", ["VM.Snapshot"])],
    ("POST", f"{SNAP}/rollback"): [("/vms/{vmid}", ["VM.Snapshot", "VM.Snapshot.Rollback"])],
}


def _may_access_network(access: Access, values: dict[str, Any]) -> None:
    """pve-storage ``API2/Storage/Status.pm`` ``download_url``: besides the storage, ``or`` of
    ``Sys.Audit`` and ``Sys.Modify`` on ``/`` or ``Sys.AccessNetwork`` on the node; a failed
    ``or`` is a bare ``raise_perm_exc()`` (pve-access-control ``exec_api2_perm_check``)."""
    on_root = access.permissions_for("/")["/"]
    if {"Sys.Audit", "Sys.Modify"} <= set(on_root):
        return
    if access.has(f"/nodes/{values['node']}", "Sys.AccessNetwork"):
        return
    raise PveError(403, "Permission check failed")


# Checks that are not one any-of list: run after ``PERMISSIONS`` for API tokens.
COMPOUND_CHECKS: dict[tuple[str, str], Callable[[Access, dict[str, Any]], None]] = {
    ("POST", "/nodes/{node}/storage/{storage}/download-url"): _may_access_network,
}
