"""The bot's main flows with the workspace run as an Enterprise Grid org (org-wide install,
W-prefixed user ids, `team: null` in interactions).

https://docs.slack.dev/enterprise-grid (org-wide apps and their payloads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import GridOrg, SlackStandIn
from tests.bot.conftest import APPROVALS, INFRA, REPORTS, Harness, make_harness, new_key

ALICE_W = "W0ALICE"


@pytest.fixture
def grid_bot(
    sim: SimEnvironment, tmp_path: Path, template_built: int
) -> Iterator[tuple[Harness, SlackStandIn]]:
    with SlackStandIn(grid=GridOrg()) as standin:
        for channel, name in ((INFRA, "infra"), (APPROVALS, "approvals"), (REPORTS, "reports")):
            standin.add_channel(channel, name)
        harness = make_harness(sim, standin, tmp_path)
        harness.user = replace(harness.user, user_id=ALICE_W)
        try:
            yield harness, standin
        finally:
            harness.server.stop()
            assert not standin.ack_timeouts


def test_key_dry_run_form_and_create_under_grid(
    grid_bot: tuple[Harness, SlackStandIn], template_built: int
) -> None:
    bot, standin = grid_bot
    bot.user.slash(f"key set {new_key('alice@example.com')}")
    bot.wait_ephemeral("Fingerprint", user=ALICE_W)
    bot.user.slash("vm create rocky9 --dry-run")
    bot.wait_ephemeral("Dry run", user=ALICE_W)
    plan = standin.ephemerals(ALICE_W)[-1]
    bot.user.click(plan, "open_create_modal")
    view = standin.wait_for(
        lambda: [v for v in standin.open_views(ALICE_W) if v.get("callback_id") == "vm_create"],
        20,
    )[0]
    reply = bot.user.submit_view(view, {"template": str(template_built), "name": "grid-vm"})
    assert reply.status_code == 200 and not reply.content.strip()
    standin.wait_for(
        lambda: [
            m
            for m in standin.messages(INFRA)
            if "grid-vm" in m.get("text", "") and "is ready" in m.get("text", "")
        ],
        30,
    )
    created = [r for r in bot.audit.query(user=ALICE_W) if r.action == "vm create"]
    assert created and created[-1].result == "ok"
    assert not [c for c in standin.calls if c.response.get("ok") is False]
