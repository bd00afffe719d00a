"""The Proxmox VE items of `solti check`: reachability, version, TLS, privileges, storages, bridge.

The privilege table is the least-privilege role documented in docs/proxmox.md; each entry comes
from the `permissions` of an endpoint we call (apidata.json, PVE 9.1). The checks only read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solti.provisioning.cli.check_report import CheckConfig, CheckResult

__all__ = [
    "PRIVILEGES",
    "Requirement",
    "check_proxmox",
    "effective_privileges",
    "missing_privileges",
    "requirements_by_path",
]


@dataclass(frozen=True)
class Requirement:
    """A privilege the API token needs on a path (`{…}` filled in from the policy), and why."""

    path: str
    privilege: str
    why: str
    # Optional privileges only improve messages; lacking one is a warning, not a failure, so a
    # token made from an older version of docs/proxmox.md still passes.
    optional: bool = False


# Taken from the `permissions` of each endpoint we call (pve-api apidata.json, PVE 9.1).
# `/vms` must propagate: new VMIDs are created below it.
PRIVILEGES: tuple[Requirement, ...] = (
    Requirement("/vms", "VM.Audit", "read VM lists, status and configuration"),
    Requirement("/vms", "VM.Allocate", "create VMs and templates, convert to template, remove VMs"),
    Requirement("/vms", "VM.Clone", "clone VMs from templates"),
    Requirement(
        "/vms", "VM.Config.Disk", "import the cloud image, add the EFI disk, set boot order, resize"
    ),
    Requirement("/vms", "VM.Config.CPU", "set cores, CPU type and NUMA"),
    Requirement("/vms", "VM.Config.Memory", "set memory and ballooning"),
    Requirement(
        "/vms", "VM.Config.Network", "attach the network device to the bridge; IP configuration"
    ),
    Requirement("/vms", "VM.Config.Cloudinit", "set the cloud-init user, SSH keys and DNS"),
    Requirement(
        "/vms",
        "VM.Config.Options",
        "set name, tags, notes, OVMF firmware, OS type, guest agent flag",
    ),
    Requirement(
        "/vms",
        "VM.Config.HWType",
        "set machine type q35, SCSI controller, serial console and display",
    ),
    Requirement("/vms", "VM.PowerMgmt", "start, stop and shut down VMs"),
    Requirement("/vms", "VM.Snapshot", "take and delete VM snapshots (`snapshot create|delete`)"),
    Requirement(
        "/vms", "VM.Snapshot.Rollback", "roll a VM back to a snapshot (`snapshot rollback`)"
    ),
    Requirement(
        "/vms",
        "VM.GuestAgent.Audit",
        "read a new VM's address from the QEMU guest agent, to show `ssh user@address`",
        optional=True,
    ),
    Requirement("/storage/{vm_storage}", "Datastore.AllocateSpace", "allocate VM disks"),
    Requirement(
        "/storage/{vm_storage}", "Datastore.Audit", "read the storage's status and content"
    ),
    Requirement(
        "/storage/{image_storage}",
        "Datastore.AllocateTemplate",
        "download cloud images (download-url)",
    ),
    Requirement(
        "/storage/{image_storage}", "Datastore.Audit", "list and import downloaded cloud images"
    ),
    Requirement("/nodes/{node}", "Sys.AccessNetwork", "let the node fetch a URL (download-url)"),
    Requirement(
        "/nodes/{node}",
        "Sys.Audit",
        "see each node's memory, so placement can choose the node with the most free memory "
        "(without it VMs are spread by count)",
        optional=True,
    ),
    Requirement("/sdn/zones/localnetwork/{bridge}", "SDN.Use", "connect VMs to the bridge"),
)

# The bot token scopes the Slack app needs (manifest.yml, oauth_config.scopes.bot).


def effective_privileges(tree: Mapping[str, Mapping[str, Any]], path: str) -> dict[str, int]:
    """What applies on `path`, given `GET /access/permissions` (path -> {privilege: propagate}).

    PVE lists the token's effective privileges on each path that has an ACL; a path without
    an entry inherits from the nearest listed ancestor, but only the propagating privileges.
    """
    if path in tree:
        return {name: int(value) for name, value in (tree[path] or {}).items()}
    ancestors = [p for p in tree if p == "/" or path.startswith(p.rstrip("/") + "/")]
    if not ancestors:
        return {}
    nearest = max(ancestors, key=len)
    return {name: 1 for name, value in (tree[nearest] or {}).items() if int(value)}


def missing_privileges(
    tree: Mapping[str, Mapping[str, Any]], path: str, wanted: Iterable[str], propagate: bool
) -> list[str]:
    """The privileges in `wanted` the token lacks on `path` (and below it, with `propagate`)."""
    privileges = effective_privileges(tree, path)
    return [
        privilege
        for privilege in wanted
        if privilege not in privileges or (propagate and not privileges[privilege])
    ]


def requirements_by_path(config: CheckConfig, nodes: Iterable[str]) -> dict[str, list[Requirement]]:
    """The privilege table with the policy's storages, bridge and the cluster's nodes filled in."""
    values = {"vm_storage": config.vm_storage, "image_storage": config.image_storage}
    values["bridge"] = config.bridge
    grouped: dict[str, list[Requirement]] = {}
    for requirement in PRIVILEGES:
        targets = list(nodes) if "{node}" in requirement.path else [None]
        for node in targets:
            filled = {**values, "node": node}
            if any(f"{{{key}}}" in requirement.path and not filled[key] for key in filled):
                continue
            path = requirement.path.format(**filled)
            grouped.setdefault(path, []).append(requirement)
    return grouped


# --- Proxmox VE -----------------------------------------------------------------------------

_MIN_VERSION = (8, 4)  # download-url with content=import


def _role_fix(config: CheckConfig, path: str, missing: list[str]) -> str:
    return (
        f"grant them on {path}: `pveum role modify SoltiBot --append 1 --privs "
        f"'{','.join(missing)}'` and `pveum acl modify {path} --roles SoltiBot "
        f"--tokens '{config.token_id}'` (docs/proxmox.md)"
    )


def check_proxmox(config: CheckConfig) -> list[CheckResult]:
    """Reachability, version, TLS, token privileges, storages and bridge on every node."""
    from solti.provisioning.errors import ConfigError, ProxmoxError
    from solti.provisioning.pve import PveClient

    try:
        settings = _proxmox_settings(config)
    except ConfigError as exc:
        return [
            CheckResult(
                "proxmox.config",
                "fail",
                str(exc),
                "create an API token (docs/proxmox.md) and set PROXMOX_URL, PROXMOX_TOKEN_ID "
                "and PROXMOX_TOKEN_SECRET",
            )
        ]
    results = [_tls_result(config)]
    if results[0].status == "fail":
        return results
    client = PveClient.from_settings(settings)
    try:
        version = client.version()
        nodes = [node for node in client.nodes() if node.get("node")]
    except ProxmoxError as exc:
        results.append(_unreachable_result(config, exc))
        return results
    results.append(_version_result(config, version))
    online = sorted(str(node["node"]) for node in nodes if node.get("status", "online") == "online")
    offline = sorted(str(node["node"]) for node in nodes if node.get("status") == "offline")
    results.append(
        CheckResult(
            "proxmox.nodes",
            "warn" if offline or not online else "ok",
            f"online: {', '.join(online) or 'none'}"
            + (f"; offline: {', '.join(offline)}" if offline else ""),
            "bring the offline nodes back or expect placement on the online ones"
            if offline
            else None,
        )
    )
    try:
        tree = client.permissions() or {}
        results.extend(_privilege_results(config, tree, online))
        bridge_hidden = _bridge_hidden_by_acl(config, tree)
        for node in online:
            results.extend(_storage_results(config, client, node))
            results.append(_bridge_result(config, client, node, bridge_hidden))
    except ProxmoxError as exc:
        results.append(CheckResult("proxmox.api", "fail", str(exc), "see the message above"))
    return results


def _unreachable_result(config: CheckConfig, exc: Exception) -> CheckResult:
    """The first call failed: the client's message already says what (and never the secret)."""
    from solti.provisioning.pve import TokenRejected

    if isinstance(exc, TokenRejected):
        return CheckResult(
            "proxmox.token",
            "fail",
            str(exc),
            "PROXMOX_TOKEN_ID is user@realm!name and PROXMOX_TOKEN_SECRET the UUID shown once "
            "when the token is created; `pveum user token add` makes a new one (docs/proxmox.md)",
        )
    return CheckResult(
        "proxmox.reachable",
        "fail",
        str(exc),
        "check PROXMOX_URL, the token and the CA bundle; `curl -v` the URL from this host",
    )


