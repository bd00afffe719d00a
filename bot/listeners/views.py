"""The create form's submission: validated while Slack waits, errors shown on their field.

Validation that needs Proxmox (VMID in use, template exists) runs under a time budget; if
Proxmox is too slow to answer inside Slack's 3 seconds the form closes and the result (or
the error) arrives as an ephemeral message instead, so the person is never left hanging.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from bot.blocks import modal as modal_views
from bot.flows import vms
from bot.flows.base import describe_error
from bot.grammar.options import size_problem
from bot.listeners.common import caller_from, ephemeral_via_api, later
from bot.runtime import runtime_for
from provisioning import InvalidRequest, SoltiError

__all__ = ["VALIDATION_BUDGET_SECONDS", "register"]

log = logging.getLogger("bot.views")
VALIDATION_BUDGET_SECONDS = 2.0
_BLOCK_FOR_FIELD = {
    "template": "template",
    "name": "name",
    "vmid": "vmid",
    "disk": "disk",
    "cores": "cores",
    "memory": "memory",
    "full": "clone",
    "ssh_key": "ssh_key",
    "ssh_keys": "ssh_key",
    "ip": "ip",
    "gw": "gw",
    "node": "template",
}


def _block_for(field: str | None) -> str:
    base = (field or "template").split("[", 1)[0].split(".", 1)[0]
    return _BLOCK_FOR_FIELD.get(base, "template")


def field_text(text: str, field: str | None) -> str:
    """The error as shown under its field: without the ``field: `` prefix provisioning puts
    in front (the field is where it is shown), capitalised, within Slack's length."""
    if field and text.startswith(f"{field}: "):
        text = text[len(field) + 2 :]
        text = text[:1].upper() + text[1:]
    return text[:1900]


def form_values(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Form state -> create values, plus errors found without asking anyone (pure)."""
    raw = modal_views.read_values(state)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "template": modal_views.template_choice(raw.get("template")),
        "name": raw.get("name"),
    }
    for name, low, high, what in (
        ("vmid", 100, 999_999_999, "a VMID, e.g. 123"),
        ("cores", 1, 512, "a whole number from 1 to 512"),
        ("memory", 16, 16_777_216, "memory in MB, e.g. 4096"),
    ):
        text = raw.get(name)
        if text is None:
            continue
        if not text.isdigit() or not low <= int(text) <= high:
            errors[name] = f"Must be {what}."
        else:
            values[name] = int(text)
    disk = (raw.get("disk") or "").strip()
    if disk:
        # Checked here, as typed: provisioning's message would say `disk: 'LOTS' ...`,
        # repeating the field the error is shown under and upper-casing the input.
        problem = size_problem(disk, f'"{disk}"')
        if problem:
            errors["disk"] = problem
        else:
            values["disk"] = disk.upper()
    values["full"] = raw.get("clone") == "full"
    if raw.get("network") == "static":
        if not raw.get("ip"):
            errors["ip"] = "A static address needs one, e.g. 10.0.0.5/24 (or choose DHCP)."
        values["ip"], values["gw"] = raw.get("ip"), raw.get("gw")
    values["ssh_key"] = " ".join((raw.get("ssh_key") or "").split()) or None
    if not values["template"]:
        errors["template"] = "Pick a template."
    return values, errors


def _submit(ack: Any, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
    runtime = runtime_for(context)
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    channel = metadata.get("channel")
    caller = caller_from(context, ephemeral_via_api(runtime, channel, context["requester"]))
    caller.channel = channel
    values, errors = form_values(view.get("state") or {})
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if values.get("ssh_key"):
        try:
            runtime.keys.set(caller.user, values["ssh_key"])
        except InvalidRequest as exc:
            ack(
                response_action="errors", errors={"ssh_key": exc.message.removeprefix("ssh_keys: ")}
            )
            return
        values["ssh_key"] = None  # saved: the create uses the stored key
    future = runtime.executor.submit(vms.prepare_create, caller, values)
    try:
        future.result(timeout=VALIDATION_BUDGET_SECONDS)
    except FutureTimeout:
        pass  # Proxmox is slow: close the form; the create reports by message instead
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
    later(caller, "vm create", lambda: vms.create_vm(caller, values, {}))


def register(app: Any) -> None:
    app.view(modal_views.CALLBACK_ID)(_submit)
