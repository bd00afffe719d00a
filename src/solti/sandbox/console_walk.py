"""Filling a modal from the console, field by field, as a person would in Slack.

Each input is asked for with its label, type, choices and current value; Submit sends a
`view_submission` through the user agent. Field errors (from Slack's client rules or the
bot's `response_action: errors`) are shown and only those fields are asked again; an
`update`/`push` answer walks the new view.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Protocol

from solti.sandbox.render import initial_value
from solti.sandbox.slack.viewstate import SubmitBlocked, input_blocks

_MULTI = {"checkboxes", "multi_static_select", "multi_external_select"}
CANCEL = {"cancel", ":cancel"}
_CLICK = re.compile(r"^click\s+(\d+)(?:\s+(.+))?$", re.IGNORECASE)
HINT = "  (type each field; Enter keeps what is shown or leaves it empty; `cancel` closes it)"
HINT_BUTTONS = (
    "  (type each field; Enter keeps what is shown or leaves it empty; `click N` clicks a"
    " button in the modal; `cancel` closes it)"
)
LEFT = "(left the modal; it stays open: `modal` goes back to it)"


class _Click(Exception):
    """The person typed `click N [OPTION]` at a field: a button inside the modal."""

    def __init__(self, number: int, option: str | None) -> None:
        super().__init__(number)
        self.number, self.option = number, option


class LineSource(Protocol):
    def read(self, prompt: str) -> str | None: ...


class Lines:
    """Lines typed by the person (readline prompt) or read from a script on stdin."""

    def __init__(self, interactive: bool, echo: Any = print) -> None:
        self.interactive = interactive
        self.echo = echo
        self.showing: str | None = None  # the prompt on the terminal while input() waits
        if interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401 - line editing and history for input()

    def read(self, prompt: str) -> str | None:
        try:
            self.showing = prompt if self.interactive else None
            line = input(prompt if self.interactive else "")
        except EOFError:
            self.showing = None
            if self.interactive:  # Ctrl-D leaves the cursor after the prompt
                self.echo("")
            return None
        finally:
            self.showing = None
        if not self.interactive:
            self.echo(f"{prompt}{line}")
        return line


def ask(lines: LineSource, screen: Any, prompt: str) -> str | None:
    return lines.read(prompt.rstrip() + " ")


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found.extend(group.get("options") or [])
    return found


def _choice(element: dict[str, Any], answer: str) -> str | None:
    """A typed option number, value, text or start of a text -> the option's value.

    A start that fits several options picks the first, as the list is shown: the bot lists
    the latest template build first, so `rocky9` means the newest rocky9 template.
    """
    options = _options(element)
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return str(options[int(answer) - 1].get("value"))
    for option in options:
        if answer in (str(option.get("value")), option["text"]["text"]):
            return str(option.get("value"))
    wanted = answer.casefold()
    for option in options:
        if option["text"]["text"].casefold().startswith(wanted):
            return str(option.get("value"))
    return None


def _ask_field(
    lines: LineSource,
    screen: Any,
    block: dict[str, Any],
    error: str | None = None,
    current: Any = None,
) -> tuple[bool, Any]:
    """(answered, value). Blank keeps the current value; EOF or `cancel` -> (False, None);
    `click N` raises _Click."""
    element = block.get("element") or {}
    kind = element.get("type", "")
    label = block.get("label", {}).get("text", block.get("block_id"))
    need = "optional" if block.get("optional") else "required"
    options = _options(element)
    if options:
        for number, option in enumerate(options, start=1):
            # The text alone: values are ids the text already names (`... (VMID 9001)`).
            screen.say(f"    {number}) {option['text']['text']}", "dim")
    hint = " (comma-separated)" if kind in _MULTI else ""
    if error:
        screen.say(f"  ! {label}: {error}", "error")
    if current not in (None, "", []):  # what Enter keeps: a typed value or the initial one
        shown = ", ".join(map(str, current)) if isinstance(current, list) else current
        hint += f" (now: {shown})"
    while True:
        answer = ask(lines, screen, f"  {label} [{kind}, {need}]{hint}:")
        if answer is None or answer.strip().lower() in CANCEL:
            return False, None
        answer = answer.strip()
        clicked = _CLICK.match(answer)
        if clicked:
            raise _Click(int(clicked.group(1)), clicked.group(2))
        if not answer:
            return True, None
        if not options:
            return True, answer
        parts = [p.strip() for p in answer.split(",") if p.strip()] if kind in _MULTI else [answer]
        chosen = [_choice(element, p) for p in parts]
        wrong = [p for p, c in zip(parts, chosen, strict=True) if c is None]
        if not wrong:
            return True, chosen if kind in _MULTI else chosen[0]
        screen.say(
            f"    no option {', '.join(wrong)}: type a number or the start of a text above",
            "error",
        )


def walk_views(
    standin: Any, agent: Any, view: dict[str, Any], screen: Any, lines: LineSource
) -> None:
    """Walk an open modal (and any view it leads to) until it closes or is cancelled.

    Ctrl-C leaves the modal open, as closing the Slack tab would not cancel it either;
    `modal` at the prompt comes back to it.
    """
    try:
        _walk(standin, agent, view, screen, lines)
    except KeyboardInterrupt:
        screen.say("")  # input() leaves the cursor after ^C
        screen.say(LEFT, "dim")


def _walk(standin: Any, agent: Any, view: dict[str, Any], screen: Any, lines: LineSource) -> None:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    shown: str | None = None
    while True:
        if view["id"] != shown or not errors:
            rendered = screen.show_view(view, errors, values)
            screen.say(HINT_BUTTONS if getattr(rendered, "actions", None) else HINT, "dim")
            shown = view["id"]
        else:  # sent back with field errors: ask only those fields again
            screen.say(f"  the modal came back with {len(errors)} field error(s):", "error")
        try:
            for block in input_blocks(view):
                block_id = block.get("block_id")
                if errors and block_id not in errors:
                    continue
                current = values.get(block_id, initial_value(block.get("element") or {}))
                answered, value = _ask_field(lines, screen, block, errors.get(block_id), current)
                if not answered:
                    agent.close_view(view["id"])
                    screen.say("(modal cancelled)", "dim")
                    return
                if value is not None:
                    values[block_id] = value
            answer = ask(lines, screen, "  submit? [Y/n, or click N]")
            clicked = _CLICK.match((answer or "").strip())
            if clicked:
                raise _Click(int(clicked.group(1)), clicked.group(2))
        except _Click as click:
            view = _click_in_view(standin, agent, view, rendered, click, screen)
            if view is None:
                return
            errors = {}
            continue
        if answer is None or answer.strip().lower() in ("n", "no", *CANCEL):
            agent.close_view(view["id"])
            screen.say("(modal cancelled)", "dim")
            return
        try:
            reply = agent.submit_view(view["id"], values)
        except SubmitBlocked as blocked:
            errors = blocked.errors
            continue
        except LookupError as exc:  # the view changed under us; start again
            screen.say(f"  {exc}", "error")
            errors, values = {}, {}
            continue
        body: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            body = reply.json() if reply.content.strip() else {}
        action = body.get("response_action") if isinstance(body, dict) else None
        if reply.status_code != 200:
            screen.say(f"  (the bot answered HTTP {reply.status_code})", "error")
            return
        if action == "errors":
            errors = dict(body.get("errors") or {})
            continue
        if action in ("update", "push"):
            still_open = standin.open_views(agent.user_id)
            view = still_open[-1] if still_open else view
            errors, values = {}, {}
            continue
        screen.say("(modal submitted)", "dim")
        return


def _click_in_view(
    standin: Any, agent: Any, view: dict[str, Any], rendered: Any, click: _Click, screen: Any
) -> dict[str, Any] | None:
    """Click button N of the modal (`block_actions` from a view); the view as it is after,
    or None when it closed."""
    clickable = getattr(rendered, "actions", {}).get(click.number)
    if clickable is None:
        count = len(getattr(rendered, "actions", {}))
        screen.say(
            f"  no button {click.number} in this modal"
            + (f" (it has 1-{count})" if count else " (it has none)"),
            "error",
        )
        return view
    current = standin.state.view(view["id"]) if _is_open(standin, view["id"]) else None
    if current is None:
        screen.say("  (the modal is closed)", "dim")
        return None
    try:
        reply = agent.click(current, clickable.index, option=click.option)
    except (LookupError, ValueError) as exc:
        screen.say(f"  cannot click that: {exc}", "error")
        return view
    if reply.status_code != 200:
        screen.say(f"  (the bot answered HTTP {reply.status_code})", "error")
    screen.settle(quiet=0.5, limit=5)
    still_open = standin.open_views(agent.user_id)
    if not still_open:
        screen.say("(modal closed)", "dim")
        return None
    return still_open[-1]


def _is_open(standin: Any, view_id: str) -> bool:
    return any(v["id"] == view_id for v in standin.open_views())
