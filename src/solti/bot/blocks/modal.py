"""The VM create form: one input block per option, ids shared with the submit handler."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from solti.bot.blocks.elements import Block, clip, context, plain, section

CALLBACK_ID = "vm_create"
# block_id == action_id for every input, so errors and values are found by one name.
FIELDS = (
    "template",
    "name",
    "vmid",
    "disk",
    "cores",
    "memory",
    "size",
    "clone",
    "lease",
    "ssh_key",
    "network",
    "ip",
    "gw",
)

# The rule of provisioning.rules.choose_vmid (docs/design.md, "The original rules"): ids you
# choose are 100-499 by custom, and any other free id is taken too, except the templates'.
VMID_HINT = "100-499, or any free id outside 9000-9999 (the template range)"


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, 75), "value": clip(value, 150)}


def _text_input(
    block_id: str,
    label: str,
    *,
    initial: str | None = None,
    placeholder: str | None = None,
    hint: str | None = None,
    optional: bool = True,
    multiline: bool = False,
) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": block_id}
    if multiline:
        element["multiline"] = True
    if initial:
        element["initial_value"] = clip(initial, 3000)
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def template_label(template: Any, latest: bool = True) -> str:
    """``rocky9 · 9.7-20251123.2 (VMID 9001)``: what people pick by, and the VMID it means."""
    what = template.distribution or template.name
    version = template.version or "version unknown"
    label = f"{what} · {version} (VMID {template.vmid})"
    return label if latest else label + " · older build"


def template_options(templates: Sequence[Any]) -> list[dict[str, Any]]:
    """Latest build per distribution first (what most people want), then older builds.

    The value is the template's VMID: unique, stable while the form is open, and the
    strongest selector provisioning takes (VMID > name > distribution), so the VM is cloned
    from exactly the build the person saw, even if a newer one lands meanwhile.
    """
    latest: dict[str, Any] = {}
    for t in templates:
        key = t.distribution or t.name
        if key not in latest or t.vmid > latest[key].vmid:
            latest[key] = t
    first = sorted(latest.values(), key=lambda t: t.distribution or t.name)
    rest = sorted((t for t in templates if t not in first), key=lambda t: -t.vmid)
    return [
        _option(template_label(t, latest=t in first), str(t.vmid)) for t in [*first, *rest][:100]
    ]


_VMID_IN_LABEL = re.compile(r"\(VMID (\d+)\)")


def template_choice(value: str | None) -> str | None:
    """The template a submission names: the option value (a VMID), or a label's VMID.

    Slack sends the value; a client that echoes the label instead still gets the build
    the label names rather than an error.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return value
    found = _VMID_IN_LABEL.search(value)
    return found.group(1) if found else value


def loading_view(metadata: dict[str, Any]) -> dict[str, Any]:
    """Opened at once, inside the trigger's 3 seconds; the form replaces it when ready."""
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID + "_loading",
        "title": plain("Create a VM", 24),
        "close": plain("Cancel", 24),
        "private_metadata": clip(json.dumps(metadata), 3000),
        "blocks": [section(":hourglass_flowing_sand: Loading the cluster's templates…")],
    }


def create_view(
    templates: Sequence[Any],
    metadata: dict[str, Any],
    prefill: dict[str, Any] | None = None,
    has_key: bool = False,
) -> dict[str, Any]:
    """The form: where a VM comes from, its size, how to log in, its network."""
    prefill = prefill or {}
    options = template_options(templates)
    if not options:
        return _no_templates_view(metadata)
    blocks: list[Block] = [
        _template_block(options, prefill),
        *_identity_blocks(prefill),
        *_size_blocks(prefill),
        _clone_block(prefill),
        _lease_block(prefill),
        _ssh_key_block(has_key),
        *_network_blocks(prefill),
        context("Everything is checked before anything is created."),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": plain("Create a VM", 24),
        "submit": plain("Create", 24),
        "close": plain("Cancel", 24),
        "private_metadata": clip(json.dumps(metadata), 3000),
        "blocks": blocks,
    }


def _no_templates_view(metadata: dict[str, Any]) -> dict[str, Any]:
    """Nothing to clone: say how to get a template instead of showing an unusable form."""
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID + "_empty",
        "title": plain("Create a VM", 24),
        "close": plain("Close", 24),
        "private_metadata": clip(json.dumps(metadata), 3000),
        "blocks": [
            section(
                ":warning: No templates on the cluster yet; ask for one with "
                "`/solti template build rocky9`."
            )
        ],
    }


