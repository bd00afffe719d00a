"""``/nodes/{node}/vzdump/*`` reads: backup defaults and a backup's guest config.

- pve-manager ``PVE/API2/VZDump.pm`` ``defaults`` -> ``PVE/VZDump.pm`` ``read_vzdump_defaults``:
  a fresh node's ``/etc/vzdump.conf`` holds only comments, so every option is the ``default``
  of its pve-guest-common ``src/PVE/VZDump/Common.pm`` ``$confdesc`` entry, ``performance`` and
  ``fleecing`` the defaults of the ``backup-performance`` and ``backup-fleecing`` formats (left
  as objects: the handler prints only ``prune-backups`` back into a property string). Without
  ``storage`` or ``dumpdir`` the storage is ``local``; ``VZDump.pm`` ``storage_info`` dies
  "can't use storage '<id>' for backups - wrong content type" unless it has ``backup``
  content, and gives a directory storage's ``dumpdir`` (``<path>/dump``, ``Plugin.pm``
  ``get_subdir``). Callers without ``Sys.Audit`` on the node do not see ``mailto``,
  ``tmpdir``, ``dumpdir``, ``script`` or ``ionice``.
- ``VZDump.pm`` ``extractconfig``: ``check_volume_access(..., 'backup')`` (a path rather than
  a volume ID only for ``root@pam``, "Only root can pass arbitrary filesystem paths."), then
  ``VM.Backup`` on the owner and pve-storage ``Storage.pm`` ``extract_vzdump_config`` ->
  ``abs_filesystem_path``: "can't find file '<volid>'" (the simulator holds no backups).
"""

from __future__ import annotations

from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers import volume_names as names

# Common.pm $confdesc: the options that carry a default.
CONF_DEFAULTS: dict[str, Any] = {
    "all": 0, "stdexcludes": 1, "compress": "0", "pigz": 0, "zstd": 1, "quiet": 0,
    "mode": "snapshot", "mailnotification": "always", "notification-mode": "auto", "stop": 0,
    "bwlimit": 0, "ionice": 7, "lockwait": 180, "stopwait": 10, "prune-backups": "keep-all=1",
    "remove": 1,
}  # fmt: skip
PERFORMANCE_DEFAULTS = {"max-workers": 16, "pbs-entries-max": 1048576}
FLEECING_DEFAULTS = {"enabled": 0}
ONLY_ROOT = (
    "Only root can pass arbitrary filesystem paths. at /usr/share/perl5/PVE/Storage.pm line 651.\n"
)
AUDIT_ONLY = ("mailto", "tmpdir", "dumpdir", "script", "ionice")


def defaults(call: Call) -> dict[str, Any]:
    answer: dict[str, Any] = {
        **CONF_DEFAULTS,
        "performance": dict(PERFORMANCE_DEFAULTS),
        "fleecing": dict(FLEECING_DEFAULTS),
        "storage": call.params.get("storage") or "local",
    }
    storage_id = answer["storage"]
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        cluster.access.check_privileges(
            f"/storage/{storage_id}", ["Datastore.Audit", "Datastore.AllocateSpace"]
        )
        storage = cluster.storages.require(storage_id)
        if "backup" not in storage.content:
            raise PveError(
                500, f"can't use storage '{storage_id}' for backups - wrong content type\n"
            )
        if storage.file_based:
            answer["dumpdir"] = f"{storage.path}/dump"
        auditor = cluster.access.has(f"/nodes/{call.node}", "Sys.Audit")
    if not auditor:
        for key in AUDIT_ONLY:
            answer.pop(key, None)
    return answer


def extract_config(call: Call) -> NoReturn:
    volume = call.params["volume"]
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        if not names.VOLID_RE.match(volume):
            # Storage.pm dies without a newline: Perl appends where.
            raise PveError(500, ONLY_ROOT)
        name = names.check_access(cluster, volume, "backup")
        if name.owner is not None:
            cluster.access.check_privileges(f"/vms/{name.owner}", ["VM.Backup"])
    raise PveError(500, f"can't find file '{volume}'\n")


VZDUMP_READS: dict[str, Handler] = {
    "/nodes/{node}/vzdump/defaults": defaults,
    "/nodes/{node}/vzdump/extractconfig": extract_config,
}
