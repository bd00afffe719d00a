"""GET of one notification endpoint or matcher: the built-ins every 9.x cluster has.

- pve-manager ``PVE/API2/Cluster/Notifications.pm`` ``get_<type>_endpoint`` and
  ``get_matcher``: ``PVE::Notify::read_config`` then the proxmox-notify lookup; a lookup error
  is an ``HttpError`` hash that ``raise_api_error`` turns into a ``PVE::Exception`` with its
  code; on success the config's ``digest`` is added.
- pve-cluster ``src/PVE/Notify.pm`` ``read_config``: ``notifications.cfg`` and its private
  twin read raw ('' when absent, as on a cluster that never changed them).
- proxmox-rs ``proxmox-notify/src/lib.rs`` ``Config::new``: the built-in sections of the
  context's ``default_config`` are added when the file lacks them, with ``origin: builtin``;
  the digest is the SHA-256 of the raw file (``config.rs`` ``config``), hex-encoded by
  proxmox-perl-rs ``common/src/bindings/notify.rs`` ``digest``.
- proxmox-rs ``proxmox-notify/src/context/pve.rs`` ``DEFAULT_CONFIG``: sendmail endpoint
  ``mail-to-root`` and matcher ``default-matcher``; ``api/{sendmail,gotify,smtp,webhook}.rs``
  ``get_endpoint`` 404 "endpoint '<name>' not found", ``api/matcher.rs`` ``get_matcher``
  404 "matcher '<name>' not found". Fields are serialized as their structs say (kebab-case,
  empty lists and unset options left out).

Their ``permissions`` (an ``or`` of Mapping.Modify and Mapping.Audit on
``/mapping/notifications``) are checked before the handler, as for every GET
(``api_permissions``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler

# sha256 of the absent notifications.cfg ('').
NOTIFY_DIGEST = hashlib.sha256(b"").hexdigest()

BUILTIN_ENDPOINTS: dict[str, dict[str, dict[str, Any]]] = {
    "sendmail": {
        "mail-to-root": {
            "name": "mail-to-root",
            "mailto-user": ["root@pam"],
            "comment": "Send mails to root@pam's email address",
            "origin": "builtin",
        }
    },
    "gotify": {},
    "smtp": {},
    "webhook": {},
}
BUILTIN_MATCHERS: dict[str, dict[str, Any]] = {
    "default-matcher": {
        "name": "default-matcher",
        "mode": "all",
        "target": ["mail-to-root"],
        "comment": "Route all notifications to mail-to-root",
        "origin": "builtin",
    }
}


def _endpoint_reader(kind: str) -> Handler:
    def read(call: Call) -> dict[str, Any]:
        name = call.params["name"]
        found = BUILTIN_ENDPOINTS[kind].get(name)
        if found is None:
            raise PveError(404, f"endpoint '{name}' not found\n")
        return {**found, "digest": NOTIFY_DIGEST}

    return read


def matcher(call: Call) -> dict[str, Any]:
    name = call.params["name"]
    found = BUILTIN_MATCHERS.get(name)
    if found is None:
        raise PveError(404, f"matcher '{name}' not found\n")
    return {**found, "digest": NOTIFY_DIGEST}


NOTIFICATION_READS: dict[str, Handler] = {
    **{
        f"/cluster/notifications/endpoints/{kind}/{{name}}": _endpoint_reader(kind)
        for kind in BUILTIN_ENDPOINTS
    },
    "/cluster/notifications/matchers/{name}": matcher,
}
