"""A real open-source monitoring client, run against the simulator: prometheus-pve-exporter.

Issue 11, "Done when: ... read-only monitoring tools run against the simulator without an
error". This is not an imitation of the exporter: it is the exporter's own code (PyPI
``prometheus-pve-exporter``, a test dependency), its ``collect_pve`` entry point with every
collector it offers switched on, configured as an operator configures it (a YAML module read by
its ``config_from_yaml``: token auth, ``verify_ssl`` = the simulator's CA), scraping the
``target`` ``host:port`` as Prometheus would ask it to. An exception anywhere in its collectors
fails the test; the metrics it produces must carry the simulator's values.

The Ansible inventory plugin ``community.proxmox.proxmox`` and prometheus-pve-sd are tried by
hand (``scripts/try_real_clients.sh``; Ansible is too heavy for the suite): see docs/design.md
"Real clients".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pve_exporter.collector import CollectorsOptions, collect_pve
from pve_exporter.config import config_from_yaml

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.state.nodes import RRD_EXPIRE
from tests.sim.conftest import NODE

# Every collector the exporter offers (its ``--collector.*`` flags, all on).
ALL_COLLECTORS = CollectorsOptions(**dict.fromkeys(CollectorsOptions._fields, True))
Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def _module(pve: PveSimulator) -> Any:
    """The ``default`` module of a pve.yml, read by the exporter's own config loader."""
    user, _, token_name = pve.token_id.partition("!")
    text = yaml.safe_dump(
        {
            "default": {
                "user": user,
                "token_name": token_name,
                "token_value": pve.token_secret,
                "verify_ssl": pve.ca_path,
            }
        }
    )
    config = config_from_yaml(yaml.safe_load(text))
    assert config.valid, str(config)
    return config["default"]


def scrape(pve: PveSimulator, *, cluster: bool = True, node: bool = True) -> Samples:
    """One ``/pve?target=HOST:PORT`` scrape: metric name -> {sorted labels: value}."""
    text = collect_pve(
        _module(pve), f"{pve.host}:{pve.port}", cluster, node, ALL_COLLECTORS
    ).decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def by_id(samples: Samples, name: str) -> dict[str, float]:
    """The samples of ``name`` keyed by their ``id`` label."""
    return {dict(labels)["id"]: value for labels, value in samples.get(name, {}).items()}


def labels_of(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for labels in samples.get(name, {})]


@pytest.fixture
def fleet(pve: PveSimulator) -> Iterator[PveSimulator]:
    """Three nodes; a running VM with its agent on pve, a stopped one on pve2, a template."""
    pve.state.add_vm(100, "web-1", running=True, onboot=1, tags="web;solti")
    pve.state.add_vm(101, "db-1", node="pve2")
    pve.state.add_template(9000, "rocky9")
    yield pve


def test_every_collector_runs_and_reports_every_guest_node_and_storage(fleet):
    """``StatusCollector``: pve-manager ``PVE/API2/Cluster.pm`` ``get_status`` (``cluster``
    entry ``quorate``, ``node`` entries ``online``) and ``resources`` (guests' ``status``,
    storages' ``status``)."""
    up = by_id(scrape(fleet), "pve_up")
    assert up["cluster/solti-sim"] == 1
    assert {up[f"node/{n}"] for n in ("pve", "pve2", "pve3")} == {1}
    assert up["qemu/100"] == 1
    assert up["qemu/101"] == 0
    assert up["qemu/9000"] == 0
    assert up["storage/pve/local-lvm"] == 1
    assert up["storage/pve3/shared"] == 1


