"""App Home's [Snapshots]: what `/solti snapshot list VMID` shows, one click from the VM, with
buttons to take a snapshot and to ask for a rollback (which still asks to confirm); signed HTTP
against the simulator, and the Home view within Slack's 100 blocks with the button on every VM.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from solti.bot.blocks.home_view import MAX_VMS, SNAPSHOTS_ACTION, home_view
from tests.bot.conftest import ALICE, Harness, assert_blocks_accepted

VMID = 7760


@pytest.fixture
def owned(bot: Harness) -> Iterator[int]:
    """A running VM of Alice's with one snapshot."""
    bot.env.pve.state.add_vm(VMID, "home-snaps", running=True)
    bot.audit.record("vm create", ALICE, "slack", "ok", vmid=VMID, name="home-snaps")
    bot.provisioner.create_snapshot(VMID, "base", description="fresh", actor=ALICE, via="slack")
    try:
        yield VMID
    finally:
        bot.provisioner.remove_vm(VMID, actor="test-cleanup")


def _dm(bot: Harness, needle: str, count: int = 1) -> dict[str, Any]:
    found = bot.standin.wait_for(
        lambda: (lambda ms: ms if len(ms) >= count else None)(
            [m for m in bot.standin.messages(ALICE) if needle in m.get("text", "")]
        ),
        20,
    )
    return found[-1]


def test_snapshots_from_the_home_tab(bot: Harness, owned: int) -> None:
    assert bot.user.open_home().status_code == 200
    home = bot.standin.wait_for(lambda: bot.standin.home(ALICE), 10)
    row = next(b for b in home["blocks"] if b.get("block_id") == f"home-vm-{owned}")
    snapshots = [e for e in row["elements"] if e["action_id"] == SNAPSHOTS_ACTION]
    assert [(e["text"]["text"], e["value"]) for e in snapshots] == [("Snapshots", str(owned))]
    assert_blocks_accepted(bot.standin)  # views.publish took the tab with the new button
    publishes = len(bot.standin.calls_to("views.publish"))

    bot.user.click(home, SNAPSHOTS_ACTION)
    listed = _dm(bot, f"Snapshots of VM {owned} (home-snaps)")
    assert listed["text"].endswith(": 1")
    assert "`base`" in str(listed["blocks"]) and "fresh" in str(listed["blocks"])
    buttons = [e for b in listed["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["value"]) for e in buttons] == [
        ("snapshot_take", str(owned)),
        ("snapshot_rollback_ask", f"{owned}:base"),
    ]
    # Listing changes nothing the tab shows: it is not drawn again.
    assert len(bot.standin.calls_to("views.publish")) == publishes

    bot.user.click(listed, "snapshot_take")
    answer = bot.standin.wait_for(
        lambda: [p.body for p in bot.standin.response_posts if "taken" in str(p.body)], 20
    )[-1]
    taken = next(n for n in bot.env.pve.state.guests[VMID].snapshots if n != "base")
    assert taken.startswith("solti-") and f"snapshot `{taken}` taken" in answer["text"]

    bot.user.click(listed, "snapshot_rollback_ask")
    prompt = bot.standin.wait_for(
        lambda: [m for m in bot.standin.ephemerals(ALICE) + bot.standin.messages(ALICE)
                 if "back to `base`?" in m.get("text", "")],
        20,
    )[-1]  # fmt: skip
    assert "snapshot_rollback" in str(prompt["blocks"]) and "confirm" in str(prompt["blocks"])
    assert bot.env.pve.state.guests[VMID].running  # asking changed nothing
    records = [(r.action, r.result, r.actor, r.via) for r in bot.audit.query(vmid=VMID, limit=None)]
    assert records.count(("snapshot create", "ok", ALICE, "slack")) == 2  # the fixture's, this
    assert not [r for r in records if r[0] == "snapshot rollback"]


def test_the_home_tab_stays_within_100_blocks_with_the_button_on_every_vm() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    vms = [
        SimpleNamespace(
            vmid=500 + i,
            name=f"vm-{i}",
            node="pve",
            status="running",
            lease_expires_at=None,
            template_name="rocky9-template",
            template_version="9.6",
            owner=ALICE,
        )
        for i in range(MAX_VMS + 10)
    ]
    quota = {"used": {"vms": 40, "cores": 80, "memory": 81920, "disk": "1280G"},
             "limits": {"vms": None, "cores": None, "memory": None, "disk": None}}  # fmt: skip
    view = home_view(vms, now, {}, expiring=vms, quota=quota)
    assert len(view["blocks"]) <= 100
    rows = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("home-vm-")]
    assert len(rows) == MAX_VMS
    for row in rows:
        vmid = row["block_id"].removeprefix("home-vm-")
        buttons = {e["action_id"]: e["value"] for e in row["elements"]}
        assert buttons[SNAPSHOTS_ACTION] == vmid
