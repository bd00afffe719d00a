"""The every-GET walk's expectations for one area (see ``tests/sim/get_walk/__init__.py``):
the node's system reads (services, network, scans, hardware, disks, APT, firewall rule,
replication job, certificates, logs, RRD graph, VNC websocket, appliances, report)."""

from __future__ import annotations

# A host name no simulated node resolves (the simulated LAN has no DNS server).
NOWHERE = "solti-missing"

SAMPLE_IDS: dict[str, dict[str, str]] = {
    # pve-manager PVE/API2/Replication.pm: ids are '<GUEST>-<JOBNUM>' (pve-replication-job-id);
    # the walk's VM 100 has no job 0.
    "/nodes/{node}/replication/{id}": {"id": "100-0"},
    "/nodes/{node}/replication/{id}/status": {"id": "100-0"},
    "/nodes/{node}/replication/{id}/log": {"id": "100-0"},
}

EXPECTED_ERRORS: dict[str, tuple[int, str]] = {
    # pve-storage API2/Storage/Scan.pm nfsscan/cifsscan -> Storage.pm scan_nfs/scan_cifs.
    "/nodes/{node}/scan/nfs": (500, f"unable to resolve address for server '{NOWHERE}'"),
    "/nodes/{node}/scan/cifs": (500, f"unable to resolve address for server '{NOWHERE}'"),
    # Scan.pm pbsscan -> PBSPlugin::scan_datastores; pve-apiclient LWP.pm login's status line.
    "/nodes/{node}/scan/pbs": (
        500,
        f"error fetching datastores - 500 Can't connect to {NOWHERE}:8007 "
        "(Name or service not known)",
    ),
    # Scan.pm iscsiscan -> Storage.pm scan_iscsi -> resolv_portal: raise_param_exc.
    "/nodes/{node}/scan/iscsi": (400, "Parameter verification failed."),
    # pve-storage API2/Disks/ZFS.pm detail: `zpool status -P <name>` of a pool that is not there.
    "/nodes/{node}/disks/zfs/{name}": (
        500,
        "command '/sbin/zpool status -P solti-missing' failed: exit code 1",
    ),
    # pve-firewall API2/Firewall/Rules.pm get_rule: the host's rule list is empty.
    "/nodes/{node}/firewall/rules/{pos}": (500, "no rule at position 0"),
    # pve-manager PVE/API2/Replication.pm job_status / read_job_log: replication.cfg is empty.
    "/nodes/{node}/replication/{id}/status": (500, "no such replication job '100-0'"),
    "/nodes/{node}/replication/{id}/log": (500, "no such replication job '100-0'"),
    # pve-manager PVE/API2/Nodes.pm vncwebsocket -> AccessControl.pm verify_vnc_ticket.
    "/nodes/{node}/vncwebsocket": (401, "permission denied - invalid PVEVNC ticket"),
    # Nodes.pm query_oci_repo_tags: skopeo reaches no registry.
    "/nodes/{node}/query-oci-repo-tags": (
        500,
        f"command 'skopeo list-tags docker://{NOWHERE}' failed: exit code 1",
    ),
    # Nodes.pm query_url_metadata: the HEAD request's status line.
    "/nodes/{node}/query-url-metadata": (
        500,
        f"invalid server response: '500 Can't connect to {NOWHERE}:443 "
        "(Name or service not known)'",
    ),
}

NOT_JSON: dict[str, str] = {}

PARAMS: dict[str, dict[str, str]] = {
    "/nodes/{node}/scan/nfs": {"server": NOWHERE},
    "/nodes/{node}/scan/cifs": {"server": NOWHERE},
    "/nodes/{node}/scan/pbs": {"server": NOWHERE, "username": "root@pam", "password": "x"},
    "/nodes/{node}/scan/iscsi": {"portal": NOWHERE},
    # The installer's volume group (host_disk_reads.py).
    "/nodes/{node}/scan/lvmthin": {"vg": "pve"},
    "/nodes/{node}/disks/smart": {"disk": "/dev/sda"},
    "/nodes/{node}/apt/changelog": {"name": "pve-manager"},
    # Data sources of the node's RRD file (pmxcfs status.c rrd_def_node_pve9_0).
    "/nodes/{node}/rrd": {"ds": "cpu,memused"},
    "/nodes/{node}/vncwebsocket": {"port": "5900", "vncticket": NOWHERE},
    "/nodes/{node}/query-oci-repo-tags": {"reference": NOWHERE},
    "/nodes/{node}/query-url-metadata": {"url": f"https://{NOWHERE}/solti.iso"},
}