def test_guest_node_cluster_and_version_info_carry_the_simulators_values(fleet):
    """``ClusterResourcesCollector`` (``/cluster/resources``), ``ClusterNodeCollector`` and
    ``ClusterInfoCollector`` (``/cluster/status``), ``VersionCollector`` (``/version``)."""
    samples = scrape(fleet)
    guests = {g["id"]: g for g in labels_of(samples, "pve_guest_info")}
    assert guests["qemu/100"] == {
        "id": "qemu/100",
        "name": "web-1",
        "node": "pve",
        "type": "qemu",
        "template": "0",
        "tags": "solti;web",
    }
    assert (guests["qemu/101"]["node"], guests["qemu/101"]["name"]) == ("pve2", "db-1")
    assert guests["qemu/9000"]["template"] == "1"
    nodes = {n["name"]: n for n in labels_of(samples, "pve_node_info")}
    assert {name: n["nodeid"] for name, n in nodes.items()} == {
        "pve": "1",
        "pve2": "2",
        "pve3": "3",
    }
    assert labels_of(samples, "pve_cluster_info") == [
        {"id": "cluster/solti-sim", "nodes": "3", "quorate": "1", "version": "3"}
    ]
    version = fleet.client().version.get()
    [info] = labels_of(samples, "pve_version_info")
    assert info == {k: version[k] for k in ("release", "repoid", "version")}


def test_resource_gauges_are_the_simulators_sizes(fleet):
    """``ClusterResourcesCollector`` turns ``maxmem``/``maxdisk``/``maxcpu``/``uptime`` of each
    ``/cluster/resources`` row into gauges; node rows carry ``disk``/``maxdisk``
    (``PVE/API2Tools.pm`` ``extract_node_stats``)."""
    samples = scrape(fleet)
    rows = {row["id"]: row for row in fleet.client().cluster.resources.get()}
    memory = by_id(samples, "pve_memory_size_bytes")
    assert memory["qemu/100"] == 2048 * 1024**2
    assert memory["node/pve2"] == rows["node/pve2"]["maxmem"]
    disk = by_id(samples, "pve_disk_size_bytes")
    assert disk["node/pve"] == rows["node/pve"]["maxdisk"] > 0
    assert disk["storage/pve/local-lvm"] == rows["storage/pve/local-lvm"]["maxdisk"]
    assert by_id(samples, "pve_cpu_usage_limit")["qemu/100"] == 2
    assert by_id(samples, "pve_uptime_seconds")["qemu/100"] > 0
    assert by_id(samples, "pve_storage_shared")["storage/pve/shared"] == 1
    storages = {s["id"]: s for s in labels_of(samples, "pve_storage_info")}
    assert storages["storage/pve/local-lvm"]["plugintype"] == "lvmthin"
    assert storages["storage/pve/local-lvm"]["content"] == "images,rootdir"


def test_guests_not_backed_up_are_every_guest_with_no_backup_job(fleet):
    """``BackupInfoCollector``: pve-manager ``PVE/API2/Cluster/BackupInfo.pm``
    ``get_guests_not_in_backup`` lists every guest (templates too) outside every vzdump job;
    the simulator has no jobs."""
    samples = scrape(fleet)
    assert by_id(samples, "pve_not_backed_up_total") == {"cluster/solti-sim": 3}
    assert set(by_id(samples, "pve_not_backed_up_info")) == {"qemu/100", "qemu/101", "qemu/9000"}


def test_node_collectors_read_the_local_node(fleet):
    """``SubscriptionCollector`` (pve-manager ``PVE/API2/Subscription.pm`` ``get``: no key,
    ``notfound`` and no ``level``), ``NodeConfigCollector`` (``onboot`` of each VM config on
    the local node of ``/cluster/status``), ``NodeReplicationCollector`` (no jobs: no
    samples, no error), ``QDeviceCollector`` (no QDevice: no samples)."""
    samples = scrape(fleet)
    assert labels_of(samples, "pve_subscription_info") == [
        {"id": f"node/{NODE}", "level": "unknown"}
    ]
    status = {dict(k)["status"]: v for k, v in samples["pve_subscription_status"].items()}
    assert status["notfound"] == 1
    assert sum(status.values()) == 1
    assert by_id(samples, "pve_onboot_status") == {"qemu/100": 1}  # 101 is on pve2
    assert "pve_replication_info" not in samples
    assert "pve_qdevice_up" not in samples


