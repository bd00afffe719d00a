"""Leases against the simulator: set on create, extend within leases.max, and the sweep
(reminders, expiry, grace removal) that survives a restart and acts once when run twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from solti.provisioning.config import Policy, ProxmoxSettings, load_policy
from solti.provisioning.durations import parse_duration
from solti.provisioning.errors import ConfigError, InvalidRequest, PolicyDenied
from solti.provisioning.lease_policy import LeasePolicy
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def fleet(world: SimEnvironment, db: Path, **leases: object) -> Provisioner:
    """A provisioner on ``db`` whose leases start at ``T0`` (a new one = a restarted bot)."""
    policy = Policy.model_validate({"leases": leases})
    p = Provisioner.from_settings(ProxmoxSettings.from_env(world.env), policy, db)
    p.leases.clock = lambda: T0
    return p


def actions(report: object) -> list[tuple[int, str]]:
    return [(a.vmid, a.action) for a in report.actions]  # type: ignore[attr-defined]


def cluster_calls(world: SimEnvironment, since: int) -> int:
    return sum(1 for r in world.pve.requests[since:] if r.path.endswith("/cluster/resources"))


@pytest.mark.parametrize("text", ["30m", "12h", "7d", "2w"])
def test_durations_accept_the_four_units(text: str) -> None:
    assert parse_duration(text) > timedelta(0)


@pytest.mark.parametrize("text", ["7", "1.5d", "90s", "7 days", "0d", "9999999999w", "", "-1d"])
def test_durations_refuse_anything_else_with_the_list(text: str) -> None:
    with pytest.raises(ValueError, match="30m, 12h, 7d or 2w"):
        parse_duration(text)


def test_policy_leases_keys_checked(tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text("leases:\n  default: 3x\n")
    with pytest.raises(ConfigError, match=r"leases\.default") as bad:
        load_policy(file)
    assert "30m, 12h, 7d or 2w" in str(bad.value)
    file.write_text("leases:\n  forever: true\n")
    with pytest.raises(ConfigError, match=r"leases\.forever"):
        load_policy(file)
    file.write_text("leases:\n  default: none\n  warn_before: [1d, 3d]\n  grace: 0\n")
    leases = load_policy(file).leases
    assert leases.default is None and leases.grace == timedelta(0)
    assert leases.warn_before == [timedelta(days=3), timedelta(days=1)]
    assert LeasePolicy().default == timedelta(days=14)


def test_create_sets_the_lease_and_list_shows_it(
    world: SimEnvironment, tmp_path: Path, ssh_key: str
) -> None:
    world.pve.state.add_template(9000, "rocky9-template", disk_size="10G",
                                 tags=["solti", "template", "rocky9"])  # fmt: skip
    p = fleet(world, tmp_path / "a.db", exempt=["root"])
    made = p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="alice", lease="3d")
    assert made.vm.lease_expires_at == T0 + timedelta(days=3)
    with pytest.raises(PolicyDenied, match=r"leases\.exempt"):
        p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="bob", lease="none")
    with pytest.raises(InvalidRequest, match="30m, 12h, 7d or 2w"):
        p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="bob", lease="3 days")
    with pytest.raises(PolicyDenied, match=r"leases\.max"):
        p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="bob", lease="20w")
    forever = p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="root",
                          lease="none")  # fmt: skip
    default = p.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}, actor="carol")
    listed = {vm.vmid: vm.lease_expires_at for vm in p.list_vms()}
    assert listed == {
        made.vm.vmid: T0 + timedelta(days=3),
        forever.vm.vmid: None,
        default.vm.vmid: T0 + timedelta(days=14),
    }
    p.remove_vm(made.vm.vmid, actor="alice")
    assert p.leases.get(made.vm.vmid) is None  # a reused VMID starts without it


def test_extend_from_the_later_of_now_and_the_end_and_never_past_max(
    world: SimEnvironment, tmp_path: Path
) -> None:
    world.pve.state.add_vm(500, "web1", running=True)
    p = fleet(world, tmp_path / "a.db", default="14d", max="30d")
    p.leases.begin(500, "alice", timedelta(days=14))
    lease = p.extend_lease(500, "7d", actor="alice")
    assert lease.expires_at == T0 + timedelta(days=21)
    with pytest.raises(PolicyDenied, match="only its owner or an admin"):
        p.extend_lease(500, "1d", actor="mallory")
    with pytest.raises(PolicyDenied) as refused:
        p.extend_lease(500, "14d", actor="alice")
    assert "latest allowed end is 2026-12-31 09:00 UTC" in str(refused.value)
    assert p.leases.get(500).expires_at == T0 + timedelta(days=21)  # unchanged
    assert p.extend_lease(500, "2d", actor="boss", admin=True).expires_at == T0 + timedelta(23)
    # an expired lease extends from now, not from its end
    p.leases.clock = lambda: T0 + timedelta(days=25)
    assert p.extend_lease(500, None, actor="alice").expires_at == T0 + timedelta(days=39)
    results = [(r.result, r.actor) for r in p.audit.query(action="vm lease extend")][::-1]
    assert results == [("ok", "alice"), ("denied", "alice"), ("ok", "boss"), ("ok", "alice")]


def test_restart_between_reminder_and_expiry_neither_loses_nor_repeats(
    world: SimEnvironment, tmp_path: Path
) -> None:
    world.pve.state.add_vm(500, "web1", running=True)
    world.pve.state.add_vm(501, "web2", running=True)
    db = tmp_path / "a.db"
    first = fleet(world, db, default="7d", warn_before=["3d", "1d"], grace="2d")
    first.leases.begin(500, "alice", timedelta(days=7))
    first.leases.begin(501, "bob", None)
    end = T0 + timedelta(days=7)
    assert actions(first.sweep_leases(as_of=end - timedelta(days=4))) == []
    assert actions(first.sweep_leases(as_of=end - timedelta(days=2))) == [(500, "warn")]
    assert actions(first.sweep_leases(as_of=end - timedelta(days=2))) == []
    first.audit.close()

    again = fleet(world, db, default="7d", warn_before=["3d", "1d"], grace="2d")  # restart
    assert actions(again.sweep_leases(as_of=end - timedelta(days=1, hours=12))) == []
    assert actions(again.sweep_leases(as_of=end - timedelta(hours=20))) == [(500, "warn")]
    dry = again.sweep_leases(as_of=end + timedelta(minutes=5), dry_run=True)
    assert actions(dry) == [(500, "stop")] and world.pve.state.guests[500].running
    assert actions(again.sweep_leases(as_of=end + timedelta(minutes=5))) == [(500, "stop")]
    assert not world.pve.state.guests[500].running and world.pve.state.guests[501].running
    assert actions(again.sweep_leases(as_of=end + timedelta(days=1))) == []
    assert actions(again.sweep_leases(as_of=end + timedelta(days=2, minutes=5))) == [
        (500, "remove")
    ]
    assert 500 not in world.pve.state.guests and 501 in world.pve.state.guests
    log = [(r.action, r.via, r.vmid) for r in again.audit.query(vmid=500)][::-1]
    assert log == [
        ("vm lease warn", "lease", 500),
        ("vm lease warn", "lease", 500),
        ("vm expire", "lease", 500),
        ("vm stop", "lease", 500),
        ("vm remove", "lease", 500),
    ]


def test_two_sweeps_at_once_act_once(world: SimEnvironment, tmp_path: Path) -> None:
    for vmid in range(500, 520):
        world.pve.state.add_vm(vmid, f"vm{vmid}", running=True)
    db = tmp_path / "a.db"
    sweepers = [fleet(world, db, on_expiry="stop") for _ in range(2)]  # two connections
    for vmid in range(500, 520):
        sweepers[0].leases.begin(vmid, "alice", timedelta(days=1))
    as_of = T0 + timedelta(days=1, minutes=1)
    reports: list[object] = []
    start = threading.Barrier(2)

    def run(p: Provisioner) -> None:
        start.wait()
        reports.append(p.sweep_leases(as_of=as_of))

    threads = [threading.Thread(target=run, args=(p,)) for p in sweepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = sorted(a for r in reports for a in actions(r))
    assert done == [(vmid, "stop") for vmid in range(500, 520)]
    assert len(sweepers[0].audit.query(action="vm expire", limit=None)) == 20
    assert len(sweepers[0].audit.query(action="vm stop", limit=None)) == 20


def test_sweep_reads_the_fleet_once_and_removes_at_expiry(
    world: SimEnvironment, tmp_path: Path
) -> None:
    for vmid in range(500, 540):
        world.pve.state.add_vm(vmid, f"vm{vmid}", running=vmid % 2 == 0)
    p = fleet(world, tmp_path / "a.db", on_expiry="remove", warn_before=["1d"])
    for vmid in range(500, 540):
        p.leases.begin(vmid, "alice", timedelta(days=1 + vmid % 3))
    since = len(world.pve.requests)
    report = p.sweep_leases(as_of=T0 + timedelta(days=1, hours=12), dry_run=True)
    assert cluster_calls(world, since) == 1 and len(world.pve.requests) == since + 1
    assert {a for _, a in actions(report)} == {"remove", "warn"}
    p.sweep_leases(as_of=T0 + timedelta(days=1, hours=12))
    expired = {vmid for vmid in range(500, 540) if vmid % 3 == 0}
    assert not expired & set(world.pve.state.guests)
    removes = p.audit.query(action="vm remove", limit=None)
    assert {r.vmid for r in removes} == expired and {r.via for r in removes} == {"lease"}


def test_a_reused_vmid_is_not_the_leased_vm(world: SimEnvironment, tmp_path: Path) -> None:
    """The leased VM was destroyed outside Solti and its VMID reused: the sweep leaves the
    newcomer alone (its name is not the one the lease was made for)."""
    world.pve.state.add_vm(500, "someone-elses", running=True)
    p = fleet(world, tmp_path / "a.db")
    p.leases.begin(500, "alice", timedelta(days=1), name="alices-vm")
    assert actions(p.sweep_leases(as_of=T0 + timedelta(days=30))) == []
    assert world.pve.state.guests[500].running