def _proxmox_settings(config: CheckConfig) -> Any:
    """The same validation `solti vm …` applies; its errors name the variable."""
    from solti.provisioning.config import ProxmoxSettings

    environ = {
        "PROXMOX_URL": config.proxmox_url or "",
        "PROXMOX_TOKEN_ID": config.token_id or "",
        "PROXMOX_TOKEN_SECRET": config.token_secret or "",
        "PROXMOX_VERIFY_SSL": "true" if config.verify_ssl else "false",
        "PROXMOX_CA_BUNDLE": config.ca_bundle or "",
    }
    return ProxmoxSettings.from_env(environ)


def _tls_result(config: CheckConfig) -> CheckResult:
    url = str(config.proxmox_url)
    if not url.startswith("https://"):
        return CheckResult(
            "proxmox.tls",
            "fail",
            f"PROXMOX_URL must use https:// (got {url.split('://')[0]}://)",
            "use https://HOST:8006",
        )
    if not config.verify_ssl:
        return CheckResult(
            "proxmox.tls",
            "warn",
            "certificate verification is off (PROXMOX_VERIFY_SSL=false)",
            "copy /etc/pve/pve-root-ca.pem from a node, set PROXMOX_CA_BUNDLE to it and "
            "PROXMOX_VERIFY_SSL=true",
        )
    if config.ca_bundle:
        if not Path(config.ca_bundle).is_file():
            return CheckResult(
                "proxmox.tls",
                "fail",
                f"PROXMOX_CA_BUNDLE {config.ca_bundle} is not a file",
                "copy /etc/pve/pve-root-ca.pem from a node and point PROXMOX_CA_BUNDLE at it",
            )
        return CheckResult(
            "proxmox.tls", "ok", f"verification on, with CA bundle {config.ca_bundle}"
        )
    return CheckResult("proxmox.tls", "ok", "verification on, with the system CA store")


