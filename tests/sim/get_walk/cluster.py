"""The every-GET walk's expectations for one area (see ``tests/sim/get_walk/__init__.py``)."""

from __future__ import annotations

MISSING = "solti-missing"
PARAM = "Parameter verification failed."

SAMPLE_IDS: dict[str, dict[str, str]] = {
    # The id must match ``pve-replication-job-id`` (<GUEST>-<JOBNUM>) to reach the handler.
    "/cluster/replication/{id}": {"id": "100-0"},
    # The built-ins every 9.x cluster has (proxmox-notify ``context/pve.rs`` DEFAULT_CONFIG)
    # and the plugin proxmox-acme ``Challenge::parse_config`` always adds: the walk reads the
    # existing ones; tests/sim/test_cluster_item_reads.py the missing ones.
    "/cluster/notifications/endpoints/sendmail/{name}": {"name": "mail-to-root"},
    "/cluster/notifications/matchers/{name}": {"name": "default-matcher"},
    "/cluster/acme/plugins/{id}": {"id": "standalone"},
    # A CIDR's "/" would split the path; a plain address is an IPorCIDR too.
    "/cluster/firewall/ipset/{name}/{cidr}": {"cidr": "192.0.2.1"},
}

EXPECTED_ERRORS: dict[str, tuple[int, str]] = {
    # pve-manager PVE/API2/ReplicationConfig.pm read: die "no such replication job '$id'\n".
    "/cluster/replication/{id}": (500, "no such replication job '100-0'"),
    # pve-manager PVE/API2/Cluster/MetricServer.pm read.
    "/cluster/metrics/server/{id}": (500, f"status server entry '{MISSING}' does not exist"),
    # proxmox-notify api/{gotify,smtp,webhook}.rs get_endpoint: HttpError NOT_FOUND, raised by
    # Notifications.pm raise_api_error as a PVE::Exception with code 404.
    **{
        f"/cluster/notifications/endpoints/{kind}/{{name}}": (
            404,
            f"endpoint '{MISSING}' not found",
        )
        for kind in ("gotify", "smtp", "webhook")
    },
    # pve-firewall Rules.pm GroupRules::load_config (both paths).
    "/cluster/firewall/groups/{group}": (500, f"no such security group '{MISSING}'"),
    "/cluster/firewall/groups/{group}/{pos}": (500, f"no such security group '{MISSING}'"),
    # pve-firewall Rules.pm register_get_rule: die "no rule at position $pos\n".
    "/cluster/firewall/rules/{pos}": (500, "no rule at position 0"),
    # pve-firewall IPSet.pm ClusterIPset::load_config (both paths).
    "/cluster/firewall/ipset/{name}": (500, f"no such IPSet '{MISSING}'"),
    "/cluster/firewall/ipset/{name}/{cidr}": (500, f"no such IPSet '{MISSING}'"),
    # pve-firewall Aliases.pm read_alias: raise_param_exc({ name => "no such alias" }).
    "/cluster/firewall/aliases/{name}": (400, PARAM),
    # pve-manager PVE/API2/Backup.pm read_job / get_volume_backup_included: raise_param_exc.
    "/cluster/backup/{id}": (400, PARAM),
    "/cluster/backup/{id}/included_volumes": (400, PARAM),
    # pve-ha-manager API2/HA/Resources.pm read -> $api_copy_config.
    "/cluster/ha/resources/{sid}": (500, "no such resource 'vm:999'"),
    # pve-ha-manager API2/HA/Groups.pm read: groups migrated on a fresh 9.x cluster.
    "/cluster/ha/groups/{group}": (
        500,
        "cannot read group: ha groups have been migrated to rules",
    ),
    # pve-ha-manager API2/HA/Rules.pm read_rule -> $get_api_ha_rule.
    "/cluster/ha/rules/{rule}": (500, f"no such ha rule '{MISSING}'"),
    # pve-manager PVE/API2/ACMEAccount.pm get_account declares no ``permissions``, so
    # RPCEnvironment.pm check_api2_permissions refuses every token before the lookup.
    "/cluster/acme/account/{name}": (403, "Permission check failed (user != root@pam)"),
    # PVE/API2/Cluster/BackupInfo.pm index: no ``permissions`` either.
    "/cluster/backup-info": (403, "Permission check failed (user != root@pam)"),
    # ACMEAccount.pm get_tos/get_meta: proxmox-acme PVE/ACME.pm do() fails offline.
    "/cluster/acme/tos": (500, "Error: GET to https://acme-v02.api.letsencrypt.org/directory"),
    "/cluster/acme/meta": (500, "Error: GET to https://acme-v02.api.letsencrypt.org/directory"),
    # pve-access-control API2/Jobs/RealmSync.pm read_job: raise_param_exc.
    "/cluster/jobs/realm-sync/{id}": (400, PARAM),
    # pve-manager PVE/API2/Cluster/Mapping/{Dir,PCI,USB}.pm get.
    **{
        f"/cluster/mapping/{kind}/{{id}}": (500, f"mapping '{MISSING}' not found")
        for kind in ("dir", "pci", "usb")
    },
}
NOT_JSON: dict[str, str] = {}
PARAMS: dict[str, dict[str, str]] = {}
