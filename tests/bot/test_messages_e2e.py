"""What a new user reads: provisioning errors as sentences, the form's hints and prefill.

Each test drives the real bot over signed HTTP with the Slack stand-in and the simulated
cluster, and asserts on the text and blocks the person is shown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from solti.bot.blocks import report
from solti.bot.listeners import views
from solti.provisioning import UpdateStatus
from tests.bot.conftest import ALICE, INFRA, KEY, REPORTS, Harness


def _last_ephemeral(bot: Harness, needle: str) -> dict[str, Any]:
    bot.wait_ephemeral(needle)
    return next(m for m in reversed(bot.standin.ephemerals(ALICE)) if needle in m["text"])


def _only_the_sentence(message: dict[str, Any]) -> str:
    """The refusal is one section: no `field:` prefix, no usage block under it."""
    assert [b["type"] for b in message["blocks"]] == ["section"], message["blocks"]
    text = message["blocks"][0]["text"]["text"]
    assert "/solti vm create [TEMPLATE]" not in text and "Try:" not in text
    return text


def _create_view(bot: Harness) -> dict[str, Any]:
    return bot.standin.wait_for(
        lambda: [v for v in bot.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"],
        20,
    )[-1]


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def test_create_without_a_key_is_a_sentence_without_field_or_usage(bot: Harness) -> None:
    bot.user.slash("vm create rocky9")
    message = _last_ephemeral(bot, "no SSH key registered")
    text = _only_the_sentence(message)
    assert text.startswith(":warning: You have no SSH key registered, so you could not log in")
    assert "ssh_key:" not in message["text"] and message["text"].endswith("then try again.")


def test_key_show_without_a_key_reads_as_two_sentences(bot: Harness) -> None:
    bot.user.slash("key show")
    text = bot.wait_ephemeral("no SSH key registered")
    assert text == (
        "You have no SSH key registered. Add yours once with "
        "`/solti key set ssh-ed25519 AAAA... you@laptop` "
        "(paste the contents of `~/.ssh/id_ed25519.pub`)."
    )


def test_vmid_in_the_template_range_names_the_field_in_words(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create rocky9 --vmid 9500")
    message = _last_ephemeral(bot, "template range")
    text = _only_the_sentence(message)
    assert text.startswith(":warning: VMID 9500 is in the template range 9000-9999")
    assert "vmid:" not in text and text.endswith(".")


def test_vm_action_on_a_missing_vm_has_no_usage_block(bot: Harness) -> None:
    bot.user.slash("vm stop 12345")
    message = _last_ephemeral(bot, "There is no VM")
    assert _only_the_sentence(message) == (
        ":warning: There is no VM with VMID 12345. `/solti vm list` shows them."
    )


def test_a_vmid_that_is_not_a_number_is_still_a_usage_error(bot: Harness) -> None:
    body = bot.user.slash("vm stop abc").json()
    assert body["text"] == "VMID must be a whole number (100 or more), not `abc`."
    assert "Try:" in str(body["blocks"])  # grammar errors keep their usage


def _can_clone(bot: Harness) -> tuple[list[str], str]:
    """The distributions with a template on the (shared) simulated cluster, and the sentence.

    Other tests of the package build templates on the same cluster, so the list is read, not
    assumed; rocky9 is always there (the harness builds it).
    """
    built = sorted({t.distribution for t in bot.runtime.provisioner.list_templates()})
    assert "rocky9" in built
    return built, "You can clone " + ", ".join(f"`{d}`" for d in built) + "."


def test_unknown_distribution_lists_what_can_be_cloned(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create arch")
    message = _last_ephemeral(bot, "arch")
    text = _only_the_sentence(message)
    built, can = _can_clone(bot)
    assert text.startswith(":warning: Unknown distribution 'arch'")
    assert "no template named" not in text and "template:" not in text
    cloneable, _, others = text.partition("The other distributions")
    assert can in cloneable
    assert "`/solti template build DISTRO`" in others and "ubuntu2404" in others
    assert not [d for d in built if f" {d}," in others or f" {d}." in others]


def test_a_distribution_without_a_template_says_how_to_get_one(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create ubuntu2404")
    text = _only_the_sentence(_last_ephemeral(bot, "ubuntu2404"))
    assert text == (
        ":warning: There is no ubuntu2404 template yet; ask for one with "
        f"`/solti template build ubuntu2404` (an approver decides). {_can_clone(bot)[1]}"
    )


def test_customize_on_a_dry_run_opens_the_form_with_its_choices(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    template = str(bot.extras["template_vmid"])
    bot.user.slash("vm create rocky9 --full --dry-run")
    plan = _last_ephemeral(bot, "Dry run")
    bot.user.click(plan, "open_create_modal")
    view = _create_view(bot)
    chosen = _block(view, "template")["element"]["initial_option"]
    assert chosen["value"] == template and chosen["text"]["text"].startswith("rocky9 · ")
    shown = str(plan["blocks"])
    disk = _block(view, "disk")["element"]["initial_value"]
    assert disk == "32G" and "32G" in shown
    assert _block(view, "clone")["element"]["initial_option"]["value"] == "full"
    name = _block(view, "name")["element"]["placeholder"]["text"]
    vmid = _block(view, "vmid")["element"]["placeholder"]["text"]
    planned_name = plan["text"].split("would create ", 1)[1].split(" ")[0]
    assert name.startswith(f"default: {planned_name}")
    assert vmid.startswith("default: 5") and vmid.split()[1] in shown


def test_the_vmid_hint_states_the_real_rule(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create")
    view = _create_view(bot)
    hint = _block(view, "vmid")["hint"]["text"]
    assert hint == "100-499, or any free id outside 9000-9999 (the template range)"
    template = str(bot.extras["template_vmid"])
    refused = bot.user.submit_view(view, {"template": template, "vmid": "9500"}).json()
    assert refused["errors"]["vmid"].startswith("VMID 9500 is in the template range")
    # What the hint allows is accepted: an id far above the template range.
    reply = bot.user.submit_view(view, {"template": template, "vmid": "99999", "name": "high"})
    assert reply.status_code == 200 and not reply.content.strip()
    bot.standin.wait_for(
        lambda: [m for m in bot.standin.messages(INFRA) if "VMID 99999" in m.get("text", "")], 30
    )


def test_static_network_errors_come_back_together_with_form_labels(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create")
    view = _create_view(bot)
    template = str(bot.extras["template_vmid"])
    both = bot.user.submit_view(view, {"template": template, "network": "static"}).json()
    assert both["response_action"] == "errors"
    assert set(both["errors"]) == {"ip", "gw"}
    assert "--" not in str(both["errors"])
    bad = bot.user.submit_view(
        view,
        {"template": template, "network": "static", "ip": "10.0.0.5", "name": "Bad_Name"},
    ).json()["errors"]
    assert set(bad) == {"ip", "gw", "name"}, bad
    assert "needs a prefix length" in bad["ip"] and "Bad_Name" in bad["name"]
    outside = bot.user.submit_view(
        view, {"template": template, "network": "static", "ip": "10.0.0.5/24", "gw": "10.9.9.9"}
    ).json()["errors"]
    assert outside == {"gw": "Gateway 10.9.9.9 is not inside 10.0.0.0/24."}


def test_form_errors_name_the_field_label_not_the_option() -> None:
    text = "gw: a static ip needs a gateway in 10.0.0.0/24 (--gw), e.g. 10.0.0.1"
    assert views.field_text(text, "gw") == (
        "A static ip needs a gateway in 10.0.0.0/24 (the Gateway field), e.g. 10.0.0.1"
    )
    assert "the Static address (CIDR) field" in views.field_text("needs --ip CIDR", None)


def test_report_unit_without_a_template_adds_only_upstream_facts() -> None:
    now = datetime.now(UTC)
    unknown = UpdateStatus(distribution="debian13", state="unknown", reason="no template built yet")
    offered = unknown.model_copy(update={"upstream_version": "13-20250810"})
    failed = unknown.model_copy(update={"reason": "cannot fetch the checksum file"})
    texts = [
        report.distribution_blocks(report.DistributionReport("debian13", None, update=u), now)[0]
        for u in (unknown, offered, failed, None)
    ]
    shown = [t["text"]["text"] for t in texts]
    assert shown[0] == shown[3] == "*debian13*: no template built yet."
    assert shown[1] == "*debian13*: no template built yet. Upstream image: 13-20250810."
    assert shown[2].endswith("upstream unknown (cannot fetch the checksum file)")


def test_report_says_no_template_once(bot: Harness) -> None:
    bot.user.slash("report", channel=REPORTS)
    report = bot.standin.wait_for(lambda: bot.standin.last_message(REPORTS), 30)
    lines = [
        b["text"]["text"]
        for b in report["blocks"]
        if b["type"] == "section" and "debian13" in b["text"]["text"]
    ]
    assert lines and lines[0].startswith("*debian13*: no template built yet.")
    assert lines[0].count("no template") == 1 and "upstream unknown" not in lines[0]