def _version_result(config: CheckConfig, version: Mapping[str, Any]) -> CheckResult:
    text = str(version.get("version", "?"))
    numbers = tuple(int(part) for part in re.findall(r"\d+", text)[:2])
    detail = f"Proxmox VE {text} at {config.proxmox_url}"
    if len(numbers) == 2 and numbers < _MIN_VERSION:
        return CheckResult(
            "proxmox.version",
            "fail",
            f"{detail}: `import` content needs 8.4 or later",
            "upgrade Proxmox VE to 8.4 or later",
        )
    return CheckResult("proxmox.version", "ok", detail)


def _privilege_result(
    config: CheckConfig,
    path: str,
    requirements: list[Requirement],
    wanted: list[str],
    missing: list[str],
) -> CheckResult:
    """One line per path: fail on a required privilege, warn when only optional ones lack."""
    name = f"proxmox.privileges {path}"
    if not missing:
        return CheckResult(name, "ok", ", ".join(wanted))
    by_name = {r.privilege: r for r in requirements}
    reasons = "; ".join(f"{privilege} ({by_name[privilege].why})" for privilege in missing)
    required = any(not by_name[privilege].optional for privilege in missing)
    detail = f"token {config.token_id} lacks {reasons}"
    if required and path == "/vms":
        detail += " (must propagate to new VMIDs)"
    if not required:
        detail += "; VMs still work, messages name the VMID instead of the address"
    return CheckResult(
        name, "fail" if required else "warn", detail, _role_fix(config, path, missing)
    )


