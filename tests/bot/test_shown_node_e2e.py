"""Dry run -> Customize… -> submit: the node the dry run showed is the node the VM goes to,
while it is still eligible; otherwise placement chooses anew and the person is told in one
sentence. Against `solti sim pve --nodes 3 --shared-storage --node-memory pve3=16` over
signed HTTP: two equal nodes the VM may go to, and a small third one, because with two
nodes one offline node leaves no quorum (pmxcfs) and nothing could be created at all.

Both nodes start equal, so the dry run shows ``pve`` (the first by name); the template is
on ``pve2`` (shared storage), which runs the clone (qemu-server ``clone_vm`` runs on the
template's node, ``target`` names the new VM's). Between the dry run
and the submit the world changes: a running 16 GiB VM on ``pve`` makes ``pve2`` the node a
fresh placement would pick (most free memory), or ``pve`` goes offline (the simulator's
``node_offline`` fault: pve-manager ``extract_node_stats`` reports ``status: offline``).
"""

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
    small = {"node_memory": {"pve3": 16 * 1024**3}}
    with SimEnvironment(
        nodes=3, shared_storage=True, policy=POLICY, simulator_options=small
    ) as env:
        yield env


@pytest.fixture
def bot3(sim3: SimEnvironment, standin: SlackStandIn, tmp_path: Path) -> Iterator[Harness]:
    sim3.reset()
    sim3.pve.state.rrd_lag = 0
    sim3.pve.state.add_template(9000, "rocky9-template", node="pve2", storage="shared",
                                tags=["solti", "template", "rocky9"])  # fmt: skip
    standin.reset()
    with running_bot(sim3, standin, tmp_path) as harness:
        harness.runtime.keys.set(ALICE, KEY)
        yield harness
    assert_blocks_accepted(standin)
    sim3.reset()


def _dry_run(bot: Harness) -> dict[str, Any]:
    bot.user.slash("vm create rocky9 --dry-run")
    bot.wait_ephemeral("Dry run")
    return next(m for m in reversed(bot.standin.ephemerals(ALICE)) if "Dry run" in m["text"])


def _submit_customized(bot: Harness, shown: dict[str, Any]) -> None:
    bot.user.click(shown, "open_create_modal")
    view = bot.standin.wait_for(
        lambda: [v for v in bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"],
        20,
    )[-1]
    reply = bot.user.submit_view(view, {})
    assert reply.status_code == 200 and not reply.content.strip(), reply.content


def _ready(bot: Harness, name: str) -> dict[str, Any]:
    return bot.standin.wait_for(
        lambda: next((m for m in bot.standin.messages(INFRA)
                      if name in m.get("text", "") and "is ready" in m.get("text", "")), None),
        30,
    )  # fmt: skip


def _name_of(shown: dict[str, Any]) -> str:
    return str(shown["text"].split("would create ", 1)[1].split(" (VMID ")[0])


def test_the_node_shown_is_kept_when_placement_would_now_choose_another(bot3: Harness) -> None:
    shown = _dry_run(bot3)
    assert "pve: 26 GiB free of 32 after this VM, the most of 3 nodes" in str(shown["blocks"])
    state = bot3.env.pve.state
    state.add_vm(700, "busy", node="pve", running=True, memory="16384", tags=["other"])
    fresh = bot3.provisioner.plan_vm({"template": "rocky9", "ssh_keys": [KEY]})
    assert fresh.node == "pve2"  # what the form's create would do without the shown node
    _submit_customized(bot3, shown)
    name = _name_of(shown)
    ready = _ready(bot3, name)
    assert "pve: as shown before, and still able to take it" in str(ready["blocks"])
    made = next(g for g in state.guests.values() if g.conf.get("name") == name)
    assert made.node == "pve"
    assert not [t for t in bot3.ephemeral_texts() if "The dry run showed node" in t]


def test_a_node_gone_offline_since_the_dry_run_is_replaced_and_said(bot3: Harness) -> None:
    shown = _dry_run(bot3)
    assert "pve: 26 GiB free of 32" in str(shown["blocks"])
    bot3.env.pve.node_offline("pve")
    _submit_customized(bot3, shown)
    said = bot3.wait_ephemeral("The dry run showed node pve;", timeout=30)
    assert said == (
        ":information_source: The dry run showed node pve; the VM goes to pve2: "
        "26 GiB free of 32 after this VM, the most of 2 nodes that can take it (not pve, shown "
        "before: pve is offline now, status 'offline' in /cluster/resources)."
    )
    name = _name_of(shown)
    _ready(bot3, name)
    made = next(g for g in bot3.env.pve.state.guests.values() if g.conf.get("name") == name)
    assert made.node == "pve2"
    bot3.env.pve.node_online("pve")
