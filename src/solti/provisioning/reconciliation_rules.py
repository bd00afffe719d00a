"""The pure decisions of ``solti reconcile``: what to do with one interrupted record.

Each ``decide_*`` is a function of the record (``RunningRecord``) and what PVE says of its VM
(config, status), so every case is tested without a cluster; ``reconciliation`` reads those
facts (``survey``) and acts on the ``Decision`` (``carry_out``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solti.provisioning.ownership import RunningRecord

__all__ = [
    "POWER_TARGETS", "REBUILD", "SOLTI_TAG", "TEMPLATE_BUILD", "Decision", "as_planned",
    "decide_build", "decide_create", "decide_power", "decide_rebuild", "step_text",
]  # fmt: skip

SOLTI_TAG = "solti"
TEMPLATE_BUILD = "template build"
POWER_TARGETS = {
    "vm start": "running",
    "vm reboot": "running",
    "vm stop": "stopped",
    "vm shutdown": "stopped",
}


@dataclass(frozen=True)
class Decision:
    """What to do with one interrupted record: close it ``result`` with ``text``; ``remove``
    the VM first; ``finish_remove`` a remove; ``person`` when someone must look."""

    result: str
    text: str
    remove: bool = False
    person: bool = False
    finish_rebuild: bool = False  # re-make the VM a `vm rebuild` destroyed (vm_rebuild.resume)


def step_text(step: str | None) -> str:
    return f"interrupted at step {step or 'start'}"


def as_planned(record: Any, config: dict[str, Any], status: str | None, started: bool) -> bool:
    """Whether a create's VM is what the record planned (every step had completed)."""
    params = record.params or {}
    tags = str(config.get("tags") or "").replace(",", ";").split(";")
    if config.get("lock") or SOLTI_TAG not in tags:
        return False
    if params.get("cores") is not None and int(config.get("cores") or 0) != int(params["cores"]):
        return False
    if params.get("memory") is not None and str(config.get("memory")) != str(params["memory"]):
        return False
    return not started or status == "running"


def decide_create(
    running: RunningRecord, config: dict[str, Any] | None, status: str | None, *, started: bool
) -> Decision:
    record, why = running.record, step_text(running.step)
    vmid = record.vmid
    if config is None:
        return Decision("failed", f"{why}; no VM was made")
    if (record.name and config.get("name") != record.name) or config.get("template"):
        return Decision("failed", f"{why}; VM {vmid} is not the one it made and was left alone")
    if as_planned(record, config, status, started):
        return Decision("ok", "closed by reconcile: every step had completed")
    if (record.params or {}).get("keep_on_failure"):
        return Decision("failed", f"{why}; half-made VM {vmid} kept (keep_on_failure)", person=True)
    return Decision("failed", f"{why}; half-made VM {vmid} removed", remove=True)


def decide_build(running: RunningRecord, config: dict[str, Any] | None) -> Decision:
    record, why = running.record, step_text(running.step)
    vmid = record.vmid
    if vmid is None or config is None:
        return Decision("failed", f"{why}; no VM was made")
    if config.get("template"):
        return Decision("failed", f"{why}; template {vmid} was finished and is kept", person=True)
    if record.name and config.get("name") != record.name:
        return Decision("failed", f"{why}; VM {vmid} is not the one it made and was left alone")
    return Decision("failed", f"{why}; half-built VM {vmid} removed", remove=True)


def decide_power(running: RunningRecord, status: str | None) -> Decision:
    record, why = running.record, step_text(running.step)
    if status is None:
        return Decision("failed", f"{why}; PVE no longer has VM {record.vmid}")
    if POWER_TARGETS.get(record.action) == status:
        return Decision("ok", f"closed by reconcile: PVE says VM {record.vmid} is {status}")
    return Decision("failed", f"{why}; PVE says VM {record.vmid} is {status}")


REBUILD = "vm rebuild"
_BEFORE_DESTROY = (None, "plan", "stop", "destroy")


def decide_rebuild(
    running: RunningRecord, config: dict[str, Any] | None, journaled: bool
) -> Decision:
    """A ``vm rebuild`` cut short: the old VM untouched (before its destroy) is left as it is;
    after the destroy, the new VM is made (or finished) from the journal, never given up."""
    record, why = running.record, step_text(running.step)
    vmid = record.vmid
    if not journaled:
        return Decision("failed", f"{why}; nothing was changed")
    if config is not None and running.step in _BEFORE_DESTROY:  # a destroy may be running:
        # if it ends later, the journal says so and `vm rebuild` again finishes the work
        return Decision("failed", f"{why}; VM {vmid} was not destroyed and is left as it is")
    if config is not None and record.name and config.get("name") != record.name:
        return Decision(
            "failed", f"{why}; VM {vmid} is not the one it made and was left alone", person=True
        )
    made = "made again" if config is None else "finished"
    return Decision(
        "ok", f"finished by reconcile: VM {vmid} {made} from template {record.template_vmid}",
        finish_rebuild=True,
    )  # fmt: skip
