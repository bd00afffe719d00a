"""``approvals.vm_create`` read from a plan (pure), and the policy keys that hold it."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import yaml

from solti.provisioning import ConfigError
from solti.provisioning.approval_rules import VmCreateApprovalRules, approval_reasons
from solti.provisioning.config import Policy, load_policy
from solti.provisioning.sizes import Size

RULES = VmCreateApprovalRules.model_validate(
    {"cores_over": 8, "memory_over": 16384, "disk_over": "200G", "full_clone": True,
     "lease_over": "30d"}
)  # fmt: skip


def plan(**changes: object) -> SimpleNamespace:
    base = {"cores": 2, "memory": 2048, "disk_before": Size("10G"), "disk_after": Size("32G"),
            "full": False}  # fmt: skip
    return SimpleNamespace(**{**base, **changes})


def test_an_everyday_create_needs_nobody() -> None:
    assert approval_reasons(plan(), RULES, timedelta(days=14)) == []
    assert approval_reasons(plan(cores=8, memory=16384, disk_after=Size("200G")), RULES,
                            timedelta(days=30)) == []  # fmt: skip
    assert approval_reasons(plan(memory=999999, full=True), None, None) == []


def test_every_threshold_is_named_with_its_key_and_value() -> None:
    big = plan(cores=12, memory=32768, disk_after=Size("300G"), full=True)
    assert approval_reasons(big, RULES, timedelta(days=60)) == [
        "cores 12 is over approvals.vm_create.cores_over 8",
        "memory 32768 MiB is over approvals.vm_create.memory_over 16384",
        "disk 300G is over approvals.vm_create.disk_over 200G",
        "a full clone needs approval (approvals.vm_create.full_clone)",
        "lease 60d is over approvals.vm_create.lease_over 30d",
    ]
    assert approval_reasons(plan(), RULES, None) == [
        "no lease (--lease none) is over approvals.vm_create.lease_over 30d"
    ]


def test_a_key_left_out_never_asks() -> None:
    only_memory = VmCreateApprovalRules(memory_over=4096)
    assert approval_reasons(plan(cores=64, full=True), only_memory, None) == []
    assert len(approval_reasons(plan(memory=8192), only_memory, None)) == 1


def test_policy_keys_with_defaults_and_refusals(tmp_path: object) -> None:
    policy = Policy()
    assert policy.approvals.vm_create is None and policy.approvals.required == 1
    assert policy.fleet().create_approvals is None
    set_ = Policy.model_validate({"approvals": {"vm_create": {"disk_over": "200G"}, "required": 2}})
    assert set_.fleet().create_approvals.disk_over == Size("200G")
    for bad, needle in (
        ({"vm_create": {"memory_ovr": 1}}, "approvals.vm_create.memory_ovr"),
        ({"vm_create": {"lease_over": "1.5d"}}, "approvals.vm_create.lease_over"),
        ({"vm_create": {"cores_over": "8"}}, "approvals.vm_create.cores_over"),
        ({"required": 0}, "approvals.required"),
        ({"required": True}, "approvals.required"),
    ):
        path = tmp_path / "policy.yaml"  # type: ignore[operator]
        path.write_text(yaml.safe_dump({"approvals": bad}))
        with pytest.raises(ConfigError) as info:
            load_policy(path)
        assert needle in str(info.value), str(info.value)
