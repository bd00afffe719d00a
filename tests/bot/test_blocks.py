"""Block Kit builders, pure, validated with the same checks the Slack stand-in applies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from solti.bot.blocks import approval, modal, progress, replies, report
from solti.provisioning import Size, TemplateInfo, UpdateStatus, VmInfo, VmPlan
from solti.sandbox.slack.blockkit import validate_blocks, validate_view

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _template(
    vmid: int = 9000, dist: str = "rocky9", version: str = "9.5-20261101"
) -> TemplateInfo:
    return TemplateInfo(
        vmid=vmid,
        name=f"{dist}-template",
        node="pve1",
        distribution=dist,
        version=version,
        checksum="ab" * 32,
        build_date=NOW - timedelta(days=10),
    )


def _plan() -> VmPlan:
    return VmPlan(
        template=_template(),
        node="pve1",
        vmid=500,
        name="rocky9-261123",
        full=False,
        disk_before=Size("10G"),
        disk_after=Size("32G"),
        resize=True,
        user="rocky",
    )


def test_help_and_errors_are_valid() -> None:
    for topic in (None, "vm", "template", "key", "audit"):
        assert validate_blocks(replies.help_blocks(topic)) == []
    assert validate_blocks(replies.error_message("x" * 5000, "vm")["blocks"]) == []


def test_plan_message_names_everything() -> None:
    payload = replies.plan_message(_plan(), {"disk": "32G"})
    assert validate_blocks(payload["blocks"]) == []
    text = str(payload["blocks"])
    for needle in ("rocky9-template", "9.5-20261101", "pve1", "500", "32G", "linked", "Customize"):
        assert needle in text


def test_progress_title_mentions_requester_and_escapes_text() -> None:
    steps = [progress.StepLine("clone <x>", "running")]
    running = progress.running_message("Creating a<b & c>", steps, 3, "U0ALICE")
    failed = progress.failed_message("Creating a<b & c>", steps, "clone", "no <space>", "U0ALICE")
    for payload in (running, failed):
        shown = str(payload["blocks"]) + payload["text"]
        assert "<@U0ALICE>" in shown and "&lt;@" not in shown
        assert "a&lt;b &amp; c&gt;" in shown and "a<b" not in shown
    assert "clone &lt;x&gt;" in str(running["blocks"])
    # A "user id" that is really text is escaped, not turned into a mention.
    odd = progress.running_message("Creating", [], None, "<!channel>")
    assert "<!channel>" not in str(odd["blocks"]) and "&lt;!channel&gt;" in str(odd["blocks"])


def test_progress_states_valid() -> None:
    steps = [progress.StepLine("clone", "done"), progress.StepLine("resize", "running", "UPID:x")]
    assert validate_blocks(progress.running_message("Creating", steps, 5)["blocks"]) == []
    failed = progress.failed_message("Creating", steps, "resize", "disk too small")
    assert "resize" in failed["text"] and validate_blocks(failed["blocks"]) == []
    vm = VmInfo(vmid=500, name="rocky9-261123", node="pve1", status="running")
    done = progress.vm_done_message("Created", vm, _plan(), "`ssh rocky@10.0.0.5`")
    assert validate_blocks(done["blocks"]) == []
    assert "rocky@10.0.0.5" in str(done["blocks"]) and "9.5-20261101" in str(done["blocks"])


def test_approval_card_before_and_after() -> None:
    details = [("Distribution", "rocky9"), ("Upstream version", "9.6")]
    pending = approval.pending_message("req-1", "template_build", "rocky9", "U0A", details, NOW)
    assert validate_blocks(pending["blocks"]) == []
    assert approval.APPROVE_ACTION in str(pending["blocks"])
    for state in ("approved", "denied", "expired"):
        decided = approval.decided_message(
            "req-1",
            "template_build",
            "rocky9",
            "U0A",
            details,
            state,
            "U0B" if state != "expired" else None,
            NOW,
        )
        assert validate_blocks(decided["blocks"]) == []
        assert approval.APPROVE_ACTION not in str(decided["blocks"])
    assert "Expired" in str(decided["blocks"])


def test_modal_latest_first_and_valid() -> None:
    templates = [
        _template(9000, version="old"),
        _template(9003, version="new"),
        _template(9001, "debian12"),
    ]
    view = modal.create_view(templates, {"channel": "C1"}, {"disk": "50G"}, has_key=False)
    assert validate_view(view) == []
    options = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == ["9001", "9003", "9000"]
    assert options[1]["text"]["text"] == "rocky9 · new (VMID 9003)"
    assert options[2]["text"]["text"] == "rocky9 · old (VMID 9000) · older build"
    # The submission names the VMID whether the client sends the value or echoes the label.
    assert modal.template_choice("9003") == "9003"
    assert modal.template_choice(options[1]["text"]["text"]) == "9003"
    assert modal.template_choice("rocky9") == "rocky9"
    assert validate_view(modal.loading_view({})) == []
    assert validate_view(modal.create_view([], {})) == []


def test_long_report_is_split_under_limits() -> None:
    items = [
        report.DistributionReport(
            f"dist{i}",
            _template(9000 + i, f"dist{i}"),
            [_template(8000 + i, f"dist{i}")],
            i,
            UpdateStatus(distribution=f"dist{i}", state="update_available", upstream_version="2"),
        )
        for i in range(60)
    ]
    messages = report.report_messages(items, NOW)
    assert len(messages) > 1
    for message in messages:
        assert len(message["blocks"]) <= 50
        assert validate_blocks(message["blocks"]) == []
    text = str(messages[0]["blocks"])
    assert "newer image" in text and "10 days old" in text and "Older builds kept" in text


def test_only_a_usage_error_points_to_help() -> None:
    usage = replies.error_message("Unknown command `x`.", usage=True)
    assert "Type `/solti help`" in str(usage["blocks"])
    refusal = replies.error_message("You cannot approve or deny your own request.")
    assert [b["type"] for b in refusal["blocks"]] == ["section"]


def test_a_rebuild_that_destroyed_the_old_vm_says_how_to_finish() -> None:
    """The failure names the reason once (its first section) and, once the old VM is gone,
    how to finish; no template text of the code may reach Slack."""
    from solti.bot.blocks import rebuild_blocks

    steps = [progress.StepLine("destroy", "done"), progress.StepLine("clone", "failed")]
    reason = "clone failed <after> the old VM 500 was destroyed"
    payload = rebuild_blocks.rebuild_failed_message("Rebuilding web", steps, "clone", reason)
    assert validate_blocks(payload["blocks"]) == []
    texts = [str(block) for block in payload["blocks"]]
    assert any("puts back the VM's MAC, address, sizes and keys" in t for t in texts)
    assert "escape(" not in json.dumps(payload) and "clip(" not in json.dumps(payload)
    assert sum("&lt;after&gt;" in t for t in texts) == 1