def _template_block(options: list[dict[str, Any]], prefill: dict[str, Any]) -> Block:
    select: Block = {
        "type": "static_select",
        "action_id": "template",
        "placeholder": plain("Pick a template", 150),
        "options": options,
    }
    wanted = str(prefill.get("template_vmid") or "")
    for option in options:
        if option["value"] == wanted:
            select["initial_option"] = option
    return {"type": "input", "block_id": "template", "label": plain("Template"), "element": select}


def _identity_blocks(prefill: dict[str, Any]) -> list[Block]:
    """Name and VMID, with the plan's defaults shown as placeholders (a dry run's Customize)."""
    planned_name = prefill.get("default_name")
    planned_vmid = prefill.get("default_vmid")
    return [
        _text_input(
            "name",
            "Name",
            initial=prefill.get("name"),
            placeholder=(
                f"default: {planned_name} ({{distribution}}-{{YYMMDD}})"
                if planned_name
                else "default: {distribution}-{YYMMDD}"
            ),
        ),
        _text_input(
            "vmid",
            "VMID",
            initial=_str(prefill.get("vmid")),
            placeholder=(
                f"default: {planned_vmid} (the lowest free from 500)"
                if planned_vmid
                else "default: the lowest free from 500"
            ),
            hint=VMID_HINT,
        ),
    ]


def _size_blocks(prefill: dict[str, Any]) -> list[Block]:
    return [
        _text_input(
            "disk",
            "Minimum disk",
            initial=prefill.get("disk"),
            placeholder="e.g. 50G; never shrinks the template's disk",
        ),
        _text_input(
            "cores", "Cores", initial=_str(prefill.get("cores")), placeholder="policy default"
        ),
        _text_input(
            "memory",
            "Memory (MB)",
            initial=_str(prefill.get("memory")),
            placeholder="policy default, e.g. 4096",
        ),
        _text_input(
            "size",
            "Size (flavor)",
            initial=prefill.get("size"),
            placeholder="optional: a flavor from the policy, e.g. small",
            hint="Fills what disk, cores and memory above leave empty.",
        ),
    ]


def _radio_block(block_id: str, label: str, options: list[Block], chosen: Block) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {
            "type": "radio_buttons",
            "action_id": block_id,
            "options": options,
            "initial_option": chosen,
        },
    }


def _clone_block(prefill: dict[str, Any]) -> Block:
    linked = _option("Linked clone (fast, shares the template's disk)", "linked")
    full = _option("Full clone (independent copy)", "full")
    return _radio_block(
        "clone", "Clone mode", [linked, full], full if prefill.get("full") else linked
    )


def _lease_block(prefill: dict[str, Any]) -> Block:
    """How long the VM may live (``leases`` in the policy; `/solti vm extend` adds time)."""
    return _text_input(
        "lease",
        "Lease",
        initial=prefill.get("lease"),
        placeholder="default: the policy's (e.g. 14d); 30m, 12h, 7d, 2w or none",
        hint="When it ends the VM is stopped or removed; you are reminded before.",
    )


def _ssh_key_block(has_key: bool) -> Block:
    return _text_input(
        "ssh_key",
        "SSH public key",
        placeholder="ssh-ed25519 AAAA... you@laptop",
        hint=(
            "Leave empty to use your registered key."
            if has_key
            else "You have no key registered: paste one (it is saved for next time)."
        ),
        optional=has_key,
        multiline=True,
    )


def _network_blocks(prefill: dict[str, Any]) -> list[Block]:
    dhcp = _option("DHCP", "dhcp")
    static = _option("Static address", "static")
    return [
        _radio_block("network", "Network", [dhcp, static], static if prefill.get("ip") else dhcp),
        _text_input(
            "ip", "Static address (CIDR)", initial=prefill.get("ip"), placeholder="10.0.0.5/24"
        ),
        _text_input("gw", "Gateway", initial=prefill.get("gw"), placeholder="10.0.0.1"),
    ]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def read_values(state: dict[str, Any]) -> dict[str, str | None]:
    """Pull each field's value out of ``view.state.values`` whatever the element type."""
    values: dict[str, str | None] = {}
    for block_id, elements in (state or {}).get("values", {}).items():
        for _action_id, element in (elements or {}).items():
            kind = element.get("type")
            if kind in ("static_select", "radio_buttons"):
                chosen = element.get("selected_option") or {}
                values[block_id] = chosen.get("value")
            else:
                raw = element.get("value")
                values[block_id] = raw.strip() if isinstance(raw, str) and raw.strip() else None
    return values
