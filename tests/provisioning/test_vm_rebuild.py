"""`vm rebuild` against the simulator: what the re-made VM keeps, refusals, audit, retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from solti.provisioning.errors import PolicyDenied, ProxmoxError
from solti.provisioning.rebuild_journal import RebuildJournal
from solti.provisioning.reconciliation import survey
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from tests.helpers.worlds import seed_build


@pytest.fixture
def made(provisioner: Provisioner, world: SimEnvironment, ssh_key: str) -> Any:
    """VM 500 made by alice from 9.6 with a static address, then a newer build 9.7."""
    world.pve.state.rrd_lag = 0
    seed_build(world, 9000, "9.6-20261101")
    result = provisioner.create_vm(
        {"template": "rocky9", "ssh_keys": [ssh_key], "ip": "10.0.0.5/24", "gw": "10.0.0.1",
         "nameserver": "10.0.0.53", "cores": 3, "memory": 3072, "disk": "20G"},
        actor="alice", via="cli", lease="7d",
    )  # fmt: skip
    seed_build(world, 9001, "9.7-20261201", day=30)
    return result


def _config(world: SimEnvironment, vmid: int) -> dict[str, str]:
    return dict(world.pve.state.guests[vmid].conf)


def test_rebuild_keeps_mac_static_ip_sizes_keys_owner_and_lease(
    provisioner: Provisioner, world: SimEnvironment, made: Any
) -> None:
    before = _config(world, 500)
    lease_before = provisioner.leases.get(500)
    result = provisioner.rebuild_vm(500, actor="bob", via="cli")
    after = _config(world, 500)
    assert result.vm.template_vmid == 9001 and result.vm.template_version == "9.7-20261201"
    assert result.plan.old_version == "9.6-20261101"
    assert after["net0"] == before["net0"]  # the MAC: a DHCP reservation keeps the address
    for key in ("ipconfig0", "nameserver", "ciuser", "sshkeys", "cores", "memory", "name"):
        assert after[key] == before[key], key
    assert "size=20G" in after["scsi0"]
    clones = [r.path for r in world.pve.requests if r.method == "POST" and "clone" in r.path]
    assert clones[-1].endswith("/qemu/9001/clone")  # a clone of the new build
    assert world.pve.state.guests[500].conf.get("tags") == before["tags"]
    assert provisioner.audit.owners()[500] == "alice"  # bob rebuilt it; it stays alice's
    assert provisioner.leases.get(500) == lease_before
    (vm,) = provisioner.list_vms()
    assert (vm.owner, vm.template_vmid, vm.template_version) == ("alice", 9001, "9.7-20261201")
    record = provisioner.audit.query(action="vm rebuild")[0]
    assert (record.result, record.actor, record.template_vmid) == ("ok", "bob", 9001)
    assert record.params["from_version"] == "9.6-20261101"
    assert record.params["macaddr"] in before["net0"]
    assert "ssh-ed25519" not in str(record.params)  # keys by fingerprint only


def test_rebuild_plan_changes_nothing(
    provisioner: Provisioner, world: SimEnvironment, made: Any
) -> None:
    before = _config(world, 500)
    planned = provisioner.rebuild_vm(500, dry_run=True, actor="alice")
    assert planned.plan.template.vmid == 9001 and not planned.nothing_to_do
    assert "disk's contents are lost" in planned.plan.warning
    assert _config(world, 500) == before
    assert provisioner.audit.query(action="vm rebuild") == []


def test_already_on_the_newest_build_has_nothing_to_do(
    provisioner: Provisioner, world: SimEnvironment, made: Any
) -> None:
    provisioner.rebuild_vm(500, actor="alice")
    count = len(world.pve.requests)
    again = provisioner.rebuild_vm(500, actor="alice")
    assert again.nothing_to_do
    assert (
        again.note == "VM 500 (" + again.plan.name + ") is already on 9.7-20261201; nothing to do"
    )
    writes = [r for r in world.pve.requests[count:] if r.method != "GET"]
    assert writes == []


def test_a_vm_solti_did_not_make_is_refused(
    provisioner: Provisioner, world: SimEnvironment
) -> None:
    seed_build(world, 9001, "9.7-20261201")
    world.pve.state.add_vm(600, "handmade", tags=["solti"])
    with pytest.raises(PolicyDenied, match="not made by Solti"):
        provisioner.rebuild_vm(600, actor="alice")
    assert 600 in world.pve.state.guests
    (record,) = provisioner.audit.query(action="vm rebuild")
    assert record.result == "failed" and "no create record" in (record.error or "")


def test_explicit_template_and_stopped_vm_stays_stopped(
    provisioner: Provisioner, world: SimEnvironment, made: Any
) -> None:
    provisioner.stop_vm(500, actor="alice")
    seed_build(world, 9100, "12-20261201", dist="debian12")
    result = provisioner.rebuild_vm(500, template="debian12", actor="alice")
    assert result.vm.status == "stopped"
    assert world.pve.state.guests[500].conf.get("tags") == "debian12;solti"


def test_a_failed_clone_after_the_destroy_is_finished_by_a_retry(
    provisioner: Provisioner, world: SimEnvironment, made: Any
) -> None:
    before = _config(world, 500)
    world.pve.faults.fail_next_task("qmclone", "clone failed: storage full")
    with pytest.raises(ProxmoxError, match="run `vm rebuild 500` again"):
        provisioner.rebuild_vm(500, actor="alice")
    assert 500 not in world.pve.state.guests
    assert RebuildJournal(provisioner.audit).unfinished(500) is not None
    (finding,) = survey(provisioner.ops, stale_after=timedelta(minutes=2))
    assert finding.kind == "unfinished rebuild" and finding.person  # never "vm gone"
    provisioner.rebuild_vm(500, actor="alice")
    after = _config(world, 500)
    for key in ("net0", "ipconfig0", "sshkeys", "name"):
        assert after[key] == before[key], key
    assert RebuildJournal(provisioner.audit).unfinished(500) is None
