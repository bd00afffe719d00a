"""Leases in the Slack `vm list`, and quota used/left on App Home (issue 13), end to end."""

from __future__ import annotations

from datetime import timedelta

from tests.bot.conftest import ALICE, BOB, Harness


def _seed(bot: Harness, vms: list[tuple[int, str, str]]) -> None:
    state = bot.env.pve.state
    for vmid, name, owner in vms:
        state.add_vm(vmid, name, running=True, cores=2, memory=2048)
        bot.audit.record("vm create", owner, "cli", "ok", vmid=vmid, name=name)


def test_the_slack_vm_list_shows_each_vms_lease(bot: Harness) -> None:
    _seed(bot, [(7801, "leased-a", ALICE), (7802, "forever-b", BOB)])
    bot.provisioner.leases.begin(7801, ALICE, timedelta(days=3, hours=2))
    try:
        bot.user.slash("vm list")
        listed = bot.standin.wait_for(
            lambda: [m for m in bot.standin.ephemerals(ALICE) if "leased-a" in str(m)], 20
        )[-1]
        lines = {
            line.split("`")[1]: line
            for block in listed["blocks"]
            if block["type"] == "section"
            for line in block["text"]["text"].splitlines()
        }
        assert lines["7801"].endswith("lease 3d 1h left") or lines["7801"].endswith(
            "lease 3d 2h left"
        ), lines["7801"]
        assert lines["7802"].endswith("no lease"), lines["7802"]
    finally:
        for vmid in (7801, 7802):
            bot.provisioner.remove_vm(vmid, actor="test-cleanup")


def test_app_home_shows_quota_used_and_left(bot: Harness) -> None:
    _seed(bot, [(7811, "home-quota", ALICE)])
    try:
        assert bot.user.open_home().status_code == 200
        home = bot.standin.wait_for(lambda: bot.standin.home(ALICE), 10)
        text = str(home["blocks"])
        assert "Your quota" in text
        # quotas.max_vms_per_user is 5 in the package's policy; no cores/memory/disk quota.
        assert "VMs: 1 of 5 used, *4 left*" in text, text
        assert "Cores: 2 used, no limit" in text and "Memory: 2048 MiB used, no limit" in text
    finally:
        bot.provisioner.remove_vm(7811, actor="test-cleanup")
