"""Which handler serves which schema path template and method."""

from __future__ import annotations

from sandbox.pve.handlers import Handler, cluster, qemu, storage, tasks

VM = "/nodes/{node}/qemu/{vmid}"

ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/version"): cluster.version,
    ("GET", "/nodes"): cluster.nodes,
    ("GET", "/cluster/resources"): cluster.resources,
    ("GET", "/cluster/nextid"): cluster.nextid,
    ("GET", "/cluster/options"): cluster.options,
    ("POST", "/access/ticket"): cluster.ticket,
    ("GET", "/access/permissions"): cluster.permissions,
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
    ("GET", "/nodes/{node}/storage"): storage.storage_list,
    ("GET", "/nodes/{node}/storage/{storage}/content"): storage.content,
    ("POST", "/nodes/{node}/storage/{storage}/download-url"): storage.download_url,
    ("GET", "/nodes/{node}/tasks/{upid}/status"): tasks.status,
    ("GET", "/nodes/{node}/tasks/{upid}/log"): tasks.log,
}

# Reachable without credentials, as pveproxy allows.
NO_AUTH = {("POST", "/access/ticket")}
