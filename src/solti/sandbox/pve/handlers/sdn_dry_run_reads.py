"""``GET /cluster/sdn/dry-run``: what an SDN apply would change, on a node that never applied.

pve-network ``src/PVE/API2/Network/SDN.pm`` ``dry-run`` (added by b129fc1, released in
libpve-network-perl 1.3.0, 2026-03-28; the vendored 9.1 schema has it), run on ``node``
(``proxyto``) after ``['perm', '/nodes/{node}', ['Sys.Audit']]``:

1. ``compile_running_cfg(1)``: no ``sdn/.running-config`` yet, so ``version`` 1 and empty
   ``ids`` for vnets, zones, controllers, subnets, fabrics (the simulator writes no SDN config).
2. FRR: ``generate_frr_raw_config`` finds no controller, zone or vnet
   (``Controllers::generate_frr_config``), ``Frr::append_local_config`` has no
   ``frr.conf.local``, and proxmox-perl-rs ``PVE::RS::SDN::get_frr_raw_config`` (libpve-rs-perl
   0.12.0) renders proxmox-ve-rs ``proxmox-frr-templates/templates/frr.conf.jinja`` over an empty
   ``FrrConfig``: every block is a loop or ``if`` over nothing, so no line.
   ``Frr::raw_config_to_string`` then gives its fixed head (``frr version 10.4.1``, ...,
   ``hostname <node>``), no body, and ``!`` / ``line vty`` / ``!``.
3. Interfaces: ``generate_raw_etc_network_config`` = ``Zones::generate_etc_network_config``
   (``#version:1`` and no iface, the vnets/zones hashes being present but empty) plus the
   fabrics' part (pve-rs ``get_interfaces_etc_network_config``: ``""`` without fabrics).
4. Each is written with pve-common ``PVE::File::tempfile_contents`` (an ``O_TMPFILE`` named
   ``/proc/<pid>/fd/<fd>``) and compared by ``get_diff``: ``diff -b -N -u <current> <tmp>``;
   the output (``undef`` if empty) is the answer.

The current files of a fresh 9.1 node: ``/etc/frr/frr.conf`` is the one the ``frr`` package
ships (FRR ``tools/etc/frr/frr.conf``: comments and ``log syslog informational``), frr being
installed since libpve-network-perl 1.1.2 made it a Recommends (via ``frr-pythontools``);
``/etc/network/interfaces.d/sdn`` does not exist before the first apply, which ``-N`` diffs as
empty with the epoch as its time. So both diffs are non-empty strings.

The simulator's own values (no real process runs): the pvedaemon worker's pid and the two
descriptors in the temp file names, the package's mtime of ``frr.conf``, and the temp files'
time (the request's, in UTC). The hunks are GNU diff's for these inputs (``difflib`` gives the
same unified hunks here; ``tests/sim/test_last_reads.py`` checks it against ``/usr/bin/diff``).
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import Any

from solti.sandbox.pve.handlers import Call, Handler

FRR_CONF = "/etc/frr/frr.conf"
SDN_INTERFACES = "/etc/network/interfaces.d/sdn"
# FRR tools/etc/frr/frr.conf, installed by the frr package as /etc/frr/frr.conf.
SHIPPED_FRR_CONF = """\
# default to using syslog. /etc/rsyslog.d/45-frr.conf places the log in
# /var/log/frr/frr.log
#
# Note:
# FRR's configuration shell, vtysh, dynamically edits the live, in-memory
# configuration while FRR is running. When instructed, vtysh will persist the
# live configuration to this file, overwriting its contents. If you want to
# avoid this, you can edit this file manually before starting FRR, or instruct
# vtysh to write configuration to a different file.
log syslog informational
"""
# pve-network src/PVE/Network/SDN/Frr.pm raw_config_to_string (libpve-network-perl 1.3.0).
FRR_VERSION_LINE = "frr version 10.4.1"
# compile_running_cfg without a running config starts at version 1.
FIRST_RUNNING_VERSION = 1

# The simulator's choices (see the module docstring).
WORKER_PID = 4242
FRR_TMP_FD = 11
INTERFACES_TMP_FD = 12
SHIPPED_FRR_CONF_MTIME = datetime(2025, 11, 13, 9, 0, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def pending_frr_conf(node: str) -> str:
    """``raw_config_to_string`` of an empty raw FRR config on ``node``."""
    lines = [
        FRR_VERSION_LINE,
        "frr defaults datacenter",
        f"hostname {node}",
        "log syslog informational",
        "service integrated-vtysh-config",
        "!",
        "line vty",
        "!",
    ]
    return "\n".join(lines) + "\n"


def pending_interfaces() -> str:
    """``generate_raw_etc_network_config`` without zones, vnets or fabrics."""
    return f"#version:{FIRST_RUNNING_VERSION}\n"


def diff_time(moment: datetime) -> str:
    """GNU diff's ``-u`` header time: ``%Y-%m-%d %H:%M:%S.%N %z``."""
    nanos = moment.microsecond * 1000
    return f"{moment:%Y-%m-%d %H:%M:%S}.{nanos:09d} {moment:%z}"


def unified_diff(
    old: str, new: str, old_name: str, new_name: str, old_time: datetime, new_time: datetime
) -> str | None:
    """``get_diff``: ``diff -b -N -u`` output, each line with its newline; ``None`` if equal."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        old_name,
        new_name,
        diff_time(old_time),
        diff_time(new_time),
    )
    return "".join(lines) or None


def dry_run(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    written = datetime.fromtimestamp(call.now(), UTC)
    frr = unified_diff(
        SHIPPED_FRR_CONF,
        pending_frr_conf(call.node),
        FRR_CONF,
        f"/proc/{WORKER_PID}/fd/{FRR_TMP_FD}",
        SHIPPED_FRR_CONF_MTIME,
        written,
    )
    interfaces = unified_diff(
        "",
        pending_interfaces(),
        SDN_INTERFACES,
        f"/proc/{WORKER_PID}/fd/{INTERFACES_TMP_FD}",
        EPOCH,
        written,
    )
    return {"frr-diff": frr, "interfaces-diff": interfaces}


SDN_DRY_RUN_READS: dict[str, Handler] = {
    "/cluster/sdn/dry-run": dry_run,
}
