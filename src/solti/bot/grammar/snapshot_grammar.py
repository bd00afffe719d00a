"""The snapshot words of the slash grammar: `snapshot create|list|rollback|delete`.

Pure like the rest of the grammar. A snapshot name is checked here with provisioning's rule
(PVE's ``pve-configid``, at most 40 characters, ``current`` reserved), so a bad name is a
usage error inside the acknowledgement and never reaches Proxmox.
"""

from __future__ import annotations

from dataclasses import dataclass

from solti.bot.grammar.commands import UsageError
from solti.bot.grammar.options import _options, _Spec, _vmid
from solti.provisioning.errors import InvalidRequest
from solti.provisioning.snapshots_rules import check_name

__all__ = [
    "SNAPSHOT_VERBS",
    "SnapshotCreate",
    "SnapshotDelete",
    "SnapshotList",
    "SnapshotRollback",
    "snapshot_command",
]

SNAPSHOT_VERBS = ("create", "list", "rollback", "delete")
TOPIC = "snapshot"
_CREATE = _Spec(values={"description": "text"}, flags=("memory",))


@dataclass(frozen=True)
class SnapshotCreate:
    """`snapshot create VMID [NAME] [--description TEXT] [--memory]`; no name: the default."""

    vmid: int
    name: str | None = None
    description: str | None = None
    memory: bool = False


@dataclass(frozen=True)
class SnapshotList:
    vmid: int


@dataclass(frozen=True)
class SnapshotRollback:
    vmid: int
    name: str


@dataclass(frozen=True)
class SnapshotDelete:
    vmid: int
    name: str


SnapshotCommand = SnapshotCreate | SnapshotList | SnapshotRollback | SnapshotDelete


def _name(value: str) -> str:
    try:
        return check_name(value)
    except InvalidRequest as exc:
        raise UsageError(exc.message[:1].upper() + exc.message[1:] + ".", TOPIC) from None


def snapshot_command(args: list[str]) -> SnapshotCommand:
    if not args:
        raise UsageError("`snapshot` needs a verb: " + ", ".join(SNAPSHOT_VERBS) + ".", TOPIC)
    verb, rest = args[0].lower(), args[1:]
    if verb not in SNAPSHOT_VERBS:
        raise UsageError(
            f"Unknown snapshot verb `{verb[:40]}`; allowed: " + ", ".join(SNAPSHOT_VERBS) + ".",
            TOPIC,
        )
    words, opts = _options(rest, _CREATE if verb == "create" else _Spec(), TOPIC)
    if verb == "create":
        if not 1 <= len(words) <= 2:
            raise UsageError(
                "`snapshot create` needs a VMID and may take a name, "
                "e.g. `/solti snapshot create 512 before-upgrade`.",
                TOPIC,
            )
        return SnapshotCreate(
            vmid=_vmid(words[0], "VMID", TOPIC),
            name=_name(words[1]) if len(words) == 2 else None,
            description=opts.get("description"),  # type: ignore[arg-type]
            memory=bool(opts.get("memory", False)),
        )
    if verb == "list":
        if len(words) != 1:
            raise UsageError(
                "`snapshot list` needs one VMID, e.g. `/solti snapshot list 512`.", TOPIC
            )
        return SnapshotList(vmid=_vmid(words[0], "VMID", TOPIC))
    if len(words) != 2:
        raise UsageError(
            f"`snapshot {verb}` needs a VMID and a snapshot name, "
            f"e.g. `/solti snapshot {verb} 512 before-upgrade`.",
            TOPIC,
        )
    vmid, name = _vmid(words[0], "VMID", TOPIC), _name(words[1])
    return SnapshotRollback(vmid, name) if verb == "rollback" else SnapshotDelete(vmid, name)
