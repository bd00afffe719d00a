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
        assert (
            job.trigger.interval == timedelta(seconds=LEASE_SWEEP_SECONDS) == timedelta(minutes=5)
        )
        assert job.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)


def _home(bot: Harness, user: str) -> dict:
    return bot.standin.wait_for(lambda: bot.standin.home(user), 10)


def test_app_home_lists_my_vms_with_lease_and_buttons(bot: Harness) -> None:
    from tests.bot.conftest import ADMIN

    template = bot.extras["template_vmid"]
    state = bot.env.pve.state
    state.add_vm(7710, "home-run", running=True)
    state.add_vm(7711, "home-off", running=False)
    state.add_vm(7712, "bobs", running=True)
    for vmid, owner in ((7710, ALICE), (7711, ALICE), (7712, BOB)):
        bot.audit.record("vm create", owner, "cli", "ok", vmid=vmid, template_vmid=template,
                         template_name="rocky9-template", template_version="old")  # fmt: skip
    bot.provisioner.leases.begin(7710, ALICE, timedelta(days=3))
    bot.provisioner.leases.begin(7712, BOB, timedelta(days=2))
    try:
        assert bot.user.open_home().status_code == 200
        home = _home(bot, ALICE)
        text = str(home["blocks"])
        assert "home-run" in text and "home-off" in text and "bobs" not in text
        assert "left" in text and "no lease" in text
        assert "vm_extend" in text and "vm_stop" in text and "vm_start" in text
        assert "vm_remove" in text and "confirm" in text
        assert "Leases ending this week" not in text  # Alice is no admin
        bot.user.click(home, "vm_stop")  # the first VM's power button: 7710 is running
        bot.standin.wait_for(lambda: not state.guests[7710].running, 20)

        def redrawn() -> bool:  # the tab is published again: 7710 now offers Start
            blocks = (bot.standin.home(ALICE) or {}).get("blocks", [])
            row = next(b for b in blocks if b.get("block_id") == "home-vm-7710")
            return "vm_start" in str(row)

        bot.standin.wait_for(redrawn, 20)
        bot.user.open_home(user=ADMIN)
        admin_home = str(_home(bot, ADMIN)["blocks"])
        assert "Leases ending this week" in admin_home and "7712" in admin_home
    finally:
        for vmid in (7710, 7711, 7712):
            bot.provisioner.remove_vm(vmid, actor="test-cleanup")


def test_report_adds_leases_ending_and_outdated_templates(bot: Harness) -> None:
    from solti.bot.reports import post_report
    from tests.bot.conftest import REPORTS

    state = bot.env.pve.state
    state.add_vm(7720, "soon-gone", running=True)
    bot.audit.record("vm create", BOB, "cli", "ok", vmid=7720, template_vmid=1,
                     template_name="rocky9-template", template_version="2020")  # fmt: skip
    bot.provisioner.leases.begin(7720, BOB, timedelta(days=2))
    try:
        post_report(bot.runtime, REPORTS)
        text = " ".join(str(m["blocks"]) for m in bot.standin.messages(REPORTS))
        assert "Leases ending in the next 7 days" in text and "`7720`" in text
        assert "VMs on outdated templates" in text and f"<@{BOB}>" in text
    finally:
        bot.provisioner.remove_vm(7720, actor="test-cleanup")


def test_the_form_has_a_lease_field_checked_like_the_command(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create")
    view = bot.standin.wait_for(
        lambda: [v for v in bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"],
        20,
    )[0]
    assert any(b.get("block_id") == "lease" for b in view["blocks"])
    template = str(bot.extras["template_vmid"])
    reply = bot.user.submit_view(view, {"template": template, "lease": "a while"})
    assert "30m, 12h, 7d or 2w" in reply.json()["errors"]["lease"]
    reply = bot.user.submit_view(view, {"template": template, "name": "form-lease",
                                        "lease": "5d"})  # fmt: skip
    assert reply.status_code == 200 and not reply.content.strip()
    bot.standin.wait_for(
        lambda: [m for m in bot.standin.messages(INFRA) if "form-lease" in m.get("text", "")
                 and "is ready" in m.get("text", "")],
        30,
    )  # fmt: skip
    vm = next(v for v in bot.provisioner.list_vms() if v.name == "form-lease")
    lease = bot.provisioner.leases.get(vm.vmid)
    assert lease is not None and lease.expires_at - lease.set_at == timedelta(days=5)
    bot.provisioner.remove_vm(vm.vmid, actor="test-cleanup")
