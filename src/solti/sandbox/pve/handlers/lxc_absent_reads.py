"""GET paths of ``/nodes/{node}/lxc/{vmid}``: the simulator runs no containers.

Every VMID the simulator knows is a QEMU VM, so each container read answers what PVE gives for
a VMID with no container config on the node, read handler by handler in pve-container:

- ``src/PVE/API2/LXC.pm`` ``vmdiridx``, ``vm_feature``, ``vm_pending``,
  ``migrate_vm_precondition`` (after ``check_cfs_quorum``), ``src/PVE/API2/LXC/Config.pm``
  ``vm_config`` (``load_current_config``), ``LXC/Status.pm`` ``vmcmdidx`` and ``vm_status``,
  ``LXC/Snapshot.pm`` ``list`` and ``get_snapshot_config`` all start with
  ``PVE::LXC::Config->load_config($vmid)``: pve-guest-common ``src/PVE/AbstractConfig.pm``
  ``load_config`` dies "Configuration file '<cfs path>' does not exist" (a 500), the path
  being ``PVE/LXC/Config.pm`` ``cfs_config_path``: ``nodes/<node>/lxc/<vmid>.conf``.
- ``LXC/Snapshot.pm`` ``snapshot_cmd_idx`` loads nothing: ``rollback`` and ``config``, always.
- ``LXC.pm`` ``ip`` (``interfaces``) returns ``PVE::LXC::get_interfaces($vmid)``, which returns
  nothing when ``find_lxc_pid`` dies (no such running container): ``data`` is ``null``.
- ``LXC.pm`` ``rrddata`` reads ``pve-vm-9.0/<vmid>``, the RRD file pmxcfs keeps per VMID for
  QEMU VMs and containers alike, so it answers the VM's figures (``rrd_reads.vm_rrddata``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.rrd_reads import vm_rrddata

LXC = "/nodes/{node}/lxc/{vmid}"


def no_container(node: str, vmid: int) -> PveError:
    """AbstractConfig ``load_config`` for ``PVE::LXC::Config``."""
    return PveError(500, f"Configuration file 'nodes/{node}/lxc/{vmid}.conf' does not exist\n")


def config_missing(call: Call) -> NoReturn:
    """``PVE::LXC::Config->load_config($vmid)`` on the node the request was proxied to."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    raise no_container(call.node, call.vmid)


def snapshot_cmd_index(call: Call) -> list[dict[str, str]]:
    """``snapshot_cmd_idx``: no config read, the two sub-commands."""
    return [{"cmd": "rollback"}, {"cmd": "config"}]


def interfaces(call: Call) -> None:
    """``ip``: ``get_interfaces`` returns nothing without a running container's PID."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    return None


def rrddata(call: Call) -> Any:
    return vm_rrddata(call)


LXC_ABSENT_READS: dict[str, Handler] = {
    **{
        f"{LXC}{sub}": config_missing
        for sub in (
            "",
            "/config",
            "/status",
            "/status/current",
            "/snapshot",
            "/snapshot/{snapname}/config",
            "/feature",
            "/pending",
            "/migrate",
        )
    },
    f"{LXC}/snapshot/{{snapname}}": snapshot_cmd_index,
    f"{LXC}/interfaces": interfaces,
    f"{LXC}/rrddata": rrddata,
}
