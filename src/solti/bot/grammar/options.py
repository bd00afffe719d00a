"""Words and options of a `/solti` command: tokenizing, `--opt value`, value checks.

Slack's client rewrites what people type ("--" into a dash, straight quotes into curly
ones), so the tokenizer undoes that first; each value kind (VMID, size, count, memory, a user
mention) is checked here once, with a message that says what is allowed.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from solti.bot.grammar.commands import UsageError
from solti.provisioning import Size

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_DASHES = ("\u2014", "\u2013")  # Slack turns "--" into an em or en dash as people type.


@dataclass
class _Spec:
    """Options one verb accepts: value options (name -> kind) and flags."""

    values: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    def allowed(self) -> str:
        names = [f"--{n}" for n in self.values] + [f"--{f}" for f in self.flags]
        return ", ".join(names) if names else "no options"


def size_problem(value: str, shown: str) -> str | None:
    """What is wrong with a disk size as typed, or None; ``shown`` is the value as the
    surface quotes it (`` `lots` `` in a message, ``"lots"`` in a plain-text form error).

    One wording for the slash command and the form, naming the input exactly as typed.
    """
    try:
        size = Size(value)
    except ValueError:
        return f"{shown} is not a size; use a number with G (or M, T), e.g. 32G."
    if size.bytes <= 0:
        return f"{shown} is not more than 0; use a size such as 32G."
    return None


def _tokens(text: str) -> list[str]:
    for dash in _DASHES:
        text = text.replace(dash, "--")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2018", "'").replace("\u2019", "'")
    try:
        return shlex.split(text)
    except ValueError:
        raise UsageError("A quote is not closed; close it or remove it.") from None


def _vmid(value: str, option: str, topic: str) -> int:
    if not value.isdigit():
        raise UsageError(f"{option} must be a whole number (100 or more), not `{value}`.", topic)
    number = int(value)
    if not 100 <= number <= 999_999_999:
        raise UsageError(
            f"{option} `{value}` is out of range; VMIDs run from 100 to 999999999.", topic
        )
    return number


def _convert(kind: str, value: str, option: str, topic: str) -> str | int:
    if kind == "vmid":
        return _vmid(value, option, topic)
    if kind == "count":
        if not value.isdigit() or not 1 <= int(value) <= 512:
            raise UsageError(
                f"{option} must be a whole number from 1 to 512, not `{value}`.", topic
            )
        return int(value)
    if kind == "memory":
        if not value.isdigit() or int(value) < 16:
            raise UsageError(
                f"{option} is memory in MB: a whole number of at least 16, "
                f"e.g. 4096 (not `{value}`).",
                topic,
            )
        return int(value)
    if kind == "size":
        problem = size_problem(value, f"`{value}`")
        if problem:
            raise UsageError(f"{option} {problem}", topic)
        return str(value).upper()
    if kind == "user":
        match = _MENTION.match(value)
        if match:
            return match.group(1)
        if _USER_ID.match(value):
            return value
        raise UsageError(
            f"{option} needs a Slack mention such as @alice (pick the person from the list), "
            f"not `{value}`.",
            topic,
        )
    return value


def _options(args: list[str], spec: _Spec, topic: str) -> tuple[list[str], dict[str, object]]:
    """Split positional words from options; `--opt value` and `--opt=value` both work."""
    positional: list[str] = []
    found: dict[str, object] = {}
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if not word.startswith("--"):
            positional.append(word)
            continue
        name, has_inline, inline = word[2:].partition("=")
        option = f"--{name}"
        if name in spec.flags:
            if has_inline:
                raise UsageError(f"{option} is a flag and takes no value.", topic)
            found[name] = True
            continue
        if name not in spec.values:
            raise UsageError(f"Unknown option `{option}`; allowed: {spec.allowed()}.", topic)
        if has_inline:
            value = inline
        elif index < len(args) and not args[index].startswith("--"):
            value = args[index]
            index += 1
        else:
            value = ""
        if not value:
            raise UsageError(f"{option} needs a value, e.g. {_example(name)}.", topic)
        found[name] = _convert(spec.values[name], value, option, topic)
    return positional, found


def _example(name: str) -> str:
    return {
        "vmid": "--vmid 123",
        "name": "--name web-1",
        "disk": "--disk 50G",
        "cores": "--cores 4",
        "memory": "--memory 4096",
        "node": "--node pve1",
        "ip": "--ip 10.0.0.5/24",
        "gw": "--gw 10.0.0.1",
        "user": "--user @alice",
    }.get(name, f"--{name} VALUE")


def _no_extra(words: list[str], usage: str, topic: str) -> None:
    if words:
        raise UsageError(f"Unexpected `{' '.join(words)}`; usage: `{usage}`.", topic)
