"""`/solti template build DISTRO --all-nodes`: one approval, a copy per node, one message.

The approval's target is the distribution with ``--all-nodes`` after it, so the card, the
audit record of the request and the requester all read what was asked; approving it
approves every copy. The build posts one message with a row per node (``BulkProgress``),
edited as each copy moves on.
"""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.blocks.bulk_blocks import BulkRow
from solti.bot.bulk_progress import BulkProgress
from solti.bot.flows.caller import describe_error
from solti.bot.runtime import Runtime

__all__ = ["ALL_NODES", "build_copies_approved", "copies_text", "split_target"]

log = logging.getLogger("solti.bot.flows.template_copies_flow")

ALL_NODES = " --all-nodes"


def split_target(target: str) -> tuple[str, bool]:
    """``rocky9 --all-nodes`` -> (``rocky9``, True); ``rocky9`` -> (``rocky9``, False)."""
    if target.endswith(ALL_NODES):
        return target.removesuffix(ALL_NODES), True
    return target, False


def copies_text(runtime: Runtime, distribution: str) -> str:
    """Where the copies would go, for the approval card."""
    nodes, shared = runtime.provisioner.template_copy_nodes(distribution)
    if shared:
        return f"one template: storage '{shared}' is shared by every node"
    return f"a copy on each of {', '.join(nodes)}"


def build_copies_approved(runtime: Runtime, approval: Any, note: str) -> None:
    """Run an approved ``--all-nodes`` build with one progress message of a row per node."""
    distribution, _ = split_target(approval.target)
    channel = approval.origin_channel or runtime.rules.approvals_channel or approval.requester
    try:
        nodes, _shared = runtime.provisioner.template_copy_nodes(distribution)
    except Exception as exc:
        runtime.client.chat_postMessage(channel=channel, text=describe_error(exc)[0])
        return
    rows = [BulkRow(distribution, None, node) for node in nodes]
    shown = BulkProgress(runtime.client, channel, f"Building {distribution} templates", rows,
                         requester=approval.requester)  # fmt: skip
    try:
        shown.post()
    except Exception as exc:
        log.warning("could not post build progress: %s", type(exc).__name__)
    try:
        runtime.provisioner.build_template_copies(
            distribution, actor=approval.requester, via="slack", request_id=approval.id,
            approver=approval.decided_by, progress=shown.step,
            finished=lambda item: shown.item_ended(item, _built),
        )  # fmt: skip
    except Exception as exc:  # the checksum, before any copy started
        shown.all_failed(describe_error(exc)[0])
    shown.finish()
    if shown.ts is not None:
        runtime.client.chat_postMessage(channel=shown.channel, thread_ts=shown.ts, text=note)


def _built(result: Any) -> str:
    template = result.template
    return f"VMID {template.vmid}, {template.version or 'no version'}"
