"""Slash commands end to end: signed HTTP in, what the person sees out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from solti.provisioning.vm_create import CREATE_STEPS
from tests.bot.conftest import ALICE, BOB, INFRA, KEY, Harness


def _code_lines(message: dict[str, Any]) -> list[str]:
    """The lines inside the ``` block of a thread details message, as people read them."""
    text = "\n".join(b["text"]["text"] for b in message["blocks"] if b.get("type") == "section")
    return text.split("```")[1].splitlines()


def test_health_and_signatures(bot: Harness) -> None:
    import requests

    assert requests.get(bot.server.url + "/healthz", timeout=5).json() == {"ok": True}
    assert bot.user.slash("help", sign="bad").status_code == 401
    assert bot.user.slash("help", sign="stale").status_code == 401
    assert bot.user.slash("help", sign="missing").status_code == 401


def test_help_lists_grammar_with_examples_and_customize_button(bot: Harness) -> None:
    reply = bot.user.slash("help")
    assert reply.status_code == 200
    body = reply.json()
    text = str(body["blocks"])
    assert "/solti vm create rocky9" in text
    assert "template build" in text
    assert "open_create_modal" in text


def test_usage_errors_say_what_was_wrong_and_what_is_allowed(bot: Harness) -> None:
    unknown = bot.user.slash("frobnicate").json()
    assert "Unknown command `frobnicate`" in unknown["text"]
    assert "vm, template, key" in unknown["text"]
    no_value = bot.user.slash("vm create rocky9 --disk").json()
    assert "--disk needs a value" in no_value["text"]
    bad_size = bot.user.slash("vm create rocky9 --disk lots").json()
    assert bad_size["text"].startswith("--disk `lots` is not a size; use a number with G")
    assert "Type `/solti help`" in str(bad_size["blocks"]) or "Try:" in str(bad_size["blocks"])
    out_of_range = bot.user.slash("vm start 42").json()
    assert "out of range" in out_of_range["text"]
    bad_option = bot.user.slash("vm create rocky9 --colour red").json()
    assert "Unknown option `--colour`" in bad_option["text"]


def test_create_without_key_is_refused_with_how_to_add_one(bot: Harness) -> None:
    assert bot.user.slash("vm create rocky9").status_code == 200
    text = bot.wait_ephemeral("no SSH key registered")
    assert "/solti key set" in text
    assert not bot.standin.messages(INFRA)


def test_key_set_show_remove(bot: Harness) -> None:
    bot.user.slash("key set not-a-key")
    bot.wait_ephemeral("not an OpenSSH public key")
    bot.user.slash(f"key set {KEY}")
    saved = bot.wait_ephemeral("Fingerprint")
    assert "SHA256:" in saved and "alice@laptop" in saved
    bot.user.slash("key remove")
    bot.wait_ephemeral("Your SSH key is removed")


