"""The snapshot verbs of ``Provisioner`` (``provisioning.snapshots``), apart from the VM
verbs so the façade stays readable; ``Provisioner`` inherits them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from solti.provisioning import snapshots
    from solti.provisioning.collaborators import Collaborators
    from solti.provisioning.snapshots_policy import SnapshotPolicy
else:

    class _OnFirstUse:
        """``snapshots``, imported by the first snapshot verb: a create never loads it
        (its models are ~2 % of a `solti vm create`, docs/performance.md "Start-up")."""

        def __getattr__(self, name: str) -> Any:
            from solti.provisioning import snapshots as module

            globals()["snapshots"] = module
            return getattr(module, name)

    snapshots = _OnFirstUse()

__all__ = ["SnapshotVerbs"]


class SnapshotVerbs:
    """Mixed into ``Provisioner``, which provides ``ops`` and ``snapshot_policy``."""

    ops: Collaborators
    snapshot_policy: SnapshotPolicy

    def list_snapshots(self, vmid: int) -> Any:
        """``SnapshotList``: the VM's snapshots, oldest first (reads only)."""
        return snapshots.list_snapshots(self.ops, vmid)

    def create_snapshot(
        self, vmid: int, name: str | None = None, *, description: str | None = None,
        memory: bool = False, actor: str = "unknown", via: str = "cli",
        request_id: str | None = None,
    ) -> Any:  # fmt: skip
        """Take a snapshot (``solti-YYMMDD-HHMM`` by default) within ``snapshots:``."""
        return snapshots.create_snapshot(
            self.ops, self.snapshot_policy, vmid, name, description=description, memory=memory,
            actor=actor, via=via, request_id=request_id,
        )  # fmt: skip

    def rollback_preview(self, vmid: int, name: str, *, start: bool = True) -> Any:
        """``RollbackPreview``: what a rollback to ``name`` loses, for the confirmation."""
        return snapshots.rollback_preview(self.ops, vmid, name, start=start)

    def rollback_snapshot(self, vmid: int, name: str, *, actor: str = "unknown",
                          via: str = "cli", request_id: str | None = None,
                          start: bool = True) -> Any:  # fmt: skip
        """``start``: a VM that was running is started again (unless the snapshot's RAM
        resumes it); False leaves it stopped."""
        return snapshots.rollback_snapshot(
            self.ops, vmid, name, actor=actor, via=via, request_id=request_id, start=start
        )

    def delete_snapshot(self, vmid: int, name: str, *, actor: str = "unknown",
                        via: str = "cli", request_id: str | None = None) -> Any:  # fmt: skip
        return snapshots.delete_snapshot(
            self.ops, vmid, name, actor=actor, via=via, request_id=request_id
        )

    def old_snapshots(self) -> Any:
        """Snapshots older than ``snapshots.max_age`` of owned VMs (for the report)."""
        return snapshots.old_snapshots(self.ops, self.snapshot_policy)
