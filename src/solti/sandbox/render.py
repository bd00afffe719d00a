"""Block Kit -> readable terminal text, for the sandbox console (pure; no I/O, no rich).

Every line carries a style name (`header`, `text`, `dim`, `action`, `field`, `error`) so the
console may colour it; `Rendered.text` is the plain version tests read. Clickable elements
are numbered from `start` so one counter can run across all messages on screen.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from solti.sandbox.slack.blockkit import interactive_elements

WIDTH = 78
COLUMN = 38
# user id (and channel id) -> name, for mentions spelled out as @name and #name
UserLookup = Callable[[str], str | None] | Mapping[str, str] | None


@dataclass(frozen=True)
class Clickable:
    """One numbered element: what `click N` means."""

    number: int
    index: int  # 1-based position in its message/view (the user agent's numbering)
    block_id: str | None
    action_id: str | None
    kind: str
    label: str
    element: dict[str, Any] = field(repr=False, compare=False)

    @property
    def options(self) -> list[dict[str, Any]]:
        found = list(self.element.get("options") or [])
        for group in self.element.get("option_groups") or []:
            found.extend(group.get("options") or [])
        return found

    @property
    def confirm(self) -> dict[str, Any] | None:
        return self.element.get("confirm")


@dataclass
class Rendered:
    lines: list[tuple[str, str]] = field(default_factory=list)
    actions: dict[int, Clickable] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def add(self, style: str, text: str) -> None:
        for line in text.split("\n"):
            self.lines.append((style, line))


def still_offered(message: dict[str, Any], clickable: Clickable) -> bool:
    """Whether `message` (as it is now) still has this element at the same place.

    Numbers are given when a message is printed; an edit (an approval that replaces its
    buttons with "Approved by") can take the element away or put another in its place, and
    clicking by the old number must not press whatever sits there now.
    """
    found = list(interactive_elements(message.get("blocks") or []))
    if not 1 <= clickable.index <= len(found):
        return False
    element = found[clickable.index - 1][1]
    return (element.get("action_id"), element.get("type")) == (
        clickable.action_id,
        clickable.kind,
    )


# -- mrkdwn ------------------------------------------------------------------------------

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_EMOJI_CODE = re.compile(r":([a-z0-9_+\-]+):")
# The shortcodes a terminal can show as one character; others stay as :code:.
EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔",
    "x": "❌",
    "warning": "⚠",
    "gear": "⚙",
    "hourglass_flowing_sand": "⏳",
    "hourglass": "⌛",
    "raised_hand": "✋",
    "inbox_tray": "📥",
    "lock": "🔒",
    "key": "🔑",
    "rocket": "🚀",
    "no_entry": "⛔",
    "information_source": "ℹ",
    "clock3": "🕒",
    "wastebasket": "🗑",
    "arrows_counterclockwise": "🔄",
    "new": "🆕",
    "mag": "🔍",
    "grey_question": "❔",
    "memory": "📝",
    "arrow_up": "⬆",
    "white_circle": "⚪",
    "large_green_circle": "🟢",
    "red_circle": "🔴",
    "stopwatch": "⏱",
    "camera": "📷",
    "rewind": "⏪",
}


def emoji(text: str) -> str:
    """Known :shortcodes: as their characters (Slack shows them as pictures)."""
    return _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _lookup(users: UserLookup, user_id: str) -> str | None:
    if users is None:
        return None
    if callable(users):
        return users(user_id)
    return users.get(user_id)


def mrkdwn(text: str, users: UserLookup = None) -> str:
    """Slack mrkdwn as plain text: markers dropped, links and mentions spelled out."""

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (label or _lookup(users, user_id) or user_id)
        if target.startswith("#"):  # a channel: its name when the lookup knows it
            return "#" + (label or _lookup(users, target[1:]) or target[1:])
        if target.startswith("!subteam^"):
            return label or "@" + target.split("^", 1)[1]
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        if label and label != target:
            return f"{label} ({target})"
        return target

    text = _LINK.sub(link, text)
    text = text.replace("```", "")
    for pattern in (_BOLD, _ITALIC, _STRIKE):
        text = pattern.sub(r"\1", text)
    return html.unescape(emoji(text))


def _text(obj: Any, users: UserLookup) -> str:
    if not isinstance(obj, dict):
        return str(obj or "")
    raw = str(obj.get("text", ""))
    return mrkdwn(raw, users) if obj.get("type") == "mrkdwn" else html.unescape(emoji(raw))


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    return lines


# -- elements ----------------------------------------------------------------------------


def _option_text(option: dict[str, Any], users: UserLookup) -> str:
    return _text(option.get("text"), users)


def _choice_text(option: dict[str, Any], users: UserLookup) -> str:
    """``value = text``, or the text alone when it already names the value (VMID 9001)."""
    text, value = _option_text(option, users), str(option.get("value"))
    return text if value in text else f"{value} = {text}"


def _element_label(element: dict[str, Any], users: UserLookup) -> str:
    kind = element.get("type", "")
    if kind in ("button", "workflow_button"):
        return _text(element.get("text"), users)
    if kind == "overflow":
        return "more…"
    options = [_option_text(o, users) for o in _options(element)]
    placeholder = _text(element.get("placeholder"), users) or kind.replace("_", " ")
    return f"{placeholder} ▾ {' | '.join(options)}" if options else f"{placeholder} ▾"


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found.extend(group.get("options") or [])
    return found


class _Numberer:
    def __init__(self, blocks: list[dict[str, Any]], start: int, users: UserLookup) -> None:
        self.numbers: dict[int, Clickable] = {}
        for index, (block, element) in enumerate(interactive_elements(blocks), start=1):
            number = start + index - 1
            self.numbers[id(element)] = Clickable(
                number=number,
                index=index,
                block_id=block.get("block_id"),
                action_id=element.get("action_id"),
                kind=element.get("type", ""),
                label=_element_label(element, users),
                element=element,
            )

    def token(self, element: dict[str, Any]) -> str:
        clickable = self.numbers.get(id(element))
        if clickable is None:
            return ""
        mark = " (confirm)" if clickable.confirm else ""
        return f"[{clickable.number} {clickable.label}{mark}]"


# -- blocks ------------------------------------------------------------------------------


def _fields(fields: list[dict[str, Any]], users: UserLookup) -> list[str]:
    rows: list[str] = []
    for left, right in zip_longest(fields[0::2], fields[1::2]):
        left_lines = _wrap(_text(left, users), COLUMN)
        right_lines = _wrap(_text(right, users), COLUMN) if right else []
        for a, b in zip_longest(left_lines, right_lines, fillvalue=""):
            rows.append(f"{a:<{COLUMN}}  {b}".rstrip())
    return rows


def _rich_text(block: dict[str, Any], users: UserLookup) -> str:
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "text":
                parts.append(node.get("text", ""))
            elif kind == "link":
                parts.append(node.get("text") or node.get("url", ""))
            elif kind == "user":
                user_id = node.get("user_id", "")
                parts.append("@" + (_lookup(users, user_id) or user_id))
            elif kind == "emoji":
                parts.append(f":{node.get('name', '')}:")
            for child in node.get("elements") or []:
                walk(child)
            if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
                parts.append("\n")

    walk(block)
    return "".join(parts).rstrip("\n")


def _input(
    out: Rendered,
    block: dict[str, Any],
    users: UserLookup,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
) -> None:
    element = block.get("element") or {}
    label = _text(block.get("label"), users)
    need = "optional" if block.get("optional") else "required"
    kind = element.get("type", "")
    out.add("field", f"• {label} ({kind}, {need})")
    options = _options(element)
    if options:
        choices = ", ".join(_choice_text(o, users) for o in options)
        out.add("dim", f"    choose: {choices}")
    placeholder = _text(element.get("placeholder"), users)
    if placeholder:
        out.add("dim", f"    ({placeholder})")
    if block.get("hint"):
        out.add("dim", f"    {_text(block['hint'], users)}")
    current = values.get(block.get("block_id", ""), initial_value(element))
    if current not in (None, "", []):
        out.add("text", f"    current: {current}")
    if block.get("block_id") in errors:
        out.add("error", f"    ! {errors[block['block_id']]}")


def initial_value(element: dict[str, Any]) -> Any:
    """The value an input starts with; Slack submits it when the field is left alone."""
    if "initial_value" in element:
        return element["initial_value"]
    if element.get("initial_option"):
        return element["initial_option"].get("value")
    if element.get("initial_options"):
        return [o.get("value") for o in element["initial_options"]]
    return None


def _block(
    out: Rendered,
    block: dict[str, Any],
    numberer: _Numberer,
    users: UserLookup,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
) -> None:
    kind = block.get("type")
    if kind == "header":
        out.add("header", f"== {_text(block.get('text'), users)} ==")
    elif kind == "section":
        if block.get("text"):
            out.add("text", "\n".join(_wrap(_text(block["text"], users), WIDTH)))
        if block.get("fields"):
            out.add("text", "\n".join(_fields(block["fields"], users)))
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "image":
            out.add("dim", f"[image: {accessory.get('alt_text', '')}]")
        elif accessory:
            out.add("action", numberer.token(accessory))
    elif kind == "divider":
        out.add("dim", "-" * 40)
    elif kind == "context":
        texts = []
        for element in block.get("elements") or []:
            if element.get("type") == "image":
                texts.append(f"[image: {element.get('alt_text', '')}]")
            else:
                texts.append(_text(element, users))
        out.add("dim", "\n".join(_wrap("  ·  ".join(texts), WIDTH)))
    elif kind == "image":
        title = _text(block.get("title"), users)
        out.add("dim", f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else ""))
    elif kind == "actions":
        tokens = [numberer.token(e) for e in block.get("elements") or []]
        out.add("action", " ".join(t for t in tokens if t))
    elif kind == "input":
        _input(out, block, users, values, errors)
    elif kind == "markdown":
        out.add("text", mrkdwn(str(block.get("text", "")), users))
    elif kind == "rich_text":
        out.add("text", _rich_text(block, users))
    else:
        out.add("dim", f"[{kind} block]")


def _render_blocks(
    out: Rendered,
    blocks: list[dict[str, Any]],
    start: int,
    users: UserLookup,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> None:
    numberer = _Numberer(blocks, start, users)
    for block in blocks:
        if isinstance(block, dict):
            _block(out, block, numberer, users, values or {}, errors or {})
    out.actions.update({c.number: c for c in numberer.numbers.values()})


def render_message(
    message: dict[str, Any], *, start: int = 1, users: UserLookup = None
) -> Rendered:
    """A message (blocks, or its text when it has none); buttons numbered from `start`."""
    out = Rendered()
    blocks = message.get("blocks") or []
    if blocks:
        _render_blocks(out, blocks, start, users)
    else:
        out.add("text", "\n".join(_wrap(mrkdwn(str(message.get("text", "")), users), WIDTH)))
    return out


def render_view(
    view: dict[str, Any],
    *,
    start: int = 1,
    users: UserLookup = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Rendered:
    """A modal: title, blocks (inputs as fields to fill), field errors, submit/close."""
    out = Rendered()
    out.add("header", f"[ {_text(view.get('title'), users)} ]")
    blocks = view.get("blocks") or []
    _render_blocks(out, blocks, start, users, values, errors)
    shown = {b.get("block_id") for b in blocks if b.get("type") == "input"}
    for block_id, message in (errors or {}).items():
        if block_id not in shown:
            out.add("error", f"! {block_id}: {message}")
    buttons = [f"<{_text(view[key], users)}>" for key in ("submit", "close") if view.get(key)]
    if buttons:
        out.add("dim", " ".join(buttons))
    return out
