"""Leases in Slack: --lease on create, /solti vm extend, the reminder DM and its buttons."""

from __future__ import annotations

from datetime import timedelta

from solti.bot.flows.leases import run_sweep
from solti.bot.scheduler import LEASE_SWEEP_SECONDS, BotScheduler
from tests.bot.conftest import ALICE, BOB, INFRA, KEY, Harness


def test_create_with_a_lease_shows_it_and_extend_follows_the_rules(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    assert "not a duration" in bot.user.slash("vm create rocky9 --lease forever").json()["text"]
    bot.user.slash("vm create rocky9 --lease none --dry-run")
    assert "leases.exempt" in bot.wait_ephemeral("leases.exempt")
    bot.user.slash("vm create rocky9 --name leased --lease 3d")

    def ready() -> dict | None:
        msgs = bot.standin.messages(INFRA)
        return msgs[0] if msgs and "is ready" in msgs[0].get("text", "") else None

    shown = str(bot.standin.wait_for(ready, timeout=30)["blocks"])
    assert "Lease" in shown and "ends" in shown
    vm = next(v for v in bot.provisioner.list_vms() if v.name == "leased")
    first_end = vm.lease_expires_at
    assert first_end is not None
    bot.user.slash(f"vm extend {vm.vmid} 2d", user=BOB)
    bot.wait_ephemeral("only its owner or an admin", user=BOB)
    bot.user.slash(f"vm extend {vm.vmid} 20w")
    assert "latest allowed end is" in bot.wait_ephemeral("latest allowed end")
    bot.user.slash(f"vm extend {vm.vmid} 2d")
    bot.wait_ephemeral("now ends")
    assert bot.provisioner.leases.get(vm.vmid).expires_at == first_end + timedelta(days=2)
    actions = [(r.action, r.result) for r in bot.audit.query(vmid=vm.vmid, limit=None)][::-1]
    assert actions[-2:] == [("vm lease extend", "denied"), ("vm lease extend", "ok")]
    bot.provisioner.remove_vm(vm.vmid, actor="test-cleanup")


def test_reminder_dm_has_extend_and_remove_and_is_sent_once(bot: Harness) -> None:
    bot.env.pve.state.add_vm(7700, "reminded", running=True)
    bot.provisioner.leases.begin(7700, ALICE, timedelta(hours=20))  # inside warn_before 1d
    try:
        assert run_sweep(bot.runtime) == 1
        assert run_sweep(bot.runtime) == 0  # once per reminder
        dm = bot.standin.state.resolve_channel(ALICE)
        reminder = bot.standin.wait_for(lambda: bot.standin.messages(dm), 10)[-1]
        blocks = str(reminder["blocks"])
        assert "reminded" in blocks and "vm_extend" in blocks and "vm_remove" in blocks
        assert "confirm" in blocks  # Remove now asks first
        bot.user.click(reminder, "vm_extend")
        bot.standin.wait_for(
            lambda: [r for r in bot.audit.query(vmid=7700, action="vm lease extend")], 20
        )
        assert bot.provisioner.leases.get(7700).expires_at > bot.runtime.clock() + timedelta(
            days=14
        )
        warned = bot.audit.query(vmid=7700, action="vm lease warn")
        assert [(r.via, r.params["owner"]) for r in warned] == [("lease", ALICE)]
    finally:
        bot.provisioner.remove_vm(7700, actor="test-cleanup")


def test_the_lease_sweep_runs_every_five_minutes(bot: Harness) -> None:
    scheduler = BotScheduler(bot.runtime).build()
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("lease_sweep")
        assert job.trigger.interval == timedelta(seconds=LEASE_SWEEP_SECONDS) == timedelta(
            minutes=5
        )
        assert job.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)
