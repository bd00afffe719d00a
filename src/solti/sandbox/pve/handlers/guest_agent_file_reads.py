"""Guest agent reads that need the guest's own files and processes: fsinfo, exec status, files.

qemu-server ``src/PVE/API2/Qemu/Agent.pm``: ``get-fsinfo`` is one of the plain
``register_command`` reads (``{result => <QGA answer>}``); ``exec-status`` and ``file-read``
load the config and go through ``PVE/QemuServer/Agent.pm`` ``agent_cmd``
(``assert_agent_available``, then the ``guest-`` command). A QGA error comes back from
``PVE/QMPClient.pm`` ``cmd`` as ``{error => ...}`` and ``check_agent_error`` dies
"Agent error: <desc>" (a 500).

- ``guest-exec-status`` (qemu ``qga/commands.c`` ``qmp_guest_exec_status``): a PID the agent
  did not start is "Invalid parameter 'pid'". The simulator models no ``agent/exec``, so no PID
  is ever known.
- ``guest-file-open`` (``qga/commands-posix.c`` ``safe_open_or_create``, mode ``r`` as
  ``file-read`` sends none): a missing file is "failed to open file '<path>' (mode: 'r'): No
  such file or directory". The simulator models no guest files, so every file is missing.
- ``guest-get-fsinfo`` (``qga/commands-linux.c``): the minimum the simulated guest implies,
  its cloud image's root filesystem. The Debian 13 genericcloud image (``agent_reads``) puts
  the root ext4 on partition 1 of its boot disk, after the BIOS-boot (14) and EFI (15)
  partitions that fill the first 128 MiB; seen from the guest the boot disk ``scsi0`` is
  ``sda``, SCSI target 0 unit 0. ``total-bytes`` is that partition's size (the filesystem's
  own overhead is not modelled); ``used-bytes`` is left out, the simulator knowing nothing of
  the guest's files (QGA leaves it out too when ``statvfs`` fails).
"""

from __future__ import annotations

from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.drives import parse_drive, parse_size

BOOT_PARTITIONS = 128 * 1024**2
# qemu-server PVE/QemuServer/PCI.pm: ``virtioscsi0`` (virtio-scsi-single's first controller)
# sits at addr 1 behind bridge ``pci.3`` (bus 0 addr 5); SeaBIOS numbers bridges in slot
# order, so pci.3 (slot 5, before pci.1 at 30 and pci.2 at 31) is the guest's bus 1.
SCSI0_CONTROLLER = {"domain": 0, "bus": 1, "slot": 1, "function": 0}


def _available(call: Call) -> dict[str, str]:
    """``load_config`` then ``assert_agent_available``; the VM's config (a copy)."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        cluster.power.check_agent(guest)
        return dict(guest.conf)


def agent_error(desc: str) -> PveError:
    return PveError(500, f"Agent error: {desc}\n")


def exec_status(call: Call) -> NoReturn:
    _available(call)
    raise agent_error("Invalid parameter 'pid'")


def file_read(call: Call) -> NoReturn:
    _available(call)
    path = call.params["file"]
    raise agent_error(f"failed to open file '{path}' (mode: 'r'): No such file or directory")


def fsinfo(call: Call) -> dict[str, Any]:
    conf = _available(call)
    boot = conf.get("scsi0")
    if boot is None:
        return {"result": []}
    size = parse_size(parse_drive(boot).get("size", "0"))
    root: dict[str, Any] = {
        "name": "sda1",
        "mountpoint": "/",
        "type": "ext4",
        "disk": [
            {
                "pci-controller": dict(SCSI0_CONTROLLER),
                "bus-type": "scsi",
                "bus": 0,
                "target": 0,
                "unit": 0,
                "dev": "/dev/sda1",
            }
        ],
    }
    if size > BOOT_PARTITIONS:
        root["total-bytes"] = size - BOOT_PARTITIONS
    return {"result": [root]}


AGENT = "/nodes/{node}/qemu/{vmid}/agent"
GUEST_AGENT_FILE_READS: dict[str, Handler] = {
    f"{AGENT}/get-fsinfo": fsinfo,
    f"{AGENT}/exec-status": exec_status,
    f"{AGENT}/file-read": file_read,
}
