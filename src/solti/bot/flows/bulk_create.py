"""`/solti vm create TEMPLATE --count N`: N VMs, one progress message with a row per VM.

The checks are the single create's (who may create, the SSH key, the request fields); the
plans come from ``Provisioner.plan_vms`` (one snapshot, the quota of all N counted before
anything starts). A refusal is said once and audited, as a single create's is.
"""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.blocks import replies
from solti.bot.blocks.bulk_blocks import BulkRow, bulk_message
from solti.bot.bulk_progress import BulkProgress
from solti.bot.flows import create_gate
from solti.bot.flows.caller import NO_CHANNEL_TEXT, Caller, as_sentence, describe_error
from solti.bot.flows.create_request import CreateInput, FieldErrors, keyed_request
from solti.bot.flows.vms import _record_create_refusal, _Refused

__all__ = ["create_many_from_slash"]

log = logging.getLogger("solti.bot.flows.bulk_create")


def create_many_from_slash(caller: Caller, values: CreateInput, count: int) -> None:
    """Plan the N (a dry run shows them), then build them with one progress message."""
    try:
        request, plans = _prepare(caller, values, count)
    except FieldErrors as exc:
        _record_create_refusal(caller, values, exc)
        caller.say_error(" ".join(as_sentence(m, f) for f, m in exc.problems.items()))
        return
    except Exception as exc:
        _record_create_refusal(caller, values, exc)
        caller.say_error(as_sentence(describe_error(exc)[0]))
        return
    rows = [BulkRow(p.name, p.vmid, p.node) for p in plans]
    title = f"{count} VMs from {plans[0].template.name}"
    # The N plans share sizes, clone mode and lease: the first says whether they need approval.
    reasons = create_gate.create_reasons(caller, request, plans[0])
    if values.get("dry_run"):
        reply = bulk_message(f"Plan: {title}", rows, None)
        reply["blocks"].append(replies.context("Dry run: nothing was made."))
        if reasons:
            reply["blocks"].append(replies.context(create_gate.would_need_approval(reasons)))
        caller.reply(reply)
        return
    if reasons:  # an approval covers one create: --count would slip past approvals.vm_create
        refusal = _CountNeedsApproval(
            f"These VMs would need approval ({'; '.join(reasons)}), and a --count create "
            "cannot wait for one: ask for them one at a time (each posts an approval card)."
        )
        _record_create_refusal(caller, values, refusal)
        caller.say_error(refusal.message)
        return
    _build(caller, request, plans, title, rows)


def _prepare(caller: Caller, values: CreateInput, count: int) -> tuple[Any, list[Any]]:
    allowed = caller.authorize("vm create")
    if not allowed:
        raise _Refused(allowed.reason)  # audited "denied", as a single create's refusal is
    request = keyed_request(caller, values)
    plans = caller.runtime.provisioner.plan_vms(request, count, actor=caller.user)
    return request, plans


def _build(caller: Caller, request: Any, plans: list[Any], title: str, rows: list[BulkRow]) -> None:
    if caller.channel is None:
        caller.say_error(NO_CHANNEL_TEXT)
        return
    shown = BulkProgress(caller.runtime.client, caller.channel, f"Creating {title}", rows,
                         requester=caller.user)  # fmt: skip
    try:
        shown.post()
    except Exception as exc:
        caller.say_error(f"I could not post in this channel ({type(exc).__name__}); "
                         "invite me with `/invite @solti`.")  # fmt: skip
        return
    try:
        caller.runtime.provisioner.create_vms(
            request, len(plans), plans=plans, actor=caller.user, via="slack",
            request_id=caller.request_id, progress=shown.step,
            finished=lambda item: shown.item_ended(item, _made),
        )  # fmt: skip
    except Exception as exc:  # the quota hold of all N refused: nothing was started
        shown.all_failed(describe_error(exc)[0])
    shown.finish()


def _made(result: Any) -> str:
    return f"{result.vm.status} on {result.vm.node}"


class _CountNeedsApproval(_Refused):
    """A ``--count`` create over ``approvals.vm_create``: refused, never run unapproved."""
