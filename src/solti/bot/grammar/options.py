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
from solti.provisioning.bounds import MAX_CORES, MAX_MEMORY, quoted

# Every number is checked against its bound before it is converted: digits are counted first,
# so a 5,000-digit value is refused with the bound and never reaches int() or any arithmetic.
MAX_PAGE = 100_000
# `vm create --count`: the grammar's bound; the policy (limits.max_count) sets the real one.
MAX_HOW_MANY = 100

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


def whole_number(value: str, low: int, high: int) -> int | None:
    """``value`` as an int when it is a whole number from ``low`` to ``high``, else None.

    The digits are counted before ``int()`` runs: Python refuses (ValueError) to convert more
    than 4,300 digits, and a number longer than ``high`` needs no converting to be refused.
    """
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text.lstrip("0")) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def size_problem(value: str, shown: str) -> str | None:
    """What is wrong with a disk size as typed, or None; ``shown`` is the value as the
    surface quotes it (`` `lots` `` in a message, ``"lots"`` in a plain-text form error).

    One wording for the slash command and the form, naming the input exactly as typed.
    """
    try:
        size = Size(value)
    except ValueError as exc:
        if "too large" in str(exc):
            return f"{shown} is too large; sizes go up to 1024P (and the policy's limit is lower)."
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
    shown = quoted(value)
    if not value.isascii() or not value.isdigit():
        raise UsageError(f"{option} must be a whole number (100 or more), not `{shown}`.", topic)
    number = whole_number(value, 100, 999_999_999)
    if number is None:
        raise UsageError(
            f"{option} `{shown}` is out of range; VMIDs run from 100 to 999999999.", topic
        )
    return number


# Kinds whose value is a whole number from 1 to a most, refused with one sentence:
# "count" (--cores), "howmany" (--count), "page" (--page).
_FROM_ONE_TO = {"count": MAX_CORES, "howmany": MAX_HOW_MANY, "page": MAX_PAGE}


def _convert(kind: str, value: str, option: str, topic: str) -> str | int:
    shown = quoted(value)
    if kind == "vmid":
        return _vmid(value, option, topic)
    if kind in _FROM_ONE_TO:
        most = _FROM_ONE_TO[kind]
        number = whole_number(value, 1, most)
        if number is None:
            raise UsageError(
                f"{option} must be a whole number from 1 to {most}, not `{shown}`.", topic
            )
        return number
    if kind == "memory":
        memory = whole_number(value, 16, MAX_MEMORY)
        if memory is None:
            raise UsageError(
                f"{option} is memory in MB: a whole number from 16 to {MAX_MEMORY}, "
                f"e.g. 4096 (not `{shown}`).",
                topic,
            )
        return memory
    if kind == "size":
        problem = size_problem(value, f"`{shown}`")
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
            f"not `{shown}`.",
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
        "size": "--size small",
        "page": "--page 2",
        "count": "--count 3",
    }.get(name, f"--{name} VALUE")


def _no_extra(words: list[str], usage: str, topic: str) -> None:
    if words:
        raise UsageError(f"Unexpected `{quoted(' '.join(words), 60)}`; usage: `{usage}`.", topic)
