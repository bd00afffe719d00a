"""`/solti template build DISTRO --all-nodes` through Slack: one approval covers every copy,
one message shows a row per node (issue 14, "Templates on many nodes"), on 3 local-storage
nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import (
    ALICE,
    APPROVALS,
    APPROVER,
    INFRA,
    POLICY,
    Harness,
    running_bot,
)


@pytest.fixture(scope="module")
def three() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=3, policy=POLICY) as env:
        yield env


@pytest.fixture
def bot3(three: SimEnvironment, standin: SlackStandIn, tmp_path: Path) -> Iterator[Harness]:
    standin.reset()
    three.reset()
    with running_bot(three, standin, tmp_path) as harness:
        yield harness


def test_one_approval_builds_a_copy_on_every_node_with_one_message(bot3: Harness) -> None:
    bot3.user.slash("template build rocky9 --all-nodes")
    bot3.wait_ephemeral("waiting for an approver")
    card = bot3.standin.wait_for(lambda: bot3.standin.last_message(APPROVALS), 20)
    assert "a copy on each of pve, pve2, pve3" in str(card["blocks"])
    bot3.user.click(card, "approval_approve", user=APPROVER)

    def final() -> dict | None:
        return next((m for m in bot3.standin.messages(INFRA)
                     if "3 of 3 made" in m.get("text", "")), None)  # fmt: skip

    message = bot3.standin.wait_for(final, 90)
    shown = str(message["blocks"])
    for node in ("pve", "pve2", "pve3"):
        assert f"`rocky9` on {node}" in shown
    posts = [c for c in bot3.standin.calls_to("chat.postMessage")
             if c.params.get("channel") == INFRA and not c.params.get("thread_ts")
             and "Building rocky9 templates" in c.params.get("text", "")]  # fmt: skip
    assert len(posts) == 1  # one progress message for the three copies
    templates = bot3.provisioner.list_templates("rocky9")
    assert sorted(t.node for t in templates) == ["pve", "pve2", "pve3"]
    assert len({t.version for t in templates}) == 1
    builds = bot3.audit.query(action="template build", result="ok")
    assert len(builds) == 3 and {b.approver for b in builds} == {APPROVER}
    bot3.user.slash("template list")
    bot3.wait_ephemeral("Templates")
    listing = str(bot3.standin.ephemerals(ALICE)[-1]["blocks"])
    assert "on pve, pve2, pve3" in listing and listing.count("rocky9-template") == 1
