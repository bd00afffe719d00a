"""GET paths that real PVE answers with an error on a fresh 9.1 cluster, because the feature
behind them is not installed or no longer exists there. The simulator gives the same error.

- Ceph: pve-manager ``PVE/API2/Ceph.pm`` (``status``, ``crush``, ``log``, ``rules``,
  ``cmd-safety``), ``PVE/API2/Ceph/{OSD,MDS,MGR,MON,FS,Pool,Cfg}.pm`` (their indexes and
  ``cfg/raw``, ``cfg/db``, ``cfg/value``) and ``PVE/API2/Cluster/Ceph.pm`` (``metadata``,
  ``status``, ``flags``) all start with ``PVE::Ceph::Tools::check_ceph_inited`` (``flags``
  through ``check_ceph_configured``), whose first step ``check_ceph_installed('ceph_mon')``
  dies "binary not installed: /usr/bin/ceph-mon" until ``pveceph install`` ran (the ISO ships
  only ``ceph-common`` and ``ceph-fuse``).
- HA groups: pve-ha-manager ``src/PVE/API2/HA/Groups.pm`` ``index`` dies "cannot index
  groups: ha groups have been migrated to rules" when ``have_groups_been_migrated``
  (``src/PVE/HA/Config.pm``), which holds for a cluster without any group, as every fresh
  9.x cluster is.
"""

from __future__ import annotations

from typing import NoReturn

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler

CEPH_NOT_INSTALLED = "binary not installed: /usr/bin/ceph-mon\n"
HA_GROUPS_MIGRATED = "cannot index groups: ha groups have been migrated to rules\n"

NODE_CEPH = [
    "status", "crush", "log", "rules", "cmd-safety", "osd", "mds", "mgr", "mon", "fs", "pool",
    "cfg/raw", "cfg/db", "cfg/value",
]  # fmt: skip
# Items that check the same way first: ``OSD.pm`` ``osddetails`` and ``osdvolume``
# (``check_ceph_inited``), ``Pool.pm`` ``getpool`` (``check_ceph_inited``) and
# ``Cluster/Ceph.pm`` ``get_flag`` (``check_ceph_configured``, which calls it first).
NODE_CEPH += ["osd/{osdid}/metadata", "osd/{osdid}/lv-info", "pool/{name}/status"]
CLUSTER_CEPH = ["metadata", "status", "flags"]
CLUSTER_CEPH += ["flags/{flag}"]


def ceph_not_installed(call: Call) -> NoReturn:
    if "node" in call.params:
        with call.cluster() as cluster:
            cluster.nodes.require(call.node)
    raise PveError(500, CEPH_NOT_INSTALLED)


def ha_groups_migrated(call: Call) -> NoReturn:
    raise PveError(500, HA_GROUPS_MIGRATED)


ABSENT_FEATURES: dict[str, Handler] = {
    **{f"/nodes/{{node}}/ceph/{path}": ceph_not_installed for path in NODE_CEPH},
    **{f"/cluster/ceph/{path}": ceph_not_installed for path in CLUSTER_CEPH},
    "/cluster/ha/groups": ha_groups_migrated,
}
