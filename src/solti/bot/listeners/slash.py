"""`/solti`: parse and acknowledge at once; everything that touches Proxmox runs after the ack."""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import Future
from typing import Any

from slack_sdk.errors import SlackApiError

from solti import telemetry
from solti.bot import grammar
from solti.bot.blocks import modal as modal_views
from solti.bot.blocks import replies
from solti.bot.flows import (
    bulk_create,
    keys_and_reports,
    leases,
    rebuild,
    snapshot_flow,
    templates,
    vm_verbs,
    vms,
)
from solti.bot.flows.caller import Caller, describe_error
from solti.bot.flows.template_copies_flow import ALL_NODES
from solti.bot.grammar.cluster_option import take_cluster
from solti.bot.listeners.dispatch import caller_from, ephemeral_via_respond, later
from solti.provisioning.clusters import ALL_CLUSTERS

__all__ = ["COMMAND", "open_create_modal", "register"]

log = logging.getLogger("solti.bot.commands")
COMMAND = "/solti"


def _handle(ack: Any, command: dict[str, Any], context: Any, respond: Any) -> None:
    """Runs inside Slack's 3 seconds on the request thread: pure parsing, then the ack.

    Help and usage errors are answered in the ack itself; anything else is acked empty and
    handed to the background pool (``later``), so Proxmox never delays the answer.
    """
    try:
        text, cluster = take_cluster(command.get("text", ""))
        parsed = grammar.parse(text)
        if cluster is not None:
            _known_cluster(context, cluster, parsed)
    except grammar.UsageError as exc:
        ack(**replies.error_message(exc.message, exc.topic, usage=True))
        _count(exc.topic if exc.topic in grammar.TOPICS else "unknown", "invalid")
        return
    if isinstance(parsed, grammar.Help):
        ack(**replies.help_message(parsed.topic))
        _count("help", "ok")
        return
    ack()
    chosen = None if cluster == ALL_CLUSTERS else cluster  # `all`: the list spans them
    caller = caller_from(context, ephemeral_via_respond(respond), command.get("trigger_id"), chosen)
    if isinstance(parsed, grammar.VmCreate) and parsed.opens_modal:
        open_create_modal(caller, command.get("trigger_id"), _prefill(parsed), _verb(parsed))
        return
    later(caller, _verb(parsed), lambda: _run(caller, parsed, command), quick=_quick(parsed))


def _known_cluster(context: Any, name: str, parsed: grammar.Command) -> None:
    """``--cluster NAME`` names a configured cluster (``all``: `vm list` only), else a usage
    error in the ack."""
    if name == ALL_CLUSTERS:
        if isinstance(parsed, grammar.VmList):
            return
        raise grammar.UsageError(
            "`--cluster all` is for `vm list` only; name one cluster, e.g. --cluster lab.", None
        )
    clusters = context["runtime"].clusters
    if name not in clusters.names:
        raise grammar.UsageError(
            f"Unknown cluster `{name}`; known: {', '.join(clusters.names)}.", None
        )


def _quick(parsed: grammar.Command) -> bool:
    """Work that answers in milliseconds: reads, keys, the audit log, a dry run, a modal.

    Anything that waits for a Proxmox task (or fetches upstream checksums) is not quick;
    unknown commands default to not quick so they can never hold up the short replies.
    """
    if isinstance(parsed, grammar.VmCreate):
        return bool(parsed.opens_modal or parsed.dry_run)
    if isinstance(parsed, grammar.VmAction):
        return parsed.verb == "verify"
    quick = (grammar.KeyShow, grammar.KeySet, grammar.KeyRemove, grammar.Audit, grammar.Quota,
             grammar.VmGive, grammar.VmRebuild)  # fmt: skip
    if isinstance(parsed, (grammar.SnapshotRollback, grammar.SnapshotDelete)):
        return True  # without a click these only post the confirmation prompt
    return isinstance(parsed, (*quick, grammar.TemplateList, grammar.VmList, grammar.SnapshotList))


def _count(verb: str, outcome: str) -> None:
    """Commands answered inside the ack are counted, not logged: a JSON line with redaction
    on the request thread would be a large share of a ~1 ms acknowledgement."""
    telemetry.COMMANDS.labels(verb=verb, outcome=outcome).inc()


def open_create_modal(
    caller: Caller, trigger_id: str | None, prefill: dict[str, Any], verb: str = "form open"
) -> None:
    """Open the form's loading view now, beside the acknowledgement; fill it after the ack.

    Slack's trigger_id lives 3 s. The loading view is opened on the pool the
    acknowledgements themselves use (``AfterAck.during_ack``: not gated, never behind a
    template listing), so fifty people opening the form at once with a slow Proxmox all get
    it in time; listing the templates (Proxmox) and ``views.update`` follow on the quick pool.
    """
    opening = caller.runtime.work.during_ack(_open_loading, caller, trigger_id, prefill)
    later(caller, verb, lambda: _fill(caller, opening, prefill), quick=True)


