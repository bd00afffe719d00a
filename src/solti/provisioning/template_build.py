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
from collections.abc import Callable, Iterator
from typing import Any

from solti.provisioning.collaborators import Collaborators, elapsed_ms
from solti.provisioning.errors import Conflict
from solti.provisioning.inventory import (
    SOLTI_TAG,
    TEMPLATE_TAG,
    Snapshot,
    boot_disk,
    disk_size,
)
from solti.provisioning.models import Progress, TemplateBuildRequest, TemplateBuildResult
from solti.provisioning.notes import render_notes
from solti.provisioning.operation import VMID_ATTEMPTS, Operation
from solti.provisioning.rules import (
    TEMPLATE_RANGE,
    next_template_vmid,
    normalize_tags,
    template_name,
)
from solti.provisioning.sizes import Size
from solti.provisioning.template_lifecycle import verified_template, verify_template
from solti.provisioning.upstream import fetch_upstream

__all__ = ["BUILD_STEPS", "build_template"]

BUILD_STEPS = ["checksum", "download", "vmid", "create", "resize", "notes", "convert", "verify"]


def _hardware(ops: Collaborators, request: TemplateBuildRequest) -> dict[str, Any]:
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
        "storage": request.vm_storage or d.template_storage or d.vm_storage,
    }


def _create_params(
    ops: Collaborators, request: TemplateBuildRequest, hw: dict[str, Any], volid: str, entry: Any
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


def _claim_vmid(op: Operation, used: set[int]) -> tuple[int, str]:
    """Reserve the next template VMID; returns it and why it is that one, for the progress."""
    why: list[str] = []

    def choose(reserved: set[int], _names: set[str]) -> tuple[int, str | None]:
        vmid = next_template_vmid(used | reserved)
        why.append(_vmid_reason(vmid, used, reserved))
        return vmid, None

    vmid, _ = op.claim(choose)
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


def _result_from_record(ops: Collaborators, record: Any) -> TemplateBuildResult:
    info = verify_template(ops, int(record.vmid))
    return TemplateBuildResult(template=info, downloaded=False, audit_id=record.id, reused=True)


def build_template(
    ops: Collaborators,
    request: TemplateBuildRequest,
    *,
    progress: Callable[[Progress], None] | None = None,
    actor: str = "unknown",
    via: str = "cli",
    approver: str | None = None,
    upstream: dict[str, Any] | None = None,
    copy: dict[str, Any] | None = None,
) -> TemplateBuildResult:
    """Build one template; safe to re-run with the same ``request_id``.

    ``approver`` is whoever allowed the build (Slack approvals); it lands in the audit record.
    ``upstream`` is a checksum answer already fetched (the copies of one build on several
    nodes share it, so all have the same image and version); ``copy`` (``build``, ``copy``)
    says in the notes which copy of which build this template is (``template_copies``).
    """
    held = _Held(progress)
    op = Operation(ops, "template build", actor=actor, via=via, request_id=request.request_id,
                   approver=approver, steps=BUILD_STEPS, progress=held)  # fmt: skip
    earlier = op.earlier()
    if earlier is not None and earlier.vmid:
        return _result_from_record(ops, earlier)
    entry = ops.catalog.get(request.distribution)  # NotFound before anything is written
    node = ops.node_for(request.node)
    hw = _hardware(ops, request)
    target_disk = request.disk or ops.defaults.template_disk
    with op.audited(
        node=node,
        name=template_name(request.distribution),
        params={"distribution": request.distribution, **hw, "disk": str(target_disk)},
    ):
        upstream, volid, downloaded = _image(op, request, entry, node, upstream)
        params = _create_params(ops, request, hw, volid, entry)
        with held.hold() as say, op.step("vmid"):
            used = Snapshot.take(ops.client).used_ids()
            _vmid, why = _claim_vmid(op, used)
            say(why)
        vmid = _create(op, node, params, used)
        virtual, final = _grow_disk(op, held, node, vmid, target_disk)
        meta = _metadata(request, entry, upstream, hw, virtual, final, actor, ops.now())
        meta.update(copy or {})
        info = _finish_template(op, request, entry, node, vmid, meta)
        op.done(vmid=vmid, template_vmid=vmid, template_name=info.name,
                template_version=info.version)  # fmt: skip
    return TemplateBuildResult(
        template=info,
        downloaded=downloaded,
        audit_id=op.audit_id,
        duration_ms=elapsed_ms(op.started),
    )


def _metadata(
    request: TemplateBuildRequest,
    entry: Any,
    upstream: dict[str, Any],
    hw: dict[str, Any],
    virtual: Size | None,
    final: Size | None,
    builder: str,
    now: Any,
) -> dict[str, Any]:
    """What the template's notes record about its build (``notes.render_notes``)."""
    return {
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
        "builder": builder,
        "build_date": now.replace(microsecond=0),
        "request_id": request.request_id,
    }


def _image(
    op: Operation,
    request: TemplateBuildRequest,
    entry: Any,
    node: str,
    pinned: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], str, bool]:
    """The ``checksum`` and ``download`` steps: upstream's digest (or the ``pinned`` answer
    of the build this copy belongs to), then the image in the import storage (skipped when
    the digest-named file is there). Returns upstream's answer, the volume id and whether
    it was downloaded now."""
    ops = op.ops
    storage = request.image_storage or ops.defaults.image_storage
    with op.step("checksum", entry.checksum_url if pinned is None else "the build's own"):
        upstream = pinned if pinned is not None else fetch_upstream(ops, request.distribution)
    volid = f"{storage}:import/{upstream['filename']}"
    with op.step("download", upstream["filename"]):
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
    return upstream, volid, downloaded


