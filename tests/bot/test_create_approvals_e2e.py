"""Approval rules for creates (issue 13): signed Slack requests in, the stand-in's messages and
the simulator's VMs out. Four eyes, the requester's own click, a restart while waiting, the dry
run's "would need approval", and `leases.exempt` usergroups."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from solti.provisioning.config import Policy
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import (
    ADMIN,
    ALICE,
    APPROVALS,
    APPROVER,
    BOB,
    INFRA,
    KEY,
    Harness,
    make_harness,
)

RULES = {
    "vm_create": {
        "cores_over": 8,
        "memory_over": 16384,
        "disk_over": "200G",
        "full_clone": True,
        "lease_over": "30d",
    },
}
RUNNERS = "S0RUNNERS"  # a usergroup in leases.exempt


def _policy(sim: SimEnvironment, required: int) -> Policy:
    base = yaml.safe_load(sim.config_path.read_text("utf-8"))
    approvals = {**base.get("approvals", {}), **RULES, "required": required}
    leases = {**base.get("leases", {}), "exempt": [RUNNERS]}
    return Policy.model_validate({**base, "approvals": approvals, "leases": leases})


@pytest.fixture
def harness_with(
    sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path, template_built: int
) -> Iterator[Callable[..., Harness]]:
    """Start a bot on ``tmp_path/solti.db`` with the approval rules; a second call is a restart
    on the same file (the first bot is stopped)."""
    standin.reset()
    lives: list[Harness] = []

    def start(required: int = 1) -> Harness:
        if lives:
            lives[-1].server.stop()
        lives.append(make_harness(sim, standin, tmp_path, policy=_policy(sim, required)))
        lives[-1].runtime.keys.set(ALICE, KEY)
        return lives[-1]

    try:
        yield start
    finally:
        for life in lives:
            life.server.stop()
        for vm in lives[0].provisioner.list_vms() if lives else []:
            if vm.name and vm.name.startswith("big-"):
                lives[0].provisioner.remove_vm(vm.vmid, actor="test-cleanup")
        bad = [c for c in standin.calls if c.response.get("error") == "invalid_blocks"]
        assert not bad, f"Slack answered invalid_blocks: {[c.response for c in bad]}"
        assert not standin.ack_timeouts


def _card(bot: Harness, needle: str = "approval_approve") -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        card = bot.standin.last_message(APPROVALS)
        return card if card and needle in str(card["blocks"]) else None

    return bot.standin.wait_for(found, 20)


def _request_id(card: dict[str, Any]) -> str:
    found = re.search(r"Request `(req-[0-9a-f]+)`", str(card["blocks"]))
    assert found, card
    return found.group(1)


def _ready(bot: Harness, name: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        for message in bot.standin.messages(INFRA):
            if name in message.get("text", "") and "is ready" in message.get("text", ""):
                return message
        return None

    return bot.standin.wait_for(found, 60)


def _creates(bot: Harness) -> list[Any]:
    return [r for r in bot.audit.query(limit=None) if r.action == "vm create"]


def test_dry_run_says_it_would_need_approval_and_posts_nothing(
    harness_with: Callable[..., Harness],
) -> None:
    bot = harness_with()
    bot.user.slash("vm create rocky9 --memory 32768 --full --dry-run")
    text = str(bot.standin.wait_for(
        lambda: [m for m in bot.standin.ephemerals(ALICE) if "Would need approval" in str(m)], 20
    )[-1]["blocks"])  # fmt: skip
    assert "memory 32768 MiB is over approvals.vm_create.memory_over 16384" in text
    assert "a full clone needs approval (approvals.vm_create.full_clone)" in text
    assert bot.standin.messages(APPROVALS) == []
    bot.user.slash("vm create rocky9 --memory 2048 --dry-run")

    def dry_runs() -> list[dict[str, Any]] | None:
        found = [m for m in bot.standin.ephemerals(ALICE) if "Dry run" in m.get("text", "")]
        return found if len(found) == 2 else None

    assert "Would need approval" not in str(bot.standin.wait_for(dry_runs, 20)[-1])
    assert bot.runtime.approvals.pending_count() == 0


def test_four_eyes_create_needs_two_distinct_approvers_never_the_requester(
    harness_with: Callable[..., Harness],
) -> None:
    bot = harness_with(required=2)
    creates_before = len(_creates(bot))
    bot.user.slash("vm create rocky9 --name big-four --memory 32768")
    waiting = bot.wait_ephemeral("needs approval")
    assert "memory 32768 MiB is over approvals.vm_create.memory_over 16384" in waiting
    card = _card(bot)
    shown = str(card["blocks"])
    assert "memory 32768 MiB is over approvals.vm_create.memory_over 16384" in shown
    assert "0 of 2 approvals" in shown and "big-four" in shown

    bot.user.click(card, "approval_approve")  # the requester's own click
    bot.wait_ephemeral("cannot approve or deny your own request")
    bot.user.click(card, "approval_approve", user=BOB)  # not an approver
    bot.wait_ephemeral("Only approvers", user=BOB)

    bot.user.click(card, "approval_approve", user=APPROVER)
    bot.wait_ephemeral("1 of 2 approvals", user=APPROVER)
    one = _card(bot, "1 of 2 approvals")
    assert f"<@{APPROVER}>" in str(one["blocks"]) and "approval_approve" in str(one["blocks"])
    bot.user.click(card, "approval_approve", user=APPROVER)  # the same approver again
    bot.wait_ephemeral("already approved", user=APPROVER)
    assert len(_creates(bot)) == creates_before  # nothing built on one pair of eyes
    assert bot.runtime.approvals.get(_request_id(one)).state == "pending"

    bot.user.click(card, "approval_approve", user=ADMIN)
    decided = _card(bot, "Approved")
    assert f"<@{APPROVER}> and <@{ADMIN}>" in str(decided["blocks"])
    assert "approval_approve" not in str(decided["blocks"])
    ready = _ready(bot, "big-four")
    assert ALICE in str(ready) or f"<@{ALICE}>" in str(bot.standin.messages(INFRA))
    vm = next(v for v in bot.provisioner.list_vms() if v.name == "big-four")
    assert bot.env.pve.state.guests[vm.vmid].conf["memory"] == "32768"
    made = [r for r in _creates(bot) if r.name == "big-four"]
    assert len(made) == 1 and made[0].result == "ok" and made[0].actor == ALICE
    assert set((made[0].approver or "").split(", ")) == {APPROVER, ADMIN}  # both, on the create
    assert made[0].request_id and made[0].request_id.startswith("req-")
    request_row = bot.audit.find_by_request_id(made[0].request_id, action="vm create request")
    assert request_row is not None and request_row.result == "ok"
    votes = [r for r in bot.audit.query(limit=None) if r.action == "vm create vote"]
    assert [(r.actor, r.params["votes"]) for r in votes] == [(APPROVER, "1 of 2")]
    decision = bot.audit.find_by_request_id(f"{made[0].request_id}:decision")
    assert decision is not None and decision.approver == ADMIN


def test_an_approval_survives_a_restart_and_runs_the_create_as_planned(
    harness_with: Callable[..., Harness],
) -> None:
    first = harness_with()
    first.user.slash("vm create rocky9 --name big-restart --cores 12 --lease 60d")
    waiting = first.wait_ephemeral("needs approval")
    assert "cores 12 is over approvals.vm_create.cores_over 8" in waiting
    assert "lease 60d is over approvals.vm_create.lease_over 30d" in waiting
    card = _card(first)
    waiting_approval = first.runtime.approvals.get(_request_id(card))
    assert waiting_approval is not None and waiting_approval.payload is not None
    planned_vmid = waiting_approval.payload["plan"]["vmid"]

    second = harness_with()  # stopped and started again on the same file
    assert second.runtime is not first.runtime and second.db == first.db
    second.user.click(card, "approval_approve", user=APPROVER)
    _ready(second, "big-restart")
    vm = next(v for v in second.provisioner.list_vms() if v.name == "big-restart")
    assert vm.vmid == planned_vmid  # the VMID the card showed
    assert second.env.pve.state.guests[vm.vmid].conf["cores"] == "12"
    lease = second.provisioner.leases.get(vm.vmid)
    assert lease is not None and lease.expires_at is not None
    assert any("was approved by" in m.get("text", "") for m in second.standin.messages(INFRA))


def test_a_denied_create_makes_nothing(harness_with: Callable[..., Harness]) -> None:
    bot = harness_with()
    before = len(_creates(bot))
    bot.user.slash("vm create rocky9 --name big-denied --disk 300G")
    assert "disk 300G is over approvals.vm_create.disk_over 200G" in bot.wait_ephemeral(
        "needs approval"
    )
    bot.user.click(_card(bot), "approval_deny", user=APPROVER)
    _card(bot, "Denied")
    bot.standin.wait_for(
        lambda: any("was denied by" in m.get("text", "") for m in bot.standin.messages(INFRA)), 20
    )
    assert len(_creates(bot)) == before
    assert all(v.name != "big-denied" for v in bot.provisioner.list_vms())


def test_a_usergroup_in_leases_exempt_may_create_without_a_lease(
    harness_with: Callable[..., Harness], standin: SlackStandIn
) -> None:
    standin.add_usergroup(RUNNERS, "ci-runners", [ALICE])
    bot = harness_with()
    bot.runtime.keys.set(BOB, KEY)
    bot.user.slash("vm create rocky9 --lease none --dry-run", user=BOB)
    bot.wait_ephemeral("leases.exempt", user=BOB)
    # Alice is in the usergroup: --lease none is hers to ask, and (over lease_over) it waits.
    bot.user.slash("vm create rocky9 --name big-nolease --lease none")
    waiting = bot.wait_ephemeral("needs approval")
    assert "no lease (--lease none) is over approvals.vm_create.lease_over 30d" in waiting
    bot.user.click(_card(bot), "approval_approve", user=APPROVER)
    _ready(bot, "big-nolease")
    vm = next(v for v in bot.provisioner.list_vms() if v.name == "big-nolease")
    lease = bot.provisioner.leases.get(vm.vmid)
    assert lease is not None and lease.expires_at is None
    calls = [c for c in standin.calls if c.method == "usergroups.users.list"]
    assert calls and all(c.params.get("usergroup") == RUNNERS for c in calls)


def test_the_form_over_a_threshold_posts_the_card_too(
    harness_with: Callable[..., Harness], template_built: int
) -> None:
    bot = harness_with()
    bot.user.slash("vm create")
    view = bot.standin.wait_for(
        lambda: [v for v in bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"],
        20,
    )[0]
    template = str(template_built)
    reply = bot.user.submit_view(view, {"template": template, "name": "big-form",
                                        "memory": "20480"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    card = _card(bot)
    assert "memory 20480 MiB is over approvals.vm_create.memory_over 16384" in str(card["blocks"])
    bot.wait_ephemeral("needs approval")
    assert all("big-form" not in m.get("text", "") for m in bot.standin.messages(INFRA))
    bot.user.click(card, "approval_deny", user=ADMIN)
    _card(bot, "Denied")


def test_a_create_nobody_decides_on_expires_and_makes_nothing(
    harness_with: Callable[..., Harness],
) -> None:
    from solti.bot.flows.approval_lifecycle import expire_due

    bot = harness_with()
    before = len(_creates(bot))
    bot.user.slash("vm create rocky9 --name big-expired --full")
    bot.wait_ephemeral("needs approval")
    card = _card(bot)
    request_id = _request_id(card)
    bot.clock.advance(hours=3)  # approvals.expire_after is 2h in the package's policy
    assert expire_due(bot.runtime) == 1
    _card(bot, "Expired")
    bot.standin.wait_for(
        lambda: any("big-expired" in m.get("text", "") and "expired" in m.get("text", "")
                    for m in bot.standin.messages(INFRA)),
        20,
    )  # fmt: skip
    row = bot.audit.find_by_request_id(request_id, action="vm create request")
    assert row is not None and row.result == "expired"
    bot.user.click(card, "approval_approve", user=APPROVER)  # a late click on the old card
    bot.wait_ephemeral("already expired", user=APPROVER)
    assert len(_creates(bot)) == before


def test_a_count_create_over_a_threshold_is_refused_not_run_unapproved(
    harness_with: Callable[..., Harness],
) -> None:
    bot = harness_with()
    bot.user.slash("vm create rocky9 --count 2 --name big-many --memory 32768 --dry-run")
    bot.standin.wait_for(
        lambda: [m for m in bot.standin.ephemerals(ALICE) if "Would need approval" in str(m)], 20
    )
    bot.user.slash("vm create rocky9 --count 2 --name big-many --memory 32768")
    refused = bot.wait_ephemeral("cannot wait for one")
    assert "memory 32768 MiB is over approvals.vm_create.memory_over 16384" in refused
    assert bot.standin.messages(APPROVALS) == []
    assert [r.result for r in _creates(bot)] == ["denied"]  # the refusal, and nothing made
    assert "--count" in (_creates(bot)[0].error or "")
    assert all(not (v.name or "").startswith("big-many") for v in bot.provisioner.list_vms())
