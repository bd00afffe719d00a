"""Which handler serves which schema path template and method."""

from __future__ import annotations

from solti.sandbox.pve.handlers import Handler, cluster, qemu, storage, tasks

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
    ("GET", "/nodes/{node}/network"): cluster.network,
    ("GET", "/nodes/{node}/storage"): storage.storage_list,
    ("GET", "/nodes/{node}/storage/{storage}/content"): storage.content,
    ("POST", "/nodes/{node}/storage/{storage}/download-url"): storage.download_url,
    ("GET", "/nodes/{node}/tasks/{upid}/status"): tasks.status,
    ("GET", "/nodes/{node}/tasks/{upid}/log"): tasks.log,
}

# Reachable without credentials, as pveproxy allows.
NO_AUTH = {("POST", "/access/ticket")}

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

# Privilege checks applied to API-token calls: (ACL path template, any of these privileges).
PERMISSIONS: dict[tuple[str, str], list[tuple[str, list[str]]]] = {
    ("POST", "/nodes/{node}/qemu"): [("/vms/{vmid}", ["VM.Allocate"])],
    ("DELETE", VM): [("/vms/{vmid}", ["VM.Allocate"])],
    ("GET", f"{VM}/config"): [("/vms/{vmid}", ["VM.Audit"])],
    ("PUT", f"{VM}/config"): [("/vms/{vmid}", CONFIG_PRIVS)],
    ("POST", f"{VM}/config"): [("/vms/{vmid}", CONFIG_PRIVS)],
    ("POST", f"{VM}/clone"): [("/vms/{vmid}", ["VM.Clone"]), ("/vms/{newid}", ["VM.Allocate"])],
    ("POST", f"{VM}/template"): [("/vms/{vmid}", ["VM.Allocate"])],
    ("PUT", f"{VM}/resize"): [("/vms/{vmid}", ["VM.Config.Disk"])],
    ("GET", f"{VM}/status/current"): [("/vms/{vmid}", ["VM.Audit"])],
    ("POST", f"{VM}/status/start"): [("/vms/{vmid}", POWER)],
    ("POST", f"{VM}/status/stop"): [("/vms/{vmid}", POWER)],
    ("POST", f"{VM}/status/shutdown"): [("/vms/{vmid}", POWER)],
    ("GET", f"{VM}/agent/network-get-interfaces"): [
        ("/vms/{vmid}", ["VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted"])
    ],
    ("GET", "/nodes/{node}/storage/{storage}/content"): [
        ("/storage/{storage}", ["Datastore.Audit", "Datastore.AllocateSpace"])
    ],
    ("POST", "/nodes/{node}/storage/{storage}/download-url"): [
        ("/storage/{storage}", ["Datastore.AllocateTemplate"])
    ],
}
