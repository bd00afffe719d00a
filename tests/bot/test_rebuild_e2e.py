"""`/solti vm rebuild` and the outdated-template notices, through the real bot and simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from solti.bot.db import BotDatabase
from solti.bot.notices import NoticeStore, send_notices
from solti.bot.recovery_book import ProgressBook
from solti.bot.scheduler import NOTICE_SECONDS, BotScheduler
from solti.provisioning import load_policy
from solti.provisioning.notes import render_notes
from tests.bot.conftest import ADMIN, ALICE, BOB, INFRA, KEY, Harness, make_harness

NEWER = 9090


def seed_newer_build(bot: Harness, vmid: int = NEWER, days: int = 30) -> str:
    """A finished rocky9 build newer than the package's (its notes as a build writes them)."""
    version = f"9.7-{(datetime.now(UTC) + timedelta(days=days)):%Y%m%d}"
    notes = render_notes(
        {
            "distribution": "rocky9",
            "version": version,
            "build_date": (datetime.now(UTC) + timedelta(days=days)).isoformat(),
        }
    )
    bot.env.pve.state.add_template(
        vmid,
        "rocky9-template",
        disk_size="3584M",
        tags=["solti", "template", "rocky9"],
        description=notes,
    )
    return version


@pytest.fixture
def alices_vm(bot: Harness, templates_as_found: None) -> Iterator[Any]:
    bot.env.pve.state.rrd_lag = 0
    made = bot.provisioner.create_vm(
        {"template": bot.extras["template_vmid"], "ssh_keys": [KEY], "ip": "10.0.0.9/24",
         "gw": "10.0.0.1", "name": "alice-web"},
        actor=ALICE, via="slack",
    )  # fmt: skip
    try:
        yield made.vm
    finally:
        bot.provisioner.remove_vm(made.vm.vmid, actor="test-cleanup")


def test_rebuild_asks_first_then_keeps_mac_and_address(bot: Harness, alices_vm: Any) -> None:
    vmid = alices_vm.vmid
    version = seed_newer_build(bot)
    before = dict(bot.env.pve.state.guests[vmid].conf)
    bot.user.slash(f"vm rebuild {vmid}", user=BOB)
    bot.wait_ephemeral("only its owner or an admin", user=BOB)
    bot.user.slash(f"vm rebuild {vmid}")
    bot.wait_ephemeral("Rebuild VM")
    prompt = next(m for m in bot.standin.ephemerals(ALICE) if "Rebuild VM" in m.get("text", ""))
    shown = str(prompt["blocks"])
    assert version in shown and "disk's contents are lost" in shown and "confirm" in shown
    assert [r.action for r in bot.audit.query(vmid=vmid, action="vm rebuild")] == ["vm rebuild"]
    bot.user.click(prompt, "vm_rebuild")
    done = _final_progress(bot, vmid)
    assert f"VM alice-web (VMID {vmid}) is rebuilt from rocky9-template {version}" in done["text"]
    shown = str(done["blocks"])
    was = f"rocky9-template {alices_vm.template_version}"
    assert "Template version" in shown and version in shown and was in shown  # new and was
    steps = [m for m in bot.standin.calls_to("chat.update") if m.params.get("ts") == done["ts"]]
    assert len(steps) >= 7  # one edit per step (plan ... start), then the final state
    bot.standin.wait_for(  # step timings in the thread, as a create's
        lambda: any("destroy" in str(m) for m in bot.standin.messages(INFRA, done["ts"])), 10
    )
    record = bot.audit.query(vmid=vmid, action="vm rebuild", result="ok")[0]
    posted = ProgressBook(bot.runtime.database).get(str(record.request_id))
    assert posted is not None and (posted.ts, posted.state) == (done["ts"], "final")
    after = bot.env.pve.state.guests[vmid].conf
    assert after["net0"] == before["net0"] and after["ipconfig0"] == before["ipconfig0"]
    assert after["sshkeys"] == before["sshkeys"]
    results = [(r.actor, r.result) for r in bot.audit.query(vmid=vmid, action="vm rebuild")]
    assert results == [(ALICE, "ok"), (BOB, "denied")]
    assert bot.provisioner.owner_of(vmid) == ALICE
    bot.user.slash(f"vm rebuild {vmid}", user=ADMIN)  # an admin may; nothing to do now
    assert f"already on {version}; nothing to do" in bot.wait_ephemeral("nothing to do", ADMIN)


