"""What a modal's `state.values` looks like once a person has filled it in (pure).

Slack's client builds `view.state.values[block_id][action_id]` with a different shape per
element type and refuses to submit when a required input is empty or a length/number rule
is broken; the bot never sees those submissions. This module reproduces both.
"""

from __future__ import annotations

from typing import Any

_TEXT_TYPES = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_SINGLE_OPTION = {"static_select", "radio_buttons", "external_select", "overflow"}
_MULTI_OPTION = {"multi_static_select", "checkboxes", "multi_external_select"}
_SCALAR = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "file_input": "files",
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


class SubmitBlocked(ValueError):
    """Slack's client would not send this submission; `errors` maps block_id -> reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def option_for(element: dict[str, Any], choice: str | None) -> dict[str, Any]:
    """The option a person picks by its value or its visible text (first one if None)."""
    options = _options(element)
    if not options and element.get("type", "").endswith("external_select") and choice:
        return {"text": {"type": "plain_text", "text": choice}, "value": choice}
    for option in options:
        if choice is None or choice in (option.get("value"), option.get("text", {}).get("text")):
            return option
    shown = [o.get("value") for o in options]
    raise LookupError(f"no option {choice!r}; choose one of {shown}")


def input_blocks(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view.get("blocks") or [] if b.get("type") == "input"]


def _initial(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in _TEXT_TYPES:
        return element.get("initial_value")
    if kind in _SINGLE_OPTION:
        option = element.get("initial_option")
        return option.get("value") if option else None
    if kind in _MULTI_OPTION:
        return [o.get("value") for o in element.get("initial_options") or []] or None
    if kind == "rich_text_input":
        return element.get("initial_value")
    for key in (
        "initial_user",
        "initial_conversation",
        "initial_channel",
        "initial_date",
        "initial_time",
        "initial_date_time",
    ):
        if key in element:
            return element[key]
    return None


def _check_text(element: dict[str, Any], value: str) -> str | None:
    if element.get("type") == "number_input":
        try:
            number = float(value) if element.get("is_decimal_allowed") else int(value)
        except ValueError:
            kind = "a number" if element.get("is_decimal_allowed") else "a whole number"
            return f"must be {kind}"
        low, high = element.get("min_value"), element.get("max_value")
        if low is not None and number < float(low):
            return f"must be at least {low}"
        if high is not None and number > float(high):
            return f"must be at most {high}"
        return None
    if len(value) < int(element.get("min_length", 0)):
        return f"must be at least {element['min_length']} characters"
    if "max_length" in element and len(value) > int(element["max_length"]):
        return f"must be at most {element['max_length']} characters"
    return None


def _entry(element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element.get("type", "")
    entry: dict[str, Any] = {"type": kind}
    if kind in _TEXT_TYPES:
        entry["value"] = None if value in (None, "") else str(value)
    elif kind in _SINGLE_OPTION:
        entry["selected_option"] = None if value in (None, "") else option_for(element, value)
    elif kind in _MULTI_OPTION:
        chosen = [value] if isinstance(value, str) else list(value or [])
        entry["selected_options"] = [option_for(element, c) for c in chosen]
    elif kind in _SCALAR:
        entry[_SCALAR[kind]] = value
        if kind == "timepicker":  # Slack adds the picker's zone (null when it has none)
            entry["timezone"] = element.get("timezone")
        if kind == "file_input":
            entry["files"] = list(value or [])
    elif kind == "rich_text_input":
        entry["rich_text_value"] = _rich_text(value)
    else:
        entry["value"] = value
    return entry


def _rich_text(value: Any) -> dict[str, Any] | None:
    """A rich_text_input's value as Slack gives it: a `rich_text` block (text -> one section)."""
    if value in (None, ""):
        return None
    if isinstance(value, dict):
        return value
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": str(value)}]}
    return {"type": "rich_text", "elements": [section]}


def _empty(entry: dict[str, Any]) -> bool:
    return all(v in (None, [], "") for k, v in entry.items() if k not in ("type", "timezone"))


def build_state(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`state.values` for the view filled with `values` (block_id -> value or {action_id: v}).

    Raises SubmitBlocked with every field the client would flag, or LookupError for a block
    or option that is not in the view (a test or console typo, not a user error).
    """
    known = {b.get("block_id") for b in input_blocks(view)}
    unknown = [k for k in values if k not in known]
    if unknown:
        raise LookupError(f"no input block {unknown}; the view has {sorted(map(str, known))}")
    state: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for block in input_blocks(view):
        block_id, element = block["block_id"], block.get("element") or {}
        action_id = element.get("action_id")
        given = values.get(block_id, _initial(element))
        if isinstance(given, dict) and action_id in given:
            given = given[action_id]
        entry = _entry(element, given)
        if _empty(entry):
            if not block.get("optional"):
                errors[block_id] = "Please complete this required field."
        elif element.get("type") in _TEXT_TYPES:
            problem = _check_text(element, entry["value"])
            if problem:
                errors[block_id] = problem
        state[block_id] = {action_id: entry}
    if errors:
        raise SubmitBlocked(errors)
    return state
