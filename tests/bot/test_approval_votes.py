"""Votes on an approval: one per approver, counted atomically, kept in the file (restart)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from solti.bot.approvals import ApprovalStore
from solti.bot.blocks.approval import decided_message, pending_message
from solti.bot.db import BotDatabase


def test_one_vote_per_person_and_counted_across_a_reopen(tmp_path: Path) -> None:
    store = ApprovalStore(BotDatabase(tmp_path / "b.db"))
    approval = store.create("vm_create", "big", "U0ALICE", "C1", timedelta(hours=1), [],
                            {"request": {"template": "rocky9"}, "plan": {}})  # fmt: skip
    first = store.vote(approval.id, "U0DANA")
    again = store.vote(approval.id, "U0DANA")
    assert (first.added, first.voters) == (True, ("U0DANA",))
    assert (again.added, again.voters) == (False, ("U0DANA",))
    reopened = ApprovalStore(BotDatabase(tmp_path / "b.db"))
    assert reopened.voters(approval.id) == ("U0DANA",)
    assert reopened.get(approval.id).payload == {"request": {"template": "rocky9"}, "plan": {}}
    assert reopened.vote(approval.id, "U0ERIN").voters == ("U0DANA", "U0ERIN")


def test_approvers_clicking_at_once_are_each_counted_once(tmp_path: Path) -> None:
    store = ApprovalStore(BotDatabase(tmp_path / "b.db"))
    approval = store.create("vm_create", "big", "U0ALICE", "C1", timedelta(hours=1), [])
    voters = [f"U0V{i}" for i in range(8)] * 3
    counts: list[int] = []

    def click(voter: str) -> None:
        vote = store.vote(approval.id, voter)
        if vote.added:
            counts.append(len(vote.voters))

    threads = [threading.Thread(target=click, args=(v,)) for v in voters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == list(range(1, 9))  # each count reached by exactly one click
    assert len(store.voters(approval.id)) == 8


def test_cards_count_approvals_and_name_every_approver() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 3, tzinfo=UTC)
    card = pending_message("req-1", "vm_create", "big", "U0ALICE", [("Why", "x")], now,
                           voters=("U0DANA",), required=2)  # fmt: skip
    assert "1 of 2 approvals (<@U0DANA>)" in str(card["blocks"]) and "1 of 2" in card["text"]
    single = pending_message("req-1", "vm_create", "big", "U0ALICE", [], now)
    assert "approvals" not in str(single["blocks"]).replace("approval_", "")
    done = decided_message("req-1", "vm_create", "big", "U0ALICE", [], "approved", "U0ERIN",
                           now, voters=("U0DANA", "U0ERIN"))  # fmt: skip
    assert "by <@U0DANA> and <@U0ERIN>" in str(done["blocks"])
    denied = decided_message("req-1", "vm_create", "big", "U0ALICE", [], "denied", "U0ERIN",
                             now, voters=("U0DANA",))  # fmt: skip
    assert "by <@U0ERIN>" in str(denied["blocks"]) and "U0DANA" not in str(denied["blocks"])
