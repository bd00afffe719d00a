"""The ``defaults:`` section of the policy file: what a create or build uses when a request
leaves a value out (node, size, storage, network, cloud-init user and keys).

Kept apart from ``config`` (as ``fleet_policy`` and ``cluster_policy`` are); the provisioning
verbs receive it as ``Collaborators.defaults``.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from solti.provisioning.cloudinit import validate_ssh_keys, validate_user
from solti.provisioning.errors import InvalidRequest
from solti.provisioning.sizes import Size
from solti.provisioning.strict_models import StrictModel

__all__ = ["Defaults"]


class Defaults(StrictModel):
    """Values used when a request leaves them out."""

    node: str | None = Field(None, description="Node for builds and clones; unset: the first.")
    cores: int = Field(2, ge=1, le=512, description="vCPU cores.")
    memory: int = Field(2048, ge=16, description="Memory in MiB.")
    disk: Size = Field(Size("32G"), description="Minimum VM boot disk (grown, never shrunk).")
    template_disk: Size = Field(Size("10G"), description="Template boot disk size.")
    ssh_user: str | None = Field(None, description="Cloud-init user; unset: the image's user.")
    ssh_keys: list[str] = Field(default_factory=list, description="Team keys added to every VM.")
    bridge: str = Field("vmbr0", description="Network bridge.")
    vm_storage: str = Field("local-lvm", description="Storage for VM and template disks.")
    template_storage: str | None = Field(
        None,
        description="Storage for template disks; unset: vm_storage. A shared one lets one "
        "template serve every node (`template build --all-nodes` then builds one).",
    )
    image_storage: str = Field("local", description="Storage with `import` content for images.")
    cpu: str = Field("host", description="CPU type (host, x86-64-v2-AES, ...).")
    balloon: int = Field(0, ge=0, description="Balloon minimum in MiB; 0 disables ballooning.")
    numa: bool = Field(False, description="Enable NUMA.")
    nameserver: str | None = Field(None, description="DNS server for VMs; unset: DHCP's.")
    searchdomain: str | None = Field(None, description="DNS search domain for VMs.")
    start_after_create: bool = Field(True, description="Start a VM once it is created.")
    upgrade_on_first_boot: bool = Field(
        False,
        description=(
            "Let cloud-init upgrade every package on a VM's first boot (PVE's `ciupgrade`, on "
            "by default since PVE 8.0); false sets `ciupgrade=0`, so the guest agent and the "
            "address come up minutes sooner."
        ),
    )
    address_wait_seconds: int = Field(
        120,
        ge=0,
        le=3600,
        description=(
            "Seconds to wait after a create for the QEMU guest agent to report the VM's IP "
            "address (for the `ssh user@host` line); 0: do not ask the agent."
        ),
    )

    @field_validator("ssh_keys")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        try:
            return [key.line for key in validate_ssh_keys(value)]
        except InvalidRequest as exc:
            raise ValueError(exc.detail) from None

    @field_validator("ssh_user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        try:
            return value if value is None else validate_user(value)
        except InvalidRequest as exc:
            raise ValueError(exc.detail) from None
