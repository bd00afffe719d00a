"""Block Kit validation: the vendored JSON schema plus the limits Slack enforces beyond it.

Real Slack rejects a bad payload with `invalid_blocks`; the bot's messages must be caught the
same way in tests, so the stand-in runs every blocks list and view through here. Errors read
like Slack's: ``"<what is wrong> [json-pointer:/blocks/0/text/text]"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_BYTES = 250_000

# Element types that can be clicked or chosen in a message or view (console numbering, agent).
INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "overflow",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "checkboxes",
        "radio_buttons",
        "workflow_button",
    }
)


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("solti.sandbox.slack").joinpath("data/slack-block-kit.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))


@cache
def _validator(ref: str | None) -> Draft202012Validator:
    schema = _schema()
    if ref is None:
        return Draft202012Validator(schema)
    root = {"$schema": schema["$schema"], "$ref": f"#/$defs/{ref}", "$defs": schema["$defs"]}
    return Draft202012Validator(root)


def _pointer(prefix: str, path: Any) -> str:
    return prefix + "".join(f"/{part}" for part in path)


def _is_type_mismatch(error: ValidationError) -> bool:
    """True when a oneOf branch failed only because it describes another `type`."""
    return error.validator == "const" and list(error.relative_path) == ["type"]


def _explain(error: ValidationError) -> list[ValidationError]:
    """Narrow a oneOf/anyOf failure to the branch whose `type` matches the instance.

    jsonschema reports "is not valid under any of the given schemas" for a discriminated
    union, which tells a developer nothing; the branch of the same `type` says what is wrong.
    """
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    matching = [errs for errs in branches.values() if not any(map(_is_type_mismatch, errs))]
    if len(matching) != 1:
        return [error]
    found: list[ValidationError] = []
    for sub in matching[0]:
        found.extend(_explain(sub))
    return found


_PHRASES = {
    "maxLength": "must be at most {limit} characters",
    "minLength": "must be at least {limit} characters",
    "maxItems": "must have at most {limit} items",
    "minItems": "must have at least {limit} items",
}


def _describe(error: ValidationError) -> str:
    """A short message that never echoes a long instance back (Slack's errors are short)."""
    if error.validator in _PHRASES:
        return _PHRASES[str(error.validator)].format(limit=error.validator_value)
    if error.context and isinstance(error.instance, dict) and "type" in error.instance:
        return f"unsupported or malformed type {error.instance['type']!r} here"
    message = error.message
    return message if len(message) <= 200 else message[:200] + "..."


def _schema_errors(instance: Any, ref: str | None, prefix: str) -> list[str]:
    """Schema errors of ``instance``, remembered by its canonical JSON.

    jsonschema walks the whole discriminated union of block types for every block: ~15 ms for
    a message of eight blocks, which made the stand-in, not the bot, the busiest process of a
    test run or benchmark. Bots send the same shapes again and again (the same help, the same
    progress step), so the answer for identical JSON is kept (bounded, least recently used).
    """
    try:
        canonical = json.dumps(instance, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):  # not JSON (only possible in-process): no memo
        return _schema_errors_uncached(instance, ref, prefix)
    return list(_schema_errors_memo(canonical, ref, prefix))


@lru_cache(maxsize=2048)
def _schema_errors_memo(canonical: str, ref: str | None, prefix: str) -> tuple[str, ...]:
    return tuple(_schema_errors_uncached(json.loads(canonical), ref, prefix))


def _schema_errors_uncached(instance: Any, ref: str | None, prefix: str) -> list[str]:
    errors: list[str] = []
    for error in sorted(_validator(ref).iter_errors(instance), key=lambda e: list(e.path)):
        for leaf in _explain(error):
            where = _pointer(prefix, leaf.absolute_path)
            errors.append(f"{_describe(leaf)} [json-pointer:{where}]")
    return errors


def _text(obj: Any) -> str | None:
    return obj.get("text") if isinstance(obj, dict) and isinstance(obj.get("text"), str) else None


def _limit(errors: list[str], obj: Any, limit: int, where: str, what: str) -> None:
    text = obj if isinstance(obj, str) else _text(obj)
    if text is not None and len(text) > limit:
        errors.append(f"{what} must be at most {limit} characters [json-pointer:{where}]")


def _plain(errors: list[str], obj: Any, where: str, what: str) -> None:
    if isinstance(obj, dict) and obj.get("type") != "plain_text":
        errors.append(f"{what} must be a plain_text object [json-pointer:{where}]")


def _check_element(errors: list[str], element: Any, where: str) -> None:
    if not isinstance(element, dict):
        return
    kind = element.get("type")
    _limit(errors, element.get("action_id"), 255, f"{where}/action_id", "action_id")
    if kind == "button":
        _plain(errors, element.get("text"), f"{where}/text", "button text")
        _limit(errors, element.get("text"), 75, f"{where}/text/text", "button text")
        _limit(errors, element.get("value"), 2000, f"{where}/value", "button value")
    for key, limit in (("options", 100), ("option_groups", 100)):
        items = element.get(key)
        if kind in ("checkboxes", "radio_buttons"):
            limit = 10
        if isinstance(items, list) and len(items) > limit:
            errors.append(f"{key} must have at most {limit} items [json-pointer:{where}/{key}]")
    _limit(errors, element.get("placeholder"), 150, f"{where}/placeholder/text", "placeholder")


def _check_block(errors: list[str], block: Any, where: str) -> None:
    if not isinstance(block, dict):
        return
    kind = block.get("type")
    if kind == "section":
        _limit(errors, block.get("text"), 3000, f"{where}/text/text", "section text")
        fields = block.get("fields")
        if isinstance(fields, list):
            if len(fields) > 10:
                errors.append(f"section must have at most 10 fields [json-pointer:{where}/fields]")
            for i, field in enumerate(fields):
                _limit(errors, field, 2000, f"{where}/fields/{i}/text", "field text")
        _check_element(errors, block.get("accessory"), f"{where}/accessory")
    elif kind == "header":
        _plain(errors, block.get("text"), f"{where}/text", "header text")
        _limit(errors, block.get("text"), 150, f"{where}/text/text", "header text")
    elif kind in ("actions", "context"):
        elements = block.get("elements")
        limit = 25 if kind == "actions" else 10
        if isinstance(elements, list):
            if len(elements) > limit:
                errors.append(
                    f"{kind} block must have at most {limit} elements "
                    f"[json-pointer:{where}/elements]"
                )
            seen: set[str] = set()
            for i, element in enumerate(elements):
                _check_element(errors, element, f"{where}/elements/{i}")
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if action_id in seen:
                    errors.append(
                        f"duplicate action_id {action_id!r} in a block "
                        f"[json-pointer:{where}/elements/{i}/action_id]"
                    )
                if isinstance(action_id, str):
                    seen.add(action_id)
    elif kind == "input":
        _plain(errors, block.get("label"), f"{where}/label", "input label")
        _limit(errors, block.get("label"), 2000, f"{where}/label/text", "input label")
        _limit(errors, block.get("hint"), 2000, f"{where}/hint/text", "input hint")
        _check_element(errors, block.get("element"), f"{where}/element")


def _check_blocks(blocks: list[Any], prefix: str, max_blocks: int) -> list[str]:
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"must have at most {max_blocks} blocks [json-pointer:{prefix}]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{prefix}/{i}"
        _check_block(errors, block, where)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        _limit(errors, block_id, 255, f"{where}/block_id", "block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                errors.append(f"duplicate block_id {block_id!r} [json-pointer:{where}/block_id]")
            seen.add(block_id)
    return errors


def _dedupe(errors: list[str]) -> list[str]:
    return list(dict.fromkeys(errors))


def validate_blocks(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Errors for a message's `blocks` (empty list when Slack would accept them)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array [json-pointer:/blocks]"]
    if not blocks:
        return ["blocks must have at least 1 item [json-pointer:/blocks]"]
    errors = _schema_errors(blocks, None, "/blocks")
    errors += _check_blocks(blocks, "/blocks", max_blocks)
    return _dedupe(errors)


def validate_view(view: Any) -> list[str]:
    """Errors for a `views.open/update/push/publish` view (modal or home tab)."""
    if not isinstance(view, dict):
        return ["view must be an object [json-pointer:/view]"]
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view type must be 'modal' or 'home', not {kind!r} [json-pointer:/view/type]"]
    # Fields Slack adds to stored views (id, hash, state, ...) are not part of what a caller
    # may send; the schema's additionalProperties:false rejects them, as Slack would.
    errors += _schema_errors(view, f"{kind}_view", "/view")
    for key in ("title", "submit", "close"):
        if key in view:
            _plain(errors, view[key], f"/view/{key}", f"view {key}")
            _limit(errors, view[key], 24, f"/view/{key}/text", f"view {key}")
    _limit(errors, view.get("callback_id"), 255, "/view/callback_id", "callback_id")
    _limit(errors, view.get("private_metadata"), 3000, "/view/private_metadata", "private_metadata")
    blocks = view.get("blocks")
    if isinstance(blocks, list):
        errors += _check_blocks(blocks, "/view/blocks", MAX_VIEW_BLOCKS)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if kind == "modal" and "submit" not in view and has_input:
            errors.append("must define submit to use input block [json-pointer:/view/submit]")
    if len(json.dumps(view)) > MAX_VIEW_BYTES:
        errors.append("view_too_large [json-pointer:/view]")
    return _dedupe(errors)


def interactive_elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict, dict]]:
    """Yield (block, element) for each clickable or choosable element, in reading order.

    One ordering shared by the renderer's numbers and the user agent's `click(n)`.
    Input blocks are excluded: their elements are filled in and submitted, not clicked.
    """
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "actions":
            candidates = block.get("elements") or []
        elif kind == "section":
            candidates = [block["accessory"]] if block.get("accessory") else []
        else:
            continue
        for element in candidates:
            if isinstance(element, dict) and element.get("type") in INTERACTIVE_TYPES:
                yield block, element