def _create(op: Operation, node: str, params: dict[str, Any], used: set[int]) -> int:
    """The ``create`` step on the claimed VMID; lost to another process, the next one."""
    ops = op.ops

    def make(vmid: int) -> None:
        upid = ops.client.create_qemu_vm(node, vmid, **params)
        op.undo_with(lambda: ops.remove_half_made(node, vmid, params.get("name")))
        ops.waiter.wait(upid, node=node)

    def next_free(reserved: set[int], taken: int) -> int:
        used.add(taken)
        return next_template_vmid(used | reserved)

    return op.with_free_vmid(
        "create",
        make,
        detail=lambda vmid, taken: f"VM {vmid}" + (f" ({taken} was taken)" if taken else ""),
        next_free=next_free,
        exhausted=lambda: Conflict(f"create: no free template VMID after {VMID_ATTEMPTS} attempts"),
    )


def _grow_disk(
    op: Operation, held: _Held, node: str, vmid: int, target: Size
) -> tuple[Size | None, Size | None]:
    """The ``resize`` step: the imported disk grown to the template size when smaller.
    Returns the image's virtual size and the disk's final size (None: unknown)."""
    ops = op.ops
    with held.hold() as say, op.step("resize"):
        config = ops.client.vm_config(node, vmid)
        disk_key = boot_disk(config) or "scsi0"
        virtual = disk_size(config.get(disk_key))
        say(_resize_detail(virtual, target))
        if virtual is None or virtual >= target:
            return virtual, virtual
        ops.waiter.wait(ops.client.resize(node, vmid, disk_key, target.pve()), node=node)
        return virtual, target


def _finish_template(
    op: Operation,
    request: TemplateBuildRequest,
    entry: Any,
    node: str,
    vmid: int,
    meta: dict[str, Any],
) -> Any:
    """The ``notes``, ``convert`` and ``verify`` steps; the template as read back."""
    ops = op.ops
    tags = normalize_tags([SOLTI_TAG, TEMPLATE_TAG, request.distribution, *entry.tags])
    notes = render_notes(meta)
    with op.step("notes", _notes_detail(notes, meta, tags)):
        ops.client.set_config(node, vmid, description=notes, tags=";".join(tags))
    with op.step("convert", f"VM {vmid} to a template"):
        ops.waiter.wait(ops.client.convert_to_template(node, vmid), node=node)
    with op.step("verify", "template flag, base disk, cloud-init drive, metadata"):
        return verified_template(ops, node, vmid)