def _privilege_results(
    config: CheckConfig, tree: Mapping[str, Mapping[str, Any]], nodes: list[str]
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for path, requirements in requirements_by_path(config, nodes).items():
        wanted = [requirement.privilege for requirement in requirements]
        missing = missing_privileges(tree, path, wanted, propagate=path == "/vms")
        results.append(_privilege_result(config, path, requirements, wanted, missing))
    for key in ("vm_storage", "image_storage", "bridge"):
        if not getattr(config, key):
            results.append(
                CheckResult(
                    f"policy.defaults.{key}",
                    "skip",
                    f"defaults.{key} not set in the policy file: its privileges were not checked",
                    f"set defaults.{key} in {config.config_path}",
                )
            )
    return results


def _storage_results(config: CheckConfig, client: Any, node: str) -> list[CheckResult]:
    storages = {str(s.get("storage")): s for s in client.storages(node) or []}
    hidden = "; it is missing or the token lacks Datastore.Audit on it"
    results: list[CheckResult] = []
    if config.vm_storage:
        name = f"proxmox.storage {node}/{config.vm_storage}"
        entry = storages.get(config.vm_storage)
        if entry is None:
            results.append(
                CheckResult(
                    name,
                    "fail",
                    f"VM storage {config.vm_storage} not found on {node}{hidden}",
                    "add the storage to this node (Datacenter > Storage > Nodes) or choose "
                    "another defaults.vm_storage",
                )
            )
        elif "images" not in str(entry.get("content", "")).split(","):
            results.append(
                CheckResult(
                    name,
                    "fail",
                    f"{config.vm_storage} on {node} has no `images` content "
                    f"(has {entry.get('content')})",
                    f"pvesm set {config.vm_storage} --content {entry.get('content')},images",
                )
            )
        else:
            results.append(CheckResult(name, "ok", f"{entry.get('type', '?')}, holds VM disks"))
    if config.image_storage:
        name = f"proxmox.storage {node}/{config.image_storage}"
        entry = storages.get(config.image_storage)
        if entry is None:
            results.append(
                CheckResult(
                    name,
                    "fail",
                    f"image storage {config.image_storage} not found on {node}{hidden}",
                    "use a file-based storage (dir, NFS, CephFS) present on every node",
                )
            )
        else:
            content = [c for c in str(entry.get("content", "")).split(",") if c]
            if "import" not in content:
                results.append(
                    CheckResult(
                        name,
                        "fail",
                        f"{config.image_storage} on {node} lacks `import` content "
                        f"(has {','.join(content) or 'none'})",
                        f"pvesm set {config.image_storage} --content "
                        f"{','.join([*content, 'import'])}",
                    )
                )
            else:
                results.append(CheckResult(name, "ok", "has `import` content for cloud images"))
    return results


def _bridge_hidden_by_acl(config: CheckConfig, tree: Mapping[str, Mapping[str, Any]]) -> bool:
    """PVE's network list leaves out bridges the token may neither use nor audit
    (pve-access-control ``RPCEnvironment.pm`` ``check_sdn_bridge``)."""
    if not config.bridge:
        return False
    path = f"/sdn/zones/localnetwork/{config.bridge}"
    return not {"SDN.Use", "SDN.Audit"} & set(effective_privileges(tree, path))


def _bridge_result(
    config: CheckConfig, client: Any, node: str, hidden_by_acl: bool = False
) -> CheckResult:
    """``defaults.bridge`` must exist on every node a VM may land on (PVE checks only at start)."""
    name = f"proxmox.bridge {node}/{config.bridge}"
    if not config.bridge:
        return CheckResult(f"proxmox.bridge {node}", "skip", "defaults.bridge not set")
    bridges = client.bridges(node)
    if config.bridge in bridges:
        return CheckResult(name, "ok", "bridge exists")
    if hidden_by_acl:
        path = f"/sdn/zones/localnetwork/{config.bridge}"
        return CheckResult(
            name,
            "fail",
            f"bridge {config.bridge} not listed on {node}: the token lacks SDN.Use on {path} "
            "and Proxmox hides the bridges a token may not use",
            _role_fix(config, path, ["SDN.Use"]),
        )
    return CheckResult(
        name,
        "fail",
        f"no bridge {config.bridge} on {node} (bridges: {', '.join(bridges) or 'none'})",
        f"create {config.bridge} on {node} (System > Network > Create > Linux Bridge) or set "
        "defaults.bridge to one of the bridges listed",
    )
