"""`/solti vm create rocky9 --count N` through signed Slack requests (issue 14, bulk creates)."""

from __future__ import annotations

from tests.bot.conftest import ALICE, INFRA, KEY, Harness


def _top_level_posts(bot: Harness) -> list[dict]:
    return [
        c.params
        for c in bot.standin.calls_to("chat.postMessage")
        if c.params.get("channel") == INFRA and not c.params.get("thread_ts")
    ]


def test_count_makes_n_vms_with_one_progress_message(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    assert bot.user.slash("vm create rocky9 --count 3 --name class").status_code == 200

    def final() -> dict | None:
        found = [m for m in bot.standin.messages(INFRA) if "3 of 3 made" in m.get("text", "")]
        return found[0] if found else None

    message = bot.standin.wait_for(final, timeout=60)
    made = [v for v in bot.provisioner.list_vms() if v.name.startswith("class-")]
    try:
        assert len(_top_level_posts(bot)) == 1  # one message, edited in place
        assert len(bot.standin.revisions(INFRA, message["ts"])) >= 2
        shown = str(message["blocks"])
        for vm in made:
            assert f"`{vm.name}` VM {vm.vmid}" in shown
        assert shown.count(":white_check_mark:") >= 3 and ":x:" not in shown
        assert sorted(v.name for v in made) == ["class-1", "class-2", "class-3"]
        assert {v.owner for v in made} == {ALICE}
        creates = [r for r in bot.audit.query(action="vm create") if r.name in
                   {"class-1", "class-2", "class-3"}]  # fmt: skip
        assert sorted(r.result for r in creates) == ["ok", "ok", "ok"]
    finally:
        for vm in made:
            bot.provisioner.remove_vm(vm.vmid, actor="test-cleanup")


def test_a_count_dry_run_shows_every_vm_and_makes_none(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    before = {v.vmid for v in bot.provisioner.list_vms()}
    bot.user.slash("vm create rocky9 --count 2 --name dry --dry-run")
    text = bot.wait_ephemeral("Plan: 2 VMs")
    shown = str([m for m in bot.standin.ephemerals(ALICE) if "Plan: 2 VMs" in m["text"]][-1])
    assert "`dry-1`" in shown and "`dry-2`" in shown and "nothing was made" in shown
    assert "2 VMs from" in text
    assert {v.vmid for v in bot.provisioner.list_vms()} == before


def test_a_count_over_the_policy_limit_is_refused_and_audited(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create rocky9 --count 50")
    said = bot.wait_ephemeral("must be from 1 to 10")
    assert "limits.max_count" in said and "Traceback" not in said
    refusals = [r for r in bot.audit.query(action="vm create", user=ALICE) if r.result != "ok"]
    assert refusals and "limits.max_count" in (refusals[0].error or "")
    bot.user.slash("vm create rocky9 --count x")
    assert "--count must be a whole number from 1 to 100" in bot.wait_ephemeral("--count")
