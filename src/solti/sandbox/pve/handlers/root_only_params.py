"""Parameters only root@pam may pass: the first check of a modelled write's own code.

qemu-server ``src/PVE/API2/Qemu.pm`` refuses some parameters to everyone but ``root@pam``
(``raise_param_exc({ $name => "Only root may use this option." }) if $value && $authuser ne
'root@pam'``), right after extracting them, before anything else the method does; an API
token (``root@pam!solti``) is not ``root@pam``. The schema's ``permissions`` do not say it,
so the gate (``api_permissions.py``) does not; ``http.py`` runs this before the handler.

Per method, in the order its code checks them:

- ``destroy_vm``, ``resize_vm``, ``$update_vm_api`` (``update_vm``, ``update_vm_async``):
  ``skiplock``;
- ``vm_start`` (``$get_root_param``): ``stateuri``, ``skiplock``, ``migratedfrom``,
  ``migration_type``, ``migration_network``, ``targetstorage``, ``force-cpu``,
  ``with-conntrack-state``, ``nets-host-mtu``;
- ``vm_stop``: ``skiplock``, ``keepActive``, ``migratedfrom``;
- ``vm_shutdown``: ``skiplock``, ``keepActive``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from solti.sandbox.pve.api_errors import param_error
from solti.sandbox.pve.auth import Identity

VM = "/nodes/{node}/qemu/{vmid}"
ROOT = "root@pam"
MESSAGE = "Only root may use this option."

ROOT_ONLY_PARAMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("DELETE", VM): ("skiplock",),
    ("PUT", f"{VM}/resize"): ("skiplock",),
    ("PUT", f"{VM}/config"): ("skiplock",),
    ("POST", f"{VM}/config"): ("skiplock",),
    ("POST", f"{VM}/status/start"): (
        "stateuri",
        "skiplock",
        "migratedfrom",
        "migration_type",
        "migration_network",
        "targetstorage",
        "force-cpu",
        "with-conntrack-state",
        "nets-host-mtu",
    ),
    ("POST", f"{VM}/status/stop"): ("skiplock", "keepActive", "migratedfrom"),
    ("POST", f"{VM}/status/shutdown"): ("skiplock", "keepActive"),
}


def perl_true(value: Any) -> bool:
    """Perl's truth of a validated parameter: ``undef``, ``''``, ``0`` and ``'0'`` are false."""
    return value not in (None, "", "0", 0)


def check_root_only_params(
    method: str, template: str, identity: Identity | None, values: Mapping[str, Any]
) -> None:
    """400 naming the first root-only parameter a caller other than root@pam set."""
    if identity is None or identity.task_user == ROOT:
        return
    for name in ROOT_ONLY_PARAMS.get((method, template), ()):
        if perl_true(values.get(name)):
            raise param_error({name: MESSAGE})