def test_dry_run_shows_plan_and_changes_nothing(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    before = len(bot.provisioner.list_vms())
    bot.user.slash("vm create rocky9 --disk 20G --dry-run")
    text = bot.wait_ephemeral("Dry run")
    plan = bot.standin.ephemerals(ALICE)[-1]
    shown = str(plan["blocks"])
    assert "rocky9" in shown and "VMID" in shown and "linked" in shown
    assert "open_create_modal" in shown
    assert "would create" in text
    assert len(bot.provisioner.list_vms()) == before


def test_unknown_distribution_and_vmid_in_use(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create nosuchos")
    bot.wait_ephemeral("nosuchos")
    bot.user.slash(f"vm create rocky9 --vmid {bot.extras['template_vmid']}")
    text = bot.wait_ephemeral(str(bot.extras["template_vmid"]))
    assert "Dry run" not in text


def test_create_shows_live_progress_and_final_state(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create rocky9 --name web-progress --disk 20G")

    def final() -> dict | None:
        msgs = bot.standin.messages(INFRA)
        return msgs[0] if msgs and "is ready" in msgs[0].get("text", "") else None

    message = bot.standin.wait_for(final, timeout=30)
    revisions = bot.standin.revisions(INFRA, message["ts"])
    assert len(revisions) >= 3  # posted, at least one step edit, the final state
    assert any("running" in str(r) or ":gear:" in str(r) for r in revisions[:-1])
    shown = str(message["blocks"])
    # The requester is a real mention in every progress edit, never the escaped &lt;@U…&gt;.
    updates = [str(c.params.get("blocks")) for c in bot.standin.calls_to("chat.update")]
    steps = [u for u in updates if "is ready" not in u]  # the final state may be edited twice
    assert steps and all(f"<@{ALICE}>" in u for u in steps)
    assert not any("&lt;@" in u for u in updates)
    for needle in ("web-progress", "VMID", "Node", "Template version", "linked", "Log in"):
        assert needle in shown
    thread = bot.standin.wait_for(lambda: bot.standin.messages(INFRA, message["ts"]), 10)
    assert "request" in str(thread)
    # One line per step in the thread, what it did and how long together: never the step
    # once for its detail and again for its time.
    lines = _code_lines(thread[-1])
    steps = [line for line in lines if line.split(":", 1)[0] in CREATE_STEPS]
    names = [line.split(":", 1)[0] for line in steps]
    assert names == CREATE_STEPS, lines
    assert all(re.search(r", \d+\.\ds$|: \d+\.\ds$", line) for line in steps), steps
    assert any(re.fullmatch(r"clone: .*VM.*, \d+\.\ds", line) for line in steps), steps
    vm = next(v for v in bot.provisioner.list_vms() if v.name == "web-progress")
    assert vm.owner == ALICE
    # Only the owner or an admin may remove it.
    bot.user.slash(f"vm remove {vm.vmid}", user=BOB)
    bot.wait_ephemeral("only its owner or an admin", user=BOB)
    bot.user.slash(f"vm remove {vm.vmid}")
    bot.wait_ephemeral("Remove VM")
    prompt = [m for m in bot.standin.ephemerals(ALICE) if "Remove VM" in m.get("text", "")][-1]
    assert "confirm" in str(prompt["blocks"])
    # Bob clicks Remove on a prompt shown to him: refused with the reason alone, as
    # `/solti help` is no help for a button click.
    bot.standin.state.post_ephemeral(
        INFRA, BOB, {"text": prompt["text"], "blocks": prompt["blocks"]}
    )
    bot.user.click(bot.standin.ephemerals(BOB)[-1], "vm_remove", user=BOB)
    refused = bot.standin.wait_for(
        lambda: [m for m in bot.standin.ephemerals(BOB) if "only its owner" in m["text"]], 20
    )[-1]
    assert "/solti help" not in str(refused["blocks"])
    assert vm.vmid in {v.vmid for v in bot.provisioner.list_vms()}
    bot.user.click(prompt, "vm_remove")
    bot.standin.wait_for(lambda: any("is removed" in t for t in bot.ephemeral_texts()), timeout=20)
    assert all(v.vmid != vm.vmid for v in bot.provisioner.list_vms())


def test_a_retried_event_is_dropped_and_the_first_delivery_runs(bot: Harness) -> None:
    """Slack retries Events API deliveries (docs.slack.dev/apis/events-api/#retries), never
    slash commands: a retry of ``app_home_opened`` must not publish the Home tab again."""
    before = len(bot.standin.calls_to("views.publish"))
    assert bot.user.open_home(retry_num=1, retry_reason="http_timeout").status_code == 200
    assert len(bot.standin.calls_to("views.publish")) == before  # the retry ran nothing
    assert bot.user.open_home().status_code == 200
    bot.standin.wait_for(lambda: len(bot.standin.calls_to("views.publish")) > before, 20)
    with pytest.raises(ValueError, match="never retries a slash_command"):
        bot.user.slash("key show", retry_num=1)


def test_proxmox_down_gives_clear_message_and_bot_keeps_serving(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.env.pve.faults.drop_connections(50)
    try:
        bot.user.slash("vm list")
        bot.wait_ephemeral("Proxmox VE is not answering", timeout=30)
    finally:
        bot.env.pve.faults.clear()
    assert bot.user.slash("help").status_code == 200
    bot.user.slash("template list")
    bot.wait_ephemeral("Templates")


def test_garbage_from_slack_never_crashes_the_bot(bot: Harness) -> None:
    assert bot.user.post_payload({"type": "block_actions", "actions": []}).status_code < 500
    odd = {
        "type": "block_actions",
        "user": {"id": ALICE},
        "trigger_id": "t-odd",
        "actions": [{"action_id": "approval_approve", "value": "req-nope", "action_ts": "1.1"}],
        "response_url": bot.standin.response_url("odd", channel=INFRA, user=ALICE),
    }
    assert bot.user.post_payload(odd).status_code == 200
    bot.wait_ephemeral("is unknown")
    assert bot.user.slash("help").status_code == 200
