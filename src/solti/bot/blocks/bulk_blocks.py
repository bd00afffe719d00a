"""The one message of a ``--count`` create: a row per VM, edited in place as each moves on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from solti.bot.blocks.elements import Block, clip, context, escape, mention, message, section

__all__ = ["BulkRow", "bulk_message"]

# Rows per section: a section's text holds at most 3,000 characters.
ROWS_PER_SECTION = 20

_ICONS = {"waiting": ":white_circle:", "running": ":hourglass_flowing_sand:",
          "done": ":white_check_mark:", "failed": ":x:"}  # fmt: skip


@dataclass(frozen=True)
class BulkRow:
    """One VM of the set as shown: name, VMID and node planned, state, and what it is doing
    (a step), what it made (``running``) or why it failed."""

    name: str
    vmid: int | None
    node: str
    state: str = "waiting"
    note: str | None = None


def _row_text(row: BulkRow) -> str:
    vm = f" VM {row.vmid}" if row.vmid is not None else ""
    line = f"{_ICONS.get(row.state, '•')} `{escape(row.name)}`{vm} on {escape(row.node)}"
    if row.note:
        line += f" — {escape(clip(row.note, 300))}"
    return line


def bulk_message(
    title: str, rows: Sequence[BulkRow], requester: str | None, *, final: bool = False
) -> dict[str, Any]:
    """``title`` plain text (escaped here); the count of finished rows in the heading."""
    ended = sum(1 for r in rows if r.state in ("done", "failed"))
    failed = sum(1 for r in rows if r.state == "failed")
    who = f" for {mention(requester)}" if requester else ""
    icon = ":gear:" if not final else (":warning:" if failed else ":white_check_mark:")
    heading = f"{icon} *{escape(title)}*{who} ({ended}/{len(rows)})"
    blocks: list[Block] = [section(heading)]
    for start in range(0, len(rows), ROWS_PER_SECTION):
        chunk = rows[start : start + ROWS_PER_SECTION]
        blocks.append(section("\n".join(_row_text(r) for r in chunk)))
    if final and failed:
        note = (
            f"{failed} of {len(rows)} failed; the others are made. Each failed VM was cleaned "
            "up; run the command again for the missing ones."
        )
        blocks.append(context(note))
    summary = f"{escape(title)}{who}: {ended - failed} of {len(rows)} made"
    if failed:
        summary += f", {failed} failed"
    return message(summary, blocks)
