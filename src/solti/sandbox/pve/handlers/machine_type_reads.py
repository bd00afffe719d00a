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

The files are those of the node's pve-qemu-kvm (``state/qemu_host.py``: 10.1.2-7), written
at build time by ``debian/parse-machines.pl`` from ``qemu-system-<arch> -machine help``;
``data/machine-versions-<arch>.SOURCE.md`` say how the copies here were derived. For
``aarch64`` (shipped since pve-qemu-kvm 10.1.2-6) they are the ``virt-X.Y`` types, with
``type`` ``virt``: the ``returns`` schema's ``enum`` for ``type`` names only ``q35`` and
``i440fx``, but PVE does not check answers against it over HTTP (pve-common
``PVE/RESTHandler.pm`` ``handle``: ``$result_verification`` is off for API calls), so the
real answer carries ``virt`` too. ``virt-10.0`` and ``virt-9.2`` get their ``+pve1`` like the
x86 types: ``get_machine_pve_revisions`` looks only at the version.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.qemu_host import PVE_MACHINE_REVISIONS

HOST_ARCH = "x86_64"
MACHINE_FILES = {
    "x86_64": "machine-versions-x86_64.json",
    "aarch64": "machine-versions-aarch64.json",
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
    # The schema's enum admits only x86_64 and aarch64, both of which have a file.
    return machine_types(call.params.get("arch", HOST_ARCH))


MACHINE_TYPE_READS: dict[str, Handler] = {
    "/nodes/{node}/capabilities/qemu/machines": machines,
}
