"""Template build (``proxmox_template`` build), all over the PVE API (no SSH).

A build validates everything it can before changing anything (catalog entry, upstream checksum,
node), then: download the image into an ``import`` storage with its checksum so PVE verifies the
bytes -> take the next template VMID -> create the VM importing the disk -> grow the disk to the
template size -> write the metadata into the notes -> convert to template -> verify. Any failure
after the VM exists removes it, and the audit record says which step failed and why.

The download is skipped when the digest-named file is already in the storage (see
``upstream``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from solti.provisioning.errors import Conflict, SoltiError
from solti.provisioning.inventory import (
    SOLTI_TAG,
    TEMPLATE_TAG,
    Snapshot,
    boot_disk,
    disk_size,
)
from solti.provisioning.models import Progress, TemplateBuildRequest, TemplateBuildResult
from solti.provisioning.notes import render_notes
from solti.provisioning.ops import Ops, Steps, describe_failure, elapsed_ms
from solti.provisioning.pve import VmidTaken
from solti.provisioning.rules import (
    TEMPLATE_RANGE,
    next_template_vmid,
    normalize_tags,
    template_name,
)
from solti.provisioning.sizes import Size
from solti.provisioning.templates import verified_template, verify_template
from solti.provisioning.upstream import fetch_upstream

__all__ = ["BUILD_STEPS", "build_template"]

BUILD_STEPS = ["checksum", "download", "vmid", "create", "resize", "notes", "convert", "verify"]
VMID_ATTEMPTS = 5


def _hardware(ops: Ops, request: TemplateBuildRequest) -> dict[str, Any]:
    d = ops.defaults
    return {
        "machine": "q35",
        "bios": "ovmf",
        "secure_boot": request.secure_boot,
        "cpu": d.cpu,
        "cores": request.cores or d.cores,
        "memory": request.memory or d.memory,
        "scsihw": "virtio-scsi-single",
        "bridge": request.bridge or d.bridge,
        "storage": request.vm_storage or d.vm_storage,
    }


def _create_params(
    ops: Ops, request: TemplateBuildRequest, hw: dict[str, Any], volid: str, entry: Any
) -> dict[str, Any]:
    d = ops.defaults
    storage = hw["storage"]
    params: dict[str, Any] = {
        "name": template_name(request.distribution),
        "machine": "q35",
        "bios": "ovmf",
        "efidisk0": f"{storage}:1,efitype=4m,pre-enrolled-keys={1 if request.secure_boot else 0}",
        "cpu": hw["cpu"],
        "cores": hw["cores"],
        "memory": str(hw["memory"]),
        "balloon": d.balloon,
        "numa": d.numa,
        "net0": f"virtio,bridge={hw['bridge']}",
        "scsihw": hw["scsihw"],
        "scsi0": f"{storage}:0,import-from={volid},discard=on,ssd=1",
        "serial0": "socket",
        "vga": "serial0",
        "agent": "enabled=1",
        "boot": "order=scsi0",
        "ostype": entry.os_type,
        "ide2": f"{storage}:cloudinit",
        "ipconfig0": "ip=dhcp",
        "ciuser": entry.ssh_user or d.ssh_user,
    }
    if d.ssh_keys:
        from solti.provisioning.cloudinit import encode_sshkeys, validate_ssh_keys

        params["sshkeys"] = encode_sshkeys([k.line for k in validate_ssh_keys(list(d.ssh_keys))])
    return params


class _Held:
    """The progress callback, able to hold one step's report until its detail is known.

    A step is reported as it starts, but the detail of two build steps comes from a lookup
    inside them: the VMID from the cluster, the resize from the imported disk. Holding the
    report keeps the lookup inside its step (timing, metric, the step a failure names) and still
    shows the detail; only the lookup's few milliseconds count to the line before in a progress
    display. A failure releases the report bare, so the display names the step that failed.
    """

    def __init__(self, progress: Callable[[Progress], None] | None) -> None:
        self._progress = progress
        self._holding = False
        self._held: Progress | None = None

    def __call__(self, update: Progress) -> None:
        if self._holding and self._held is None:
            self._held = update
        else:
            self._emit(update)

    def _emit(self, update: Progress) -> None:
        if self._progress is not None:
            with contextlib.suppress(Exception):  # as Steps.report: display never breaks work
                self._progress(update)

    @contextlib.contextmanager
    def hold(self) -> Iterator[Callable[[str | None], None]]:
        """Hold the next report; the yielded function sends it with its detail."""
        self._holding = True

        def release(detail: str | None) -> None:
            held, self._held, self._holding = self._held, None, False
            if held is not None:
                self._emit(held.model_copy(update={"detail": detail}))

        try:
            yield release
        finally:
            if self._holding:
                release(None)


def _claim_vmid(ops: Ops, used: set[int]) -> tuple[int, str]:
    """Reserve the next template VMID; returns it and why it is that one, for the progress."""
    why: list[str] = []

    def choose(reserved: set[int], _names: set[str]) -> tuple[int, str | None]:
        vmid = next_template_vmid(used | reserved)
        why.append(_vmid_reason(vmid, used, reserved))
        return vmid, None

    vmid, _ = ops.reservations.claim(choose)
    return vmid, why[-1]


def _vmid_reason(vmid: int, used: set[int], reserved: set[int]) -> str:
    """The rule as it applied: highest template VMID + 1, or the start of an empty range."""
    in_range = [i for i in used | reserved if i in TEMPLATE_RANGE]
    if not in_range:
        span = f"{TEMPLATE_RANGE.start}-{TEMPLATE_RANGE.stop - 1}"
        return f"{vmid}, the first template VMID (none of {span} in use)"
    highest = max(in_range)
    whose = "reserved by a build in progress" if highest not in used else "in use"
    return f"{vmid}, next after {highest} (highest template VMID {whose})"


def _resize_detail(virtual: Size | None, target: Size) -> str:
    """What the resize step does, worded as the create's resize step words it."""
    if virtual is None:
        return f"skipped (imported disk size unknown; template size {target})"
    if virtual < target:
        return f"{virtual} -> {target}"
    return f"not needed (image is {virtual}, template size {target})"


