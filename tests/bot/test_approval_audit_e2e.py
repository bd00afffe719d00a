"""The audit row of a template request ends with its decision, restarts included.

A ``template build request`` or ``template destroy request`` row is written ``running`` when
the request is posted; the approval, denial or expiry completes it (``ok``/``denied``/
``expired``, who decided, why nothing ran). The approved work keeps its own row under the same
request id, so a failed build does not rewrite the decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from solti.bot.flows.approval_lifecycle import expire_due
from solti.bot.flows.approval_records import complete_decided_requests
from solti.provisioning import AuditRecord
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.bot.conftest import ALICE, APPROVALS, APPROVER, INFRA, Harness, make_harness

# Templates built here are destroyed after each test (see the fixture).
pytestmark = pytest.mark.usefixtures("templates_as_found")


def _ask(bot: Harness, text: str) -> tuple[str, dict]:
    """Post a request as Alice; the request id (from her reply) and the approval card."""
    before, seen = bot.standin.last_message(APPROVALS), len(bot.ephemeral_texts())
    bot.user.slash(text)
    reply = bot.standin.wait_for(
        lambda: next((t for t in bot.ephemeral_texts()[seen:] if "waiting for an" in t), None),
        10,
    )
    request_id = re.search(r"`(req-[\w-]+)`", reply)
    assert request_id, reply
    card = bot.standin.wait_for(
        lambda: (m := bot.standin.last_message(APPROVALS)) and m != before and m, 20
    )
    assert request_id.group(1) in str(card["blocks"])
    return request_id.group(1), card


def _row(bot: Harness, request_id: str, action: str) -> AuditRecord:
    row = bot.audit.find_by_request_id(request_id, action=action)
    assert row is not None, f"no {action} row for {request_id}"
    return row


def _settled(bot: Harness, request_id: str, action: str, timeout: float = 20) -> AuditRecord:
    """The row once it is no longer ``running`` (decisions run after the ack)."""

    def done() -> AuditRecord | None:
        row = bot.audit.find_by_request_id(request_id, action=action)
        return row if row is not None and row.result != "running" else None

    return bot.standin.wait_for(done, timeout)


def test_request_row_runs_until_approved_then_ends_ok_beside_the_build_row(bot: Harness) -> None:
    request_id, card = _ask(bot, "template build debian12")
    waiting = _row(bot, request_id, "template build request")
    assert (waiting.result, waiting.actor, waiting.approver) == ("running", ALICE, None)
    assert waiting.params["target"] == "debian12"

    bot.user.click(card, "approval_approve", user=APPROVER)
    request = _settled(bot, request_id, "template build request")
    assert (request.result, request.approver, request.error) == ("ok", APPROVER, None)
    assert request.params["decision"] == "approved"
    assert request.duration_ms is not None and request.duration_ms >= 0
    # The build is its own row under the same request id, with its own outcome.
    build = _settled(bot, request_id, "template build", timeout=60)
    assert (build.result, build.actor, build.approver) == ("ok", ALICE, APPROVER)
    assert build.template_vmid is not None
    bot.standin.wait_for(
        lambda: any("is built" in m.get("text", "") for m in bot.standin.messages(INFRA)), 20
    )
    assert not bot.audit.query(action="template build request", result="running")


def test_a_failed_build_keeps_the_approval_and_fails_its_own_row(
    bot: Harness, sim: SimEnvironment
) -> None:
    request_id, card = _ask(bot, "template build rocky9")
    sim.pve.faults.fail_next_task("qmcreate", "unable to create VM: storage is full")
    try:
        bot.user.click(card, "approval_approve", user=APPROVER)
        build = _settled(bot, request_id, "template build", timeout=60)
    finally:
        sim.pve.faults.clear()
    assert build.result == "failed" and "storage is full" in (build.error or "")
    request = _row(bot, request_id, "template build request")
    assert (request.result, request.approver, request.error) == ("ok", APPROVER, None)


def test_denied_and_expired_requests_end_their_rows(bot: Harness) -> None:
    build_id, card = _ask(bot, "template build rocky9")
    bot.user.click(card, "approval_deny", user=APPROVER)
    denied = _settled(bot, build_id, "template build request")
    assert (denied.result, denied.approver) == ("denied", APPROVER)
    assert denied.error == f"denied by {APPROVER}"
    assert denied.params["decision"] == "denied"
    assert bot.audit.find_by_request_id(build_id, action="template build") is None

    destroy_id, _ = _ask(bot, f"template destroy {bot.extras['template_vmid']}")
    assert _row(bot, destroy_id, "template destroy request").result == "running"
    bot.clock.advance(hours=3)
    assert expire_due(bot.runtime) == 1
    expired = _row(bot, destroy_id, "template destroy request")
    assert (expired.result, expired.approver) == ("expired", None)
    assert expired.error and expired.error.startswith("no approver decided before ")
    # Waited (simulated) hours: the duration is the wait, not the moment of the sweep.
    assert expired.duration_ms is not None and expired.duration_ms >= 2 * 3600 * 1000
    assert bot.provisioner.verify_template(bot.extras["template_vmid"])


@pytest.fixture
def restart(
    bot: Harness, sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path
) -> Iterator[Callable[[], Harness]]:
    """Stop the bot and start its second life on the same database file (fresh objects)."""
    lives: list[Harness] = []

    def again() -> Harness:
        bot.server.stop()
        lives.append(make_harness(sim, standin, tmp_path))
        return lives[-1]

    try:
        yield again
    finally:
        for life in lives:
            life.server.stop()


def test_requests_pending_across_a_restart_still_end_their_rows(
    bot: Harness, restart: Callable[[], Harness]
) -> None:
    first = bot
    build_id, card = _ask(first, "template build rocky9")
    destroy_id, _ = _ask(first, f"template destroy {first.extras['template_vmid']}")

    second = restart()
    assert second.db == first.db and second.audit is not first.audit
    second.user.click(card, "approval_deny", user=APPROVER)
    denied = _settled(second, build_id, "template build request")
    assert (denied.result, denied.approver, denied.error) == (
        "denied",
        APPROVER,
        f"denied by {APPROVER}",
    )

    second.clock.advance(hours=3)
    assert expire_due(second.runtime) == 1
    expired = _row(second, destroy_id, "template destroy request")
    assert (expired.result, expired.approver) == ("expired", None)
    assert expired.error and "no approver decided" in expired.error


def test_the_sweep_settles_rows_of_requests_decided_without_a_record(bot: Harness) -> None:
    """A stop between the decision and its record (or a row from before rows were completed)."""
    request_id, _ = _ask(bot, "template build rocky9")
    outcome = bot.runtime.approvals.decide(request_id, "denied", APPROVER)
    assert outcome is not None and outcome.changed
    assert _row(bot, request_id, "template build request").result == "running"

    assert expire_due(bot.runtime) == 0  # nothing was due, yet the row is settled
    row = _row(bot, request_id, "template build request")
    assert (row.result, row.approver, row.error) == ("denied", APPROVER, f"denied by {APPROVER}")
    assert complete_decided_requests(bot.runtime) == 0  # settled once, left alone after
    assert _row(bot, request_id, "template build request").error == f"denied by {APPROVER}"


def test_cards_and_notices_get_through_slack_rate_limits(bot: Harness) -> None:
    """Slack answers 429 to the card and to its update: both are retried after Retry-After."""
    bot.standin.rate_limit_next("chat.postMessage", retry_after=0, times=2)
    request_id, card = _ask(bot, f"template destroy {bot.extras['template_vmid']}")
    limited = [c for c in bot.standin.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) == 2  # refused twice, then the card went out
    bot.standin.rate_limit_next("chat.update", retry_after=0, times=3)
    bot.user.click(card, "approval_deny", user=APPROVER)
    _settled(bot, request_id, "template destroy request")
    decided = bot.standin.wait_for(
        lambda: (m := bot.standin.last_message(APPROVALS)) and "Denied" in str(m) and m, 20
    )
    assert "approval_approve" not in str(decided["blocks"])  # the buttons are gone
    assert len([c for c in bot.standin.calls_to("chat.update") if c.status == 429]) == 3
