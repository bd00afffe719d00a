"""A create from Slack plans once: at most the CLI's 6 Proxmox requests besides polls.

Counted from the simulator's request log (``PveSimulator.requests``), from the moment the
person asks for the VM (the slash command, the form's submit) until the ready message is
posted. Task-status polls (``/tasks/.../status``) and guest-agent calls (``/agent/...``) are
left out: their number depends on how long Proxmox takes, not on how the bot plans.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.bot.conftest import ALICE, INFRA, KEY, Harness

BUDGET = 6


@pytest.fixture
def settled(bot: Harness) -> Iterator[None]:
    """VMs made by earlier tests listed with their names at once (no RRD lag), as the CLI's
    6 are counted: a default name otherwise costs one live list per node to stay unique."""
    state = bot.env.pve.state
    lag, state.rrd_lag = state.rrd_lag, 0
    yield
    state.rrd_lag = lag


def _counted(bot: Harness, start: int) -> list[str]:
    """``METHOD path`` of every request since ``start`` that is not a task or agent poll."""
    return [
        f"{r.method} {r.path}"
        for r in bot.env.pve.requests[start:]
        if not ("/tasks/" in r.path and r.path.endswith("/status")) and "/agent/" not in r.path
    ]


def _ready(bot: Harness, name: str) -> dict[str, Any]:
    return bot.standin.wait_for(
        lambda: next(
            (
                m
                for m in bot.standin.messages(INFRA)
                if name in m.get("text", "") and "is ready" in m.get("text", "")
            ),
            None,
        ),
        30,
    )


def _create_view(bot: Harness) -> dict[str, Any]:
    return bot.standin.wait_for(
        lambda: [v for v in bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"],
        20,
    )[-1]


def _assert_planned_once(made: list[str]) -> None:
    assert len(made) <= BUDGET, made
    assert sum(1 for r in made if r.endswith("/cluster/resources")) == 1, made
    assert sum(1 for r in made if r.startswith("GET") and r.endswith("/config")) <= 1, made


def test_slash_command_create_costs_what_the_cli_costs(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    start = len(bot.env.pve.requests)
    bot.user.slash("vm create rocky9 --name counted-slash")
    _ready(bot, "counted-slash")
    made = _counted(bot, start)
    _assert_planned_once(made)
    assert sum(1 for r in made if r.startswith("POST") and r.endswith("/clone")) == 1, made


def test_form_create_plans_once(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create")
    view = _create_view(bot)
    template = str(bot.extras["template_vmid"])
    start = len(bot.env.pve.requests)
    reply = bot.user.submit_view(view, {"template": template, "name": "counted-form"})
    assert reply.status_code == 200 and not reply.content.strip()
    _ready(bot, "counted-form")
    _assert_planned_once(_counted(bot, start))


def test_customize_after_a_dry_run_builds_the_plan_shown(bot: Harness, settled: None) -> None:
    """Dry run -> Customize… -> submit unchanged: the VMID and name shown are the ones made,
    and the submit plans once (its snapshot re-checks that they are still free)."""
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create rocky9 --dry-run")
    bot.wait_ephemeral("Dry run")
    shown = next(m for m in reversed(bot.standin.ephemerals(ALICE)) if "Dry run" in m["text"])
    name, vmid = shown["text"].split("would create ", 1)[1].split(" (VMID ")
    vmid = vmid.split(")")[0]
    bot.user.click(shown, "open_create_modal")
    view = _create_view(bot)
    start = len(bot.env.pve.requests)
    reply = bot.user.submit_view(view, {})
    assert reply.status_code == 200 and not reply.content.strip(), reply.content
    ready = _ready(bot, name)
    assert f"VMID {vmid}" in ready["text"], ready["text"]
    _assert_planned_once(_counted(bot, start))


def test_dry_run_plans_once(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    start = len(bot.env.pve.requests)
    bot.user.slash("vm create rocky9 --dry-run")
    bot.wait_ephemeral("Dry run")
    _assert_planned_once(_counted(bot, start))
