"""The console's screen: prints what the stand-in shows, as it changes, with numbered buttons.

A watcher thread wakes on every change in the stand-in and prints new messages, edits,
deletions, ephemerals (with who sees them) and calls Slack refused. An edit is printed
again marked "(edited)", so progress is seen advancing; on a terminal, while a command
runs and the edited message is the last thing on screen, it is redrawn in place instead
("(updated in place)"). Button numbers run on across the session; `target_of(n)`
finds the message a number belongs to, as it is now.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from solti.sandbox.render import Clickable, Rendered, render_message, render_view, still_offered

_STYLES = {
    "header": "bold",
    "dim": "dim",
    "action": "cyan",
    "error": "red",
    "ephemeral": "italic",
    "field": "yellow",
    "who": "bold magenta",
}


class Screen:
    """Output for the console; thread-safe printing and a watcher over one stand-in."""

    def __init__(self, color: bool = False) -> None:
        self._lock = threading.RLock()
        self._rich: Any = None
        if color:
            from rich.console import Console

            self._rich = Console(highlight=False, markup=False, emoji=False, soft_wrap=True)
        self.standin: Any = None
        self.viewer: str | None = None
        self.printed: list[str] = []
        self._typed: set[int] = set()  # indexes in printed of echoed input (never waited for)
        self._seen: dict[tuple[str, ...], str] = {}
        self._numbers: dict[int, tuple[tuple[str, ...], Clickable]] = {}
        self._next_number = 1
        self._calls_seen = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_change = time.monotonic()
        self._mark = 0
        self.busy = False  # True while a command runs (no prompt on screen)
        # The prompt being read right now, if any (Lines.showing): a message that arrives
        # while the person is typing clears that line, prints, and puts prompt and typing back.
        self.prompt_shown: Callable[[], str | None] | None = None
        self._prompt_cleared = False
        # the last thing printed: (key, how many lines, len(printed) after it) - an edit of
        # it redraws in place on a terminal instead of printing the message again
        self._last_block: tuple[tuple[str, ...], int, int] | None = None

    # -- printing --------------------------------------------------------------------------

    def say(self, text: str, style: str = "text", *, typed: bool = False) -> None:
        """Print lines; ``typed`` marks the echo of what the person typed (a script's lines),
        which ``wait for TEXT`` must not find: it would find its own command."""
        with self._lock:
            self._clear_prompt_line()
            for line in text.split("\n"):
                if typed:
                    self._typed.add(len(self.printed))
                self.printed.append(line)
                if self._rich is not None:
                    self._rich.print(line, style=_STYLES.get(style, ""))
                else:
                    print(line, flush=True)

    def _prompt(self) -> str | None:
        """The prompt on the terminal now (None when none, or when output is not a terminal:
        a script's lines are echoed in order, so nothing is interleaved there)."""
        if self._rich is None or self.prompt_shown is None:
            return None
        return self.prompt_shown()

    def _clear_prompt_line(self) -> None:
        """Before a late message is printed under a prompt: erase the prompt line, so the
        message does not start after `alice@#infra> ` and the prompt is not lost above it."""
        if self._prompt_cleared or self._prompt() is None:
            return
        self._rich.file.write("\r\x1b[K")
        self._prompt_cleared = True

    def _restore_prompt(self) -> None:
        """Print the prompt again, with what the person had typed so far (readline's buffer)."""
        if not self._prompt_cleared:
            return
        self._prompt_cleared = False
        prompt = self._prompt()
        if prompt is None:
            return
        typed = ""
        with contextlib.suppress(ImportError):
            import readline

            typed = readline.get_line_buffer()
        self._rich.file.write(prompt + typed)
        self._rich.file.flush()

    def _print_rendered(self, heading: str, rendered: Rendered) -> None:
        with self._lock:
            self.say(heading, "who")
            for style, line in rendered.lines:
                self.say("  " + line, style)

    def _rows(self, lines: list[str]) -> int:
        """Terminal rows the lines took (long lines wrap)."""
        from rich.cells import cell_len

        width = max(1, self._rich.width)
        return sum(max(1, -(-cell_len(line) // width)) for line in lines)

    def _erase_last(self, key: tuple[str, ...]) -> bool:
        """On a terminal, while a command runs, erase the last message if it is `key` and
        nothing was printed after it; the caller prints its new version in its place."""
        last = self._last_block
        if self._rich is None or not self.busy or last is None or self._prompt() is not None:
            return False
        last_key, count, end = last
        if last_key != key or end != len(self.printed):
            return False
        rows = self._rows(self.printed[end - count : end])
        self._rich.file.write(f"\x1b[{rows}F\x1b[J")  # up `rows` lines, clear to the end
        self._rich.file.flush()
        return True

    def _names(self, some_id: str) -> str | None:
        """A user's or a channel's name (mentions render as @name and #name)."""
        if self.standin is None:
            return None
        found = self.standin.state.users.get(some_id) or self.standin.state.channels.get(some_id)
        return found["name"] if found else None

    def channel_name(self, channel_id: str) -> str:
        channel = self.standin.state.channels.get(channel_id) if self.standin else None
        return channel["name"] if channel else channel_id

    # -- watching --------------------------------------------------------------------------

    def attach(self, standin: Any, viewer: str | None = None) -> None:
        self.standin, self.viewer = standin, viewer
        self._calls_seen = len(standin.calls)
        self._thread = threading.Thread(target=self._watch, name="console-screen", daemon=True)
        self._thread.start()

    def detach(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _watch(self) -> None:
        version = -1
        state = self.standin.state
        while not self._stop.is_set():
            with state.changed:
                if state.version == version:
                    state.changed.wait(0.25)
                if state.version == version:
                    continue
                version = state.version
            self._last_change = time.monotonic()
            self.refresh()

    def _items(self) -> list[tuple[tuple[str, ...], dict[str, Any], str]]:
        """(key, message, heading) for everything visible, in posting order."""
        items = []
        for message in self.standin.all_messages():
            channel = message["channel"]
            where = "#" + self.channel_name(channel)
            if channel.startswith("D"):
                where = "DM to @" + (self._names("U" + channel[1:]) or channel)
            thread = message.get("thread_ts")
            if thread and thread != message["ts"]:
                where += " (in thread)"
            items.append((("m", channel, message["ts"]), message, f"{where} · solti"))
        for user_id in list(self.standin.state.users):
            for entry in self.standin.ephemerals(user_id):
                who = self._names(user_id) or user_id
                heading = f"#{self.channel_name(entry['channel'])} · solti (only @{who} sees this)"
                items.append((("e", user_id, entry["ts"]), entry, heading))
        items.sort(key=lambda item: item[0][2])
        return items

    def refresh(self) -> None:
        """Print what is new or changed since the last refresh."""
        with self._lock:
            if self.standin is None:
                return
            items = self._items()
            present = set()
            for key, message, heading in items:
                present.add(key)
                fingerprint = json.dumps([message.get("text"), message.get("blocks")])
                previous = self._seen.get(key)
                if previous == fingerprint:
                    continue
                self._seen[key] = fingerprint
                self._show(key, message, heading + (" (edited)" if previous else ""))
            for key in [k for k in self._seen if k not in present]:
                del self._seen[key]
                self.say(f"(a message from solti was deleted: {key[2]})", "dim")
            self._report_refusals()
            self._restore_prompt()

    def _show(self, key: tuple[str, ...], message: dict[str, Any], heading: str) -> None:
        rendered = render_message(message, start=self._next_number, users=self._names)
        for number, clickable in rendered.actions.items():
            self._numbers[number] = (key, clickable)
        if rendered.actions:
            self._next_number = max(rendered.actions) + 1
        if heading.endswith(" (edited)") and self._erase_last(key):
            heading = heading[: -len(" (edited)")] + " (updated in place)"
        start = len(self.printed)
        self._print_rendered(heading, rendered)
        self._last_block = (key, len(self.printed) - start, len(self.printed))

    def _report_refusals(self) -> None:
        calls = self.standin.calls
        for call in calls[self._calls_seen :]:
            if call.response.get("ok") is False:
                detail = "; ".join(call.response.get("errors") or [])[:300]
                self.say(f"(Slack refused {call.method}: {call.response.get('error')} {detail})")
        self._calls_seen = len(calls)

    def show_all(self) -> None:
        with self._lock:
            self._seen.clear()
            self.refresh()

    def show_home(self, user: str, view: dict[str, Any]) -> None:
        """Print a Home tab; its buttons are numbered on with the messages' (`click N`)."""
        with self._lock:
            who = self._names(user) or user
            self._show(("h", user, view["id"]), view, f"Home tab of @{who}")

    def show_view(
        self, view: dict[str, Any], errors: dict[str, str], values: dict[str, Any]
    ) -> Rendered:
        """Print a modal; its buttons are numbered from 1 (`click N` inside the modal)."""
        rendered = render_view(view, users=self._names, errors=errors, values=values)
        self._print_rendered("modal", rendered)
        return rendered

    # -- waiting and lookup ----------------------------------------------------------------

    def settle(self, quiet: float, limit: float, after_version: int | None = None) -> None:
        """Return once nothing changed for `quiet` seconds, or after `limit` seconds.

        With `after_version` (the stand-in's state version before a request), first wait
        (within `limit`) until something changed since: the bot may answer after its ack.
        """
        deadline = time.monotonic() + limit
        self._last_change = time.monotonic()
        while after_version is not None and time.monotonic() < deadline:
            if self.standin is None or self.standin.state.version != after_version:
                self._last_change = time.monotonic()
                break
            time.sleep(0.05)
        while time.monotonic() < deadline:
            if time.monotonic() - self._last_change >= quiet:
                break
            time.sleep(0.05)
        self.refresh()

    def mark(self) -> None:
        """Where `wait for TEXT` starts looking: what the last command brought."""
        with self._lock:
            self._mark = len(self.printed)

    def wait_for_text(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        start = self._mark
        while time.monotonic() < deadline:
            self.refresh()
            with self._lock:
                # Joined, whitespace collapsed: a long headline wraps ("VM web-1 is" /
                # "ready."), and the person waits for the words, not for a line.
                lines = enumerate(self.printed[start:], start)
                shown = " ".join(
                    " ".join(line.split()) for i, line in lines if i not in self._typed
                )
                if " ".join(text.split()) in shown:
                    return True
            time.sleep(0.1)
        return False

    def number_of(self, label: str) -> int | None:
        """The latest button whose label starts with `label` (case-insensitive)."""
        wanted = label.casefold()
        for number in sorted(self._numbers, reverse=True):
            if self._numbers[number][1].label.casefold().startswith(wanted):
                return number
        return None

    def why_not_clickable(self, number: int) -> str | None:
        """Why `click number` cannot work, in words for the person (None when it can).

        A bare "no such button" leaves a new user guessing; the usual reasons are a number
        not shown yet, or a message edited or deleted since its buttons were numbered.
        """
        found = self._numbers.get(number)
        if found is None:
            last = self._next_number - 1
            shown = f"the buttons so far are numbered 1-{last}" if last else "none is shown yet"
            return f"no button {number}: {shown}"
        clickable = found[1]
        current = self.target_of(number)
        name = f"button {number} ({clickable.label})"
        if current is None:
            return f"{name} is gone: its message was deleted"
        if not still_offered(current[0], clickable):
            return (
                f"{name} is no longer there: that message was edited after it was shown"
                " (its latest version is above)"
            )
        return None

    def target_of(self, number: int) -> tuple[dict[str, Any], Clickable] | None:
        """The message (as it is now) holding button `number`, and that button."""
        found = self._numbers.get(number)
        if found is None:
            return None
        (kind, owner, ts), clickable = found
        if kind == "h":
            current = self.standin.home(owner)
        elif kind == "m":
            messages = self.standin.all_messages()
            current = next((m for m in messages if m["channel"] == owner and m["ts"] == ts), None)
        else:
            current = next((e for e in self.standin.ephemerals(owner) if e["ts"] == ts), None)
        return (current, clickable) if current is not None else None
