"""The QEMU machine types a node offers: ``GET /nodes/{node}/capabilities/qemu/machines``.

qemu-server ``src/PVE/API2/Qemu/Machine.pm`` ``types`` (qemu-server 9.1.5, commit 5a3ca252,
the first with the ``arch`` parameter the vendored schema has): read
``/usr/share/kvm/machine-versions-<arch>.json`` (``arch`` defaults to the host's, x86_64 here),
add one entry per PVE revision that ``PVE::QemuServer::Machine::get_machine_pve_revisions``
knows for the machine's ``major.minor`` (``id``/``version`` with the ``+pveN`` suffix, and
``changes`` when the revision has a text), then sort the file's entries and the added ones
together, newest first, with ``machine_version_cmp`` (major, minor, pve revision; a plain
version counts as revision 0). Perl's ``sort`` is a stable merge sort, so equal versions keep
their order: the file's before the added ones, i440fx before q35 as the file lists them.

The file is pve-qemu-kvm's (10.1.2-7), written at build time by ``debian/parse-machines.pl``
from ``qemu-system-x86_64 -machine help``; ``data/machine-versions-x86_64.SOURCE.md`` says how
the copy here was derived. pve-qemu-kvm 10.1.2-6 and later also ship an aarch64 list, but this
simulator has no derivation of it: ``arch=aarch64`` is answered "not implemented" rather than
with an invented list.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler

HOST_ARCH = "x86_64"
MACHINE_FILES = {"x86_64": "machine-versions-x86_64.json"}

# qemu-server src/PVE/QemuServer/Machine.pm $PVE_MACHINE_VERSION as of 9.1.5 (5a3ca252): the
# PVE revisions of an upstream machine version and what each changed. (11.0 came later, with
# pve-qemu-kvm 11.)
PVE_MACHINE_REVISIONS: dict[str, dict[str, str]] = {
    "4.1": {
        "+pve1": "Introduction of pveX versioning, no changes.",
        "+pve2": "Increases the number of SCSI drives supported.",
    },
    "9.2": {"+pve1": "Disables S3/S4 power states by default."},
    "10.0": {"+pve1": "Set host_mtu vNIC option even with default value for migration compat."},
}

# Machine.pm extract_version_parts: major, minor and the +pveN revision of a machine id.
_VERSION_PARTS = re.compile(
    r"^(?:pc(?:-i440fx|-q35)?|virt)-(\d+)\.(\d+)(?:\.(\d+))?(?:\+pve(\d+))?(?:\.pxe)?"
)


@cache
def _machine_file(arch: str) -> tuple[dict[str, str], ...]:
    text = resources.files("solti.sandbox.pve.data").joinpath(MACHINE_FILES[arch]).read_text()
    return tuple(json.loads(text))


def version_key(machine_id: str) -> tuple[int, int, int]:
    """``machine_version_cmp``'s order: ``version_cmp`` over (major, minor, pve), undef as 0."""
    match = _VERSION_PARTS.match(machine_id)
    if not match:
        return (0, 0, 0)
    major, minor, _micro, pve = match.groups()
    return (int(major), int(minor), int(pve or 0))


def pve_revision_entries(machine: dict[str, str]) -> list[dict[str, str]]:
    """The ``+pveN`` entries ``types`` adds for one machine of the file, revisions in
    ``sort keys`` order."""
    major_minor = re.match(r"^(\d+\.\d+)", machine["version"])
    revisions = PVE_MACHINE_REVISIONS.get(major_minor.group(1) if major_minor else "", {})
    entries = []
    for revision in sorted(revisions):
        entries.append(
            {
                "id": machine["id"] + revision,
                "type": machine["type"],
                "version": machine["version"] + revision,
                "changes": revisions[revision],
            }
        )
    return entries


def machine_types(arch: str) -> list[dict[str, str]]:
    """``types``' answer for ``arch``: the file's machines and their PVE revisions, merged
    and sorted newest first (stable, as Perl's merge sort)."""
    machines = [dict(machine) for machine in _machine_file(arch)]
    revisions = [entry for machine in machines for entry in pve_revision_entries(machine)]
    return sorted(machines + revisions, key=lambda m: version_key(m["id"]), reverse=True)


def machines(call: Call) -> list[dict[str, str]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    arch = call.params.get("arch", HOST_ARCH)
    if arch not in MACHINE_FILES:
        raise PveError(501, f"machine types for arch '{arch}' are not modelled by the simulator")
    return machine_types(arch)


MACHINE_TYPE_READS: dict[str, Handler] = {
    "/nodes/{node}/capabilities/qemu/machines": machines,
}
