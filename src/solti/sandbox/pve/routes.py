"""Which handler serves which schema path template and method.

Who may call a route is not said here: every method's ``permissions`` in the vendored schema
is checked by one gate (``handlers/api_permissions.py``, run by ``http.py``) before the
handler, and the checks a method makes in its own code are in the handler or the state.
"""

from __future__ import annotations

from solti.sandbox.pve import path_catalog
from solti.sandbox.pve.handlers import (
    Handler,
    cluster_routes,
    qemu,
    snapshot_routes,
    storage,
    task_routes,
)

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
