"""Slack says where a VM goes and why, refuses a wrong `--node` with the CLI's sentence, and
marks VMs on an offline node in the list; against `solti sim pve --nodes 3 --shared-storage`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import (
    ALICE,
    INFRA,
    KEY,
    POLICY,
    Harness,
    assert_blocks_accepted,
    running_bot,
)


@pytest.fixture(scope="module")
def sim3() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=3, shared_storage=True, policy=POLICY) as env:
        yield env


@pytest.fixture
def bot3(sim3: SimEnvironment, standin: SlackStandIn, tmp_path: Path) -> Iterator[Harness]:
    sim3.reset()
    sim3.pve.state.add_template(9000, "rocky9-template", storage="shared",
                                tags=["solti", "template", "rocky9"])  # fmt: skip
    standin.reset()
    with running_bot(sim3, standin, tmp_path) as harness:
        harness.runtime.keys.set(ALICE, KEY)
        yield harness
    assert_blocks_accepted(standin)


def _ready(bot: Harness, name: str) -> dict[str, Any]:
    return bot.standin.wait_for(
        lambda: next((m for m in bot.standin.messages(INFRA)
                      if name in m.get("text", "") and "is ready" in m.get("text", "")), None),
        30,
    )  # fmt: skip


def test_the_dry_run_and_the_ready_message_say_where_and_why(bot3: Harness) -> None:
    bot3.user.slash("vm create rocky9 --dry-run")
    bot3.wait_ephemeral("Dry run")
    plan = str(bot3.standin.ephemerals(ALICE)[-1]["blocks"])
    assert "pve: 26 GiB free of 32 after this VM, the most of 3 nodes that can take it" in plan
    bot3.user.slash("vm create rocky9 --name placed-1")
    ready = str(_ready(bot3, "placed-1")["blocks"])
    assert "after this VM, the most of 3 nodes that can take it" in ready
    updates = [str(c.params.get("blocks")) for c in bot3.standin.calls_to("chat.update")]
    assert any("clone" in u and "node pve" in u for u in updates), updates


def test_a_wrong_node_gets_the_cli_sentence_and_nothing_is_made(bot3: Harness) -> None:
    sim = bot3.env
    sim.pve.node_offline("pve3")
    start = len(sim.pve.requests)
    bot3.user.slash("vm create rocky9 --node pve3")
    said = bot3.wait_ephemeral("is offline")
    assert said == (
        "Node 'pve3' is offline (status 'offline' in /cluster/resources); online nodes: pve, "
        "pve2, or leave --node out and let Solti choose."
    )
    bot3.user.slash("vm create rocky9 --node pve9")
    said = bot3.wait_ephemeral("pve9")
    assert said == "Node 'pve9' is not a node of this cluster; nodes: pve, pve2, pve3."
    assert not [r for r in sim.pve.requests[start:] if r.method != "GET"]


def test_the_list_marks_vms_on_an_offline_node(bot3: Harness) -> None:
    sim = bot3.env
    sim.pve.state.add_vm(600, "on-pve2", node="pve2", running=True, tags=["solti"])
    sim.pve.state.add_vm(601, "on-pve", node="pve", running=True, tags=["solti"])
    sim.pve.node_offline("pve2")
    bot3.user.slash("vm list")
    bot3.wait_ephemeral("VMs")
    shown = str(bot3.standin.ephemerals(ALICE)[-1]["blocks"])
    on2 = next(line for line in shown.split("\\n") if "on-pve2" in line)
    on1 = next(line for line in shown.split("\\n") if "on-pve*" in line)
    assert ":warning: node pve2 is offline" in on2
    assert "offline" not in on1
