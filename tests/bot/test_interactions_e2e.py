"""Buttons, the modal and approvals end to end, plus reports and the audit view."""

from __future__ import annotations

import re

from solti.bot.flows.approval_lifecycle import expire_due
from solti.provisioning.template_build import BUILD_STEPS
from tests.bot.conftest import ADMIN, ALICE, APPROVALS, APPROVER, BOB, INFRA, KEY, REPORTS, Harness


def _card(bot: Harness) -> dict:
    return bot.standin.wait_for(lambda: bot.standin.last_message(APPROVALS), 20)


def _build_count(bot: Harness) -> int:
    return len([r for r in bot.audit.query(limit=500) if r.action == "template build"])


def test_approval_refusals_then_approve_once(bot: Harness) -> None:
    bot.user.slash("template build debian12")
    bot.wait_ephemeral("waiting for an approver")
    card = _card(bot)
    shown = str(card["blocks"])
    assert "debian12" in shown and "Upstream version" in shown and "Replaces" in shown
    assert "approval_approve" in shown and "approval_deny" in shown

    bot.user.click(card, "approval_approve")  # alice approving her own request
    bot.wait_ephemeral("cannot approve or deny your own request")
    refused = bot.standin.ephemerals(ALICE)[-1]
    assert "/solti help" not in str(refused["blocks"])  # a click is not a mistyped command
    bot.user.click(card, "approval_approve", user=BOB)  # not an approver
    bot.wait_ephemeral("Only approvers", user=BOB)
    denied = [r for r in bot.audit.query(limit=50) if r.result == "denied"]
    assert {r.actor for r in denied} >= {ALICE, BOB}
    assert "approval_approve" in str(bot.standin.last_message(APPROVALS)["blocks"])

    builds_before = _build_count(bot)
    bot.user.click(card, "approval_approve", user=APPROVER)
    decided = bot.standin.wait_for(
        lambda: (
            "Approved" in str(bot.standin.last_message(APPROVALS)["blocks"])
            and bot.standin.last_message(APPROVALS)
        ),
        20,
    )
    assert "approval_approve" not in str(decided["blocks"])
    assert f"<@{APPROVER}>" in str(decided["blocks"])
    done = bot.standin.wait_for(
        lambda: [m for m in bot.standin.messages(INFRA) if "is built" in m.get("text", "")], 60
    )
    assert "debian12" in str(done[0]["blocks"])
    # The thread names the approver with a mention people see as a name, outside the code
    # block (inside one Slack would show the raw id).
    details = bot.standin.wait_for(lambda: bot.standin.messages(INFRA, done[0]["ts"]), 10)[-1]
    note, code = (b["text"]["text"] for b in details["blocks"])
    assert re.fullmatch(rf"Approval `req-[\w-]+` by <@{APPROVER}>", note), note
    assert code.startswith("```") and APPROVER not in code
    steps = [line.split(":", 1)[0] for line in code.strip("`").splitlines()]
    assert [s for s in steps if s in BUILD_STEPS] == BUILD_STEPS  # each step once
    assert any("was approved by" in m.get("text", "") for m in bot.standin.messages(INFRA))
    # A second click (double click or replay) starts nothing.
    bot.user.click(card, "approval_approve", user=ADMIN)
    bot.wait_ephemeral("already approved", user=ADMIN)
    assert _build_count(bot) == builds_before + 1
    approvals = [r for r in bot.audit.query(limit=50) if r.action == "template build approve"]
    assert any(r.result == "ok" and r.approver == APPROVER for r in approvals)


def test_deny_and_expiry_are_distinct(bot: Harness) -> None:
    bot.user.slash("template build rocky9")
    bot.wait_ephemeral("waiting for an approver")
    card = _card(bot)
    bot.user.click(card, "approval_deny", user=APPROVER)
    bot.standin.wait_for(lambda: "Denied" in str(bot.standin.last_message(APPROVALS)["blocks"]), 20)
    bot.standin.wait_for(
        lambda: any("was denied by" in m.get("text", "") for m in bot.standin.messages(INFRA)), 10
    )

    bot.user.slash(f"template destroy {bot.extras['template_vmid']}")
    bot.wait_ephemeral("destroy request")
    second = bot.standin.wait_for(
        lambda: (m := bot.standin.last_message(APPROVALS)) and m["ts"] != card["ts"] and m, 20
    )
    bot.clock.advance(hours=3)
    assert expire_due(bot.runtime) == 1
    expired = bot.standin.last_message(APPROVALS)
    assert "Expired" in str(expired["blocks"]) and "approval_approve" not in str(expired["blocks"])
    bot.user.click(second, "approval_approve", user=APPROVER)
    bot.wait_ephemeral("already expired", user=APPROVER)
    results = {r.action: r.result for r in bot.audit.query(limit=50)}
    assert results["template build deny"] == "denied"
    assert results["template destroy expire"] == "expired"
    assert bot.provisioner.verify_template(bot.extras["template_vmid"])