def _final_progress(bot: Harness, vmid: int) -> dict[str, Any]:
    """The rebuild's progress message in #infra once it shows its final state."""

    def final() -> dict[str, Any] | None:
        for message in bot.standin.messages(INFRA):
            text = message.get("text", "")
            if f"Rebuild of VM {vmid}" in str(message.get("blocks")) and "is rebuilt" in text:
                return message
        return None

    return bot.standin.wait_for(final, 60)


def test_a_failed_rebuild_says_how_to_finish_it(bot: Harness, alices_vm: Any) -> None:
    vmid = alices_vm.vmid
    seed_newer_build(bot)
    bot.env.pve.faults.fail_next_task("qmclone", "clone failed: out of space")  # after the destroy
    try:
        bot.user.slash(f"vm rebuild {vmid}")
        bot.wait_ephemeral("Rebuild VM")
        prompt = next(m for m in bot.standin.ephemerals(ALICE) if "Rebuild VM" in m["text"])
        bot.user.click(prompt, "vm_rebuild")

        def failed() -> dict[str, Any] | None:
            return next((m for m in bot.standin.messages(INFRA)
                         if f"Rebuild of VM {vmid}" in m.get("text", "")
                         and "failed" in m.get("text", "")), None)  # fmt: skip

        message = bot.standin.wait_for(failed, 60)
        shown = str(message["blocks"])
        assert "at step *clone*" in shown and "Run the rebuild again to finish it" in shown
        assert "Nothing else was changed" not in shown
    finally:
        bot.env.pve.faults.clear()
    assert vmid not in bot.env.pve.state.guests  # destroyed: the journal has what it needs
    bot.provisioner.rebuild_vm(vmid, actor=ALICE, via="cli")  # and a second run finishes it
    assert bot.env.pve.state.guests[vmid].conf["name"] == "alice-web"


def test_rebuild_refuses_a_vm_solti_did_not_make(bot: Harness) -> None:
    bot.env.pve.state.add_vm(7790, "handmade")
    try:
        bot.user.slash("vm rebuild 7790", user=ADMIN)
        assert "no create record" in bot.wait_ephemeral("no create record", ADMIN)
    finally:
        bot.provisioner.client.delete_vm("pve", 7790)


def _policy_with_notices(bot: Harness) -> Any:
    policy = load_policy(bot.env.config_path)
    reports = policy.reports.model_copy(update={"notify_owners": True})
    return policy.model_copy(update={"reports": reports})


def test_one_notice_per_owner_per_version_across_a_restart(
    bot: Harness, alices_vm: Any, tmp_path: Path
) -> None:
    bot.server.stop()
    first = make_harness(bot.env, bot.standin, tmp_path, _policy_with_notices(bot))
    try:
        assert send_notices(first.runtime) == 0  # nothing newer yet
        version = seed_newer_build(bot)
        assert send_notices(first.runtime) == 1
        assert send_notices(first.runtime) == 0
        job = BotScheduler(first.runtime).build().get_job("template_notices")
        assert job.trigger.interval == timedelta(seconds=NOTICE_SECONDS)
    finally:
        first.server.stop()
    again = make_harness(bot.env, bot.standin, tmp_path, _policy_with_notices(bot))  # restart
    try:
        assert send_notices(again.runtime) == 0
        dm = bot.standin.state.resolve_channel(ALICE)
        (notice,) = bot.standin.messages(dm)
        shown = str(notice["blocks"])
        assert version in shown and str(alices_vm.vmid) in shown and "1 version behind" in shown
        assert "vm_rebuild" in shown and "template_notice_dismiss" in shown
        again.user.click(notice, "template_notice_dismiss")
        bot.standin.wait_for(  # the notice is replaced by the answer
            lambda: any("Dismissed" in m.get("text", "") for m in bot.standin.messages(dm)), 10
        )
        reopened = BotDatabase(tmp_path / "solti.db")  # what a restarted bot reads
        assert NoticeStore(reopened).get(ALICE, NEWER)["dismissed_at"]
        reopened.close()
        seed_newer_build(bot, NEWER + 1, days=60)  # another new version: one more notice
        assert send_notices(again.runtime) == 1
        assert send_notices(again.runtime) == 0
    finally:
        again.server.stop()


def test_notices_are_off_unless_the_policy_asks(bot: Harness, alices_vm: Any) -> None:
    seed_newer_build(bot)
    assert send_notices(bot.runtime) == 0
    assert BotScheduler(bot.runtime).build().get_job("template_notices") is None
