"""The parsed forms of `/solti` commands, and the usage error people see.

Plain frozen dataclasses: the listeners match on them, and nothing here knows Slack or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TOPICS",
    "VM_VERBS",
    "Audit",
    "Command",
    "Help",
    "KeyRemove",
    "KeySet",
    "KeyShow",
    "Quota",
    "Report",
    "TemplateBuild",
    "TemplateDestroy",
    "TemplateList",
    "UsageError",
    "VmAction",
    "VmCreate",
    "VmExtend",
    "VmGive",
    "VmList",
    "VmRebuild",
]

VM_VERBS = ("verify", "start", "stop", "shutdown", "remove")
TOPICS = ("vm", "template", "key", "audit", "report", "help", "snapshot")


class UsageError(ValueError):
    """Bad input; ``topic`` picks the help section shown next to the message."""

    def __init__(self, message: str, topic: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.topic = topic


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class VmCreate:
    template: str | None = None
    vmid: int | None = None
    name: str | None = None
    disk: str | None = None
    cores: int | None = None
    memory: int | None = None
    full: bool = False
    node: str | None = None
    ip: str | None = None
    gw: str | None = None
    dry_run: bool = False
    size: str | None = None  # a flavor name (policy `flavors`), not a disk size
    lease: str | None = None
    count: int | None = None  # `--count N`: N VMs named NAME-1 ... NAME-N

    @property
    def opens_modal(self) -> bool:
        """No template means the person wants the form (docs/design.md)."""
        return self.template is None


@dataclass(frozen=True)
class VmList:
    mine: bool = False
    page: int = 1


@dataclass(frozen=True)
class VmAction:
    verb: str
    vmid: int


@dataclass(frozen=True)
class VmGive:
    """`/solti vm give VMID @user`: move a VM to another owner."""

    vmid: int
    user: str


@dataclass(frozen=True)
class VmExtend:
    """`vm extend VMID [DURATION]`: no duration means ``leases.default``."""

    vmid: int
    duration: str | None = None


@dataclass(frozen=True)
class VmRebuild:
    """`vm rebuild VMID [TEMPLATE]`: re-create from the newest build (or TEMPLATE)."""

    vmid: int
    template: str | None = None


@dataclass(frozen=True)
class TemplateList:
    pass


@dataclass(frozen=True)
class TemplateBuild:
    distribution: str
    all_nodes: bool = False  # `--all-nodes`: a copy on every node (local storage)


@dataclass(frozen=True)
class TemplateDestroy:
    vmid: int


@dataclass(frozen=True)
class KeySet:
    key: str


@dataclass(frozen=True)
class KeyShow:
    pass


@dataclass(frozen=True)
class KeyRemove:
    pass


@dataclass(frozen=True)
class Audit:
    user: str | None = None
    vmid: int | None = None


@dataclass(frozen=True)
class Report:
    pass


@dataclass(frozen=True)
class Quota:
    """`/solti quota [@user]`: whose usage against the quotas (None: the caller's)."""

    user: str | None = None


Command = (
    Help
    | VmCreate
    | VmList
    | VmAction
    | VmGive
    | VmExtend
    | TemplateList
    | TemplateBuild
    | TemplateDestroy
    | KeySet
    | KeyShow
    | KeyRemove
    | Audit
    | Report
    | Quota
    | VmRebuild
)
