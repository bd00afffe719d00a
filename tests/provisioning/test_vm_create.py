"""VM create against the simulator: selectors, the VMID/naming/disk tables, cloud-init, races."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from solti.provisioning.errors import Conflict, InvalidRequest, NotFound, ProxmoxError
from solti.provisioning.pve import PveClient
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment


def seed_template(world: SimEnvironment, vmid: int = 9000, dist: str = "rocky9",
                  disk: str = "10G") -> None:  # fmt: skip
    world.pve.state.add_template(vmid, f"{dist}-template", disk_size=disk,
                               tags=["solti", "template", dist])  # fmt: skip


def today() -> str:
    return datetime.now(UTC).strftime("%y%m%d")


@pytest.fixture
def rocky(world: SimEnvironment) -> int:
    seed_template(world)
    return 9000


def create(p: Provisioner, key: str, **kw: Any) -> Any:
    return p.create_vm({"ssh_keys": [key], **kw}, actor="alice", via="cli")


# --- selectors ------------------------------------------------------------------------------


def test_selector_by_vmid_name_and_distribution(
    provisioner: Provisioner, world: SimEnvironment, ssh_key: str
) -> None:
    seed_template(world, 9000)
    seed_template(world, 9001)  # a newer build of the same distribution
    seed_template(world, 9002, dist="debian12")
    assert create(provisioner, ssh_key, template=9000).vm.template_vmid == 9000
    assert create(provisioner, ssh_key, template="debian12-template").vm.template_vmid == 9002
    assert create(provisioner, ssh_key, template="rocky9").vm.template_vmid == 9001


def test_selector_errors(provisioner: Provisioner, world: SimEnvironment, ssh_key: str) -> None:
    seed_template(world)
    world.pve.state.add_vm(600, "plain")
    with pytest.raises(InvalidRequest, match="no template given"):
        create(provisioner, ssh_key)
    with pytest.raises(InvalidRequest, match="not a template"):
        create(provisioner, ssh_key, template=600)
    with pytest.raises(NotFound, match="build one"):
        create(provisioner, ssh_key, template="debian13")
    with pytest.raises(NotFound):
        create(provisioner, ssh_key, template=9123)
    failed = provisioner.audit.query(action="vm create", result="failed")
    assert len(failed) == 4 and all(r.error.startswith("plan: ") for r in failed)


# --- the VMID table -------------------------------------------------------------------------


def test_auto_vmid_is_lowest_free_in_500_8999(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    world.pve.state.add_vm(500, "taken")
    world.pve.state.add_vm(150, "manual")
    assert create(provisioner, ssh_key, template="rocky9").vm.vmid == 501


def test_requested_vmid_free_is_used(provisioner: Provisioner, rocky: int, ssh_key: str) -> None:
    assert create(provisioner, ssh_key, template="rocky9", vmid=150).vm.vmid == 150


def test_requested_vmid_in_template_range_is_refused(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    with pytest.raises(InvalidRequest, match="template range"):
        create(provisioner, ssh_key, template="rocky9", vmid=9500)
    assert sorted(world.pve.state.guests) == [9000]


def test_requested_vmid_in_use_is_refused(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    world.pve.state.add_vm(150, "other")
    with pytest.raises(Conflict, match="150 already exists"):
        create(provisioner, ssh_key, template="rocky9", vmid=150)


# --- naming ---------------------------------------------------------------------------------


def test_names_given_default_and_suffixed(
    provisioner: Provisioner, rocky: int, ssh_key: str
) -> None:
    assert create(provisioner, ssh_key, template="rocky9", name="web1").vm.name == "web1"
    first = create(provisioner, ssh_key, template="rocky9").vm.name
    second = create(provisioner, ssh_key, template="rocky9").vm.name
    assert first == f"rocky9-{today()}"
    assert second == f"rocky9-{today()}-2"
    with pytest.raises(InvalidRequest, match="name"):
        create(provisioner, ssh_key, template="rocky9", name="bad_name")


# --- the disk table -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template_disk", "minimum", "expected", "resized"),
    [("32G", "20G", "32G", False), ("32G", "50G", "50G", True), ("10G", "20G", "20G", True)],
)
def test_disk_grows_only_when_smaller(
    provisioner: Provisioner,
    world: SimEnvironment,
    ssh_key: str,
    template_disk: str,
    minimum: str,
    expected: str,
    resized: bool,
) -> None:
    seed_template(world, disk=template_disk)
    vm = create(provisioner, ssh_key, template="rocky9", disk=minimum).vm
    config = provisioner.client.vm_config(vm.node, vm.vmid)
    assert f"size={expected}" in config["scsi0"]
    resizes = [r for r in world.pve.requests if r.path.endswith("/resize")]
    assert bool(resizes) is resized


# --- cloud-init, clone modes, budget ----------------------------------------------------------


def test_cloud_init_as_pve_stores_it(
    provisioner: Provisioner, rocky: int, ssh_key: str, new_key: Any
) -> None:
    second = new_key("bob@example")
    vm = provisioner.create_vm(
        {"template": "rocky9", "ssh_keys": [ssh_key, second], "user": "ops", "ip": "10.0.0.5/24",
         "gw": "10.0.0.1", "nameserver": "10.0.0.53", "name": "db1"},
        actor="alice",
    ).vm  # fmt: skip
    config = provisioner.client.vm_config(vm.node, vm.vmid)
    assert config["sshkeys"] == quote(f"{ssh_key}\n{second}", safe="")
    assert config["ipconfig0"] == "ip=10.0.0.5/24,gw=10.0.0.1"
    assert config["nameserver"] == "10.0.0.53"
    assert config["ciuser"] == "ops" and config["name"] == "db1"
    assert set(config["tags"].split(";")) == {"solti", "rocky9"}
    assert vm.status == "running"


def test_dhcp_is_default_and_no_key_is_refused_before_anything(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    vm = create(provisioner, ssh_key, template="rocky9").vm
    assert provisioner.client.vm_config(vm.node, vm.vmid)["ipconfig0"] == "ip=dhcp"
    before = len(world.pve.requests)
    with pytest.raises(InvalidRequest, match="SSH public key"):
        provisioner.create_vm({"template": "rocky9"})
    writes = [r for r in world.pve.requests[before:] if r.method != "GET"]
    assert writes == []


def test_linked_by_default_full_on_request(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    linked = create(provisioner, ssh_key, template="rocky9").vm
    full = create(provisioner, ssh_key, template="rocky9", full=True).vm
    clones = [r for r in world.pve.requests if r.path.endswith("/clone")]
    assert [c.params.get("full") for c in clones] == ["0", "1"]
    # LVM-thin lists linked clones without ``parent`` (pve-storage LvmThinPlugin.pm
    # list_images), so the record of the create is what says which is linked (issue 11, 1).
    recorded = {r.vmid: r.params["full"] for r in provisioner.audit.query(action="vm create")}
    assert recorded[linked.vmid] is False and recorded[full.vmid] is True


def test_create_costs_at_most_six_requests_plus_polls(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    before = len(world.pve.requests)
    create(provisioner, ssh_key, template="rocky9", disk="20G")
    calls = world.pve.requests[before:]
    work = [r for r in calls if "/tasks/" not in r.path]
    assert len(work) <= 6, [(r.method, r.path) for r in work]
    assert all(r.status == 200 for r in calls)


def test_dry_run_plans_without_writes(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    before = len(world.pve.requests)
    plan = provisioner.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key], "disk": "20G"})
    assert plan.vmid == 500 and plan.resize and str(plan.disk_after) == "20G"
    assert all(r.method == "GET" for r in world.pve.requests[before:])
    assert sorted(world.pve.state.guests) == [9000]


# --- concurrency and races ------------------------------------------------------------------


def test_twenty_parallel_creates_get_distinct_vmids(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(
            pool.map(lambda i: create(provisioner, ssh_key, template="rocky9"), range(20))
        )
    vmids = [r.vm.vmid for r in results]
    assert len(set(vmids)) == 20 and min(vmids) == 500
    assert len({r.vm.name for r in results}) == 20
    assert len(provisioner.audit.query(action="vm create", result="ok", limit=None)) == 20


class RacingClient(PveClient):
    """A real client; after the first snapshot, another creator takes the id we will pick."""

    def __init__(self, base: PveClient, world: SimEnvironment, steal: list[int]) -> None:
        super().__init__(base._factory, where=base.where)
        self._world = world
        self._steal = list(steal)
        self._done = threading.Event()

    def cluster_resources(self) -> list[dict[str, Any]]:
        snapshot = super().cluster_resources()
        if not self._done.is_set():
            self._done.set()
            for vmid in self._steal:
                self._world.pve.state.add_vm(vmid, f"racer{vmid}")
        return snapshot


def test_losing_a_vmid_race_retries_with_the_next_id(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    provisioner.ops.client = RacingClient(provisioner.client, world, steal=[500, 501])
    result = create(provisioner, ssh_key, template="rocky9")
    assert result.vm.vmid == 502
    clones = [r for r in world.pve.requests if r.path.endswith("/clone")]
    assert [c.status for c in clones] == [500, 500, 200]


def test_requested_vmid_race_is_not_retried(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    provisioner.ops.client = RacingClient(provisioner.client, world, steal=[150])
    with pytest.raises(ProxmoxError, match="already exists"):
        create(provisioner, ssh_key, template="rocky9", vmid=150)


# --- idempotency ----------------------------------------------------------------------------


def test_same_request_id_returns_the_first_vm(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    first = provisioner.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]},
                                  request_id="slack-42")  # fmt: skip
    again = provisioner.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]},
                                  request_id="slack-42")  # fmt: skip
    assert again.reused and again.vm.vmid == first.vm.vmid
    assert sorted(world.pve.state.guests) == [first.vm.vmid, 9000]


# --- a plan made earlier (shown to a person) ------------------------------------------------


def test_a_shown_plan_is_built_without_reading_the_cluster_again(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    request = {"template": "rocky9", "ssh_keys": [ssh_key], "name": "shown"}
    plan = provisioner.plan_vm(request, actor="alice")
    assert plan.owned_by_actor == 0
    before = len(world.pve.requests)
    result = provisioner.create_vm(request, plan=plan, actor="alice", via="slack")
    assert (result.vm.vmid, result.vm.name) == (plan.vmid, "shown")
    made = [r.path for r in world.pve.requests[before:] if "/tasks/" not in r.path]
    assert not [p for p in made if p.endswith("/cluster/resources") or "9000/config" in p], made
    assert provisioner.plan_vm(request, actor="alice").owned_by_actor == 1


def test_a_shown_plan_whose_vmid_was_taken_since_gets_the_next_free_one(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    request = {"template": "rocky9", "ssh_keys": [ssh_key]}
    plan = provisioner.plan_vm(request)
    world.pve.state.add_vm(plan.vmid, "someone-else")  # taken between the dry run and the submit
    world.pve.state.add_vm(plan.vmid + 1, "someone-else-too")
    result = provisioner.create_vm(request, plan=plan, actor="alice", via="slack")
    assert result.vm.vmid == plan.vmid + 2 and result.vm.name == plan.name


def test_a_plan_is_refused_for_another_request(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str, new_key: Any
) -> None:
    plan = provisioner.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key]})
    with pytest.raises(InvalidRequest, match="differs from the request in ssh_keys, full"):
        provisioner.create_vm(
            {"template": "rocky9", "ssh_keys": [new_key()], "full": True}, plan=plan, actor="a"
        )
    assert sorted(world.pve.state.guests) == [9000]


def test_plan_keeps_the_vmid_and_name_shown_while_they_are_free(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    request = {"template": "rocky9", "ssh_keys": [ssh_key]}
    kept = provisioner.plan_vm(request, prefer_vmid=777, prefer_name="as-shown")
    assert (kept.vmid, kept.name) == (777, "as-shown")
    world.pve.state.add_vm(777, "as-shown")
    moved = provisioner.plan_vm(request, prefer_vmid=777, prefer_name="as-shown")
    assert moved.vmid == 500 and moved.name == f"rocky9-{today()}"
