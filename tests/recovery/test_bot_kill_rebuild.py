"""Kill `solti bot` (SIGKILL) inside the clone of a rebuild started by a signed [Rebuild] click,
start it again: its recovery job finishes the rebuild from the journal (the old VM was already
destroyed) and edits the rebuild's live progress message to that final state, telling the
requester in its thread (issue 15: a rebuild in Slack is crash-safe like a create).
"""

# ruff: noqa: F811  (the fixtures are imported from the create test and used by name)
from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from solti.provisioning.notes import render_notes
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn, SlackUser
from tests.recovery.test_bot_kill_at_every_step import (  # noqa: F401  (fixtures)
    ALICE,
    INFRA,
    SIGNING_SECRET,
    BotProcess,
    _audit,
    _running_step,
    bot,
    slack,
    world,
)

pytestmark = pytest.mark.timeout(240)


def _newer_build(world: SimEnvironment) -> str:
    version = "9.7-20261201"
    notes = render_notes({"distribution": "rocky9", "version": version,
                          "build_date": datetime(2026, 12, 1, tzinfo=UTC).isoformat()})  # fmt: skip
    tags = ["solti", "template", "rocky9"]
    world.pve.state.add_template(9001, "rocky9-template", disk_size="10G", tags=tags,
                                 description=notes)  # fmt: skip
    return version


def _message(slack: SlackStandIn, needle: str) -> dict[str, Any]:
    def posted() -> dict[str, Any] | None:
        found = [m for m in slack.messages(INFRA) if needle in str(m.get("blocks"))]
        return found[0] if found else None

    return slack.wait_for(posted, timeout=60)


def test_kill_the_bot_inside_a_rebuilds_clone_then_restart_it(
    bot: BotProcess, world: SimEnvironment, slack: SlackStandIn
) -> None:
    db = bot.env["SOLTI_DB"]
    user = SlackUser(bot.url + "/slack/events", SIGNING_SECRET, slack)
    assert user.slash("vm create rocky9 --disk 20G --ip 10.0.0.7/24 --gw 10.0.0.1").ok
    slack.wait_for(
        lambda: _audit(db, "SELECT 1 FROM audit WHERE action = 'vm create' AND result = 'ok'"),
        timeout=60,
    )
    before = dict(world.pve.state.guests[500].conf)
    version = _newer_build(world)
    assert user.slash("vm rebuild 500").ok
    prompt = slack.wait_for(
        lambda: next((m for m in slack.ephemerals(ALICE) if "Rebuild VM" in m["text"]), None), 30
    )
    world.pve.faults.task_duration("qmclone", 3)
    assert user.click(prompt, "vm_rebuild").ok
    message = _message(slack, "Rebuild of VM 500")
    deadline = time.monotonic() + 60
    while _running_step(db, "vm rebuild") != "clone":
        assert time.monotonic() < deadline, "never saw step clone"
        time.sleep(0.05)
    time.sleep(0.3)  # inside the step: the old VM destroyed, the clone's task running
    bot.kill()
    assert "rebuilt" not in str(slack.messages(INFRA))
    world.pve.faults.clear()

    bot.start()  # recovery runs at start

    def final() -> dict[str, Any] | None:
        (now,) = [m for m in slack.messages(INFRA) if m["ts"] == message["ts"]]
        return now if "after a restart" in now.get("text", "") else None

    text = slack.wait_for(final, timeout=90)["text"]
    assert "finished after a restart: VM 500 " in text and "from template 9001" in text, text
    after = world.pve.state.guests[500].conf
    assert after["net0"] == before["net0"] and after["ipconfig0"] == before["ipconfig0"]
    assert world.pve.state.guests[500].running
    rows = _audit(db, "SELECT result, template_version FROM audit WHERE action = 'vm rebuild'")
    assert rows == [("ok", version)]
    thread = slack.wait_for(
        lambda: [m for m in slack.messages(INFRA, thread_ts=message["ts"])
                 if "restarted" in m.get("text", "")],
        timeout=10,
    )  # fmt: skip
    assert f"<@{ALICE}>" in thread[0]["text"]
    states = _audit(db, "SELECT state FROM slack_progress_messages")
    assert ("open",) not in states
