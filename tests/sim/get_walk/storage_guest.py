"""The every-GET walk's expectations for one area (see ``tests/sim/get_walk/__init__.py``).

Guests (the walk's VMID is a running QEMU VM, so every container path asks for a VMID that is
not a container), their firewall, agent and sockets; storage volumes, backups and imports.
"""

from __future__ import annotations

LXC = "/nodes/{node}/lxc/{vmid}"
QEMU = "/nodes/{node}/qemu/{vmid}"
STORAGE = "/nodes/{node}/storage/{storage}"
# A backup volume name of the standard scheme; the simulator holds no backups.
BACKUP = "local:backup/vzdump-qemu-100-2026_12_03-00_00_00.vma.zst"
# pve-guest-common src/PVE/AbstractConfig.pm load_config with pve-container
# src/PVE/LXC/Config.pm cfs_config_path: VMID 100 has no container config.
NO_CT = (500, "Configuration file 'nodes/pve/lxc/100.conf' does not exist")

SAMPLE_IDS: dict[str, dict[str, str]] = {
    # An address without a mask: the walk puts ids into the path unencoded, and a ``/`` there
    # would split it (clients send ``%2F``; ``IPorCIDRorAlias`` takes a bare address too).
    f"{QEMU}/firewall/ipset/{{name}}/{{cidr}}": {"cidr": "192.0.2.1"},
    f"{LXC}/firewall/ipset/{{name}}/{{cidr}}": {"cidr": "192.0.2.1"},
    # The walk VM's boot disk (Seeder.add_vm allocates it on local-lvm).
    f"{STORAGE}/content/{{volume}}": {"storage": "local-lvm", "volume": "local-lvm:vm-100-disk-0"},
}
EXPECTED_ERRORS: dict[str, tuple[int, str]] = {
    # qemu-server PVE/API2/Qemu.pm snapshot ``get_snapshot_config``: the walk's VM has no
    # snapshot named ``missing``.
    f"{QEMU}/snapshot/{{snapname}}/config": (500, "snapshot 'missing' does not exist"),
    # pve-container src/PVE/API2/LXC.pm vmdiridx, vm_feature, vm_pending,
    # migrate_vm_precondition, mtunnelwebsocket; LXC/Config.pm vm_config; LXC/Status.pm
    # vmcmdidx, vm_status; LXC/Snapshot.pm list, get_snapshot_config: load_config first.
    **{
        f"{LXC}{sub}": NO_CT
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
            "/mtunnelwebsocket",
        )
    },
    # pve-firewall src/PVE/API2/Firewall/Rules.pm get_rule: the (empty) <vmid>.fw has no rule 0.
    f"{QEMU}/firewall/rules/{{pos}}": (500, "no rule at position 0"),
    f"{LXC}/firewall/rules/{{pos}}": (500, "no rule at position 0"),
    # Aliases.pm read_alias: raise_param_exc({name => "no such alias"}).
    f"{QEMU}/firewall/aliases/{{name}}": (400, "Parameter verification failed."),
    f"{LXC}/firewall/aliases/{{name}}": (400, "Parameter verification failed."),
    # IPSet.pm VMIPset/CTIPset load_config, before get_ipset and read_ip look further.
    **{
        f"{base}/firewall/ipset/{{name}}{tail}": (500, "no such IPSet 'solti-missing'")
        for base in (QEMU, LXC)
        for tail in ("", "/{cidr}")
    },
    # pve-access-control AccessControl.pm verify_vnc_ticket / verify_tunnel_ticket via
    # pve-common Ticket.pm verify_rsa_ticket (code 401): the simulator issues no tickets.
    f"{QEMU}/vncwebsocket": (401, "permission denied - invalid PVEVNC ticket"),
    f"{LXC}/vncwebsocket": (401, "permission denied - invalid PVEVNC ticket"),
    f"{QEMU}/mtunnelwebsocket": (401, "permission denied - invalid PVETUNNEL ticket"),
    # qemu-server PVE/QemuServer/Agent.pm check_agent_error over QGA's answers:
    # qga/commands.c qmp_guest_exec_status (no such PID) and commands-posix.c
    # safe_open_or_create (no such file).
    f"{QEMU}/agent/exec-status": (500, "Agent error: Invalid parameter 'pid'"),
    f"{QEMU}/agent/file-read": (
        500,
        "Agent error: failed to open file '/etc/solti-missing' (mode: 'r'): "
        "No such file or directory",
    ),
    # pve-storage PVE/Storage.pm prune_backups: the simulator's ``local`` has no backup content.
    f"{STORAGE}/prunebackups": (500, "storage 'local' does not support backups"),
    # API2/Storage/FileRestore.pm list/download: only PBS storages (raise_param_exc).
    f"{STORAGE}/file-restore/list": (400, "Parameter verification failed."),
    f"{STORAGE}/file-restore/download": (400, "Parameter verification failed."),
    # Storage/DirPlugin.pm get_import_metadata: only ``import`` content.
    f"{STORAGE}/import-metadata": (500, "invalid content type 'iso'"),
    # pve-storage API2/Storage/Status.pm rrd draws pve2-storage/<node>/<id>, a directory a 9.x
    # node never has (pve-cluster pmxcfs/status.c): rrdtool's rrd_client.c get_path fails.
    f"{STORAGE}/rrd": (
        500,
        "RRD error: realpath(/var/lib/rrdcached/db/pve2-storage/pve/local): "
        "No such file or directory",
    ),
    # pve-manager PVE/VZDump.pm storage_info on the default storage ``local``.
    "/nodes/{node}/vzdump/defaults": (
        500,
        "can't use storage 'local' for backups - wrong content type",
    ),
    # pve-storage Storage.pm extract_vzdump_config -> abs_filesystem_path.
    "/nodes/{node}/vzdump/extractconfig": (500, f"can't find file '{BACKUP}'"),
}
NOT_JSON: dict[str, str] = {}
PARAMS: dict[str, dict[str, str]] = {
    f"{QEMU}/vncwebsocket": {"port": "5900", "vncticket": "solti-invalid"},
    f"{LXC}/vncwebsocket": {"port": "5900", "vncticket": "solti-invalid"},
    f"{QEMU}/mtunnelwebsocket": {"socket": "/run/qemu-server/100.mtunnel", "ticket": "x"},
    f"{LXC}/mtunnelwebsocket": {"socket": "/run/qemu-server/100.mtunnel", "ticket": "x"},
    f"{QEMU}/agent/exec-status": {"pid": "4242"},
    f"{QEMU}/agent/file-read": {"file": "/etc/solti-missing"},
    f"{STORAGE}/file-restore/list": {"volume": BACKUP, "filepath": "/"},
    f"{STORAGE}/file-restore/download": {"volume": BACKUP, "filepath": "Lw=="},
    f"{STORAGE}/import-metadata": {"volume": "iso/missing.iso"},
    "/nodes/{node}/vzdump/extractconfig": {"volume": BACKUP},
}
