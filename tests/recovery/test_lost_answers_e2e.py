"""The two adversarial holes of issue 12 about lost answers, end to end against the simulator
(real proxmoxer over HTTPS; the bot over signed HTTP with the Slack stand-in).

(a) A dropped `GET .../tasks/UPID/status` during a create: the task runs on in PVE, so the
    poll is read again and the create succeeds; when solti must give up on the task, the
    message says what became of the VM and points to `solti reconcile`, never "nothing was
    changed".
(b) A clone POST whose answer is late (past the client's timeout) or never comes, although PVE
    made the clone: solti looks at the VMID's config and the node's task list, follows the
    clone's task, and neither sends the clone again nor leaves a VM it does not know about.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.provisioning import AuditLog, Provisioner, ProxmoxSettings, load_policy
from solti.provisioning.pve import PveClient
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import ALICE, INFRA, KEY, POLICY, Harness, running_bot
from tests.helpers.worlds import TEMPLATE, fresh_world

CLONE = "/nodes/*/qemu/*/clone"
CLONE_STATUS = "/nodes/*/tasks/*:qmclone:*/status"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimEnvironment]:
    with SimEnvironment(policy=POLICY) as env:
        yield env


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        server.add_channel(INFRA, "infra")
        yield server


@pytest.fixture
def world(sim: SimEnvironment) -> SimEnvironment:
    return fresh_world(sim)


@pytest.fixture
def bot(world: SimEnvironment, standin: SlackStandIn, tmp_path: Path) -> Iterator[Harness]:
    standin.reset()
    with running_bot(world, standin, tmp_path) as harness:
        harness.runtime.keys.set(ALICE, KEY)
        yield harness
    world.pve.faults.clear()
    assert not standin.ack_timeouts


def _final(bot: Harness, timeout: float = 90) -> dict:
    """The progress message once it shows a final state (ready, or failed)."""

    def final() -> dict | None:
        for message in bot.standin.messages(INFRA):
            text = message.get("text", "")
            if " is ready on " in text or " failed" in text:
                return message
        return None

    return bot.standin.wait_for(final, timeout=timeout)


def _said(bot: Harness, message: dict) -> str:
    """Everything the requester was told: the message, its blocks, its thread."""
    thread = bot.standin.messages(INFRA, message["ts"])
    return " ".join([message.get("text", ""), str(message.get("blocks")), str(thread)])


def _clone_posts(world: SimEnvironment) -> int:
    return len([r for r in world.pve.requests if r.method == "POST" and r.path.endswith("/clone")])


def _guests(world: SimEnvironment) -> list[int]:
    return sorted(world.pve.state.guests)


# --- (a) a lost task-status poll ----------------------------------------------------------------


def test_one_dropped_status_poll_is_read_again_and_the_create_succeeds(
    bot: Harness, world: SimEnvironment
) -> None:
    world.pve.faults.drop_connections(1, method="GET", path=CLONE_STATUS)
    bot.user.slash("vm create rocky9 --name poll-lost")
    message = _final(bot)
    assert world.pve.faults.pending("drop") == 0  # the poll was dropped
    assert "is ready" in message["text"], _said(bot, message)
    assert _guests(world) == [500, TEMPLATE] and world.pve.state.guests[500].running
    (record,) = bot.audit.query(limit=None)
    assert (record.action, record.result, record.vmid) == ("vm create", "ok", 500)
    assert _clone_posts(world) == 1


def test_a_task_whose_status_stays_lost_is_told_with_what_exists(
    bot: Harness, world: SimEnvironment
) -> None:
    """Every status read of the clone task fails: solti gives up on the task, removes the
    half-made VM as a failed create does, and says so; never "nothing was changed"."""
    world.pve.faults.drop_connections(1000, method="GET", path=CLONE_STATUS)
    bot.user.slash("vm create rocky9 --name poll-gone")
    message = _final(bot, timeout=120)
    said = _said(bot, message)
    assert "nothing was changed" not in said
    assert "is ready" not in message["text"]
    assert "status" in said and "clone" in said, said  # what went wrong, in which step
    assert "VM 500" in said and ("removed" in said or "solti reconcile" in said), said
    (record,) = bot.audit.query(limit=None)
    assert record.result == "failed" and "clone" in (record.error or "")
    assert _guests(world) == [TEMPLATE]  # the half-made VM was cleaned up, not leaked
    assert _clone_posts(world) == 1


# --- (b) a clone POST without an answer --------------------------------------------------------


def test_a_clone_answer_that_never_comes_is_checked_not_resent(
    bot: Harness, world: SimEnvironment
) -> None:
    world.pve.faults.late_answers(1, None, method="POST", path=CLONE)  # applied, not answered
    bot.user.slash("vm create rocky9 --name clone-lost")
    message = _final(bot)
    assert world.pve.faults.pending("late") == 0
    assert "is ready" in message["text"], _said(bot, message)
    assert _clone_posts(world) == 1  # never sent twice
    assert _guests(world) == [500, TEMPLATE]  # one VM, and solti knows it made it
    (record,) = bot.audit.query(limit=None)
    assert (record.result, record.vmid) == ("ok", 500)
    tasks = [r.path for r in world.pve.requests if r.path.endswith("/tasks")]
    assert tasks, "the node's task list was not read to find the clone's task"


def test_a_lost_clone_whose_task_fails_leaves_no_vm(bot: Harness, world: SimEnvironment) -> None:
    world.pve.faults.late_answers(1, None, method="POST", path=CLONE)
    world.pve.faults.fail_next_task("qmclone", "clone failed: out of space (simulated)")
    bot.user.slash("vm create rocky9 --name clone-broken")
    message = _final(bot)
    said = _said(bot, message)
    assert "is ready" not in message["text"] and "out of space" in said, said
    assert "nothing was changed" not in said
    assert _clone_posts(world) == 1 and _guests(world) == [TEMPLATE]
    (record,) = bot.audit.query(limit=None)
    assert record.result == "failed"


@pytest.mark.parametrize("late", [4.0, None], ids=["answered-after-the-timeout", "never"])
def test_a_clone_past_the_client_timeout_is_followed_not_duplicated(
    world: SimEnvironment, tmp_path: Path, late: float | None
) -> None:
    """The CLI's path with a short client timeout (2 s): the read times out while PVE has made
    the clone. The create follows that clone; a second create gets the next VMID."""
    settings = ProxmoxSettings.from_env(world.env)
    policy = load_policy(world.config_path)
    client = PveClient.from_settings(settings, timeout=2.0)
    provisioner = Provisioner(client, AuditLog(tmp_path / "solti.db"), policy.catalog(),
                              policy.defaults, fleet=policy.fleet())  # fmt: skip
    world.pve.faults.late_answers(1, late, method="POST", path=CLONE)
    request = {"template": "rocky9", "ssh_keys": [KEY], "name": "slow-clone"}
    first = provisioner.create_vm(request, actor="ops", via="cli")
    assert world.pve.faults.pending("late") == 0
    assert first.vm.vmid == 500 and first.vm.status == "running"
    second = provisioner.create_vm({**request, "name": "after"}, actor="ops", via="cli")
    assert second.vm.vmid == 501
    assert _clone_posts(world) == 2  # one per create, none repeated
    assert _guests(world) == [500, 501, TEMPLATE]
    results = [(r.result, r.vmid) for r in provisioner.audit.query(limit=None)]
    assert sorted(results) == [("ok", 500), ("ok", 501)]


# --- the VMID the messages name ----------------------------------------------------------------


def test_a_clone_that_lands_on_another_vmid_is_titled_with_it(
    bot: Harness, world: SimEnvironment
) -> None:
    """Found by the chaos run: another process took the planned VMID just before the clone,
    the create took the next free one, and the message still said "Creating ... (VMID 500)"
    up to its final state, about VM 501."""
    client = bot.provisioner.client
    clone = client.clone

    def taken_first(*args: object, **kwargs: object) -> str:
        client.clone = clone  # type: ignore[method-assign]
        world.pve.state.add_vm(500, "someone-else", tags=["other"])  # just before ours
        return clone(*args, **kwargs)  # type: ignore[arg-type]

    client.clone = taken_first  # type: ignore[method-assign]
    bot.user.slash("vm create rocky9 --name second-choice")
    message = _final(bot)
    assert "is ready" in message["text"] and "(VMID 501)" in message["text"], message["text"]
    assert "VMID 500" not in str(message["blocks"])
    edits = [str(c.params.get("blocks")) for c in bot.standin.calls_to("chat.update")]
    after_clone = [e for e in edits if "VM 501 from" in e]
    assert after_clone and all("(VMID 501)" in e for e in after_clone)
    assert sorted(world.pve.state.guests) == [500, 501, TEMPLATE]
