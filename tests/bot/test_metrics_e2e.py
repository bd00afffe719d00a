"""Metrics fed by the bot, read back from GET /metrics as Prometheus would."""

from __future__ import annotations

from tests.bot.conftest import ALICE, APPROVALS, APPROVER, INFRA, KEY, Harness

ACKS = "solti_ack_latency_seconds_count"


def test_each_signed_request_observes_the_ack_latency(bot: Harness) -> None:
    before = bot.metric(ACKS)
    assert bot.user.slash("help").status_code == 200
    assert bot.user.slash("vm create rocky9 --disk").status_code == 200
    assert bot.metric(ACKS) == before + 2
    # Every answer on /slack/events is timed, a refused signature too (Slack waits for it).
    assert bot.user.slash("help", sign="bad").status_code == 401
    assert bot.metric(ACKS) == before + 3
    # Other routes are not.
    assert bot.metric(ACKS) == before + 3


def test_commands_answered_in_the_ack_are_counted(bot: Harness) -> None:
    help_ok = 'solti_commands_total{outcome="ok",verb="help"}'
    invalid = 'solti_commands_total{outcome="invalid",verb="vm"}'
    help_before, invalid_before = bot.metric(help_ok), bot.metric(invalid)
    bot.user.slash("help")
    bot.user.slash("vm create rocky9 --disk")
    assert bot.metric(help_ok) == help_before + 1
    assert bot.metric(invalid) == invalid_before + 1


def test_approvals_waiting_goes_up_then_down_and_clicks_are_counted(bot: Harness) -> None:
    denied = 'solti_commands_total{outcome="ok",verb="approval deny"}'
    clicks_before = bot.metric(denied)
    bot.wait_metric("solti_approvals_waiting", 0)
    bot.user.slash("template build debian12")
    bot.wait_ephemeral("waiting for an approver")
    card = bot.standin.wait_for(lambda: bot.standin.last_message(APPROVALS), 20)
    bot.wait_metric("solti_approvals_waiting", 1)
    bot.user.click(card, "approval_deny", user=APPROVER)
    bot.standin.wait_for(lambda: "Denied" in str(bot.standin.last_message(APPROVALS)["blocks"]), 20)
    bot.wait_metric("solti_approvals_waiting", 0)
    bot.wait_counted(denied, clicks_before + 1)


def test_a_create_from_the_form_is_counted(bot: Harness) -> None:
    created = 'solti_commands_total{outcome="ok",verb="vm create"}'
    before = bot.metric(created)
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create")
    view = bot.standin.wait_for(
        lambda: [v for v in bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"],
        20,
    )[0]
    template = str(bot.extras["template_vmid"])
    reply = bot.user.submit_view(view, {"template": template, "name": "metric-form"})
    assert reply.status_code == 200 and not reply.content.strip()
    bot.standin.wait_for(
        lambda: [m for m in bot.standin.messages(INFRA) if "metric-form" in m.get("text", "")],
        30,
    )
    bot.wait_counted(created, before + 1)
