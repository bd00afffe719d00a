"""A create request from the command's or the form's values: every bad field at once.

Pure apart from the caller's stored SSH key: the form's live checks (``listeners/views``), the
single create and ``--count`` (``bulk_create``) all turn values into a ``VmCreateRequest``
here, so a field is judged, and worded, the same way whichever door it came in by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from solti.bot.blocks import replies
from solti.bot.flows.caller import Caller
from solti.provisioning import InvalidRequest, VmCreateRequest

__all__ = [
    "CreateInput",
    "FieldErrors",
    "keyed_request",
    "moved_from_shown",
    "request_from",
    "request_problems",
    "shown_choices",
]

CreateInput = Mapping[str, Any]


def _problems_of(exc: ValidationError) -> dict[str | None, str]:
    """Every field pydantic found wrong (the first message per field), in its order."""
    found: dict[str | None, str] = {}
    for error in exc.errors():
        loc = [str(x) for x in error.get("loc", ())]
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        field = loc[0] if loc else None
        if field is None and ":" in message:  # model validators name the field in the text
            field = message.split(":", 1)[0]
        found.setdefault(field, message)
    return found


class FieldErrors(InvalidRequest):
    """Several request fields are wrong at once: ``problems`` maps each to its message, so
    the form can show them all in one round trip; the message is the first of them."""

    def __init__(self, problems: dict[str | None, str]) -> None:
        field, message = next(iter(problems.items()))
        super().__init__(message, field=field)
        self.problems = problems


def _request_data(values: CreateInput, keys: list[str], request_id: str) -> dict[str, Any]:
    data = {k: v for k, v in values.items() if v not in (None, "", False)}
    data.pop("ssh_key", None)
    data["ssh_keys"] = keys
    data["request_id"] = request_id
    return data


def request_from(values: CreateInput, keys: list[str], request_id: str) -> VmCreateRequest:
    """Build the request; pydantic errors become FieldErrors naming every bad field."""
    try:
        return VmCreateRequest.model_validate(_request_data(values, keys, request_id))
    except ValidationError as exc:
        raise FieldErrors(_problems_of(exc)) from None


def request_problems(values: CreateInput, keys: list[str]) -> dict[str | None, str]:
    """Everything the request model finds wrong with ``values`` (pure: no Proxmox, no Slack).

    pydantic skips the network check while another field is wrong, so the fields found
    wrong are left out and the rest checked again, until nothing new turns up.
    """
    problems: dict[str | None, str] = {}
    checked = dict(values)
    for _ in range(len(values) + 1):
        try:
            request_from(checked, keys, "check")
            break
        except FieldErrors as exc:
            new = {f: m for f, m in exc.problems.items() if f not in problems}
            if not new:
                break
            problems.update(new)
            for field in new:
                base = (field or "").split("[", 1)[0]
                checked.pop(base, None)
                if base == "ssh_keys":
                    keys = []
                if base == "ip":
                    checked.pop("gw", None)
    return problems


def _keys_for(caller: Caller, given: str | None) -> list[str] | None:
    stored = caller.runtime.keys.get(caller.user)
    if given:
        return [given]
    if stored is not None:
        return [stored.key]
    return None


def keyed_request(caller: Caller, values: CreateInput) -> VmCreateRequest:
    """The create request of the form or command, with the SSH key it names or the caller's
    stored one; InvalidRequest on ``ssh_key`` when there is neither, FieldErrors for bad fields."""
    keys = _keys_for(caller, values.get("ssh_key"))
    if keys is None:
        raise InvalidRequest(replies.NO_KEY_TEXT, field="ssh_key")
    return request_from(values, keys, caller.request_id)


def shown_choices(values: CreateInput, shown: Mapping[str, Any] | None) -> dict[str, Any]:
    """The VMID, name and node a dry run showed, when the form still asks for its template.

    "Customize…" under a dry run opens the form with the plan's template, and its name and
    VMID as the fields' stated defaults; sent with those left empty, the VM gets them if
    they are still free, and the node if it is still eligible (``vm_plan.place``). Another
    template in the form means another default name and a placement of its own.
    """
    if not shown or shown.get("template_vmid") is None:
        return {}
    if str(values.get("template") or "") != str(shown["template_vmid"]):
        return {}
    vmid = shown.get("default_vmid")
    name = shown.get("default_name")
    node = shown.get("default_node")
    return {
        "prefer_vmid": int(vmid) if isinstance(vmid, int | str) and str(vmid).isdigit() else None,
        "prefer_name": str(name) if name else None,
        "prefer_node": str(node) if node and not values.get("node") else None,
    }


def moved_from_shown(plan: Any, shown_node: str | None) -> str | None:
    """One sentence when the VM goes to another node than the dry run showed (``shown_node``:
    ``shown_choices``' ``prefer_node``; None: same node, or no node was carried over); the
    plan's placement says why the shown one was not kept."""
    node = shown_node
    if not node or str(node) == str(plan.node):
        return None
    why = getattr(plan, "placement", None) or plan.node
    return f"The dry run showed node {node}; the VM goes to {why}."