def test_modal_opens_with_templates_and_shows_field_errors(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create")
    view = bot.standin.wait_for(
        lambda: [v for v in bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"],
        20,
    )[0]
    select = next(b for b in view["blocks"] if b.get("block_id") == "template")
    template = str(bot.extras["template_vmid"])
    rocky = next(o for o in select["element"]["options"] if o["value"] == template)
    assert rocky["text"]["text"].startswith("rocky9 · ")
    assert rocky["text"]["text"].endswith(f"(VMID {template})")

    reply = bot.user.submit_view(view, {"template": template, "disk": "huge"})
    assert reply.json()["response_action"] == "errors"
    # Shown under the disk field: the input as typed, no `disk:` prefix, as the command says.
    assert reply.json()["errors"] == {
        "disk": '"huge" is not a size; use a number with G (or M, T), e.g. 32G.'
    }
    reply = bot.user.submit_view(view, {"template": template, "name": "Not_A_Host!"})
    shown = reply.json()["errors"]["name"]
    assert not shown.startswith("name:") and "Not_A_Host!" in shown, shown
    reply = bot.user.submit_view(
        view, {"template": template, "vmid": str(bot.extras["template_vmid"]), "disk": ""}
    )
    assert "vmid" in reply.json()["errors"]

    reply = bot.user.submit_view(view, {"template": template, "vmid": "", "name": "from-modal"})
    assert reply.status_code == 200 and not reply.content.strip()
    bot.standin.wait_for(
        lambda: [
            m
            for m in bot.standin.messages(INFRA)
            if "from-modal" in m.get("text", "") and "is ready" in m.get("text", "")
        ],
        30,
    )


def test_customize_button_on_help_opens_modal(bot: Harness) -> None:
    reply = bot.user.slash("help").json()
    bot.standin.state.post_ephemeral(
        INFRA, ALICE, {"text": reply["text"], "blocks": reply["blocks"]}
    )
    message = bot.standin.ephemerals(ALICE)[-1]
    bot.user.click(message, "open_create_modal")
    bot.standin.wait_for(
        lambda: [v for v in bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"],
        20,
    )


def test_report_posts_template_facts(bot: Harness) -> None:
    bot.user.slash("report", channel=REPORTS)
    report = bot.standin.wait_for(lambda: bot.standin.last_message(REPORTS), 30)
    shown = str(report["blocks"])
    assert "rocky9" in shown and str(bot.extras["template_vmid"]) in shown
    assert "checksum" in shown and "cloned from it" in shown
    assert len(report["blocks"]) <= 50


def test_report_gets_through_a_slack_rate_limit(bot: Harness) -> None:
    bot.standin.rate_limit_next("chat.postMessage", retry_after=0, times=2)
    bot.user.slash("report", channel=REPORTS)
    report = bot.standin.wait_for(lambda: bot.standin.last_message(REPORTS), 30)
    assert "rocky9" in str(report["blocks"])
    assert len([c for c in bot.standin.calls_to("chat.postMessage") if c.status == 429]) == 2


def test_audit_view_is_ephemeral_and_filtered(bot: Harness) -> None:
    bot.audit.record("vm stop", ALICE, "slack", "denied", error="not owner", vmid=777)
    bot.audit.record("vm stop", BOB, "slack", "ok", vmid=778)
    bot.user.slash(f"audit --user <@{ALICE}|alice>")
    text = bot.wait_ephemeral("Audit")
    blocks = str(bot.standin.ephemerals(ALICE)[-1]["blocks"])
    assert "VMID 777" in blocks and "VMID 778" not in blocks
    assert "records" in text
