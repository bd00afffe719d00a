"""A VM config's values as qemu-server stores, types and checks them: no model state here.

The pure helpers of ``configs.py`` (create and update of configs): which parameters are not
config options (``NOT_CONFIG``), a parameter as the config file holds it (``stored``) and as
``GET .../config`` types it (``typed``), the normalisation ``$update_vm_api``/``create_vm``
apply (``normalise_value``), and the value checks (``check_ssh_keys``: pve-common
``Tools.pm`` ``validate_ssh_public_keys``; ``check_balloon``; ``check_import``:
``API2/Qemu.pm`` ``$check_drive_param``), and ``update_request``: what an update asks for.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import unquote

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.schema import get_schema
from solti.sandbox.pve.state.drives import parse_net, print_net
from solti.sandbox.pve.state.guests import normalise_tags, random_mac

NOT_CONFIG = {
    "node",
    "vmid",
    "start",
    "storage",
    "archive",
    "force",
    "unique",
    "pool",
    "live-restore",
    "import-working-storage",
    "digest",
    "delete",
    "revert",
    "skiplock",
    "background_delay",
}
SSH_KEY_TYPES = {
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
}
IMPORT_SYNTAX = "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>"


def stored(value: Any) -> str:
    """A coerced parameter as the config file holds it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def typed(key: str, value: str) -> Any:
    """GET config types: booleans and integers as numbers, everything else a string."""
    schema = get_schema().config_schema(key) or {}
    if schema.get("type") in ("integer", "boolean"):
        return int(value)
    if schema.get("type") == "number":
        number = float(value)
        return int(number) if number.is_integer() else number
    return value


def check_ssh_keys(encoded: str) -> None:
    """What ``validate_ssh_public_keys`` accepts after URL-decoding."""
    for line in unquote(encoded).split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            blob = base64.b64decode(parts[1], validate=True)
            length = int.from_bytes(blob[:4], "big")
            ok = parts[0] in SSH_KEY_TYPES and blob[4 : 4 + length].decode() == parts[0]
        except (IndexError, ValueError, UnicodeDecodeError):
            ok = False
        if not ok:
            raise PveError(500, "SSH public key validation error")


def check_balloon(conf: dict[str, str], settings: dict[str, Any]) -> None:
    """qemu-server ``API2/Qemu.pm`` ``$update_vm_api`` (``$load_and_check_config``): with
    ``memory`` or ``balloon`` given, a balloon above the memory (``get_current_memory``,
    default 512) is refused."""
    if not settings.get("memory") and settings.get("balloon") is None:
        return
    memory = stored(settings.get("memory") or conf.get("memory", "512"))
    maxmem = int(memory.split(",")[0].removeprefix("current="))
    balloon = settings["balloon"] if settings.get("balloon") is not None else conf.get("balloon")
    if balloon and int(balloon) > maxmem:
        raise PveError(500, "balloon value too large (must be smaller than assigned memory)")


def normalise_value(key: str, value: Any) -> str:
    """A non-drive setting as qemu-server stores it (tags sorted, NICs given a MAC...)."""
    text = stored(value)
    if key == "tags":
        return normalise_tags(text)
    if key == "sshkeys":
        check_ssh_keys(text)
    if key == "description":
        return "\n".join(line.rstrip() for line in text.split("\n")).rstrip()
    if re.fullmatch(r"net\d+", key):
        net = parse_net(text)
        net.setdefault("macaddr", random_mac())
        return print_net(net)
    return text


def check_import(key: str, drive: dict[str, str], source: str | None, gib: float) -> None:
    """``import-from`` needs the size 0 and, for an EFI disk, its type and keys spelled out."""
    if source and gib != 0:
        raise PveError(400, "Parameter verification failed.", {key: IMPORT_SYNTAX})
    if key == "efidisk0" and source:
        for needed in ("efitype", "pre-enrolled-keys"):
            if needed not in drive:
                raise PveError(
                    400,
                    "Parameter verification failed.",
                    {key: f"need to specify '{needed}' when using 'import-from'"},
                )


def update_request(params: Any) -> tuple[dict[str, Any], list[str], list[str]]:
    """``$update_vm_api``: the options to set, to delete and to revert (``split_list``);
    "no options specified" when there is none of them."""
    settings = {k: v for k, v in params.items() if k not in NOT_CONFIG}
    deletes = [d for d in re.split(r"[,;\s\x00]+", stored(params.get("delete", ""))) if d]
    reverts = [r for r in re.split(r"[,;\s\x00]+", stored(params.get("revert", ""))) if r]
    if not settings and not deletes and not reverts:
        raise PveError(500, "no options specified")
    return settings, deletes, reverts
