"""After `/solti vm create` the ready message names how to log in, edited once the guest agent
reports the address (real bot over HTTP, Slack stand-in, simulated PVE with its agent boot)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from solti.provisioning import load_policy
from solti.provisioning.catalog import DistributionOverride
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import INFRA, KEY, Harness, running_bot


def _ready(bot: Harness, name: str, needle: str, timeout: float = 30) -> dict[str, Any]:
    """The progress message of VM ``name`` once its current state contains ``needle``."""

    def found() -> dict[str, Any] | None:
        for message in bot.standin.messages(INFRA):
            text = str(message.get("blocks"))
            if f"Creating {name} " in message.get("text", "") + text and needle in text:
                return message
        return None

    return bot.standin.wait_for(found, timeout)


def _vmid(message: dict[str, Any]) -> int:
    match = re.search(r"\(VMID (\d+)\) is ready", message["text"])
    assert match, message["text"]
    return int(match.group(1))


def _agent_statuses(bot: Harness, vmid: int) -> list[int]:
    suffix = f"/qemu/{vmid}/agent/network-get-interfaces"
    return [r.status for r in bot.env.pve.requests if r.path.endswith(suffix)]


def _address_thread(vmid: int) -> threading.Thread | None:
    """The thread waiting for VM ``vmid``'s address (``flows.login.address_later``), if alive."""
    name = f"solti-address-{vmid}"
    return next((t for t in threading.enumerate() if t.name == name), None)


def _login_field(message: dict[str, Any]) -> str:
    fields = [f["text"] for b in message["blocks"] for f in b.get("fields", [])]
    return next(f for f in fields if f.startswith("*Log in*"))


def test_ready_message_is_edited_with_the_ssh_line(bot: Harness) -> None:
    bot.runtime.keys.set("U0ALICE", KEY)
    bot.user.slash("vm create rocky9 --name addr-dhcp")
    message = _ready(bot, "addr-dhcp", "ssh rocky@")
    vmid = _vmid(message)
    revisions = bot.standin.revisions(INFRA, message["ts"])
    # The ready state came first, without waiting for the guest, saying what it waits for.
    before = str(revisions[-2]["blocks"])
    assert "is ready" in before and "waiting up to 120 s" in before and f"VMID {vmid}" in before
    assert _login_field(message).endswith("`ssh rocky@" + f"10.0.{vmid // 250 % 250}."
                                          f"{vmid % 250 + 2}`")  # fmt: skip
    edits = [c for c in bot.standin.calls_to("chat.update") if "ssh rocky@" in str(c.params)]
    assert len(edits) == 1
    # While the guest booted the agent was "not running"; the last call got the answer. (How
    # many polls met a booting guest depends on this machine's speed: the simulator's agent
    # boot is 1.5 s of real time here; tests/provisioning/test_addresses.py counts them.)
    statuses = _agent_statuses(bot, vmid)
    assert statuses[-1] == 200 and set(statuses[:-1]) <= {500}
    # Steps read as phrases, never "start — yes".
    steps = " ".join(str(r.get("blocks")) for r in revisions)
    assert f"start — power on VM {vmid}" in steps
    assert "— yes" not in steps and "— no" not in steps
    # The details thread is posted once, not again for the address.
    thread = bot.standin.wait_for(lambda: bot.standin.messages(INFRA, message["ts"]), 10)
    assert len(thread) == 1


def test_static_ip_is_in_the_ready_message_without_asking_the_agent(bot: Harness) -> None:
    bot.runtime.keys.set("U0ALICE", KEY)
    bot.user.slash("vm create rocky9 --name addr-static --ip 192.0.2.50/24 --gw 192.0.2.1")
    message = _ready(bot, "addr-static", "is ready")
    assert _login_field(message).endswith("`ssh rocky@192.0.2.50`")
    assert _agent_statuses(bot, _vmid(message)) == []


@pytest.fixture
def impatient(
    sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path, template_built: int
) -> Iterator[Harness]:
    """A bot whose policy waits 1 s for an address."""
    standin.reset()
    policy = load_policy(sim.config_path)
    policy = policy.model_copy(
        update={"defaults": policy.defaults.model_copy(update={"address_wait_seconds": 1})}
    )
    with running_bot(sim, standin, tmp_path, policy=policy) as harness:
        yield harness
    sim.pve.faults.clear()


def test_timeout_message_names_the_console_and_the_vmid(impatient: Harness) -> None:
    bot = impatient
    bot.env.pve.faults.agent_boot(None)  # the image has no qemu-guest-agent
    bot.runtime.keys.set("U0ALICE", KEY)
    bot.user.slash("vm create rocky9 --name addr-never")
    message = _ready(bot, "addr-never", "no address reported")
    vmid = _vmid(message)
    assert _login_field(message).endswith(
        f"no address reported by the guest agent after 1 s; look it up in your DHCP server's "
        f"leases (the MAC is on VM {vmid}'s Hardware tab in Proxmox) and log in as `rocky`"
    )
    statuses = _agent_statuses(bot, vmid)
    assert 2 <= len(statuses) <= 3 and set(statuses) == {500}  # polled, then gave up
    waiter = _address_thread(vmid)
    if waiter is not None:  # it edits the message last, then ends
        waiter.join(timeout=10)
        assert not waiter.is_alive(), "the address lookup went on after its last edit"
    assert len(_agent_statuses(bot, vmid)) == len(statuses)  # and stopped asking


def test_no_agent_configured_is_said_after_one_call(bot: Harness) -> None:
    template = bot.extras["template_vmid"]
    state = bot.env.pve.state
    with state.mutex:
        agent = state.guests[template].conf["agent"]
        state.guests[template].conf["agent"] = "0"  # clones inherit it
    try:
        bot.runtime.keys.set("U0ALICE", KEY)
        bot.user.slash("vm create rocky9 --name addr-noagent")
        message = _ready(bot, "addr-noagent", "no QEMU guest agent")
    finally:
        with state.mutex:
            state.guests[template].conf["agent"] = agent
    vmid = _vmid(message)
    assert "look it up in your DHCP server's leases" in _login_field(message)
    assert _agent_statuses(bot, vmid) == [500]


@pytest.fixture
def agentless(
    sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path, template_built: int
) -> Iterator[Harness]:
    """A bot whose catalog says the rocky9 image ships no guest agent (a policy override)."""
    standin.reset()
    policy = load_policy(sim.config_path)
    overrides = {**policy.distributions, "rocky9": DistributionOverride(guest_agent=False)}
    with running_bot(
        sim, standin, tmp_path, policy=policy.model_copy(update={"distributions": overrides})
    ) as harness:
        yield harness


def test_image_without_an_agent_says_so_at_once_and_never_asks(agentless: Harness) -> None:
    bot = agentless
    bot.runtime.keys.set("U0ALICE", KEY)
    bot.user.slash("vm create rocky9 --name addr-agentless")
    message = _ready(bot, "addr-agentless", "is ready")
    vmid = _vmid(message)
    assert _login_field(message).endswith(
        "the rocky9 cloud image ships no QEMU guest agent, so Proxmox cannot report its DHCP "
        f"address; look it up in your DHCP server's leases (the MAC is on VM {vmid}'s "
        "Hardware tab in Proxmox) and log in as `rocky`"
    )
    bot.runtime.work.shutdown(wait=True)  # the create flow has ended (its own bot)
    assert _address_thread(vmid) is None  # no address thread: nothing more is asked or edited
    assert _agent_statuses(bot, vmid) == []
    assert not [c for c in bot.standin.calls_to("chat.update") if "ssh rocky@" in str(c.params)]