def _notes_detail(notes: str, meta: dict[str, Any], tags: list[str]) -> str:
    """How much metadata the notes carry and which; the tags written with them."""
    what = [f"version {meta['version']} ({meta['version_source']})"]
    what.append(f"{meta['checksum_algorithm']} checksum")
    what += ["image", *(["sizes"] if meta.get("disk_size") else []), "hardware", "builder"]
    what.append("build date")
    if meta.get("request_id"):
        what.append("request id")
    lines = len(notes.splitlines())
    return f"{lines} lines: {', '.join(what)}; tags {', '.join(tags)}"


def _result_from_record(ops: Ops, record: Any) -> TemplateBuildResult | None:
    if getattr(record, "result", None) != "ok" or not getattr(record, "vmid", None):
        return None
    info = verify_template(ops, int(record.vmid))
    return TemplateBuildResult(template=info, downloaded=False, audit_id=record.id, reused=True)


def build_template(
    ops: Ops,
    request: TemplateBuildRequest,
    *,
    progress: Callable[[Progress], None] | None = None,
    actor: str = "unknown",
    via: str = "cli",
    approver: str | None = None,
) -> TemplateBuildResult:
    """Build one template; safe to re-run with the same ``request_id``.

    ``approver`` is whoever allowed the build (Slack approvals); it lands in the audit record.
    """
    if request.request_id:
        previous = ops.audit.find_by_request_id(request.request_id)
        if previous is not None:
            reused = _result_from_record(ops, previous)
            if reused is not None:
                return reused
    started = time.monotonic()
    entry = ops.catalog.get(request.distribution)  # NotFound before anything is written
    storage = request.image_storage or ops.defaults.image_storage
    node = ops.node_for(request.node)
    hw = _hardware(ops, request)
    target_disk = request.disk or ops.defaults.template_disk
    audit_id = ops.audit.start(
        actor=actor,
        via=via,
        action="template build",
        node=node,
        name=template_name(request.distribution),
        params={"distribution": request.distribution, **hw, "disk": str(target_disk)},
        request_id=request.request_id,
        approver=approver,
    )
    held = _Held(progress)
    steps = Steps(BUILD_STEPS, held, operation="template build")
    vmid: int | None = None
    taken: int | None = None
    created = False
    try:
        with steps("checksum", entry.checksum_url):
            upstream = fetch_upstream(ops, request.distribution)
        volid = f"{storage}:import/{upstream['filename']}"
        with steps("download", upstream["filename"]):
            present = {c.get("volid") for c in ops.client.storage_content(node, storage, "import")}
            downloaded = volid not in present
            if downloaded:
                upid = ops.client.download_url(
                    node,
                    storage,
                    url=entry.image_url,
                    filename=upstream["filename"],
                    checksum=upstream["checksum"],
                    algorithm=upstream["algorithm"],
                )
                ops.waiter.wait(upid, node=node)
        params = _create_params(ops, request, hw, volid, entry)
        with held.hold() as say, steps("vmid"):
            used = Snapshot.take(ops.client).used_ids()
            vmid, why = _claim_vmid(ops, used)
            say(why)
        for attempt in range(1, VMID_ATTEMPTS + 1):
            try:
                with steps("create", f"VM {vmid}" + (f" ({taken} was taken)" if taken else "")):
                    upid = ops.client.create_vm(node, vmid, **params)
                    created = True
                    ops.waiter.wait(upid, node=node)
                break
            except VmidTaken:
                created, taken = False, vmid
                ops.reservations.release(vmid)
                used.add(vmid)
                vmid = None
                if attempt == VMID_ATTEMPTS:
                    raise Conflict(
                        f"create: no free template VMID after {VMID_ATTEMPTS} attempts"
                    ) from None
                vmid, _why = _claim_vmid(ops, used)
        assert vmid is not None
        with held.hold() as say, steps("resize"):
            config = ops.client.vm_config(node, vmid)
            disk_key = boot_disk(config) or "scsi0"
            virtual = disk_size(config.get(disk_key))
            final = virtual
            say(_resize_detail(virtual, target_disk))
            if virtual is not None and virtual < target_disk:
                ops.waiter.wait(
                    ops.client.resize(node, vmid, disk_key, target_disk.pve()), node=node
                )
                final = target_disk
        meta = {
            "distribution": request.distribution,
            "version": upstream["version"],
            "version_source": upstream["version_source"],
            "image_url": entry.image_url,
            "image_file": upstream["filename"],
            "checksum": upstream["checksum"],
            "checksum_algorithm": upstream["algorithm"],
            "virtual_size": virtual.pve() if virtual else None,
            "disk_size": final.pve() if final else None,
            "hardware": {k: v for k, v in hw.items() if k != "storage"},
            "builder": actor,
            "build_date": ops.now().replace(microsecond=0),
            "request_id": request.request_id,
        }
        tags = normalize_tags([SOLTI_TAG, TEMPLATE_TAG, request.distribution, *entry.tags])
        notes = render_notes(meta)
        with steps("notes", _notes_detail(notes, meta, tags)):
            ops.client.set_config(node, vmid, description=notes, tags=";".join(tags))
        with steps("convert", f"VM {vmid} to a template"):
            ops.waiter.wait(ops.client.convert_to_template(node, vmid), node=node)
        with steps("verify", "template flag, base disk, cloud-init drive, metadata"):
            info = verified_template(ops, node, vmid)
    except BaseException as exc:
        cleanup = ops.remove_half_made(node, vmid) if created and vmid is not None else None
        error = describe_failure(exc, steps.current, cleanup)
        ops.audit.finish(
            audit_id, "failed", error=error, vmid=vmid, duration_ms=elapsed_ms(started)
        )
        if isinstance(exc, SoltiError) and cleanup:
            exc.message = error
        raise
    finally:
        if vmid is not None:
            ops.reservations.release(vmid)
    ops.audit.finish(
        audit_id,
        "ok",
        vmid=vmid,
        template_vmid=vmid,
        template_name=info.name,
        template_version=info.version,
        duration_ms=elapsed_ms(started),
    )
    return TemplateBuildResult(
        template=info, downloaded=downloaded, audit_id=audit_id, duration_ms=elapsed_ms(started)
    )
