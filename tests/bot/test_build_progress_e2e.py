"""The build's thread in Slack says what each step did, as the VM create's thread does."""

from __future__ import annotations

import html
import re

import pytest

from solti.provisioning.template_build import BUILD_STEPS
from tests.bot.conftest import APPROVALS, APPROVER, INFRA, Harness

# Templates built here are destroyed after each test (see the fixture).
pytestmark = pytest.mark.usefixtures("templates_as_found")


def test_build_thread_gives_every_step_a_detail(bot: Harness) -> None:
    bot.user.slash("template build debian12")
    bot.wait_ephemeral("waiting for an approver")
    card = bot.standin.wait_for(lambda: bot.standin.last_message(APPROVALS), 20)
    bot.user.click(card, "approval_approve", user=APPROVER)
    done = bot.standin.wait_for(
        lambda: next(
            (m for m in bot.standin.messages(INFRA) if "is built" in m.get("text", "")), None
        ),
        60,
    )
    thread = bot.standin.wait_for(lambda: bot.standin.messages(INFRA, done["ts"]), 10)[-1]
    code = html.unescape(thread["blocks"][-1]["text"]["text"]).strip("`")  # as Slack shows it
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in code.splitlines()}
    assert set(BUILD_STEPS) <= set(lines), code

    build = bot.audit.query(action="template build", result="ok", limit=1)[0]
    vmid = build.template_vmid
    assert re.fullmatch(
        rf"{vmid}, next after {vmid - 1} \(highest template VMID in use\), \d+\.\ds",
        lines["vmid"],
    ), lines["vmid"]
    assert re.fullmatch(rf"VM {vmid}, \d+\.\ds", lines["create"]), lines["create"]
    assert re.fullmatch(r"3G -> 10G, \d+\.\ds", lines["resize"]), lines["resize"]  # Debian: 3G
    assert re.fullmatch(
        r"\d+ lines: version \S+ \([\w-]+\), sha512 checksum, image, sizes, hardware, builder, "
        r"build date, request id; tags debian, debian12, solti, template, \d+\.\ds",
        lines["notes"],
    ), lines["notes"]
    # A detail never reads as a bare time, the complaint that started this ("resize: 0.3s").
    assert not [s for s in BUILD_STEPS if re.fullmatch(r"\d+\.\ds", lines[s])], code
