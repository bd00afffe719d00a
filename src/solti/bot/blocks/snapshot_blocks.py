"""Snapshot messages: the list, the rollback and delete prompts (a danger button behind a
Slack ``confirm`` dialog, as `vm remove`), the results, and the report's old-snapshots section.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from solti.bot.blocks.elements import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    escape,
    mention,
    message,
    section,
)

__all__ = [
    "DELETE_SNAPSHOT_ACTION",
    "HELP_SNAPSHOT",
    "ROLLBACK_SNAPSHOT_ACTION",
    "ROLLBACK_STOPPED_ACTION",
    "SNAPSHOT_ROLLBACK_ASK_ACTION",
    "SNAPSHOT_TAKE_ACTION",
    "button_value",
    "delete_prompt_message",
    "old_snapshot_blocks",
    "parse_button_value",
    "rollback_prompt_message",
    "snapshot_list_message",
]

ROLLBACK_SNAPSHOT_ACTION = "snapshot_rollback"
# The second choice of a running VM's rollback: PVE's rollback without ``start=1``
# (`solti snapshot rollback --no-start` in the CLI).
ROLLBACK_STOPPED_ACTION = "snapshot_rollback_stopped"
DELETE_SNAPSHOT_ACTION = "snapshot_delete"
# The list's buttons: take one now (the default name), or ask for a rollback (the prompt
# above, with its confirm dialogs: the list's button itself changes nothing).
SNAPSHOT_TAKE_ACTION = "snapshot_take"
SNAPSHOT_ROLLBACK_ASK_ACTION = "snapshot_rollback_ask"
# An actions block holds 25 elements: [Take a snapshot] and one [Roll back to…] per snapshot.
MAX_ROLLBACK_BUTTONS = 24
LINES_PER_SECTION = 20

HELP_SNAPSHOT: tuple[str, list[str]] = (
    "*Snapshots* (the VM's owner or an admin)\n"
    "`/solti snapshot create VMID [NAME] [--description TEXT] [--memory]`   "
    "`/solti snapshot list VMID`   `/solti snapshot rollback VMID NAME`   "
    "`/solti snapshot delete VMID NAME`\n"
    "NAME: a letter, then letters, digits, `-` or `_` (at most 40); "
    "default `solti-YYMMDD-HHMM`. Rollback and delete ask you to confirm.",
    ["/solti snapshot create 512 before-upgrade", "/solti snapshot rollback 512 before-upgrade"],
)


def button_value(vmid: int, name: str) -> str:
    return f"{vmid}:{name}"


def parse_button_value(value: str) -> tuple[int, str] | None:
    """``512:before-upgrade`` -> (512, "before-upgrade"); None for anything else."""
    vmid, sep, name = value.partition(":")
    if not sep or not vmid.isdigit() or not name or len(name) > 40:
        return None
    return int(vmid), name


def _taken(snap: Any) -> str:
    return f"{snap.taken_at:%Y-%m-%d %H:%M} UTC" if snap.taken_at else "time unknown"


def _list_buttons(listing: Any) -> Block:
    """[Take a snapshot], then [Roll back to NAME…] per snapshot, newest first."""
    take = button("Take a snapshot", SNAPSHOT_TAKE_ACTION, str(listing.vmid))
    newest = list(reversed(listing.snapshots))[:MAX_ROLLBACK_BUTTONS]
    rollbacks = [
        button(f"Roll back to {s.name}…", SNAPSHOT_ROLLBACK_ASK_ACTION,
               button_value(listing.vmid, s.name))
        for s in newest
    ]  # fmt: skip
    return actions(take, *rollbacks, block_id="snapshot_list")


def snapshot_list_message(listing: Any) -> dict[str, Any]:
    """`/solti snapshot list VMID` and App Home's [Snapshots]: the snapshots, with buttons
    to take one and to ask for a rollback (which still asks to confirm)."""
    title = f"Snapshots of VM {listing.vmid} ({listing.name})"
    if not listing.snapshots:
        text = f"VM {listing.vmid} ({listing.name}) has no snapshots."
        return message(text, [section(f":camera: {escape(text)}"), _list_buttons(listing)])
    lines = []
    for snap in listing.snapshots:
        ram = " · with RAM" if snap.memory else ""
        note = f" · {escape(snap.description)}" if snap.description else ""
        here = " · _current state grew from it_" if snap.name == listing.current_parent else ""
        lines.append(f"`{escape(snap.name)}` · {_taken(snap)}{ram}{note}{here}")
    blocks: list[Block] = [section(f":camera: *{escape(title)}*")]
    for start in range(0, len(lines), LINES_PER_SECTION):
        blocks.append(section("\n".join(lines[start : start + LINES_PER_SECTION])))
    blocks.append(_list_buttons(listing))
    return message(f"{title}: {len(lines)}", blocks)


def rollback_prompt_message(preview: Any, left_stopped: str | None = None) -> dict[str, Any]:
    """A rollback never runs at once: the prompt says what is lost, the button confirms.

    ``left_stopped`` (what is lost when the VM is not started again; only for a running VM
    whose snapshot has no RAM, else there is nothing to choose) adds [Roll back, leave
    stopped], behind its own confirm dialog.
    """
    name = preview.snapshot.name
    text = f"Roll VM {preview.vmid} ({preview.name}) back to `{name}`? {preview.lost}"
    value = button_value(preview.vmid, name)
    buttons = [
        button(
            f"Roll back to {name}",
            ROLLBACK_SNAPSHOT_ACTION,
            value,
            style="danger",
            confirm=confirm_dialog("Roll back this VM?", escape(preview.lost), "Roll back"),
        )
    ]
    if left_stopped:
        buttons.append(
            button(
                "Roll back, leave stopped",
                ROLLBACK_STOPPED_ACTION,
                value,
                confirm=confirm_dialog(
                    "Roll back and leave it stopped?", escape(left_stopped), "Roll back"
                ),
            )
        )
    return message(
        text,
        [
            section(f":rewind: {escape(text)}"),
            actions(*buttons, block_id="snapshot_rollback"),
        ],
    )


def delete_prompt_message(vmid: int, vm_name: str, snap: Any) -> dict[str, Any]:
    text = f"Delete snapshot `{snap.name}` of VM {vmid} ({vm_name}), taken {_taken(snap)}?"
    return message(
        text,
        [
            section(f":wastebasket: {escape(text)}"),
            actions(
                button(
                    f"Delete {snap.name}",
                    DELETE_SNAPSHOT_ACTION,
                    button_value(vmid, snap.name),
                    style="danger",
                    confirm=confirm_dialog(
                        "Delete this snapshot?",
                        f"You can no longer roll VM {vmid} back to `{escape(snap.name)}`. "
                        "The VM as it is now does not change.",
                        "Delete",
                    ),
                ),
                block_id="snapshot_delete",
            ),
        ],
    )


def old_snapshot_blocks(old: Sequence[Any], max_age: str) -> list[Block]:
    """The report's section: snapshots older than ``snapshots.max_age``, by owner."""
    title = f"Snapshots older than {max_age}"
    if not old:
        return [section(f"*{title}*: none.")]
    by_owner: dict[str, list[Any]] = defaultdict(list)
    for item in old:
        by_owner[item.owner].append(item)
    lines = []
    for owner, items in sorted(by_owner.items()):
        shown = ", ".join(
            f"`{i.vmid}` {escape(i.vm_name)}: `{escape(i.snapshot)}` ({i.age})" for i in items[:10]
        )
        more = f" and {len(items) - 10} more" if len(items) > 10 else ""
        lines.append(f"{mention(owner)}: {shown}{more}")
    blocks = []
    for start in range(0, len(lines), LINES_PER_SECTION):
        head = f"*{title}*\n" if start == 0 else ""
        blocks.append(section(head + "\n".join(lines[start : start + LINES_PER_SECTION])))
    blocks.append(context("`/solti snapshot delete VMID NAME` removes one."))
    return blocks