def test_an_offline_node_is_down_and_its_guests_go_unknown_when_the_rrd_expires(fleet):
    """``get_status``: ``online`` 0 for the node. ``extract_vm_stats`` reads pmxcfs' RRD
    cache, which keeps an offline node's last rows for 5 minutes (pve-cluster
    ``src/pmxcfs/status.c`` ``rrd_entry_is_old``), then the guest row is bare with status
    ``unknown``: the exporter copes with rows without figures."""
    fleet.state.add_vm(102, "cache-1", node="pve3", running=True)
    fleet.clock.freeze()
    fleet.node_offline("pve3")
    up = by_id(scrape(fleet), "pve_up")
    assert (up["node/pve3"], up["node/pve2"]) == (0, 1)
    assert up["qemu/102"] == 1  # its last RRD row still says running
    fleet.advance(RRD_EXPIRE + 1)
    samples = scrape(fleet)
    assert by_id(samples, "pve_up")["qemu/102"] == 0
    assert "qemu/102" not in by_id(samples, "pve_memory_size_bytes")
    assert by_id(samples, "pve_memory_size_bytes")["qemu/100"] == 2048 * 1024**2


def test_a_single_node_without_a_cluster(pve: PveSimulator):
    """``get_status`` on a node that is in no cluster lists the node alone (``nodeid`` 0): the
    exporter reports no cluster, names the node in ``pve_node_info`` and counts the guests
    not backed up under ``cluster/<node>`` (it takes the first status entry's name)."""
    with PveSimulator(nodes=1) as single:
        single.state.add_vm(100, "solo", running=True)
        samples = scrape(single)
    assert "pve_cluster_info" not in samples
    assert labels_of(samples, "pve_node_info") == [
        {"id": "node/pve", "level": "", "name": "pve", "nodeid": "0"}
    ]
    assert by_id(samples, "pve_not_backed_up_total") == {"cluster/pve": 1}
    assert by_id(samples, "pve_up")["qemu/100"] == 1


def test_the_exporter_needs_no_request_the_simulator_refuses(fleet):
    """Every request of a full scrape (cluster and node modules) answers 200: nothing the
    exporter reads is a 501 or an error it swallows (the QDevice collector catches one)."""
    scrape(fleet)
    paths = {(r.method, r.path): r.status for r in fleet.requests}
    assert {status for status in paths.values()} == {200}, paths
    assert ("GET", "/cluster/config/qdevice") in paths
    assert ("GET", f"/nodes/{NODE}/replication") in paths
    assert ("GET", f"/nodes/{NODE}/lxc") in paths


def test_a_read_only_pve_auditor_token_is_enough(fleet):
    """Exporters get a read-only token: the PVEAuditor role on ``/`` (pve-access-control
    ``src/PVE/AccessControl.pm`` ``create_roles``: every ``audit`` privilege). Every collector
    still runs: ``get_guests_not_in_backup`` needs ``Sys.Audit`` on ``/``, ``resources`` and
    the configs ``VM.Audit``, ``Subscription.pm`` ``get`` shows the server ID with
    ``Sys.Audit``."""
    auditor = fleet.client().access.roles("PVEAuditor").get()
    assert "VM.Allocate" not in auditor
    fleet.state.set_token_privileges("/", dict.fromkeys(auditor, 1))
    samples = scrape(fleet)
    assert by_id(samples, "pve_up")["qemu/100"] == 1
    assert len(by_id(samples, "pve_not_backed_up_info")) == 3
    assert by_id(samples, "pve_onboot_status") == {"qemu/100": 1}
    assert {r.status for r in fleet.requests if r.path != "/access/roles/PVEAuditor"} == {200}


def test_a_token_that_may_audit_one_vm_sees_only_that_vm(fleet):
    """``/cluster/resources`` and ``get_guests_not_in_backup`` leave out guests the token may
    not ``VM.Audit`` (pve-manager ``PVE/API2/Cluster.pm`` ``resources``: ``check($authuser,
    "/vms/$vmid", ['VM.Audit'], 1)``); the exporter reports the one it may see."""
    fleet.state.set_token_privileges("/", {"Sys.Audit": 1, "Datastore.Audit": 1})
    fleet.state.set_token_privileges("/vms/101", {"VM.Audit": 1})
    samples = scrape(fleet, node=False)
    guests = {g["id"] for g in labels_of(samples, "pve_guest_info")}
    assert guests == {"qemu/101"}
    assert by_id(samples, "pve_not_backed_up_total") == {"cluster/solti-sim": 1}
