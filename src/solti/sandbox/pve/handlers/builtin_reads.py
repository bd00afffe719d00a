"""Reads whose answer on a fresh 9.1 cluster is fixed by the packages, not by configuration.

- Notifications, pve-manager ``PVE/API2/Cluster/Notifications.pm`` over proxmox-notify:
  ``notifications.cfg`` starts empty, and proxmox-notify ``src/context/pve.rs``
  ``DEFAULT_CONFIG`` adds the built-in ``sendmail: mail-to-root`` (``mailto-user root@pam``)
  and ``matcher: default-matcher`` (``mode all``, ``target mail-to-root``), each reported with
  ``origin: builtin``. ``get_all_targets`` lists them as ``src/api/mod.rs`` ``get_targets``
  builds ``Target`` (name, origin, type, comment). No gotify, smtp or webhook endpoints.
  ``get_matcher_fields`` is a fixed list; ``get_matcher_field_values`` the fixed ``type``
  values, then the backup and replication job ids (none here), then one ``hostname`` per
  cluster node (``PVE::Cluster::get_nodelist``).
- pve-access-control ``src/PVE/API2/TFA.pm`` ``list_tfa``: ``priv/tfa.cfg`` has no entries.
- qemu-server ``src/PVE/API2/NodeCapabilities/Qemu/Migration.pm``: ``has-dbus-vmstate`` is
  whether ``/usr/libexec/qemu-server/dbus-vmstate`` exists; qemu-server 9 installs it
  (``src/usr/Makefile``).
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call, Handler

MAIL_TO_ROOT = {
    "name": "mail-to-root",
    "mailto-user": ["root@pam"],
    "comment": "Send mails to root@pam's email address",
    "origin": "builtin",
}
DEFAULT_MATCHER = {
    "name": "default-matcher",
    "mode": "all",
    "target": ["mail-to-root"],
    "comment": "Route all notifications to mail-to-root",
    "origin": "builtin",
}
MATCHER_FIELDS = ["type", "hostname", "job-id"]
NOTIFICATION_TYPES = ["package-updates", "fencing", "replication", "vzdump", "system-mail"]


def targets(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "name": MAIL_TO_ROOT["name"],
            "origin": MAIL_TO_ROOT["origin"],
            "type": "sendmail",
            "comment": MAIL_TO_ROOT["comment"],
        }
    ]


def sendmail_endpoints(call: Call) -> list[dict[str, Any]]:
    return [{**MAIL_TO_ROOT, "mailto-user": list(MAIL_TO_ROOT["mailto-user"])}]


def matchers(call: Call) -> list[dict[str, Any]]:
    return [{**DEFAULT_MATCHER, "target": list(DEFAULT_MATCHER["target"])}]


def no_endpoints(call: Call) -> list[Any]:
    return []


def matcher_fields(call: Call) -> list[dict[str, str]]:
    return [{"name": name} for name in MATCHER_FIELDS]


def matcher_field_values(call: Call) -> list[dict[str, str]]:
    with call.cluster() as cluster:
        nodes = list(cluster.nodes.names)
    values = [{"value": kind, "field": "type"} for kind in NOTIFICATION_TYPES]
    return values + [{"value": node, "field": "hostname"} for node in nodes]


def tfa_entries(call: Call) -> list[Any]:
    return []


def migration_capabilities(call: Call) -> dict[str, bool]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    return {"has-dbus-vmstate": True}


NOTIFY = "/cluster/notifications"
BUILTIN_READS: dict[str, Handler] = {
    f"{NOTIFY}/targets": targets,
    f"{NOTIFY}/endpoints/sendmail": sendmail_endpoints,
    f"{NOTIFY}/endpoints/gotify": no_endpoints,
    f"{NOTIFY}/endpoints/smtp": no_endpoints,
    f"{NOTIFY}/endpoints/webhook": no_endpoints,
    f"{NOTIFY}/matchers": matchers,
    f"{NOTIFY}/matcher-fields": matcher_fields,
    f"{NOTIFY}/matcher-field-values": matcher_field_values,
    "/access/tfa": tfa_entries,
    "/nodes/{node}/capabilities/qemu/migration": migration_capabilities,
}
