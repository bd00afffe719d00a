"""The lease words of the slash grammar: `--lease DURATION|none` and `vm extend VMID [DURATION]`.

Pure like the rest of the grammar; durations go through provisioning's one parser, so the
slash command, the form, the CLI and the policy file accept and refuse the same words.
"""

from __future__ import annotations

from solti.bot.grammar.commands import UsageError, VmExtend
from solti.bot.grammar.options import _vmid
from solti.provisioning.durations import DURATION_HELP, parse_duration

__all__ = ["lease_option", "vm_extend"]


def _duration(value: str, option: str) -> str:
    try:
        parse_duration(value.strip().lower())
    except ValueError:
        raise UsageError(f"{option} `{value}` is not a duration; {DURATION_HELP}.", "vm") from None
    return value.strip().lower()


def lease_option(value: object) -> str | None:
    """``--lease``: a duration or ``none`` (who may say none is policy's question, later)."""
    if value is None:
        return None
    text = str(value).strip().lower()
    return "none" if text == "none" else _duration(text, "--lease")


def vm_extend(words: list[str]) -> VmExtend:
    if not 1 <= len(words) <= 2:
        raise UsageError(
            "`vm extend` needs a VMID and may take a duration, e.g. `/solti vm extend 512 7d`.",
            "vm",
        )
    duration = _duration(words[1], "The duration") if len(words) == 2 else None
    return VmExtend(vmid=_vmid(words[0], "VMID", "vm"), duration=duration)
