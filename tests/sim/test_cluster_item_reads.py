"""Reads of single cluster objects, the cluster log and the metric export (issue 11).

The walk (``test_every_get_path.py``) checks status, reason and schema; these check what the
walk cannot: the built-ins' values, the missing ids of the built-in families, the per-parameter
error maps, and that the log and the metrics follow the simulator's own tasks and guests.
Each test names the handler it follows.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, root_login, run_ok


def _error(call: Any) -> ResourceException:
    with pytest.raises(ResourceException) as info:
        call()
    return info.value


def test_notification_builtins_and_missing_names(pve: PveSimulator, api: Any) -> None:
    """proxmox-notify context/pve.rs DEFAULT_CONFIG, lib.rs Config::new (origin builtin),
    api/*.rs get_endpoint / get_matcher (404 when not found)."""
    digest = hashlib.sha256(b"").hexdigest()
    notifications = api.cluster.notifications
    assert notifications.endpoints.sendmail("mail-to-root").get() == {
        "name": "mail-to-root",
        "mailto-user": ["root@pam"],
        "comment": "Send mails to root@pam's email address",
        "origin": "builtin",
        "digest": digest,
    }
    matcher = notifications.matchers("default-matcher").get()
    assert (matcher["mode"], matcher["target"], matcher["origin"]) == (
        "all",
        ["mail-to-root"],
        "builtin",
    )
    missing = _error(notifications.endpoints.sendmail("nobody").get)
    assert (missing.status_code, missing.content) == (404, "endpoint 'nobody' not found")
    missing = _error(notifications.matchers("mail-to-root").get)
    assert (missing.status_code, missing.content) == (404, "matcher 'mail-to-root' not found")


def test_ha_resource_sid_shortcut_is_resolved_first(pve: PveSimulator, api: Any) -> None:
    """pve-ha-manager HA/Config.pm parse_sid before Resources.pm $api_copy_config."""
    pve.state.add_vm(100, "web")
    assert _error(api.cluster.ha.resources("100").get).content == ("no such resource 'vm:100'")
    assert _error(api.cluster.ha.resources("999").get).content == (
        "unable to detect SID from VMID - VM/CT 999 does not exist"
    )


def test_param_errors_name_the_id(pve: PveSimulator, api: Any) -> None:
    """raise_param_exc in Backup.pm read_job, RealmSync.pm read_job, Aliases.pm read_alias and
    ACMEAccount.pm get_account: 400 with the message under the parameter's name."""
    assert _error(api.cluster.backup("nightly").get).errors == {"id": "No such job 'nightly'"}
    assert _error(api.cluster.jobs("realm-sync")("ldap").get).errors == {"id": "No such job 'ldap'"}
    assert _error(api.cluster.firewall.aliases("lan").get).errors == {"name": "no such alias"}


def test_methods_without_permissions_are_root_at_pams_alone(pve: PveSimulator, api: Any) -> None:
    """RPCEnvironment.pm check_api2_permissions: no ``permissions`` -> "user != root@pam" for
    every token (ACMEAccount.pm get_account, BackupInfo.pm index); root@pam with a ticket
    reaches the handler: get_account's raise_param_exc, BackupInfo's one child."""
    for get in (api.cluster.acme.account("default").get, api.cluster("backup-info").get):
        failure = _error(get)
        assert (failure.status_code, failure.content) == (
            403,
            "Permission check failed (user != root@pam)",
        )
    root = root_login(pve)
    assert _error(root.cluster.acme.account("default").get).errors == {
        "name": "ACME account config file 'default' does not exist."
    }
    assert root.cluster("backup-info").get() == [{"subdir": "not-backed-up"}]


def test_acme_standalone_plugin_always_exists(pve: PveSimulator, api: Any) -> None:
    """proxmox-acme Challenge.pm parse_config adds ``standalone``; ACMEPlugin.pm
    $modify_cfg_for_api adds ``plugin`` and ``digest``, or dies for other ids."""
    assert api.cluster.acme.plugins("standalone").get() == {
        "type": "standalone",
        "plugin": "standalone",
        "digest": hashlib.sha1(b"").hexdigest(),
    }
    assert _error(api.cluster.acme.plugins("cf").get).content == ("ACME plugin 'cf' not defined")


def test_acme_challenge_schema_lists_the_dns_plugins_of_9_1(api: Any) -> None:
    """ACMEAccount.pm challengeschema: one ``dns`` row per key of proxmox-acme's
    dns-challenge-schema.json, sorted, ``name`` falling back to the id; the 9.1 schema carries
    those keys as the enum of DNSChallenge.pm's ``api`` option (160 of them)."""
    rows = api.cluster.acme("challenge-schema").get()
    ids = [row["id"] for row in rows]
    assert len(ids) == 160 and ids == sorted(ids)
    assert {"cf", "acmedns", "ovh"} <= set(ids) and "standalone" not in ids
    assert {row["type"] for row in rows} == {"dns"}
    assert all(row["name"] == row["id"] for row in rows)


def test_acme_meta_fails_on_the_directory_it_was_asked_for(pve: PveSimulator, api: Any) -> None:
    """proxmox-acme PVE/ACME.pm do(): the CA cannot be reached from the simulated cluster."""
    staging = "https://acme-staging-v02.api.letsencrypt.org/directory"
    failure = _error(lambda: api.cluster.acme.meta.get(directory=staging))
    assert (failure.status_code, failure.content) == (500, f"Error: GET to {staging}")


def test_cluster_log_holds_the_task_lines_newest_first(pve: PveSimulator, api: Any) -> None:
    """RESTEnvironment.pm fork_worker / $log_task_result lines, as Cluster.pm log answers
    them (pmxcfs logger.c clog_dump_json: newest first, ``id`` = uid:node)."""
    pve.state.add_vm(100, "web")
    upid = api.nodes(NODE).qemu(100).status.start.post()
    run_ok(api, upid)
    log = api.cluster.log.get()
    assert [entry["msg"] for entry in log] == [f"end task {upid} OK", f"starting task {upid}"]
    assert [entry["id"] for entry in log] == [f"2:{NODE}", f"1:{NODE}"]
    assert {entry["user"] for entry in log} == {pve.token_id}
    assert {entry["pri"] for entry in log} == {6}
    assert api.cluster.log.get(max=1) == log[:1]


def test_cluster_log_shows_others_lines_only_to_syslog_readers(pve: PveSimulator, api: Any) -> None:
    """Cluster.pm log: without Sys.Syslog on / only the caller's own entries."""
    pve.state.add_vm(100, "web")
    run_ok(api, api.nodes(NODE).qemu(100).status.start.post())
    pve.state.access.revoke_token_privileges("/", "Sys.Syslog")
    assert len(api.cluster.log.get()) == 2  # the token's own task lines


def _ids(data: list[dict[str, Any]]) -> set[str]:
    return {metric["id"] for metric in data}


def test_metrics_export_follows_nodes_guests_and_storages(pve: PveSimulator, api: Any) -> None:
    """MetricServer.pm export over PullMetric.pm get_*_metrics: every online node's figures,
    a running VM's usage (a stopped one only its sizes), each storage's size."""
    pve.state.add_vm(100, "web")
    pve.state.add_vm(101, "db")
    run_ok(api, api.nodes(NODE).qemu(100).status.start.post())
    data = api.cluster.metrics.export.get()["data"]
    nodes = [row["node"] for row in api.nodes.get()]
    assert {f"node/{name}" for name in nodes} | {"qemu/100", "qemu/101"} <= _ids(data)
    running = {m["metric"] for m in data if m["id"] == "qemu/100"}
    stopped = {m["metric"] for m in data if m["id"] == "qemu/101"}
    assert {"cpu_current", "mem_used", "net_in"} <= running
    assert stopped == {"uptime", "cpu_max", "mem_total", "disk_total"}
    mem_total = next(m for m in data if m["id"] == "qemu/100" and m["metric"] == "mem_total")
    assert mem_total["value"] == api.nodes(NODE).qemu(100).status.current.get()["maxmem"]
    assert f"storage/{NODE}/local" in _ids(data)


def test_metrics_export_local_only_and_node_list(pve: PveSimulator, api: Any) -> None:
    """MetricServer.pm export: ``local-only`` keeps the answering node; unknown names in
    ``node-list`` die; offline members are skipped."""
    local = api.cluster.metrics.export.get(**{"local-only": 1})["data"]
    assert {m["id"] for m in local if m["id"].startswith("node/")} == {f"node/{NODE}"}
    failure = _error(lambda: api.cluster.metrics.export.get(**{"node-list": "pve,ghost"}))
    assert failure.content == "Requested node-list contains unknown nodes - ghost"
    pve.node_offline("pve2")
    data = api.cluster.metrics.export.get()["data"]
    assert "node/pve2" not in _ids(data)


def test_schedule_analyze_lists_the_next_runs(pve: PveSimulator, api: Any) -> None:
    """Cluster/Jobs.pm schedule-analyze: compute_next_event from ``starttime``, with gmtime's
    text beside each timestamp."""
    runs = api.cluster.jobs("schedule-analyze").get(schedule="*/15", starttime=0, iterations=3)
    assert runs == [
        {"timestamp": 900, "utc": "Thu Jan  1 00:15:00 1970"},
        {"timestamp": 1800, "utc": "Thu Jan  1 00:30:00 1970"},
        {"timestamp": 2700, "utc": "Thu Jan  1 00:45:00 1970"},
    ]
    assert api.cluster.jobs("schedule-analyze").get(schedule="2021-02-29") == []
    failure = _error(lambda: api.cluster.jobs("schedule-analyze").get(schedule="nonsense"))
    assert failure.status_code == 400
    assert failure.errors["schedule"].startswith("invalid calendar event 'nonsense' - ")


def test_permission_checks_run_before_the_lookup(pve: PveSimulator, api: Any) -> None:
    """The methods' ``check`` runs first: ``['perm', '/', ['Sys.Audit']]`` (HA Resources.pm
    read, MetricServer.pm export) and the ``or`` of Notifications.pm and Mapping/*.pm, whose
    failure is the bare "Permission check failed"."""
    pve.state.access.revoke_token_privileges(
        "/", "Sys.Audit", "Mapping.Audit", "Mapping.Modify", "Mapping.Use"
    )
    denied = _error(api.cluster.ha.resources("vm:100").get)
    assert (denied.status_code, denied.content) == (403, "Permission check failed (/, Sys.Audit)")
    assert _error(api.cluster.metrics.export.get).status_code == 403
    denied = _error(api.cluster.notifications.endpoints.sendmail("mail-to-root").get)
    assert (denied.status_code, denied.content) == (403, "Permission check failed")
    assert _error(api.cluster.mapping.pci("gpu").get).content == "Permission check failed"
