"""The node's QEMU: one version for everything that names it, and the machine a VM runs.

Every simulated node has **pve-qemu-kvm 10.1.2-7** installed (pve-qemu ``debian/changelog``,
2026-02-17: the last build of QEMU 10.1, the version PVE 9.1 ships). It is the build the
simulator's machine lists are derived from (``data/machine-versions-*.SOURCE.md``; 10.1.2-6
was the first to ship the aarch64 list) and the one the vendored schema's qemu-server (9.1.5
and later: ``Machine.pm`` ``types`` takes ``arch``) goes with. Its QEMU version, 10.1.2, is
what qemu-server reads from ``kvm -version`` (``PVE::QemuServer::Helpers::kvm_user_version``)
and so what everything below reports:

- ``meta: creation-qemu=10.1.2`` of a new VM (``PVE::QemuServer::MetaInfo``
  ``new_meta_info_string``);
- the machine a VM starts with when its config names no version (``machine_at_start``);
- ``running-qemu`` of a running VM (``vmstatus``' ``query-version`` callback:
  ``major.minor.micro``);
- ``pve-qemu-kvm`` in ``/nodes/{node}/apt/versions``.

The guest agent's version is not the host's: it is the agent package inside the guest (see
``handlers/reads.py`` ``QGA_VERSION``).
"""

from __future__ import annotations

import re

from solti.sandbox.pve.state.drives import split_property_string

QEMU_PACKAGE_VERSION = "10.1.2-7"
QEMU_VERSION = QEMU_PACKAGE_VERSION.split("-")[0]
MACHINE_VERSION = ".".join(QEMU_VERSION.split(".")[:2])

# qemu-server src/PVE/QemuServer/Machine.pm $PVE_MACHINE_VERSION as of 9.1.5 (5a3ca252): the
# PVE revisions of an upstream machine version and what each changed; the highest is the
# last key. (11.0 came later, with pve-qemu-kvm 11.)
PVE_MACHINE_REVISIONS: dict[str, dict[str, str]] = {
    "4.1": {
        "+pve1": "Introduction of pveX versioning, no changes.",
        "+pve2": "Increases the number of SCSI drives supported.",
    },
    "9.2": {"+pve1": "Disables S3/S4 power states by default."},
    "10.0": {"+pve1": "Set host_mtu vNIC option even with default value for migration compat."},
}

# Machine.pm default_machine_for_arch.
DEFAULT_MACHINES = {"x86_64": "pc", "aarch64": "virt"}
# Machine.pm windows_get_pinned_machine_version: the versioned type of each alias.
VERSIONED = {"pc": "pc-i440fx-", "q35": "pc-q35-", "virt": "virt-"}
# QEMU's aliases: the type ``-machine pc`` (``q35``, ``virt``) resolves to in QEMU 10.1.
ALIAS_TARGETS = {alias: prefix + MACHINE_VERSION for alias, prefix in VERSIONED.items()}
_PVE_SUFFIX = re.compile(r"^(.*?)\+pve(\d+)$")


def highest_pve_revision(version: str) -> int:
    """Machine.pm ``get_pve_version``: the highest ``+pveN`` of a ``major.minor``, else 0."""
    match = re.match(r"^(\d+\.\d+)", version)
    revisions = PVE_MACHINE_REVISIONS.get(match.group(1) if match else "", {})
    return max((int(key.removeprefix("+pve")) for key in revisions), default=0)


def windows_version(ostype: str | None) -> int:
    """Helpers.pm ``windows_version``: 0 for every non-Windows ``ostype``."""
    if ostype in ("wxp", "w2k3", "w2k"):
        return 5
    if ostype in ("w2k8", "wvista"):
        return 6
    match = re.fullmatch(r"win(\d+)", ostype or "")
    return int(match.group(1)) if match else 0


def _creation_qemu(meta: str | None) -> str | None:
    fields = split_property_string(meta or "", None)
    return fields.get("creation-qemu")


def _at_least(version: str, major: int, minor: int) -> bool:
    parts = re.match(r"^(\d+)\.(\d+)", version)
    return bool(parts) and (int(parts.group(1)), int(parts.group(2))) >= (major, minor)


def vm_machine(conf: dict[str, str]) -> str:
    """Machine.pm ``get_vm_machine``: the type qemu-server starts the VM with.

    No type, or an alias (``pc``, ``q35``, ``virt``): a Windows guest is pinned to the
    version it was created with (``meta`` ``creation-qemu``, 9.1 or newer; else 5.1), any
    other guest gets the alias with the highest PVE revision of the installed QEMU
    (``+pve0`` for 10.1, which has none). A versioned type without ``+pveN`` gets ``+pve0``.
    """
    machine = split_property_string(conf.get("machine", ""), "type").get("type", "")
    if not machine or machine in VERSIONED:
        machine = machine or DEFAULT_MACHINES.get(conf.get("arch", "x86_64"), "pc")
        if windows_version(conf.get("ostype")):
            base = "5.1"
            created = _creation_qemu(conf.get("meta"))
            if created and _at_least(created, 9, 1):
                base = ".".join(created.split(".")[:2])
            # windows_get_pinned_machine_version: the base when this QEMU can run it
            # (can_run_pve_machine_version), else the newest installed version.
            if not _at_least(MACHINE_VERSION, *map(int, base.split("."))):
                base = MACHINE_VERSION
            machine = VERSIONED[machine] + base
        else:
            machine += f"+pve{highest_pve_revision(QEMU_VERSION)}"
    if not re.search(r"\+pve\d+(?:\.pxe)?$", machine):
        pxe = machine.endswith(".pxe")
        machine = machine.removesuffix(".pxe") + "+pve0" + (".pxe" if pxe else "")
    return machine


def machine_at_start(conf: dict[str, str]) -> str:
    """What ``running-machine`` reports for a VM started now from ``conf``.

    QemuServer.pm ``config_to_command`` drops a ``.pxe`` suffix before passing the type to
    QEMU; ``vmstatus`` reads ``query-machines`` and Machine.pm ``current_from_query_machines``
    names the current machine (an alias resolved to its versioned type) with ``+`` and the
    ``pve-version`` pve-qemu's patch 0025 keeps: ``pc-i440fx-10.1+pve0`` for a plain ``pc``.
    """
    machine = vm_machine(conf).removesuffix(".pxe")
    match = _PVE_SUFFIX.match(machine)
    base, revision = (match.group(1), match.group(2)) if match else (machine, "0")
    return f"{ALIAS_TARGETS.get(base, base)}+pve{revision}"


def pinned_on_create(conf: dict[str, str]) -> str | None:
    """Machine.pm ``check_and_pin_machine_string`` as ``create_vm`` calls it: a Windows guest
    without a versioned type is pinned to the newest installed version
    (``latest_installed_machine_version``: ``pc-i440fx-10.1``), keeping the other machine
    options; None when nothing is pinned."""
    if not windows_version(conf.get("ostype")):
        return None
    options = split_property_string(conf.get("machine", ""), "type")
    machine = options.pop("type", "") or DEFAULT_MACHINES.get(conf.get("arch", "x86_64"), "pc")
    if machine not in VERSIONED:
        return None
    revision = highest_pve_revision(MACHINE_VERSION)
    pinned = VERSIONED[machine] + MACHINE_VERSION + (f"+pve{revision}" if revision else "")
    # print_property_string (pve-common JSONSchema.pm): the default key bare, the rest sorted.
    return ",".join([pinned, *(f"{k}={options[k]}" for k in sorted(options))])
