"""Limits, flavors and quotas of a create, against the simulator (issue 13)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from solti.provisioning.config import Policy, ProxmoxSettings
from solti.provisioning.errors import InvalidRequest, PolicyDenied
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment

FLEET = {
    "limits": {"per_vm": {"cores": 8, "memory": 16384, "disk": "500G"}},
    "flavors": {"small": {"cores": 1, "memory": 2048, "disk": "20G"},
                "large": {"cores": 8, "memory": 16384, "disk": "200G"}},
}  # fmt: skip


def fleet_provisioner(world: SimEnvironment, tmp_path: Path, **extra: Any) -> Provisioner:
    # Built here, not written to the session world's policy file (its extras would outlive us).
    policy = Policy.model_validate({**world.policy(), **FLEET, **extra})
    settings = ProxmoxSettings.from_env(world.env)
    return Provisioner.from_settings(settings, policy, tmp_path / "audit.db")


@pytest.fixture
def rocky(world: SimEnvironment) -> int:
    world.pve.state.add_template(9000, "rocky9-template", disk_size="10G",
                                 tags=["solti", "template", "rocky9"])  # fmt: skip
    world.pve.state.rrd_lag = 0
    return 9000


def test_a_disk_over_the_per_vm_limit_is_refused_in_the_plan_naming_the_key(
    world: SimEnvironment, tmp_path: Path, rocky: int, ssh_key: str
) -> None:
    p = fleet_provisioner(world, tmp_path)
    request = {"template": "rocky9", "ssh_keys": [ssh_key], "disk": "5000000G"}
    with pytest.raises(InvalidRequest) as dry:
        p.plan_vm(request)
    assert "limits.per_vm.disk is 500G; you asked for 5000000G" in str(dry.value)
    assert dry.value.field == "disk"
    with pytest.raises(InvalidRequest, match=r"limits.per_vm.cores is 8; you asked for 9"):
        p.create_vm({**request, "disk": "40G", "cores": 9}, actor="alice")
    assert sorted(world.pve.state.guests) == [9000]  # nothing was made


def test_a_size_too_large_to_be_real_is_refused_before_any_arithmetic(ssh_key: str) -> None:
    from pydantic import ValidationError

    from solti.provisioning.models import VmCreateRequest

    for field, value in (("disk", "9" * 5000 + "G"), ("cores", "9" * 5000),
                         ("memory", "9" * 5000)):  # fmt: skip
        with pytest.raises(ValidationError) as caught:
            VmCreateRequest.model_validate({field: value, "ssh_keys": [ssh_key]})
        assert len(str(caught.value)) < 1500, field  # the value is not echoed whole


def test_a_flavor_fills_the_size_and_flags_win(
    world: SimEnvironment, tmp_path: Path, rocky: int, ssh_key: str
) -> None:
    p = fleet_provisioner(world, tmp_path)
    plan = p.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key], "size": "small"})
    assert (plan.cores, plan.memory, str(plan.disk_after)) == (1, 2048, "20G")
    plan = p.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key], "size": "small", "cores": 4})
    assert (plan.cores, plan.memory) == (4, 2048)
    with pytest.raises(InvalidRequest) as unknown:
        p.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key], "size": "huge"})
    assert unknown.value.field == "size"
    assert "large (8 cores, 16384 MiB, 200G), small (1 core, 2048 MiB, 20G)" in str(unknown.value)
    with pytest.raises(InvalidRequest, match=r"limits.per_vm.memory is 16384 MiB"):
        p.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key], "size": "large",
                   "memory": 32768})  # fmt: skip


def test_a_quota_refusal_says_used_limit_and_which_vms_hold_it(
    world: SimEnvironment, tmp_path: Path, rocky: int, ssh_key: str
) -> None:
    p = fleet_provisioner(world, tmp_path, quotas={"cores": 6, "max_vms_per_user": 5})
    made = p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key], "cores": 4,
                        "name": "web-1"}, actor="alice")  # fmt: skip
    request = {"template": "rocky9", "ssh_keys": [ssh_key], "cores": 4}
    with pytest.raises(PolicyDenied) as dry:
        p.plan_vm(request, actor="alice")
    text = str(dry.value)
    assert "quotas.cores: 4 of 6 cores used; this VM asks for 4" in text
    assert f"{made.vm.vmid} web-1" in text
    with pytest.raises(PolicyDenied, match=r"quotas.cores"):
        p.create_vm(request, actor="alice")
    assert p.plan_vm(request, actor="bob").owned_by_actor == 0  # quotas are per person
    report = p.quota("alice")
    assert report["used"] == {"vms": 1, "cores": 4, "memory": 2048, "disk": "32G"}
    assert report["limits"] == {"vms": 5, "cores": 6, "memory": None, "disk": None}
    refused = p.audit.query(user="alice", limit=None)
    assert any(r.result == "failed" and "quotas.cores" in (r.error or "") for r in refused)


def test_twenty_concurrent_creates_with_room_for_five_make_five(
    world: SimEnvironment, tmp_path: Path, rocky: int, ssh_key: str
) -> None:
    """Measured before: with max_vms_per_user 5, 20 creates sent at once made 20 VMs."""
    world.pve.state.rrd_lag = 10  # fresh VMs listed bare, as PVE does
    p = fleet_provisioner(world, tmp_path, quotas={"max_vms_per_user": 5, "memory": 10240})
    start = threading.Barrier(20)

    def one(i: int) -> str:
        start.wait()
        try:
            p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="alice",
                        request_id=f"r-{i}")  # fmt: skip
        except PolicyDenied as exc:
            return "refused " + str(exc)
        return "made"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(one, range(20)))
    assert outcomes.count("made") == 5, outcomes[:3]
    assert len([v for v in world.pve.state.guests if v != 9000]) == 5
    # memory quota 10240 MiB = 5 x 2048: the sixth is refused by both keys, the first named
    with pytest.raises(PolicyDenied, match=r"quotas.max_vms_per_user: you have 5 of 5 VMs"):
        p.plan_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="alice")


def test_plans_shown_then_built_at_once_never_pass_the_quota(
    world: SimEnvironment, tmp_path: Path, rocky: int, ssh_key: str
) -> None:
    """The bot's path: twenty plans made (each fits alone), then all built together."""
    p = fleet_provisioner(world, tmp_path, quotas={"max_vms_per_user": 3})
    requests = [{"template": "rocky9", "ssh_keys": [ssh_key], "request_id": f"s-{i}"}
                for i in range(20)]  # fmt: skip
    plans = [p.plan_vm(r, actor="alice") for r in requests]
    start = threading.Barrier(20)

    def build(i: int) -> bool:
        start.wait()
        try:
            p.create_vm(requests[i], plan=plans[i], actor="alice", via="slack")
        except PolicyDenied:
            return False
        return True

    with ThreadPoolExecutor(20) as pool:
        assert sum(pool.map(build, range(20))) == 3
