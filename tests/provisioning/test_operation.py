"""The audited-operation skeleton every changing verb runs on (provisioning.operation).

What each verb used to write by hand, checked once per property across the verbs: an
identity on every record, one refusal rule for a request still running, named steps
reported as progress, and one wording for the caller and the audit record.
"""

from __future__ import annotations

from typing import Any

import pytest

from solti.provisioning.errors import Conflict, TaskFailed
from solti.provisioning.models import Progress
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment


def seed_rocky(world: SimEnvironment) -> None:
    world.pve.state.add_template(9000, "rocky9-template", disk_size="10G",
                               tags=["solti", "template", "rocky9"])  # fmt: skip


def test_every_record_has_an_identity_even_without_a_request_id(
    provisioner: Provisioner, world: SimEnvironment, ssh_key: str
) -> None:
    seed_rocky(world)
    made = provisioner.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="a")
    provisioner.stop_vm(made.vm.vmid, actor="a")
    records = provisioner.audit.query(limit=10)
    assert [r.action for r in records] == ["vm stop", "vm create"]
    ids = [r.request_id for r in records]
    assert all(i and i.startswith("cli-") for i in ids) and len(set(ids)) == 2, ids
    # A made-up identity never makes a later call a re-run: the VM is stopped twice.
    provisioner.stop_vm(made.vm.vmid, actor="a")
    assert len(provisioner.audit.query(action="vm stop", limit=10)) == 2


@pytest.mark.parametrize("action", ["vm create", "template build"])
def test_a_request_still_running_is_refused_by_create_and_build(
    provisioner: Provisioner, world: SimEnvironment, ssh_key: str, action: str
) -> None:
    seed_rocky(world)
    provisioner.audit.start(action=action, actor="a", via="slack", request_id="r-1", vmid=9001)
    with pytest.raises(Conflict, match=rf"request r-1 \(`{action} 9001`\) is still running"):
        if action == "vm create":
            provisioner.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]},
                                  actor="a", request_id="r-1")  # fmt: skip
        else:
            provisioner.build_template("almalinux9", actor="a", request_id="r-1")
    assert sorted(world.pve.state.guests) == [9000]


def test_destroy_reports_its_named_step(provisioner: Provisioner, world: SimEnvironment) -> None:
    seen: list[Progress] = []
    built = provisioner.build_template("almalinux9", actor="a").template
    provisioner.destroy_template(built.vmid, actor="a", progress=seen.append)
    assert [(p.step, p.index, p.total) for p in seen] == [("destroy", 1, 1)]
    assert f"template {built.vmid} (almalinux9-template)" == seen[0].detail


def test_the_caller_reads_what_the_audit_record_says(
    provisioner: Provisioner, world: SimEnvironment, ssh_key: str
) -> None:
    """Create, build and a power verb: the exception's text is the record's error."""
    seed_rocky(world)
    failures: list[tuple[str, Any]] = []
    world.pve.faults.fail_next_task("qmstart", "start failed: no KVM")
    with pytest.raises(TaskFailed) as created:
        provisioner.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="a")
    failures.append(("vm create", created.value))
    world.pve.faults.fail_next_task("qmtemplate", "rename of base volume failed")
    with pytest.raises(TaskFailed) as built:
        provisioner.build_template("almalinux9", actor="a")
    failures.append(("template build", built.value))
    world.pve.state.add_vm(600, "plain")
    world.pve.faults.fail_next_task("qmstart", "start failed: no KVM")
    with pytest.raises(TaskFailed) as started:
        provisioner.start_vm(600, actor="a")
    failures.append(("vm start", started.value))
    for action, exc in failures:
        record = provisioner.audit.query(action=action, limit=1)[0]
        assert record.result == "failed" and record.error == str(exc), (action, record.error)
    assert sorted(world.pve.state.guests) == [600, 9000]
