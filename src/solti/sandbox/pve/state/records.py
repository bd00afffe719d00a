"""The records the cluster model is made of: storages, volumes and guests.

A leaf module: it imports nothing of the model, so every part (``Storages``, ``Guests``...)
can use the records without importing another part. Each record is owned by one part, which
creates, files and drops it; operations get records from their owner and change fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Storage:
    """A storage definition; ``path`` is set only for file-based storages."""

    id: str
    type: str
    content: set[str]
    shared: bool = False
    path: str | None = None
    total: int = 512 * 1024**3
    # storage.cfg ``nodes``: the nodes it is enabled on (None: all of them).
    nodes: frozenset[str] | None = None

    @property
    def file_based(self) -> bool:
        return self.path is not None


@dataclass
class Volume:
    """One volume on a storage; ``node`` is None on shared storages."""

    storage: str
    node: str | None
    volname: str
    content: str
    format: str
    size: int
    ctime: int
    vmid: int | None = None
    parent: str | None = None
    data: bytes | None = field(default=None, repr=False)

    @property
    def volid(self) -> str:
        return f"{self.storage}:{self.volname}"

    @property
    def key(self) -> tuple[str, str | None, str]:
        """Where the volume is filed: (storage, node or None if shared, volname)."""
        return (self.storage, self.node, self.volname)


@dataclass
class Snapshot:
    """One section of a VM config's snapshot list (pve-guest-common ``AbstractConfig.pm``):
    the config copy, when, the description, the RAM state volume, and its ``parent``."""

    name: str
    conf: dict[str, str]
    snaptime: int
    description: str = ""
    vmstate: str | None = None
    parent: str | None = None
    snapstate: str | None = None


@dataclass
class Guest:
    """A qemu VM: its config exactly as stored (strings) plus run state."""

    vmid: int
    node: str
    conf: dict[str, str]
    running: bool = False
    started_at: float = 0.0
    # (started_at, machine) of the start that recorded the machine the VM runs
    # (``qemu_host.machine_at_start``): ``running-machine`` until it stops, whatever the
    # config says meanwhile; a start that recorded none (another ``started_at``) reads it anew.
    started_machine: tuple[float, str] | None = None
    # When the VM's config first appeared (create, clone); seeded VMs are "long known".
    appeared_at: float = float("-inf")
    # The config's snapshot sections and the ``parent`` of the current state (what the
    # config file keeps besides the options); they go when the guest goes.
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    parent: str | None = None

    @property
    def is_template(self) -> bool:
        return self.conf.get("template") == "1"
