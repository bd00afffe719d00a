"""[Roll back, leave stopped]: the Slack side of `solti snapshot rollback --no-start`, over
signed HTTP against the simulator.

A running VM's rollback prompt offers it beside [Roll back to NAME]; PVE's rollback then runs
without ``start=1`` (qemu-server ``API2/Qemu.pm`` ``rollback``: the VM is stopped hard by
``__snapshot_rollback_vm_stop`` and started only when ``start`` is set), so the VM ends
stopped, and the audit record says ``start: false``. A stopped VM's prompt has one button:
there is nothing to choose.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bot.conftest import ALICE, Harness

VMID = 7740


@pytest.fixture
def owned(bot: Harness) -> Iterator[int]:
    """A running VM of Alice's with one disk-only snapshot."""
    bot.env.pve.state.add_vm(VMID, "stays-down", running=True)
    bot.audit.record("vm create", ALICE, "slack", "ok", vmid=VMID, name="stays-down")
    bot.provisioner.create_snapshot(VMID, "base", actor=ALICE, via="slack")
    try:
        yield VMID
    finally:
        bot.provisioner.remove_vm(VMID, actor="test-cleanup")


def _prompt(bot: Harness, count: int) -> dict:
    bot.standin.wait_for(
        lambda: len([t for t in bot.ephemeral_texts() if "back to `base`" in t]) >= count, 10
    )
    return [m for m in bot.standin.ephemerals(ALICE) if "back to `base`" in m.get("text", "")][-1]


def _action_ids(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]  # fmt: skip


def test_roll_back_and_leave_the_vm_stopped(bot: Harness, owned: int) -> None:
    bot.user.slash(f"snapshot rollback {owned} base")
    prompt = _prompt(bot, 1)
    assert _action_ids(prompt) == ["snapshot_rollback", "snapshot_rollback_stopped"]
    stopped_button = prompt["blocks"][-1]["elements"][1]
    assert stopped_button["text"]["text"] == "Roll back, leave stopped"
    assert "it is stopped and stays stopped" in stopped_button["confirm"]["text"]["text"]
    assert bot.env.pve.state.guests[VMID].running  # nothing happens before the click
    start = len(bot.env.pve.requests)
    bot.user.click(prompt, "snapshot_rollback_stopped")
    done = bot.wait_ephemeral("is back at snapshot `base`", timeout=20)
    assert done.endswith(f"it is stopped (`/solti vm start {owned}` starts it).")
    assert not bot.env.pve.state.guests[VMID].running
    sent = [r for r in bot.env.pve.requests[start:] if r.path.endswith("/snapshot/base/rollback")]
    assert len(sent) == 1 and "start" not in (sent[0].params or {}), sent
    record = bot.audit.query(vmid=VMID, action="snapshot rollback", limit=None)[0]
    assert (record.result, record.actor, record.via) == ("ok", ALICE, "slack")
    assert record.params["start"] is False and record.params["snapshot"] == "base"

    # Stopped now: a rollback has nothing to choose, so the prompt has one button.
    before = len([t for t in bot.ephemeral_texts() if "back to `base`" in t])
    bot.user.slash(f"snapshot rollback {owned} base")
    assert _action_ids(_prompt(bot, before + 1)) == ["snapshot_rollback"]
