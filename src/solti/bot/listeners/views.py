"""The create form's submission: validated while Slack waits, errors shown on their field.

Validation that needs Proxmox (VMID in use, template exists) runs under a time budget; if
Proxmox is too slow to answer inside Slack's 3 seconds the form closes and the result (or
the error) arrives as an ephemeral message instead, so the person is never left hanging.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from solti.bot.blocks import modal as modal_views
from solti.bot.flows import create_request, vms
from solti.bot.flows.caller import as_sentence, describe_error
from solti.bot.grammar.options import size_problem, whole_number
from solti.bot.listeners.dispatch import caller_from, ephemeral_via_api, later, runtime_in
from solti.provisioning import InvalidRequest, SoltiError
from solti.provisioning.bounds import MAX_CORES, MAX_MEMORY, quoted

__all__ = ["VALIDATION_BUDGET_SECONDS", "register"]

log = logging.getLogger("solti.bot.views")
VALIDATION_BUDGET_SECONDS = 2.0
_BLOCK_FOR_FIELD = {
    "template": "template",
    "name": "name",
    "vmid": "vmid",
    "disk": "disk",
    "size": "size",
    "cores": "cores",
    "memory": "memory",
    "full": "clone",
    "lease": "lease",
    "ssh_key": "ssh_key",
    "ssh_keys": "ssh_key",
    "ip": "ip",
    "gw": "gw",
    "node": "template",
}


def _block_for(field: str | None) -> str:
    base = (field or "template").split("[", 1)[0].split(".", 1)[0]
    return _BLOCK_FOR_FIELD.get(base, "template")


# The command's options, as the form labels them: an error shown under a field must not
# send people looking for a `--gw` they cannot type here.
_FLAG_LABELS = {
    "ip CIDR": "Static address (CIDR)",
    "ip": "Static address (CIDR)",
    "gw": "Gateway",
    "vmid": "VMID",
    "disk": "Minimum disk",
    "cores": "Cores",
    "memory": "Memory (MB)",
    "name": "Name",
    "full": "Clone mode",
}
_FLAG = re.compile(r"--(ip CIDR|ip|gw|vmid|disk|cores|memory|name|full)\b")


def field_text(text: str, field: str | None) -> str:
    """The error as shown under its field: without the ``field: `` prefix provisioning puts
    in front (the field is where it is shown), capitalised, options named by the form's
    labels, within Slack's length."""
    if field and text.startswith(f"{field}: "):
        text = text[len(field) + 2 :]
        text = text[:1].upper() + text[1:]
    text = _FLAG.sub(lambda m: f"the {_FLAG_LABELS[m.group(1)]} field", text)
    return text[:1900]


def _errors_of(problems: dict[str | None, str]) -> dict[str, str]:
    """Request problems by form block, each as a sentence (the first one per block wins)."""
    errors: dict[str, str] = {}
    for field, message in problems.items():
        errors.setdefault(_block_for(field), field_text(as_sentence(message, field), field))
    return errors


def _with_request_problems(values: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """The form's own errors plus what the request model finds in the other fields, so
    every bad field is shown in one round trip (no Proxmox call: that waits for a clean form).

    A field already in error is left out of the check; so is the gateway when the address
    is (the model would otherwise blame the gateway for the missing address).
    """
    drop = {field for field in values if _block_for(field) in errors}
    if "ip" in drop:
        drop.add("gw")
    checked = {k: v for k, v in values.items() if k not in drop}
    keys = [checked["ssh_key"]] if checked.get("ssh_key") else []
    return {**_errors_of(create_request.request_problems(checked, keys)), **errors}


def form_values(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Form state -> create values, plus errors found without asking anyone (pure)."""
    raw = modal_views.read_values(state)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "template": modal_views.template_choice(raw.get("template")),
        "name": raw.get("name"),
        "size": raw.get("size"),
    }
    for name, low, high, what in (
        ("vmid", 100, 999_999_999, "a whole number: " + modal_views.VMID_HINT),
        ("cores", 1, MAX_CORES, f"a whole number from 1 to {MAX_CORES}"),
        ("memory", 16, MAX_MEMORY, f"memory in MB from 16 to {MAX_MEMORY}, e.g. 4096"),
    ):
        text = raw.get(name)
        if text is None:
            continue
        number = whole_number(text, low, high)  # digits counted before int(): bounded
        if number is None:
            errors[name] = f"Must be {what}."
        else:
            values[name] = number
    disk = (raw.get("disk") or "").strip()
    if disk:
        # Checked here, as typed: provisioning's message would say `disk: 'LOTS' ...`,
        # repeating the field the error is shown under and upper-casing the input.
        problem = size_problem(disk, f'"{quoted(disk)}"')
        if problem:
            errors["disk"] = problem
        else:
            values["disk"] = disk.upper()
    values["full"] = raw.get("clone") == "full"
    values["lease"] = raw.get("lease")
    if raw.get("network") == "static":
        # Both checked here, so a form missing both says so once, not in two round trips.
        if not raw.get("ip"):
            errors["ip"] = "Enter the address in CIDR form, e.g. 10.0.0.5/24, or choose DHCP."
        if not raw.get("gw"):
            errors["gw"] = "Enter the gateway, e.g. 10.0.0.1, or choose DHCP."
        values["ip"], values["gw"] = raw.get("ip"), raw.get("gw")
    values["ssh_key"] = " ".join((raw.get("ssh_key") or "").split()) or None
    if not values["template"]:
        errors["template"] = "Pick a template."
    return values, errors


def _submit(ack: Any, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
    runtime = runtime_in(context)
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict):
        metadata = {}
    channel = metadata.get("channel")
    cluster = metadata.get("cluster")  # the form's cluster; an unknown name: the route's
    cluster = cluster if isinstance(cluster, str) and cluster in runtime.clusters.names else None
    caller = caller_from(
        context, ephemeral_via_api(runtime, channel, context["requester"]), cluster=cluster
    )
    caller.channel = channel
    values, errors = form_values(view.get("state") or {})
    if errors:
        ack(response_action="errors", errors=_with_request_problems(values, errors))
        return
    if values.get("ssh_key"):
        try:
            runtime.keys.set(caller.user, values["ssh_key"])
        except InvalidRequest as exc:
            ack(response_action="errors", errors=_errors_of({exc.field: exc.message}))
            return
        values["ssh_key"] = None  # saved: the create uses the stored key
    # Planned once, here: the create below builds this plan (waiting for it if Proxmox is
    # slow), so the form costs what the command costs.
    shown = metadata.get("prefill") if isinstance(metadata.get("prefill"), dict) else None
    future = runtime.work.during_ack(caller.within, vms.prepare_create, caller, values, shown)
    try:
        future.result(timeout=VALIDATION_BUDGET_SECONDS)
    except FutureTimeout:
        pass  # Proxmox is slow: close the form; the create reports by message instead
    except create_request.FieldErrors as exc:
        ack(response_action="errors", errors=_errors_of(exc.problems))
        return
    except SoltiError as exc:
        text, _ = describe_error(exc)
        field = getattr(exc, "field", None)
        ack(response_action="errors", errors={_block_for(field): field_text(text, field)})
        return
    except Exception as exc:
        text, _ = describe_error(exc)
        ack(response_action="errors", errors={"template": text[:1900]})
        return
    ack()
    shown_node = create_request.shown_choices(values, shown).get("prefer_node")
    later(caller, "vm create", lambda: vms.create_prepared(caller, future, shown_node))


def register(app: Any) -> None:
    app.view(modal_views.CALLBACK_ID)(_submit)