def _open_loading(
    caller: Caller, trigger_id: str | None, prefill: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """``(view, None)`` once open, or ``(None, what to tell the person)``."""
    allowed = caller.authorize("form open")
    if not allowed:
        return None, allowed.reason
    metadata = _form_metadata(caller, prefill)
    try:
        opened = caller.runtime.client.views_open(
            trigger_id=trigger_id, view=modal_views.loading_view(metadata)
        )
    except Exception as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
        log.warning("could not open the create form: %s", error or type(exc).__name__)
        return None, "Slack did not open the form in time; please try again."
    return opened["view"], None


def _fill(caller: Caller, opening: Future[Any], prefill: dict[str, Any]) -> None:
    view, problem = opening.result()
    if view is None:
        caller.say_error(problem or "The form could not be opened.")
        return
    runtime = caller.runtime
    metadata = _form_metadata(caller, prefill)
    try:
        templates_found = runtime.provisioner.list_templates()
    except Exception as exc:
        templates_found = []
        caller.say_error(describe_error(exc)[0])
    has_key = runtime.keys.get(caller.user) is not None
    runtime.client.views_update(
        view_id=view["id"],
        hash=view.get("hash"),
        view=modal_views.create_view(templates_found, metadata, prefill, has_key),
    )


def _form_metadata(caller: Caller, prefill: dict[str, Any]) -> dict[str, Any]:
    """What the submit needs back: the channel, the values typed, and the cluster the form
    lists templates of (``--cluster`` or the channel's route), so the create goes there."""
    return {"channel": caller.channel, "prefill": prefill, "cluster": caller.cluster}


def _prefill(parsed: grammar.VmCreate) -> dict[str, Any]:
    """The values typed in the command, for the form's fields.

    A template typed as a VMID is the form's option value already; a distribution or a name
    is only resolved by the plan, so a dry run adds the build it chose (``vms.plan_prefill``).
    """
    data = {
        "name": parsed.name,
        "vmid": parsed.vmid,
        "disk": parsed.disk,
        "cores": parsed.cores,
        "memory": parsed.memory,
        "full": parsed.full or None,
        "ip": parsed.ip,
        "gw": parsed.gw,
        "lease": parsed.lease,
    }
    if parsed.template and parsed.template.isdigit():
        data["template_vmid"] = int(parsed.template)
    return {k: v for k, v in data.items() if v is not None}


def _verb(parsed: grammar.Command) -> str:
    """`vm create`, `template build`, ... from the parsed command's class name."""
    if isinstance(parsed, grammar.VmAction):
        return f"vm {parsed.verb}"
    words = re.findall(r"[A-Z][a-z]*", type(parsed).__name__)
    return " ".join(word.lower() for word in words)


# Authorized in their flows: they need the target VM's owner, or record the refusal.
_AUTHORIZED_IN_FLOW = (
    grammar.VmAction,
    grammar.VmCreate,
    grammar.VmList,
    grammar.VmGive,
    grammar.Help,
    grammar.VmRebuild,
    grammar.SnapshotCreate,
    grammar.SnapshotList,
    grammar.SnapshotRollback,
    grammar.SnapshotDelete,
    grammar.VmExtend,
)


def _run(caller: Caller, parsed: grammar.Command, command: dict[str, Any]) -> None:
    if not isinstance(parsed, _AUTHORIZED_IN_FLOW):
        allowed = caller.authorize(_verb(parsed))
        if not allowed:
            caller.say_error(allowed.reason)
            return
    match parsed:
        case grammar.Help():
            return
        case grammar.VmCreate():
            values = {
                "template": parsed.template,
                "vmid": parsed.vmid,
                "name": parsed.name,
                "disk": parsed.disk,
                "cores": parsed.cores,
                "memory": parsed.memory,
                "full": parsed.full,
                "node": parsed.node,
                "ip": parsed.ip,
                "gw": parsed.gw,
                "dry_run": parsed.dry_run,
                "size": parsed.size,
                "lease": parsed.lease,
            }
            if parsed.count is not None:
                bulk_create.create_many_from_slash(caller, values, parsed.count)
                return
            prefill = _prefill(parsed)
            vms.create_from_slash(caller, values, prefill)
        case grammar.VmList(mine=mine, page=page):
            vm_verbs.list_vms(caller, mine, page, take_cluster(command.get("text", ""))[1])
        case grammar.VmAction(verb=verb, vmid=vmid):
            vm_verbs.vm_action(caller, verb, vmid)
        case grammar.VmExtend(vmid=vmid, duration=duration):
            leases.extend(caller, vmid, duration)
        case grammar.TemplateList():
            templates.list_templates(caller)
        case grammar.TemplateBuild(distribution=distribution, all_nodes=all_nodes):
            target = f"{distribution}{ALL_NODES if all_nodes else ''}"
            templates.request_approval(caller, "template_build", target)
        case grammar.TemplateDestroy(vmid=vmid):
            templates.request_approval(caller, "template_destroy", str(vmid))
        case grammar.KeySet(key=key):
            keys_and_reports.key_set(caller, key)
        case grammar.KeyShow():
            keys_and_reports.key_show(caller)
        case grammar.KeyRemove():
            keys_and_reports.key_remove(caller)
        case grammar.Audit(user=user, vmid=vmid):
            keys_and_reports.audit(caller, user, vmid)
        case grammar.Report():
            keys_and_reports.report_now(caller)
        case grammar.Quota(user=user):
            vm_verbs.quota(caller, user)
        case grammar.VmGive(vmid=vmid, user=user):
            vm_verbs.give(caller, vmid, user)
        case grammar.VmRebuild(vmid=vmid, template=template):
            rebuild.prompt(caller, vmid, template)
        case grammar.SnapshotCreate():
            snapshot_flow.create(caller, parsed)
        case grammar.SnapshotList(vmid=vmid):
            snapshot_flow.list_snapshots(caller, vmid)
        case grammar.SnapshotRollback(vmid=vmid, name=name):
            snapshot_flow.rollback(caller, vmid, name)
        case grammar.SnapshotDelete(vmid=vmid, name=name):
            snapshot_flow.delete(caller, vmid, name)


def register(app: Any) -> None:
    app.command(COMMAND)(_handle)


def prefill_from_value(value: str | None) -> dict[str, Any]:
    try:
        data = json.loads(value or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
